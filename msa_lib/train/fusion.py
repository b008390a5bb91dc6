"""The fusion model's training (§3.6.1) on top of the generic loop, prediction and checkpoints.

Recipe: Adam (lr 8e-4, weight decay 0.04), batch 32, up to 100 epochs, ReduceLROnPlateau on the
validation Pearson r (mode max, factor 0.7, patience 7), early stopping after 25 epochs without a
better validation r, and the best-validation-r weights kept. Every value is in
:class:`~msa_lib.config.TrainConfig`; input preparation is :mod:`msa_lib.train.inputs`.

Choices the paper leaves open, made here:

- a split's loss, MAE and r are computed over the whole split at once (r of the split, not a
  mean of batch values), in evaluation mode;
- a final batch with fewer than ``min_batch`` (2) segments is skipped: BatchNorm needs two rows;
- where a validation r is undefined (constant predictions) it counts as 0 for the scheduler and
  for early stopping.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import mean_absolute_error

from msa_lib.config import LossConfig, ModelConfig, TrainConfig, config_from_dict
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics, pearson
from msa_lib.io.checkpoint import (
    SCALER_FILE,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from msa_lib.losses import CLASS_SCHEMES, compute_loss
from msa_lib.models.fusion import FusionModel, FusionOutput
from msa_lib.train.inputs import (
    Columns,
    Prepared,
    Standardizer,
    TrainInputError,
    check_featureset,
    input_tensor,
    prepare_inputs,
    split_inputs,
)
from msa_lib.train.loop import LoopResult, predict_batches, train_loop

log = logging.getLogger(__name__)

CHECKPOINT_KIND = "fusion"
# what a fusion checkpoint's config.json holds (weights.pt: the state dict; scaler.pt: the scaler)
CHECKPOINT_KEYS = (
    "modalities",
    "dims",
    "model_config",
    "train_config",
    "loss_config",
    "best_epoch",
    "best_valid_r",
    "input_counts",
)


@dataclass
class TrainedModel:
    """A fitted fusion model with everything needed to predict: weights, scaler, configs."""

    model: FusionModel
    scaler: Standardizer
    modalities: list[str]
    model_config: ModelConfig
    train_config: TrainConfig
    loss_config: LossConfig
    best_epoch: int = 0
    best_valid_r: float = float("nan")
    input_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def dims(self) -> dict[str, int]:
        """Input width per modality."""
        return dict(self.model.dims)

    def predict(self, fs: FeatureSet) -> np.ndarray:
        """Scores for every segment of ``fs`` (see :func:`predict`)."""
        return predict(self, fs)

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint folder (:mod:`msa_lib.io.checkpoint`, kind ``fusion``): configs,
        modalities, widths and selection in ``config.json``, ``weights.pt``, ``scaler.pt``."""
        config = {
            "modalities": list(self.modalities),
            "dims": self.dims,
            "model_config": self.model_config,
            "train_config": self.train_config,
            "loss_config": self.loss_config,
            "best_epoch": int(self.best_epoch),
            "best_valid_r": float(self.best_valid_r),
            "input_counts": self.input_counts,
        }
        weights, scaler = self.model.state_dict(), self.scaler.state()
        return save_checkpoint(path, CHECKPOINT_KIND, config, weights, scaler)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainedModel:
        """Read a folder written by :meth:`save`; any defect is one CheckpointError (a ValueError)
        or ConfigError naming the file and the key."""
        ck = load_checkpoint(path, CHECKPOINT_KIND)
        ck.require(*CHECKPOINT_KEYS)
        return _from_checkpoint(ck)


def checkpoint_modalities(ck: Checkpoint) -> list[str]:
    """The checkpoint's ``modalities`` (a non-empty list of names), or a CheckpointError."""
    mods = ck.config["modalities"]
    if not (isinstance(mods, list) and mods and all(isinstance(m, str) for m in mods)):
        raise CheckpointError(
            f"{ck.config_file}: checkpoint key 'modalities' must be a list of names, got {mods!r}"
        )
    return mods


def checkpoint_widths(ck: Checkpoint, key: str, modalities: Sequence[str]) -> dict[str, int]:
    """``config[key]``: a positive integer per modality, or a CheckpointError naming the key."""
    table = ck.config[key]
    lacking = [m for m in modalities if not isinstance(table, dict) or m not in table]
    if lacking:
        raise CheckpointError(
            f"{ck.config_file}: checkpoint key '{key}' has no entry for modality {lacking}"
        )
    bad = {m: table[m] for m in modalities if not int_at_least(table[m], 1)}
    if bad:
        raise CheckpointError(
            f"{ck.config_file}: checkpoint key '{key}' holds non-positive or non-integer widths "
            f"{bad}"
        )
    return {m: int(table[m]) for m in modalities}


