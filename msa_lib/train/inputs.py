"""Input preparation for training and prediction: checks, the standardiser, missing-modality rules.

Choices the paper leaves open, made here:

- inputs are standardised per feature with the **training split's** mean and standard deviation
  (a constant feature gets sd 1);
- a segment missing a modality (an all-NaN row) is, by default (``missing="impute"``), given the
  training mean for it (0 after standardising); ``missing="drop"`` leaves such segments out of
  training and validation instead. At prediction time the training mean is always imputed, so
  every segment gets a score. Counts are reported either way;
- unlabelled segments (NaN label) are left out of training and validation and counted;
- a split whose usable labels are all equal is refused for training: Pearson r is undefined on
  it, so a model cannot be selected by r (:func:`labels_constant` warns, :func:`require_varied_labels`
  raises).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from msa_lib.config import MISSING_RULES, TrainConfig
from msa_lib.data.featureset import FeatureSet, FeatureSetError

log = logging.getLogger(__name__)


class TrainInputError(ValueError):
    """Data handed to training or prediction cannot be used as it is."""


def origin_of(fs: FeatureSet, name: str) -> str:
    """How errors name a split: ``"<corpus> (<name> split)"``."""
    return f"{fs.corpus or 'FeatureSet'} ({name} split)"


@dataclass
class Standardizer:
    """Per-feature mean and sd of each modality, fitted on training rows only."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]

    @classmethod
    def fit(cls, fs: FeatureSet, modalities: Sequence[str]) -> Standardizer:
        """Mean and sd (constant features: sd 1) over the rows where the modality is present."""
        mean, std = {}, {}
        for m in modalities:
            x = fs.features[m][~fs.missing(m)].astype(np.float64)
            if len(x) == 0:
                raise TrainInputError(
                    f"{fs.corpus or 'FeatureSet'}: modality '{m}' is missing for every training segment"
                )
            sd = x.std(axis=0)
            mean[m] = x.mean(axis=0).astype(np.float32)
            std[m] = np.where(sd > 1e-8, sd, 1.0).astype(np.float32)
        return cls(mean, std)

    def transform(self, fs: FeatureSet) -> dict[str, np.ndarray]:
        """Standardised float32 matrices; missing rows become 0 (the training mean)."""
        out = {}
        for m in self.mean:
            x = (fs.features[m] - self.mean[m]) / self.std[m]
            x[fs.missing(m)] = 0.0
            out[m] = x.astype(np.float32)
        return out

    def design(self, fs: FeatureSet, modalities: Sequence[str]) -> np.ndarray:
        """The standardised modalities side by side: one ``[n, sum(dims)]`` float32 matrix."""
        x = self.transform(fs)
        return np.concatenate([x[m] for m in modalities], axis=1)

    def state(self) -> dict[str, dict[str, torch.Tensor]]:
        """As tensors, for a checkpoint."""
        return {
            "mean": {m: torch.from_numpy(v) for m, v in self.mean.items()},
            "std": {m: torch.from_numpy(v) for m, v in self.std.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping) -> Standardizer:
        """Inverse of :meth:`state`."""
        return cls(
            {m: v.numpy() for m, v in state["mean"].items()},
            {m: v.numpy() for m, v in state["std"].items()},
        )


def check_featureset(
    fs: FeatureSet, modalities: Sequence[str], name: str, dims: Mapping[str, int] | None = None
) -> None:
    """Contract, modalities present and widths; errors name the corpus, the split and the problem."""
    origin = origin_of(fs, name)
    absent = [m for m in modalities if m not in fs.features]
    if absent:
        raise TrainInputError(
            f"{origin}: modality {absent} is not in the FeatureSet; it has {fs.modalities}"
        )
    try:
        fs.validate(origin)  # label range, shapes, non-finite values other than whole missing rows
    except FeatureSetError as exc:
        raise TrainInputError(str(exc)) from exc
    if dims is not None:
        for m in modalities:
            if fs.dims[m] != dims[m]:
                raise TrainInputError(
                    f"{origin}: modality '{m}' has width {fs.dims[m]}, the model expects {dims[m]}"
                )


def usable_rows(
    fs: FeatureSet, modalities: Sequence[str], missing: str
) -> tuple[np.ndarray, dict[str, int]]:
    """Boolean mask of rows to train/validate on and the counts of rows left out or imputed."""
    if missing not in MISSING_RULES:
        raise ValueError(f"unknown missing-modality rule '{missing}' (known: {MISSING_RULES})")
    labelled = ~np.isnan(fs.label)
    any_missing = np.zeros(len(fs), bool)
    for m in modalities:
        any_missing |= fs.missing(m)
    keep = labelled & ~any_missing if missing == "drop" else labelled
    counts = {
        "n_rows": len(fs),
        "n_unlabelled": int((~labelled).sum()),
        "n_missing_modality": int((labelled & any_missing).sum()),
        "n_used": int(keep.sum()),
    }
    return keep, counts


def labels_constant(fs: FeatureSet, name: str) -> bool:
    """True, with a logged warning, when every labelled segment of ``fs`` has the same label."""
    y = fs.label[~np.isnan(fs.label)]
    if len(y) == 0 or np.ptp(y) > 0:
        return False
    log.warning(
        "%s: all %d labels are %g; Pearson r is undefined on this split",
        origin_of(fs, name),
        len(y),
        y[0],
    )
    return True


def require_varied_labels(fs: FeatureSet, name: str) -> None:
    """A TrainInputError when the labels of ``fs`` are constant: no model can be selected by r."""
    if labels_constant(fs, name):
        value = fs.label[~np.isnan(fs.label)][0]
        raise TrainInputError(
            f"{origin_of(fs, name)}: every usable label is {value:g}; with constant labels Pearson r "
            "is undefined, so training cannot select a model by r (check the labels or the split)"
        )


# ----------------------------------------------------------------- what every model's training shares
Columns = list[tuple[str, int, int]]  # (modality, first column, end column) in the input tensor


@dataclass
class Prepared:
    """Training inputs after the checks: usable rows, modalities, the scaler, widths and counts."""

    train_fs: FeatureSet
    valid_fs: FeatureSet
    modalities: list[str]
    scaler: Standardizer
    dims: dict[str, int]
    input_counts: dict[str, dict[str, int]]


def prepare_inputs(
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    modalities: Sequence[str],
    config: TrainConfig,
    dims: Mapping[str, int] | None = None,
    scaler: Standardizer | None = None,
) -> Prepared:
    """The checks and preparation every model's training shares (fusion, its fine-tuning, temporal).

    Both splits hold the modalities at the same widths (``dims``: a trained model's, else the
    training split's); rows are kept by the missing-modality rule; each split has at least one
    batch of usable rows and labels that vary; the standardiser is fitted on the training split,
    unless ``scaler`` (a trained model's, kept when it is fine-tuned) is given.
    """
    mods = list(modalities)
    if not mods:
        raise TrainInputError("no modalities to train on")
    check_featureset(train_fs, mods, "train", dims)
    check_featureset(valid_fs, mods, "valid", dims or train_fs.dims)
    keep_tr, counts_tr = usable_rows(train_fs, mods, config.missing)
    keep_va, counts_va = usable_rows(valid_fs, mods, config.missing)
    for name, c in (("train", counts_tr), ("valid", counts_va)):
        if c["n_used"] < config.batch_size:
            raise TrainInputError(
                f"{train_fs.corpus or 'FeatureSet'}: the {name} split has {c['n_used']} usable "
                f"segments, fewer than one batch ({config.batch_size}); {c}"
            )
        if c["n_unlabelled"] or c["n_missing_modality"]:
            log.info("%s split: %s (missing-modality rule: %s)", name, c, config.missing)
    train_fs, valid_fs = train_fs.take(keep_tr), valid_fs.take(keep_va)
    require_varied_labels(train_fs, "train")
    require_varied_labels(valid_fs, "valid")
    return Prepared(
        train_fs,
        valid_fs,
        mods,
        scaler if scaler is not None else Standardizer.fit(train_fs, mods),
        {m: train_fs.dims[m] for m in mods},
        {"train": counts_tr, "valid": counts_va},
    )


def input_tensor(
    scaler: Standardizer, fs: FeatureSet, modalities: Sequence[str]
) -> tuple[torch.Tensor, Columns]:
    """One ``[n, sum(dims)]`` tensor of standardised inputs and each modality's column range."""
    x = scaler.transform(fs)
    cols, start = [], 0
    for m in modalities:
        cols.append((m, start, start + x[m].shape[1]))
        start += x[m].shape[1]
    return torch.from_numpy(np.concatenate([x[m] for m in modalities], axis=1)), cols


def split_inputs(x: torch.Tensor, cols: Columns) -> dict[str, torch.Tensor]:
    """The modality blocks of a concatenated input tensor."""
    return {m: x[:, a:b] for m, a, b in cols}
