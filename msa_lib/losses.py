"""Training losses: the correlation-enhanced loss (§4.1) and the multi-task loss (§3.7).

- correlation loss: ``0.3 * (MSE + MAE) / 2 + 0.7 * (1 - r)^2`` with ``r`` the Pearson correlation
  of the batch's predictions and labels;
- multi-task loss: ``10 * MSE + 1 * CrossEntropy`` over a classification head trained alongside the
  regression;
- references for the loss ablation (not the paper's): ``mse`` and ``mse_mae``, ``(MSE + MAE) / 2``,
  the correlation loss's error term alone.

Where ``r`` is undefined (a batch whose predictions or labels are all equal, a batch of one) it is
taken as 0 and carries no gradient, so the loss stays finite: the correlation term is then 0.7.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from msa_lib.config import LOSS_KINDS, LossConfig
from msa_lib.models.fusion import FusionOutput

CLASS_SCHEMES = (2, 3, 5, 7)  # class counts sentiment_classes knows


def _along_last(x: torch.Tensor, how: str) -> torch.Tensor:
    """``x.sum()`` or ``x.mean()`` of a 1-d ``x``, else the same along its last axis.

    A 1-d tensor is reduced whole, by the very kernels a lone model's loss always used, so that
    a lone run's losses and gradients stay what they were to the bit; a leading member axis
    (:mod:`msa_lib.train.ensemble`) gives each member its own row's reduction.
    """
    return getattr(x, how)() if x.ndim == 1 else getattr(x, how)(-1)


def pearson_r(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation along the last axis; 0 (with zero gradient) where it is undefined."""
    if pred.shape != target.shape or pred.ndim < 1:
        raise ValueError(
            f"pearson_r needs two tensors of one shape (at least 1-d), got {pred.shape}, "
            f"{target.shape}"
        )
    pc = pred - _along_last(pred, "mean").unsqueeze(-1)
    tc = target - _along_last(target, "mean").unsqueeze(-1)
    denom2 = _along_last(pc * pc, "sum") * _along_last(tc * tc, "sum")
    # clamp before sqrt so that the branch torch.where discards never has an infinite gradient
    r = _along_last(pc * tc, "sum") / denom2.clamp_min(eps * eps).sqrt()
    return torch.where(denom2 > eps * eps, r, torch.zeros_like(r))


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error (along the last axis)."""
    if pred.ndim == 1:
        return F.mse_loss(pred, target)
    return F.mse_loss(pred, target, reduction="none").mean(-1)


def error_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``(MSE + MAE) / 2`` along the last axis: the correlation loss's error term (§4.1) alone."""
    if pred.ndim == 1:
        mae = F.l1_loss(pred, target)
    else:
        mae = F.l1_loss(pred, target, reduction="none").mean(-1)
    return (mse(pred, target) + mae) / 2


def correlation_loss(
    pred: torch.Tensor, target: torch.Tensor, config: LossConfig = LossConfig()
) -> torch.Tensor:
    """``w_reg * (MSE + MAE) / 2 + w_corr * (1 - r)^2`` (§4.1; 0.3 and 0.7)."""
    r = pearson_r(pred, target, config.eps)
    return config.w_regression * error_loss(pred, target) + config.w_correlation * (1 - r) ** 2


def sentiment_classes(label: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class targets from sentiment scores in [-3, 3] for the multi-task head.

    2: negative (< 0) / non-negative (>= 0), the has-0 Acc-2 convention; 3: negative / zero /
    positive; 5: round(clip(y, -2, 2)) + 2; 7: round(clip(y, -3, 3)) + 3 (the Acc-7 bins).
    """
    if n_classes == 2:
        return (label >= 0).long()
    if n_classes == 3:
        return (torch.sign(label) + 1).long()
    if n_classes == 5:
        return (torch.round(label.clamp(-2, 2)) + 2).long()
    if n_classes == 7:
        return (torch.round(label.clamp(-3, 3)) + 3).long()
    raise ValueError(f"no sentiment class scheme for n_classes={n_classes} (use 2, 3, 5 or 7)")


def multitask_loss(
    output: FusionOutput, target: torch.Tensor, config: LossConfig = LossConfig()
) -> torch.Tensor:
    """``alpha * MSE + beta * CrossEntropy`` (§3.7; 10 and 1), classes from :func:`sentiment_classes`."""
    if output.logits is None:
        raise ValueError(
            "the multi-task loss needs a model with a classification head (n_classes > 0)"
        )
    n_classes = output.logits.shape[-1]
    classes = sentiment_classes(target, n_classes)
    if target.ndim == 1:
        ce = F.cross_entropy(output.logits, classes)
    else:  # members' rows: each member's mean over its own batch
        flat = F.cross_entropy(
            output.logits.reshape(-1, n_classes), classes.reshape(-1), reduction="none"
        )
        ce = flat.view(classes.shape).mean(-1)
    return config.alpha_mse * mse(output.score, target) + config.beta_ce * ce


def compute_loss(
    output: FusionOutput, target: torch.Tensor, config: LossConfig = LossConfig()
) -> torch.Tensor:
    """The loss named by ``config.kind`` for one batch (or a whole split)."""
    if config.kind == "correlation":
        return correlation_loss(output.score, target, config)
    if config.kind == "multitask":
        return multitask_loss(output, target, config)
    if config.kind == "mse":
        return mse(output.score, target)
    if config.kind == "mse_mae":
        return error_loss(output.score, target)
    raise ValueError(f"unknown loss kind '{config.kind}' (known: {LOSS_KINDS})")
