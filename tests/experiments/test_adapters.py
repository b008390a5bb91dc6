"""The adapters study on a tiny problem whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import AdapterConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.experiments.adapters import adapter_quality, adapter_runs, reconstruction

FAST = AdapterConfig(epochs=4, hidden=16, n_target_samples=200, components=3)


def paired_splits(seed: int = 0, n: int = 300) -> dict[str, FeatureSet]:
    """Train/valid/test folds of a set whose ``target`` carries the label and ``source`` maps it."""
    rng = np.random.default_rng(seed)
    label = np.clip(rng.normal(0, 1.2, n), -3, 3).astype(np.float32)
    target = np.column_stack([label + 0.3 * rng.normal(size=n), rng.normal(size=(n, 3))])
    source = target @ rng.normal(size=(4, 6)) + 0.01 * rng.normal(size=(n, 6))
    split = np.array(["train"] * (2 * n // 3) + ["valid"] * (n // 6) + ["test"] * (n // 6))
    fs = FeatureSet(
        segment_id=[f"s{i}" for i in range(n)],
        video_id=[f"v{i // 5}" for i in range(n)],
        split=split,
        label=label,
        features={"source": source.astype(np.float32), "target": target.astype(np.float32)},
    )
    return {s: fs.select(s) for s in ("train", "valid", "test")}


def test_reconstruction_of_the_truth_and_of_its_negative():
    t = np.array([[1.0, 2.0], [3.0, -1.0]])
    assert reconstruction(t, t) == {"mse": 0.0, "cosine": pytest.approx(1.0)}
    assert reconstruction(-t, t)["cosine"] == pytest.approx(-1.0)
    assert reconstruction(-t, t)["mse"] == pytest.approx(((2 * t) ** 2).mean())


def test_adapter_quality_ranks_paired_above_random_pairs_by_the_downstream_score():
    rows, mapped = adapter_quality(paired_splits(), ["paper", "paired-ridge"], [0], FAST)
    assert rows["adapter"].tolist() == ["truth", "target mean", "paper", "paired-ridge"]
    r = rows.set_index("adapter")["r"]
    assert r["paired-ridge"] > r["truth"] - 0.05 and r["truth"] > 0.8
    assert abs(r["paper"]) < 0.4 and np.isnan(r["target mean"])
    assert rows.set_index("adapter").loc["truth", "cosine"] == pytest.approx(1.0)
    assert mapped["paper"].shape == (50, 4)


def test_runs_keep_one_reference_row_per_pair_and_one_row_per_kind_and_seed():
    pairs = {"A -> B": paired_splits(0), "C -> D": paired_splits(1, n=240)}
    folds = {"A -> B": "official folds", "C -> D": "own split"}
    runs, mapped = adapter_runs(pairs, ["paired-ridge", "coral"], [3, 5], FAST, 1, folds)
    assert list(runs.columns[:3]) == ["adapter", "fold", "seed"] and runs.columns[-1] == "pair"
    counts = runs.groupby(["pair", "adapter"]).size().to_dict()
    assert counts == {
        (p, k): (2 if k in ("paired-ridge", "coral") else 1)
        for p in pairs
        for k in ("truth", "target mean", "paired-ridge", "coral")
    }
    assert runs.loc[runs["adapter"] == "truth", "seed"].eq(0).all()
    assert sorted(runs.loc[runs["adapter"] == "coral", "seed"].unique()) == [3, 5]
    assert runs.set_index("pair")["fold"].to_dict() == folds
    # each seed's run is the study run alone for that seed; the vectors are the first seed's
    alone, first = adapter_quality(pairs["C -> D"], ["paired-ridge", "coral"], [5], FAST)
    got = runs[(runs["pair"] == "C -> D") & (runs["seed"] == 5)].drop(columns=["fold", "pair"])
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), alone[alone["seed"] == 5].reset_index(drop=True)
    )
    _, first = adapter_quality(pairs["C -> D"], ["coral"], [3], FAST)
    np.testing.assert_array_equal(mapped["C -> D"]["coral"], first["coral"])
    assert set(mapped) == set(pairs) and set(mapped["A -> B"]) == {"truth", "paired-ridge", "coral"}
