"""The paper's adapter network (§3.6.2) as two kinds: ``paper`` (random pairs) and ``paired-mlp``.

Both train :class:`~msa_lib.models.adapter.AdapterMLP` (in -> h -> h -> out, Linear-BatchNorm-
ReLU-Dropout(0.3) blocks, then a Linear) with MSE, batch 16, Adam 1e-3, 30 epochs, keeping the
last epoch (no selection: the paper states none). They differ in the pairs the network sees:

- ``paper``: as published, ``n_target_samples`` (1000) target vectors drawn at random, each paired
  with a randomly drawn source vector. Such pairs carry no information about the input, so the
  MSE optimum is the target mean. Its hidden width is the paper's for the modality
  (:data:`msa_lib.config.paper.ADAPTER_HIDDEN`, through :meth:`PaperAdapter.settings_for`);
- ``paired-mlp``: true pairs, one segment seen by both extractors; hidden width
  ``AdapterConfig.hidden`` for every modality.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from msa_lib.adapters.base import Adapter, AdapterError, register
from msa_lib.config import AdapterConfig, TrainConfig
from msa_lib.config.paper import ADAPTER_HIDDEN
from msa_lib.models.adapter import AdapterMLP
from msa_lib.train.loop import train_loop


def random_pairs(
    zs: np.ndarray, zt: np.ndarray, config: AdapterConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's training set: ``n_target_samples`` random target rows, each with a random source row."""
    rng = np.random.default_rng(config.seed)
    n = config.n_target_samples
    ti = rng.choice(len(zt), size=n, replace=n > len(zt))
    si = rng.choice(len(zs), size=n, replace=n > len(zs))
    return zs[si], zt[ti]


def train_mlp(
    zs: np.ndarray, zt: np.ndarray, config: AdapterConfig, num_threads: int | None
) -> AdapterMLP:
    """The paper's recipe through the generic loop: MSE, Adam, fixed epochs, the last epoch kept."""
    if len(zs) < config.batch_size:
        raise AdapterError(
            f"adapter training: {len(zs)} pairs, fewer than one batch ({config.batch_size})"
        )
    recipe = TrainConfig(
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=0.0,
        max_epochs=config.epochs,
        patience=config.epochs,
        seed=config.seed,
        num_threads=num_threads,
    )
    epoch = {"n": 0}

    def batch_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        xb, yb = batch
        return nn.functional.mse_loss(model(xb), yb)

    def last_epoch(model: nn.Module) -> tuple[float, dict[str, float]]:
        epoch["n"] += 1  # a rising score: the loop keeps the last epoch, as the paper does
        return float(epoch["n"]), {}

    in_dim, out_dim = zs.shape[1], zt.shape[1]
    result = train_loop(
        lambda: AdapterMLP(in_dim, out_dim, config.hidden, config.dropout),
        (torch.from_numpy(zs.astype(np.float32)), torch.from_numpy(zt.astype(np.float32))),
        batch_loss,
        last_epoch,
        recipe,
        progress=False,
        desc="adapter",
    )
    return result.model


class MLPAdapter(Adapter):
    """The paper's network; a subclass says which pairs it learns from."""

    mlp: AdapterMLP | None = None

    def _train(self, zs: np.ndarray, zt: np.ndarray) -> None:
        self.mlp = train_mlp(zs, zt, self.config, self.num_threads)

    def _map(self, z: np.ndarray) -> np.ndarray:
        assert self.mlp is not None
        self.mlp.eval()
        with torch.no_grad():
            return self.mlp(torch.from_numpy(z.astype(np.float32))).numpy().astype(np.float64)

    def _weights(self) -> dict[str, Any]:
        assert self.mlp is not None
        return self.mlp.state_dict()

    def widths(self) -> str:
        """Every layer's width: ``65→512→512→713``."""
        if self.mlp is None:
            return super().widths()
        linear = [m for m in self.mlp.modules() if isinstance(m, nn.Linear)]
        return "→".join(str(w) for w in [linear[0].in_features, *(m.out_features for m in linear)])

    def _restore(self, weights: Mapping[str, Any] | None, path: Path) -> None:
        if weights is None:
            raise AdapterError(f"{path}: no weights.pt (the network's weights)")
        self.mlp = AdapterMLP(self.in_dim, self.out_dim, self.config.hidden, self.config.dropout)
        try:
            self.mlp.load_state_dict(weights)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise AdapterError(f"{path}: weights do not fit the adapter ({first})") from exc
        self.mlp.eval()


@register
class PaperAdapter(MLPAdapter):
    """The paper's adapter: the network on random (source, target) pairs (§3.1, §3.6.2)."""

    kind = "paper"

    @classmethod
    def settings_for(cls, config: AdapterConfig, modality: str) -> AdapterConfig:
        """The paper's hidden width for ``modality`` (§3.6.2: visual 512, audio 256, text 384);
        a modality the paper has no adapter for keeps ``config.hidden``."""
        return dataclasses.replace(config, hidden=ADAPTER_HIDDEN.get(modality, config.hidden))

    def _fit(self, zs: np.ndarray, zt: np.ndarray) -> None:
        zs, zt = random_pairs(zs, zt, self.config)
        self.info["n_pairs"] = float(len(zs))
        self._train(zs, zt)


@register
class PairedMLPAdapter(MLPAdapter):
    """The paper's network on true pairs (one segment seen by both extractors)."""

    kind = "paired-mlp"
    paired = True

    def minimum(self) -> tuple[int, str]:
        """One batch of pairs (BatchNorm needs a batch)."""
        return self.config.batch_size, "one batch"

    def _fit(self, zs: np.ndarray, zt: np.ndarray) -> None:
        self._train(zs, zt)
