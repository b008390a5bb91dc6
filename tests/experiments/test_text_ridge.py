"""The text-only ridge study on small FeatureSets made in the test."""

from __future__ import annotations

import numpy as np
import pytest

from msa_lib.data import FeatureSet, ModalityMeta
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.text_ridge import COLUMNS, ridge_row, text_ridge_table
from msa_lib.train.baselines import RIDGE_ALPHAS, fit_ridge


def featureset(x: np.ndarray, label: np.ndarray) -> FeatureSet:
    """30 train, 15 valid and 15 test segments."""
    n = len(label)
    split = np.array(["train"] * 30 + ["valid"] * 15 + ["test"] * 15)
    return FeatureSet(
        segment_id=np.array([f"s{i}" for i in range(n)]),
        video_id=np.array([f"v{i}" for i in range(n)]),
        split=split,
        label=label.astype(np.float32),
        features={"text": x.astype(np.float32)},
        meta={"text": ModalityMeta("test")},
        corpus="test",
        source="synthetic",
    )


@pytest.fixture(scope="module")
def sets() -> dict[str, FeatureSet]:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (60, 4))
    label = np.clip(x @ [0.8, -0.5, 0.3, 0.0] + rng.normal(0, 0.1, 60), -3, 3)
    informative = x.copy()
    informative[50] = np.nan  # a test segment without a transcript
    return {
        "informative": featureset(informative, label),
        "noise": featureset(rng.normal(0, 1, (60, 6)), label),
    }


def test_a_row_per_representation_with_the_folds_used(sets):
    table = text_ridge_table(sets)
    assert list(table.columns) == COLUMNS
    assert table["features"].tolist() == ["informative", "noise"]
    assert table["dim"].tolist() == [4, 6]
    assert table["alpha"].isin(RIDGE_ALPHAS).all()
    assert table["n_train"].tolist() == [30, 30] and table["n_valid"].tolist() == [15, 15]
    assert table["n_test"].tolist() == [14, 15]  # the segment without a vector is left out
    rows = table.set_index("features")
    assert rows.loc["informative", "valid_r"] > 0.9 and rows.loc["informative", "test_r"] > 0.9
    assert rows.loc["informative", "test_mae"] < 0.3
    assert rows.loc["informative", "test_r"] > rows.loc["noise", "test_r"]


def test_the_row_is_fit_ridge_chosen_on_valid_and_scored_on_test(sets):
    row = ridge_row("informative", sets["informative"])
    folds = fold_splits(sets["informative"])
    ridge = fit_ridge(folds["train"], folds["valid"], ["text"], missing="drop")
    test = ridge.score(folds["test"])
    assert row["alpha"] == ridge.alpha
    assert row["valid_r"] == round(float(ridge.valid_curve["valid_r"].max()), 3)
    assert row["test_r"] == round(test["r"], 3) and row["test_acc7"] == round(test["acc7"], 3)
