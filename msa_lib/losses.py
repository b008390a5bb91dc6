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


def pearson_r(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of two 1-d tensors; 0 (with zero gradient) where it is undefined."""
    if pred.shape != target.shape or pred.ndim != 1:
        raise ValueError(
            f"pearson_r needs two 1-d tensors of one shape, got {pred.shape}, {target.shape}"
        )
    pc = pred - pred.mean()
    tc = target - target.mean()
    denom2 = (pc * pc).sum() * (tc * tc).sum()
    # clamp before sqrt so that the branch torch.where discards never has an infinite gradient
    r = (pc * tc).sum() / denom2.clamp_min(eps * eps).sqrt()
    return torch.where(denom2 > eps * eps, r, torch.zeros_like(r))


def error_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``(MSE + MAE) / 2``: the error term of the correlation loss (§4.1) on its own."""
    return (F.mse_loss(pred, target) + F.l1_loss(pred, target)) / 2


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
    classes = sentiment_classes(target, output.logits.shape[1])
    return config.alpha_mse * F.mse_loss(output.score, target) + config.beta_ce * F.cross_entropy(
        output.logits, classes
    )


def compute_loss(
    output: FusionOutput, target: torch.Tensor, config: LossConfig = LossConfig()
) -> torch.Tensor:
    """The loss named by ``config.kind`` for one batch (or a whole split)."""
    if config.kind == "correlation":
        return correlation_loss(output.score, target, config)
    if config.kind == "multitask":
        return multitask_loss(output, target, config)
    if config.kind == "mse":
        return F.mse_loss(output.score, target)
    if config.kind == "mse_mae":
        return error_loss(output.score, target)
    raise ValueError(f"unknown loss kind '{config.kind}' (known: {LOSS_KINDS})")
