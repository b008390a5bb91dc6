"""Baselines: ridge regression on the same inputs as the fusion model, and late fusion by averaging.

- **Ridge** (scikit-learn), the one linear baseline of every chapter: the chosen modalities,
  standardised with training statistics (:class:`~msa_lib.train.inputs.Standardizer`) and
  concatenated (missing rows get the training mean, or are dropped with ``missing="drop"``); the
  penalty is the one of highest validation Pearson r on one log grid (:data:`RIDGE_ALPHAS`; ties go
  to the larger penalty). The test split plays no part in the fit; it is scored once.
- **Late fusion**: the average of the single-modality models' predictions (same seed), so a
  reader sees what joint training with attention adds over training each modality alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from msa_lib.config import LossConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics
from msa_lib.train.fusion import score_predictions
from msa_lib.train.inputs import (
    Standardizer,
    check_featureset,
    require_varied_labels,
    usable_rows,
)

RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))  # 1e-2 ... 1e5, half-decade steps


@dataclass
class RidgeFit:
    """A ridge fitted on train with the penalty chosen on valid, and everything to predict."""

    model: Ridge
    scaler: Standardizer
    modalities: list[str]
    alpha: float
    missing: str
    valid_curve: pd.DataFrame  # alpha, valid_r, valid_mae for every penalty of the grid
    n_used: dict[str, int]  # segments fitted on (train) and chosen on (valid)

    def predict(self, fs: FeatureSet) -> np.ndarray:
        """Predictions for every segment of ``fs`` (missing modalities: the training mean)."""
        check_featureset(
            fs, self.modalities, "predict", {m: len(v) for m, v in self.scaler.mean.items()}
        )
        return self.model.predict(_design(self.scaler, fs, self.modalities))

    def score(self, fs: FeatureSet) -> dict[str, float]:
        """:func:`msa_lib.evaluate.metrics` over the rows the missing-modality rule uses, and their count."""
        part = fs.take(usable_rows(fs, self.modalities, self.missing)[0])
        return {**metrics(part.label, self.predict(part)), "n": len(part)}


def _design(scaler: Standardizer, fs: FeatureSet, modalities: Sequence[str]) -> np.ndarray:
    return scaler.design(fs, modalities).astype(np.float64)


def _valid_r(y: np.ndarray, p: np.ndarray) -> float:
    """Validation r for choosing the penalty; 0 where the predictions are constant."""
    return float(np.corrcoef(y, p)[0, 1]) if np.ptp(p) > 0 else 0.0


def fit_ridge(
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    modalities: Sequence[str],
    alphas: Sequence[float] = RIDGE_ALPHAS,
    missing: str = "impute",
) -> RidgeFit:
    """Ridge with the penalty of highest validation r (ties: the larger penalty), refitted on train."""
    mods = list(modalities)
    check_featureset(train_fs, mods, "train")
    check_featureset(valid_fs, mods, "valid", train_fs.dims)
    train_fs = train_fs.take(usable_rows(train_fs, mods, missing)[0])
    valid_fs = valid_fs.take(usable_rows(valid_fs, mods, missing)[0])
    for name, part in (("train", train_fs), ("valid", valid_fs)):
        if len(part) < 3:
            raise ValueError(
                f"{part.corpus or 'FeatureSet'} ({name} split): {len(part)} usable segments for "
                f"{mods}; ridge needs at least 3"
            )
        require_varied_labels(part, name)
    scaler = Standardizer.fit(train_fs, mods)
    x_tr, x_va = _design(scaler, train_fs, mods), _design(scaler, valid_fs, mods)
    best_alpha, best_r, rows = alphas[0], -np.inf, []
    for a in alphas:
        p = Ridge(alpha=a).fit(x_tr, train_fs.label).predict(x_va)
        r = _valid_r(valid_fs.label, p)
        rows.append(
            {"alpha": a, "valid_r": r, "valid_mae": float(np.abs(valid_fs.label - p).mean())}
        )
        if r >= best_r:
            best_alpha, best_r = a, r
    model = Ridge(alpha=best_alpha).fit(x_tr, train_fs.label)
    n_used = {"train": len(train_fs), "valid": len(valid_fs)}
    return RidgeFit(model, scaler, mods, float(best_alpha), missing, pd.DataFrame(rows), n_used)


def late_fusion(predictions: Mapping[str, np.ndarray], modalities: Sequence[str]) -> np.ndarray:
    """Average of the single-modality predictions for ``modalities``."""
    absent = [m for m in modalities if m not in predictions]
    if absent:
        raise KeyError(f"late fusion needs single-modality predictions for {absent}")
    return np.mean([np.asarray(predictions[m], float) for m in modalities], axis=0)


def ridge_runs(
    splits: Mapping[str, FeatureSet],
    subsets: Mapping[str, Sequence[str]],
    loss_config: LossConfig | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ridge for every subset, scored on every split: (runs, predictions) in :class:`GridResult` form."""
    loss_config = loss_config or LossConfig()
    runs, preds = [], []
    for subset, mods in subsets.items():
        ridge = fit_ridge(splits["train"], splits["valid"], mods)
        for name, fs in splits.items():
            p = ridge.predict(fs)
            row = {"model": "ridge", "subset": subset, "seed": 0, "split": name}
            runs.append(
                {**row, **score_predictions(fs.label, p, loss_config), "alpha": ridge.alpha}
            )
            preds.append(
                pd.DataFrame({"segment_id": fs.segment_id, "label": fs.label, "pred": p}).assign(
                    **row
                )
            )
    return pd.DataFrame(runs), pd.concat(preds, ignore_index=True)


def late_fusion_runs(
    predictions: pd.DataFrame,
    subsets: Mapping[str, Sequence[str]],
    unimodal: Mapping[str, str] | None = None,
    loss_config: LossConfig | None = None,
) -> pd.DataFrame:
    """Late fusion of the single-modality fusion-model runs, per seed, for each multi-modality subset.

    ``predictions`` is :attr:`GridResult.predictions`; ``unimodal`` maps a modality to the subset
    that trained it alone (default: the subsets of one modality).
    """
    loss_config = loss_config or LossConfig()
    fusion = predictions[predictions["model"] == "fusion"]
    trained = set(fusion["subset"])
    unimodal = unimodal or {mods[0]: s for s, mods in subsets.items() if len(mods) == 1}
    unimodal = {m: s for m, s in unimodal.items() if s in trained}  # only runs that exist
    rows = []
    for subset, mods in subsets.items():
        if len(mods) < 2 or any(m not in unimodal for m in mods):
            continue
        for (seed, split), g in fusion.groupby(["seed", "split"], sort=False):
            per_mod = {}
            for m in mods:
                part = g[g["subset"] == unimodal[m]].set_index("segment_id")
                per_mod[m] = part["pred"]
            ids = per_mod[mods[0]].index
            label = g[g["subset"] == unimodal[mods[0]]].set_index("segment_id").loc[ids, "label"]
            p = late_fusion({m: per_mod[m].loc[ids].to_numpy() for m in mods}, mods)
            rows.append(
                {
                    "model": "late fusion",
                    "subset": subset,
                    "seed": seed,
                    "split": split,
                    **score_predictions(label.to_numpy(), p, loss_config),
                }
            )
    return pd.DataFrame(rows)