def int_at_least(value: object, least: int) -> bool:
    """Whether ``value`` is an integer (not a bool) of at least ``least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def checkpoint_scaler(ck: Checkpoint, widths: Mapping[str, int]) -> Standardizer:
    """The standardiser in ``scaler.pt``, checked against the model's input width per modality."""
    state, where = ck.tensors("scaler"), ck.path / SCALER_FILE
    for part in ("mean", "std"):
        table = state.get(part)
        lacking = [m for m in widths if not isinstance(table, Mapping) or m not in table]
        if lacking:
            raise CheckpointError(f"{where}: no '{part}' entry for modality {lacking}")
        wrong = {
            m: tuple(getattr(table[m], "shape", ()))
            for m, d in widths.items()
            if not isinstance(table[m], torch.Tensor) or table[m].shape != (d,)
        }
        if wrong:
            raise CheckpointError(
                f"{where}: '{part}' does not fit the input widths {dict(widths)} (shapes {wrong})"
            )
    return Standardizer.from_state(state)


def _from_checkpoint(ck: Checkpoint) -> TrainedModel:
    """Build the model from a checkpoint's contents; errors name the file and the key."""
    mods = checkpoint_modalities(ck)
    dims = checkpoint_widths(ck, "dims", mods)
    scaler = checkpoint_scaler(ck, dims)
    where, cfg = ck.config_file, ck.config
    model_config = config_from_dict(ModelConfig, cfg["model_config"], f"{where} [model_config]")
    train_config = config_from_dict(TrainConfig, cfg["train_config"], f"{where} [train_config]")
    loss_config = config_from_dict(LossConfig, cfg["loss_config"], f"{where} [loss_config]")
    best_epoch, best_r, counts = cfg["best_epoch"], cfg["best_valid_r"], cfg["input_counts"]
    if not int_at_least(best_epoch, 0) or not isinstance(best_r, (int, float, type(None))):
        raise CheckpointError(
            f"{where}: checkpoint keys 'best_epoch' (an integer) and 'best_valid_r' (a number or "
            f"null) hold {best_epoch!r} and {best_r!r}"
        )
    if not isinstance(counts, dict):
        raise CheckpointError(f"{where}: checkpoint key 'input_counts' is not a mapping")
    model = ck.load_into(FusionModel(dims, model_config)).eval()
    return TrainedModel(
        model=model,
        scaler=scaler,
        modalities=mods,
        model_config=model_config,
        train_config=train_config,
        loss_config=loss_config,
        best_epoch=best_epoch,
        best_valid_r=float("nan") if best_r is None else float(best_r),  # NaN is null in JSON
        input_counts=counts,
    )


def _forward_all(model: FusionModel, x: torch.Tensor, cols: Columns) -> FusionOutput:
    """Evaluation-mode outputs for every row, in chunks."""
    return predict_batches(model, x, lambda m, xb: m(split_inputs(xb, cols)))


def validation_scores(
    y_true: np.ndarray, y_pred: np.ndarray, loss: torch.Tensor
) -> tuple[float, dict[str, float]]:
    """An epoch's selection score (validation r) and logged metrics (the MAE and r of ``metrics``)."""
    t, p = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)  # as metrics() does
    r, mae = pearson(t, p), float(mean_absolute_error(t, p))
    return selection_score(r), {"valid_loss": float(loss), "valid_mae": mae, "valid_r": r}


def selection_score(r: float) -> float:
    """The validation r used for model selection; undefined counts as 0."""
    return r if np.isfinite(r) else 0.0


