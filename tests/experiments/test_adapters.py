"""The adapters study on a tiny problem whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.book.format import ci_text
from msa_lib.config import AdapterConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.experiments.adapters import (
    adapter_quality,
    adapter_runs,
    adapter_verdicts,
    chance_word,
    closing_text,
    nearer_own,
    pair_verdict,
    reconstruction,
)

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
    # the paper's kind has the paper's hidden width for the modality mapped (text: 384), and
    # every row says the widths of the map it scored
    widths = rows.set_index("adapter")["widths"]
    assert widths["paper"] == "6→384→384→4" and widths["paired-ridge"] == "6→4"
    assert widths["truth"] == ""
    visual, _ = adapter_quality(paired_splits(), ["paper"], [0], FAST, modality="visual")
    assert visual.set_index("adapter").loc["paper", "widths"] == "6→512→512→4"


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


def test_chance_is_where_the_interval_lies_against_zero_or_a_given_value():
    assert chance_word(0.05, 0.2) == "above chance" and chance_word(-0.2, -0.05) == "below chance"
    assert chance_word(-0.05, 0.2) == "at chance" and chance_word(0.45, 0.55, 0.5) == "at chance"
    assert chance_word(float("nan"), float("nan")) == "undefined"


def test_nearer_own_counts_segments_nearer_their_own_true_vector():
    truth = np.arange(40, dtype=float).reshape(20, 2)
    shares = nearer_own({"exact": truth, "constant": np.zeros_like(truth)}, truth, seed=0)
    s = shares.set_index("adapter")
    # the permutation leaves some rows in place: those are not nearer their own than the other
    fixed = int((np.random.default_rng(0).permutation(20) == np.arange(20)).sum())
    assert s.loc["exact", "share"] == pytest.approx((20 - fixed) / 20)
    assert s.loc["exact", "lo"] < s.loc["exact", "share"] <= s.loc["exact", "hi"] <= 1
    assert s.loc["constant", "share"] < 0.9 and (s["n"] == 20).all()
    from scipy.stats import binomtest

    k = round(s.loc["constant", "share"] * 20)
    ci = binomtest(k, 20).proportion_ci(0.95)
    assert (s.loc["constant", "lo"], s.loc["constant", "hi"]) == pytest.approx((ci.low, ci.high))


def pair_runs(
    pair: str, r: dict[str, float], cosine: dict[str, float], n: int = 700
) -> pd.DataFrame:
    """One pair's runs table from the r and cosine of each row (two seeds for the kinds)."""
    rows = []
    for adapter, value in r.items():
        seeds = (0,) if adapter in ("truth", "target mean") else (0, 1)
        for seed in seeds:
            rows.append(
                {
                    "adapter": adapter,
                    "fold": "official folds",
                    "seed": seed,
                    "mse": 1 - cosine[adapter],
                    "cosine": cosine[adapter],
                    "spread": 0.5,
                    "r": value,
                    "n": n,
                    "pair": pair,
                }
            )
    return pd.DataFrame(rows)


def test_the_verdict_reads_every_kind_against_chance_and_the_truth():
    r = {"truth": 0.38, "target mean": np.nan, "paper": -0.01, "paired-ridge": 0.47,
         "paired-mlp": 0.40, "coral": 0.13, "ot": 0.05}  # fmt: skip
    cosine = {"truth": 1.0, "target mean": 0.94, "paper": 0.93, "paired-ridge": 0.97,
              "paired-mlp": 0.96, "coral": 0.91, "ot": 0.87}  # fmt: skip
    shares = pd.DataFrame(
        [("paper", 0.49, 0.45, 0.53, 700), ("paired-ridge", 0.94, 0.92, 0.96, 700)],
        columns=["adapter", "share", "lo", "hi", "n"],
    )
    v = pair_verdict(pair_runs("A -> B", r, cosine), shares)
    assert [k.adapter for k in v.kinds] == ["paired-ridge", "paired-mlp", "coral", "ot", "paper"]
    assert [k.adapter for k in v.paired] == ["paired-ridge", "paired-mlp"]
    assert [k.adapter for k in v.aligned] == ["coral", "ot"]
    assert v.n == 700 and v.fold == "official folds"
    assert v.kind("paper").chance == "at chance" and v.kind("coral").chance == "above chance"
    assert v.against_truth(v.kind("paired-ridge")) == "above"
    assert v.against_truth(v.kind("paired-mlp")) == "inside"
    assert not v.orders_agree  # cosine puts the paper above coral and ot
    text = closing_text([v], ci_text)
    assert "Adapters trained on true pairs carry the sentiment information" in text
    assert "`paired-mlp` r 0.400 [" in text and "inside the truth's interval" in text
    assert "random-pair adapter carries no information about its input" in text
    assert "49.0% [45.0%, 53.0%] of its outputs nearer" in text
    assert "`ot` r 0.050 [" in text and "(at chance)" in text
    assert "Cosine and MSE do not rank the kinds as the downstream score does on A -> B" in text
    assert "leads `paired-mlp` by 0.070 in r" in v.ranking_line()
    collapse = v.collapse_sentence(ci_text, FAST)
    assert "That is chance" in collapse and f"The {FAST.epochs} epochs" in collapse
    metrics = v.metrics_sentence(ci_text)
    assert "r is undefined on the first" in metrics and "`coral` and `ot` have a lower" in metrics

    # a paper adapter above chance, paired kinds at chance, cosine agreeing with r: said so
    r2 = {**r, "paper": 0.2, "paired-mlp": 0.02, "coral": 0.1, "ot": 0.05}
    cos2 = {**cosine, "paper": 0.95, "paired-mlp": 0.8, "coral": 0.9, "ot": 0.85}
    informative = shares.assign(lo=[0.55, 0.92], hi=[0.62, 0.96])
    v2 = pair_verdict(pair_runs("A -> B", r2, cos2), informative)
    text2 = closing_text([v2], ci_text)
    assert "do not all carry" in text2 and "is not at chance everywhere" in text2
    assert (
        "the three orders" not in text2 and "rank the kinds as the downstream score does:" in text2
    )
    assert "not independent of which segment" in v2.collapse_sentence(ci_text, FAST)


def test_verdicts_of_a_tiny_study_find_the_paired_kind_and_the_random_pairs_apart():
    pairs = {"A -> B": paired_splits(0, n=600)}
    runs, mapped = adapter_runs(pairs, ["paper", "paired-ridge"], [0], FAST, 1, {"A -> B": "f"})
    shares = {"A -> B": nearer_own(mapped["A -> B"], pairs["A -> B"]["test"].features["target"])}
    v = adapter_verdicts(runs, shares)["A -> B"]
    assert v.kind("paired-ridge").chance == "above chance" and v.shares["paired-ridge"][0] > 0.9
    assert v.shares["truth"][0] > 0.9  # the truth itself: every segment nearer its own
    with pytest.raises(ValueError, match="reference"):
        pair_verdict(runs[runs["adapter"] != "truth"])
