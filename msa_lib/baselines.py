"""Baselines for Table 1: ridge regression on the same inputs, and late fusion by averaging.

- **Ridge** (scikit-learn): the chosen modalities, standardised with training statistics and
  concatenated (missing rows get the training mean, as for the fusion model); the penalty is
  chosen on the validation split from a log grid, then the test split is scored once.
- **Late fusion**: the average of the single-modality models' predictions (same seed), so a
  reader sees what joint training with attention adds over training each modality alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from msa_lib.config import LossConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.train import Standardizer, check_featureset, score_predictions, usable_rows

RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))


def _design(scaler: Standardizer, fs: FeatureSet, modalities: Sequence[str]) -> np.ndarray:
    x = scaler.transform(fs)
    return np.concatenate([x[m] for m in modalities], axis=1).astype(np.float64)


def fit_ridge(
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    modalities: Sequence[str],
    alphas: Sequence[float] = RIDGE_ALPHAS,
    missing: str = "impute",
) -> tuple[Ridge, Standardizer, float]:
    """Ridge with the penalty of highest validation r (ties: the larger penalty); returns it fitted."""
    check_featureset(train_fs, modalities, "train")
    check_featureset(valid_fs, modalities, "valid", train_fs.dims)
    train_fs = train_fs.take(usable_rows(train_fs, modalities, missing)[0])
    valid_fs = valid_fs.take(usable_rows(valid_fs, modalities, missing)[0])
    scaler = Standardizer.fit(train_fs, modalities)
    x_tr, x_va = _design(scaler, train_fs, modalities), _design(scaler, valid_fs, modalities)
    best_alpha, best_r = alphas[0], -np.inf
    for a in alphas:
        p = Ridge(alpha=a).fit(x_tr, train_fs.label).predict(x_va)
        r = np.corrcoef(valid_fs.label, p)[0, 1] if np.ptp(p) > 0 else 0.0
        if r >= best_r:
            best_alpha, best_r = a, r
    return Ridge(alpha=best_alpha).fit(x_tr, train_fs.label), scaler, float(best_alpha)


def predict_ridge(
    model: Ridge, scaler: Standardizer, fs: FeatureSet, modalities: Sequence[str]
) -> np.ndarray:
    """Ridge predictions for every segment (missing modalities: training mean)."""
    return model.predict(_design(scaler, fs, modalities))


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
        model, scaler, alpha = fit_ridge(splits["train"], splits["valid"], mods)
        for name, fs in splits.items():
            p = predict_ridge(model, scaler, fs, mods)
            row = {"model": "ridge", "subset": subset, "seed": 0, "split": name}
            runs.append({**row, **score_predictions(fs.label, p, loss_config), "alpha": alpha})
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
