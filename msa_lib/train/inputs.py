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

from msa_lib.config import MISSING_RULES
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
