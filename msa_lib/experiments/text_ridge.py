"""The text-only ridge study (chapter 4): how much sentiment a linear model reads per encoding.

Per text representation, :func:`text_ridge_table` fits the ridge of
:func:`msa_lib.train.baselines.fit_ridge` on the training fold (standardised with its
statistics, the penalty chosen by validation Pearson r, segments without a transcript left out)
and scores it once on the test fold.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from msa_lib.data import FeatureSet
from msa_lib.data.splits import fold_splits
from msa_lib.train.baselines import fit_ridge

TEST_METRICS = ("mae", "r", "acc2_has0", "acc2_non0", "f1_non0", "acc7")
COLUMNS = [
    "features",
    "dim",
    "alpha",
    "valid_r",
    *(f"test_{k}" for k in TEST_METRICS),
    "n_train",
    "n_valid",
    "n_test",
]


def ridge_row(name: str, fs: FeatureSet, modality: str = "text") -> dict:
    """One representation's row: the chosen penalty, its validation r, the test scores and the
    segments used in each fold."""
    folds = fold_splits(fs)
    ridge = fit_ridge(folds["train"], folds["valid"], [modality], missing="drop")
    test = ridge.score(folds["test"])
    return {
        "features": name,
        "dim": fs.dims[modality],
        "alpha": ridge.alpha,
        "valid_r": round(float(ridge.valid_curve["valid_r"].max()), 3),
        **{f"test_{k}": round(test[k], 3) for k in TEST_METRICS},
        "n_train": ridge.n_used["train"],
        "n_valid": ridge.n_used["valid"],
        "n_test": test["n"],
    }


def text_ridge_table(embeddings: Mapping[str, FeatureSet], modality: str = "text") -> pd.DataFrame:
    """:func:`ridge_row` for every named FeatureSet (each with the folds in its ``split``)."""
    return pd.DataFrame(
        [ridge_row(n, fs, modality) for n, fs in embeddings.items()], columns=COLUMNS
    )
