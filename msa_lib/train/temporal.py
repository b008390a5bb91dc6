"""Training the sequence model: the fusion model's recipe, loss and selection on validation r.

:func:`fit_temporal` runs the generic loop (:func:`msa_lib.train.loop.train_loop`) on aligned
features (:mod:`msa_lib.data.align`) with the same input rules as the fusion model (training-split
standardiser, missing modalities at the training mean); :class:`TrainedTemporal` predicts, and
saves and loads as a checkpoint folder (:mod:`msa_lib.io.checkpoint`, kind ``temporal``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from msa_lib.config import LossConfig, TemporalConfig, TrainConfig, config_from_dict
from msa_lib.data.align import frame_width
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics
from msa_lib.io.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from msa_lib.losses import compute_loss
from msa_lib.models.temporal import TemporalModel
from msa_lib.train.fusion import (
    checkpoint_modalities,
    checkpoint_scaler,
    checkpoint_widths,
    int_at_least,
)
from msa_lib.train.inputs import (
    Standardizer,
    TrainInputError,
    check_featureset,
    input_tensor,
    prepare_inputs,
    split_inputs,
)
from msa_lib.train.loop import predict_batches, train_loop

CHECKPOINT_KIND = "temporal"
# what a temporal checkpoint's config.json holds (weights.pt: the state dict; scaler.pt: the scaler)
CHECKPOINT_KEYS = ("modalities", "widths", "steps", "config", "best_epoch", "best_valid_r")


@dataclass
class TrainedTemporal:
    """A fitted temporal model with its scaler and settings."""

    model: TemporalModel
    scaler: Standardizer
    modalities: list[str]
    config: TemporalConfig
    best_epoch: int
    best_valid_r: float

    def predict(self, fs: FeatureSet) -> np.ndarray:
        """Scores for every segment of ``fs`` (a missing modality gets the training mean)."""
        check_featureset(
            fs, self.modalities, "predict", {m: self.scaler.mean[m].size for m in self.modalities}
        )
        x, cols = input_tensor(self.scaler, fs, self.modalities)
        out = predict_batches(self.model, x, lambda m, xb: m(split_inputs(xb, cols)))
        return out.score.numpy().astype(np.float64)

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint folder (kind ``temporal``): modalities, frame widths, steps and
        settings in ``config.json``, ``weights.pt``, ``scaler.pt``."""
        config = {
            "modalities": list(self.modalities),
            "widths": dict(self.model.widths),
            "steps": int(self.model.steps),
            "config": self.config,
            "best_epoch": int(self.best_epoch),
            "best_valid_r": float(self.best_valid_r),
        }
        weights, scaler = self.model.state_dict(), self.scaler.state()
        return save_checkpoint(path, CHECKPOINT_KIND, config, weights, scaler)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainedTemporal:
        """Read a folder written by :meth:`save`; errors name the file and the key."""
        ck = load_checkpoint(path, CHECKPOINT_KIND)
        ck.require(*CHECKPOINT_KEYS)
        where, cfg = ck.config_file, ck.config
        mods = checkpoint_modalities(ck)
        widths = checkpoint_widths(ck, "widths", mods)
        steps, best_epoch, best_r = cfg["steps"], cfg["best_epoch"], cfg["best_valid_r"]
        if not (int_at_least(steps, 1) and int_at_least(best_epoch, 0)) or not isinstance(
            best_r, (int, float, type(None))
        ):
            raise CheckpointError(
                f"{where}: checkpoint keys 'steps' (an integer >= 1), 'best_epoch' (>= 0) and "
                f"'best_valid_r' (a number or null) hold {steps!r}, {best_epoch!r}, {best_r!r}"
            )
        scaler = checkpoint_scaler(ck, {m: steps * w for m, w in widths.items()})
        config = config_from_dict(TemporalConfig, cfg["config"], f"{where} [config]")
        model = ck.load_into(TemporalModel(widths, steps, config)).eval()
        best = float("nan") if best_r is None else float(best_r)  # NaN is null in JSON
        return cls(model, scaler, mods, config, best_epoch, best)


def fit_temporal(
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    modalities: Sequence[str],
    config: TemporalConfig = TemporalConfig(),
    train_config: TrainConfig = TrainConfig(),
    loss_config: LossConfig = LossConfig(),
    progress: bool = False,
) -> tuple[TrainedTemporal, pd.DataFrame]:
    """Train on aligned ``train_fs``, select on ``valid_fs`` r (the fusion model's recipe and rules)."""
    mods = list(modalities)
    if loss_config.kind == "multitask":
        raise TrainInputError(
            "the temporal model has no classification head for the multi-task loss"
        )
    prep = prepare_inputs(train_fs, valid_fs, mods, train_config)
    widths = {m: frame_width(prep.train_fs, m, config.steps) for m in mods}
    train_fs, valid_fs, scaler = prep.train_fs, prep.valid_fs, prep.scaler
    x_tr, cols = input_tensor(scaler, train_fs, mods)
    x_va, _ = input_tensor(scaler, valid_fs, mods)
    y_tr = torch.from_numpy(train_fs.label.astype(np.float32))
    y_va = valid_fs.label.astype(np.float64)

    def batch_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        xb, yb = batch
        return compute_loss(model(split_inputs(xb, cols)), yb, loss_config)

    def validate(model: nn.Module) -> tuple[float, dict[str, float]]:
        out = predict_batches(model, x_va, lambda m, xb: m(split_inputs(xb, cols)))
        m = metrics(y_va, out.score.numpy())
        return (m["r"] if np.isfinite(m["r"]) else 0.0), {"valid_mae": m["mae"], "valid_r": m["r"]}

    result = train_loop(
        lambda: TemporalModel(widths, config.steps, config),
        (x_tr, y_tr),
        batch_loss,
        validate,
        train_config,
        progress=progress,
        desc="temporal",
    )
    trained = TrainedTemporal(
        result.model, scaler, mods, config, result.best_epoch, float(result.best_logged["valid_r"])
    )
    return trained, result.history
