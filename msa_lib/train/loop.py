"""One training loop for any ``torch.nn.Module``, with the paper's selection rules (§3.6.1).

The loop runs epochs of shuffled mini-batches, scores the model on validation after each epoch,
steps a ``ReduceLROnPlateau`` scheduler on that score (mode max), stops after ``patience`` epochs
without a better score and keeps the weights of the best epoch. What is trained and how it is
scored are parameters:

- ``batch_loss(model, batch) -> loss`` turns one mini-batch (a tuple of tensors sliced along their
  first axis) into a scalar loss;
- ``validate(model) -> (score, logged)`` returns the score to maximise (e.g. validation r, or minus
  the validation loss) and the metrics to log for the epoch;
- ``make_optimizer(model, config)`` builds the optimizer (default: Adam with the config's lr and
  weight decay).

Seeding and threads: the model (or its factory), the shuffling and dropout draw from torch's RNG
seeded with ``config.seed`` inside ``torch.random.fork_rng``, so the caller's RNG is left as it
was; ``config.num_threads`` applies for the duration of the run only. Pass a factory (a function
returning the model) for initial weights that depend on the seed alone.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from msa_lib.config import TrainConfig

Batch = tuple[torch.Tensor, ...]
BatchLoss = Callable[[nn.Module, Batch], torch.Tensor]
Validator = Callable[[nn.Module], tuple[float, dict[str, float]]]
OptimizerFactory = Callable[[nn.Module, TrainConfig], torch.optim.Optimizer]


def adam(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam with the config's lr and weight decay (fused kernel where this torch has one)."""
    try:
        return torch.optim.Adam(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True
        )
    except (RuntimeError, TypeError):  # pragma: no cover - older torch without fused CPU Adam
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


@contextlib.contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Set torch's intra-op threads inside a block (None: leave them); restored after it."""
    before = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def seeded(seed: int, num_threads: int | None = None) -> Iterator[None]:
    """Seed torch's RNG and set its threads inside a block; both are restored after it."""
    with torch_threads(num_threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # seeds here leave the caller's RNG untouched
        yield


@dataclass
class LoopResult:
    """What the loop selected: the best epoch, its score and logged metrics, and the history."""

    model: nn.Module
    best_epoch: int
    best_score: float
    best_logged: dict[str, float]
    history: pd.DataFrame  # epoch, lr, train_loss, <logged metrics>, seconds, best


def train_loop(
    model: nn.Module | Callable[[], nn.Module],
    train_data: Sequence[torch.Tensor],
    batch_loss: BatchLoss,
    validate: Validator,
    config: TrainConfig,
    make_optimizer: OptimizerFactory = adam,
    progress: bool = True,
    desc: str = "train",
) -> LoopResult:
    """Train ``model`` on ``train_data`` with the recipe's schedule and selection; keep the best state.

    ``train_data`` is a tuple of tensors with one row per training example; each mini-batch is the
    same rows of every tensor. A final batch smaller than ``config.min_batch`` is skipped.
    """
    tensors = tuple(train_data)
    if not tensors:
        raise ValueError("train_loop needs at least one training tensor")
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"training tensors differ in length: {[len(t) for t in tensors]}")
    with seeded(config.seed, config.num_threads):
        net = model if isinstance(model, nn.Module) else model()
        return _epochs(
            net, tensors, n, batch_loss, validate, config, make_optimizer, progress, desc
        )


def _epochs(
    model: nn.Module,
    tensors: Batch,
    n: int,
    batch_loss: BatchLoss,
    validate: Validator,
    cfg: TrainConfig,
    make_optimizer: OptimizerFactory,
    progress: bool,
    desc: str,
) -> LoopResult:
    """The epochs themselves (inside :func:`seeded`)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", factor=cfg.plateau_factor, patience=cfg.plateau_patience
    )
    best_score, best_epoch, best_logged, best_state = -np.inf, 0, {}, None
    rows = []
    bar = tqdm(range(1, cfg.max_epochs + 1), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, seen = 0.0, 0
        for start in range(0, n, cfg.batch_size):
            idx = perm[start : start + cfg.batch_size]
            if len(idx) < cfg.min_batch:
                continue
            loss = batch_loss(model, tuple(t[idx] for t in tensors))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        score, logged = validate(model)
        if not np.isfinite(score):
            raise ValueError(
                f"{desc}: the validation score of epoch {epoch} is {score}; the scorer must "
                "return a finite number to select a model"
            )
        lr = opt.param_groups[0]["lr"]
        sched.step(score)
        rows.append(
            {
                "epoch": epoch,
                "lr": lr,
                "train_loss": total / max(seen, 1),
                **logged,
                "seconds": time.perf_counter() - t0,
            }
        )
        if score > best_score:
            best_score, best_epoch, best_logged = score, epoch, dict(logged)
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(score=f"{score:.3f}", best=f"{best_score:.3f}@{best_epoch}")
        if epoch - best_epoch >= cfg.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    history = pd.DataFrame(rows)
    history["best"] = history["epoch"] == best_epoch
    return LoopResult(model, best_epoch, float(best_score), best_logged, history)


def _concat(parts: list) -> object:
    """Concatenate chunked outputs: tensors, or tuples (NamedTuples too) of tensors or None."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts)
    if isinstance(first, tuple):
        fields = [
            None if first[i] is None else torch.cat([p[i] for p in parts])
            for i in range(len(first))
        ]
        return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)
    raise TypeError(f"cannot concatenate model outputs of type {type(first).__name__}")


@torch.no_grad()
def predict_batches(
    model: nn.Module,
    x: torch.Tensor,
    forward: Callable[[nn.Module, torch.Tensor], object] | None = None,
    chunk: int = 8192,
) -> object:
    """Evaluation-mode outputs for every row of ``x``, computed ``chunk`` rows at a time."""
    if len(x) == 0:
        raise ValueError("predict_batches: no rows to predict")
    model.eval()
    forward = forward or (lambda m, xb: m(xb))
    return _concat([forward(model, x[i : i + chunk]) for i in range(0, len(x), chunk)])