def _train(
    model: FusionModel | Callable[[], FusionModel],
    scaler: Standardizer,
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    mods: Sequence[str],
    cfg: TrainConfig,
    loss_config: LossConfig,
    progress: bool,
    desc: str,
) -> LoopResult:
    """The recipe's loop on standardised inputs, selecting on validation r (fit and fine-tune)."""
    x_tr, cols = input_tensor(scaler, train_fs, mods)
    x_va, _ = input_tensor(scaler, valid_fs, mods)
    y_tr = torch.from_numpy(train_fs.label.astype(np.float32))
    y_va = torch.from_numpy(valid_fs.label.astype(np.float32))

    def batch_loss(model: FusionModel, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        xb, yb = batch
        return compute_loss(model(split_inputs(xb, cols)), yb, loss_config)

    def validate(model: FusionModel) -> tuple[float, dict[str, float]]:
        out = _forward_all(model, x_va, cols)
        return validation_scores(
            y_va.numpy(), out.score.numpy(), compute_loss(out, y_va, loss_config)
        )

    return train_loop(
        model,
        (x_tr, y_tr),
        batch_loss,
        validate,
        cfg,
        progress=progress,
        desc=desc,
    )


def prepare(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    loss_config: LossConfig = LossConfig(),
    modalities: Sequence[str] | None = None,
) -> Prepared:
    """What :func:`fit` checks and prepares before training: the multi-task head's classes, then
    the inputs every model shares (:func:`msa_lib.train.inputs.prepare_inputs`)."""
    if loss_config.kind == "multitask" and model_config.n_classes not in CLASS_SCHEMES:
        raise TrainInputError(
            f"the multi-task loss needs a classification head with {CLASS_SCHEMES} classes "
            f"(model.n_classes, --classes); got n_classes={model_config.n_classes}"
        )
    mods = list(modalities) if modalities is not None else train_fs.modalities
    return prepare_inputs(train_fs, valid_fs, mods, train_config)


def trained_model(
    prep: Prepared,
    result: LoopResult,
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> TrainedModel:
    """The :class:`TrainedModel` of a finished run on prepared inputs."""
    return TrainedModel(
        model=result.model,
        scaler=prep.scaler,
        modalities=prep.modalities,
        model_config=model_config,
        train_config=train_config,
        loss_config=loss_config,
        best_epoch=result.best_epoch,
        best_valid_r=result.best_logged["valid_r"],
        input_counts=prep.input_counts,
    )


def fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    loss_config: LossConfig = LossConfig(),
    modalities: Sequence[str] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> tuple[TrainedModel, pd.DataFrame]:
    """Train on ``train_fs``, select on ``valid_fs``; returns the best model and per-epoch history.

    For several seeds of one configuration, :func:`msa_lib.train.ensemble.fit_seeds` trains them
    together, several times faster: statistically equivalent runs, not the same ones.
    """
    prep = prepare(model_config, train_config, train_fs, valid_fs, loss_config, modalities)
    result = _train(
        lambda: FusionModel(prep.dims, model_config),
        prep.scaler,
        prep.train_fs,
        prep.valid_fs,
        prep.modalities,
        train_config,
        loss_config,
        progress,
        desc,
    )
    return trained_model(prep, result, model_config, train_config, loss_config), result.history


def fine_tune(
    trained: TrainedModel,
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    config: TrainConfig,
    progress: bool = False,
    desc: str = "fine-tune",
) -> TrainedModel:
    """A copy of ``trained`` trained further on ``train_fs`` (its scaler kept), selected on valid r."""
    prep = prepare_inputs(
        train_fs, valid_fs, trained.modalities, config, trained.dims, trained.scaler
    )
    result = _train(
        copy.deepcopy(trained.model),
        prep.scaler,
        prep.train_fs,
        prep.valid_fs,
        prep.modalities,
        config,
        trained.loss_config,
        progress,
        desc,
    )
    return dataclasses.replace(
        trained,
        model=result.model,
        train_config=config,
        best_epoch=result.best_epoch,
        best_valid_r=float(result.best_logged["valid_r"]),
    )


def predict(trained: TrainedModel, fs: FeatureSet) -> np.ndarray:
    """Scores for every segment of ``fs`` (missing modalities get the training mean)."""
    check_featureset(fs, trained.modalities, "predict", trained.dims)
    x, cols = input_tensor(trained.scaler, fs, trained.modalities)
    return _forward_all(trained.model, x, cols).score.numpy().astype(np.float64)


def split_loss(y_true: np.ndarray, y_pred: np.ndarray, config: LossConfig = LossConfig()) -> float:
    """The training loss over a whole split (regression-only losses; NaN for the multi-task one)."""
    if config.kind == "multitask":
        return float("nan")
    out = FusionOutput(torch.as_tensor(y_pred, dtype=torch.float32), None)
    return float(compute_loss(out, torch.as_tensor(y_true, dtype=torch.float32), config))


def score_predictions(
    y_true: np.ndarray, y_pred: np.ndarray, config: LossConfig = LossConfig()
) -> dict[str, float]:
    """Loss and every metric of :func:`msa_lib.evaluate.metrics`, over labelled segments."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    ok = ~np.isnan(y_true)
    return {
        "loss": split_loss(y_true[ok], y_pred[ok], config),
        **metrics(y_true[ok], y_pred[ok]),
        "n": int(ok.sum()),
    }


def evaluate_model(trained: TrainedModel, splits: Mapping[str, FeatureSet]) -> pd.DataFrame:
    """One row per split: loss, MAE, r, Acc-2, F1, Acc-7 and the segment count."""
    rows = []
    for name, fs in splits.items():
        p = predict(trained, fs)
        rows.append({"split": name, **score_predictions(fs.label, p, trained.loss_config)})
    return pd.DataFrame(rows)
