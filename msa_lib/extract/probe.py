"""A linear probe of extracted features: ridge regression on the official folds.

The regularisation strength is chosen on the validation fold only (highest Pearson r); the test
fold is scored once, with the standard sentiment metrics (MAE, Pearson r, binary accuracy in its
has-0 and non-0 forms, F1 non-0, 7-class accuracy). Features are standardised on the training fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.linear_model import Ridge
from sklearn.metrics import f1_score, mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from msa_lib.data import FeatureSet

DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 11))


def sentiment_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, Pearson r, Acc-2 (has-0 and non-0), F1 non-0 and Acc-7 of sentiment predictions."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    nz = y_true != 0
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r": float(pearsonr(y_true, y_pred)[0]),
        "acc2_has0": float(np.mean((y_true >= 0) == (y_pred >= 0))),
        "acc2_non0": float(np.mean((y_true[nz] > 0) == (y_pred[nz] > 0))),
        "f1_non0": float(f1_score(y_true[nz] > 0, y_pred[nz] > 0, average="weighted")),
        "acc7": float(
            np.mean(np.round(np.clip(y_true, -3, 3)) == np.round(np.clip(y_pred, -3, 3)))
        ),
    }


@dataclass
class RidgeProbe:
    """The chosen alpha, the validation curve and the test scores."""

    alpha: float
    valid_curve: pd.DataFrame  # alpha, valid r, valid MAE
    test: dict[str, float]
    n: dict[str, int]  # segments used per fold (rows with features and labels)


def ridge_probe(
    fs: FeatureSet, modality: str, alphas: tuple[float, ...] = DEFAULT_ALPHAS
) -> RidgeProbe:
    """Fit ridge on train, pick alpha by validation r, score the test fold once."""
    x = fs.features[modality]
    usable = ~np.isnan(x).all(axis=1) & ~np.isnan(fs.label)
    folds = {s: np.flatnonzero(usable & (fs.split == s)) for s in ("train", "valid", "test")}
    empty = [s for s, i in folds.items() if len(i) < 3]
    if empty:
        raise ValueError(f"{fs.corpus} {modality}: too few usable segments in fold(s) {empty}")
    tr, va, te = (folds[s] for s in ("train", "valid", "test"))
    rows = []
    for a in alphas:
        model = make_pipeline(StandardScaler(), Ridge(alpha=a)).fit(x[tr], fs.label[tr])
        p = model.predict(x[va])
        rows.append(
            {
                "alpha": a,
                "valid_r": float(pearsonr(fs.label[va], p)[0]),
                "valid_mae": float(mean_absolute_error(fs.label[va], p)),
            }
        )
    curve = pd.DataFrame(rows)
    best = float(curve.loc[curve["valid_r"].idxmax(), "alpha"])
    model = make_pipeline(StandardScaler(), Ridge(alpha=best)).fit(x[tr], fs.label[tr])
    test = sentiment_metrics(fs.label[te], model.predict(x[te]))
    return RidgeProbe(best, curve, test, {s: len(i) for s, i in folds.items()})
