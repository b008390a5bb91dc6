"""MMSA's models through MMSA's own code on our folds; the side-by-side table and its verdict;
the paper's transfer on MMSA files, end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.book.format import ci_column, ci_text
from msa_lib.config import AdapterConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.data.mmsa import transfer_folds
from msa_lib.experiments.mmsa_models import (
    MmsaModelError,
    check_models,
    comparison_table,
    cost_text,
    field_comparison,
    late_fusion_predictions,
    outcomes,
    run_mmsa_models,
    shown_table,
    side_by_side,
    standardised_folds,
    timing_table,
    verdict,
)
from msa_lib.experiments.transfer import TransferData, run_transfer, summarise
from tests.data.test_mmsa import mmsa_file


def corpus(n: int = 150, seed: int = 0) -> dict[str, FeatureSet]:
    """Folds whose three modalities each carry the label plus noise (text the most)."""
    rng = np.random.default_rng(seed)
    label = np.clip(rng.normal(0, 1.3, n), -3, 3).astype(np.float32)
    feats = {
        m: (np.outer(label, rng.normal(size=d)) * s + rng.normal(size=(n, d))).astype(np.float32)
        for m, d, s in (("text", 6, 1.0), ("audio", 4, 0.4), ("visual", 5, 0.3))
    }
    feats["audio"][3] = np.nan  # a missing modality: the training mean, as the paper's model
    split = np.array(["train"] * 3 + ["valid", "test"])[np.arange(n) % 5]
    fs = FeatureSet(
        segment_id=[f"v{i // 3}_{i % 3}" for i in range(n)],
        video_id=[f"v{i // 3}" for i in range(n)],
        split=split,
        label=label,
        features=feats,
        corpus="toy",
        source="synthetic",
    )
    return {s: fs.select(s) for s in ("train", "valid", "test")}


def test_models_that_need_bert_are_refused_with_the_reason():
    assert check_models(["TFN", "LMF", "MulT", "graph-mfn"]) == ["tfn", "lmf", "mult", "graph_mfn"]
    with pytest.raises(MmsaModelError, match="MISA asserts use_bert"):
        check_models(["misa"])
    with pytest.raises(MmsaModelError, match="Self-MM builds a BERT text encoder"):
        check_models(["self_mm"])
    with pytest.raises(MmsaModelError, match="unknown MMSA model 'nope'"):
        check_models(["nope"])


def test_inputs_are_standardised_on_train_with_missing_rows_at_the_mean():
    folds = standardised_folds(corpus())
    np.testing.assert_allclose(folds["train"].features["text"].mean(axis=0), 0, atol=1e-5)
    assert folds["valid"].features["audio"][0].tolist() == [0.0] * 4  # row 3 of the corpus
    assert not np.isnan(folds["valid"].features["audio"]).any()


def test_lmf_and_mult_train_through_mmsa_on_cpu_and_are_cached(tmp_path):
    folds = corpus()
    fast = {"lmf": {"early_stop": 3}, "mult": {"early_stop": 2, "nlevels": 1}}
    run = run_mmsa_models(
        folds, ["lmf", "mult"], seeds=[0, 1], overrides=fast, cache_dir=tmp_path / "cache"
    )
    test = run.predictions[run.predictions["split"] == "test"]
    assert set(test["model"]) == {"LMF", "MulT"}
    for _, g in test.groupby(["model", "seed"]):
        assert sorted(g["segment_id"]) == sorted(folds["test"].segment_id)
    lmf = run.runs[(run.runs["model"] == "LMF") & (run.runs["split"] == "test")]
    assert (lmf["r"] > 0.5).all()  # the label is in the features: MMSA's LMF finds it
    runs = run.runs.drop_duplicates(["model", "seed"])
    assert (runs["epochs"] == runs["best_epoch"] + runs["model"].map({"LMF": 3, "MulT": 2})).all()
    assert len(list((tmp_path / "cache").glob("mmsa-run-*.pkl"))) == 4
    again = run_mmsa_models(
        folds, ["lmf", "mult"], seeds=[0, 1], overrides=fast, cache_dir=tmp_path / "cache"
    )
    pd.testing.assert_frame_equal(again.runs, run.runs)  # read back, seconds included
    assert list(timing_table(run)["model"]) == ["LMF", "MulT"]


def test_a_study_without_a_valid_fold_is_refused():
    folds = corpus()
    del folds["valid"]
    with pytest.raises(MmsaModelError, match="needs a 'valid' fold"):
        run_mmsa_models(folds, ["lmf"], seeds=[0])


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Test predictions of three models: 'fusion' good, 'B' worse, 'C' the same as 'fusion'."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1.5, n)
    good = y + rng.normal(0, 0.6, n)
    rows = []
    for s in range(3):
        jitter = rng.normal(0, 0.05, n)
        for model, pred in (("fusion", good + jitter), ("B", 0.3 * y + rng.normal(0, 1.5, n))):
            rows.append(pd.DataFrame({"model": model, "seed": s, "label": y, "pred": pred}))
        rows.append(pd.DataFrame({"model": "C", "seed": s, "label": y, "pred": good - jitter}))
    frame = pd.concat(rows, ignore_index=True)
    frame["segment_id"] = [f"s{i:03d}" for i in range(n)] * 9
    return frame


def test_comparison_table_and_verdict_follow_the_intervals():
    table = comparison_table(_frame(), n_resamples=300)
    assert list(table["model"]) == ["fusion", "B", "C"]
    words = {(o.model, o.metric): o.word for o in outcomes(table)}
    assert words == {
        ("B", "r"): "wins",
        ("B", "mae"): "wins",
        ("C", "r"): "ties",
        ("C", "mae"): "ties",
    }
    text = verdict(table, ci_text)
    assert "Test r: the paper's model" in text and "better than B" in text
    assert "not distinguishable from C" in text
    b = table.set_index("model").loc["B"]
    assert b["d_r"] > 0 and b["d_r_lo"] > 0 and b["r_lo"] < b["r"] < b["r_hi"]


def test_a_model_that_wins_makes_the_paper_model_lose():
    frame = _frame()
    frame["model"] = frame["model"].replace({"fusion": "B", "B": "fusion"})
    words = {
        (o.model, o.metric): o.word for o in outcomes(comparison_table(frame, n_resamples=300))
    }
    assert words[("B", "r")] == "loses" and words[("B", "mae")] == "loses"


def test_late_fusion_averages_the_single_modality_runs_and_rows_must_match():
    ids = ["a", "b", "c"]
    rows = []
    for subset, pred in (("T", [1.0, 2, 3]), ("V", [3.0, 2, 1]), ("A", [0.0, 0, 3])):
        rows.append(
            pd.DataFrame(
                {
                    "model": "fusion",
                    "subset": subset,
                    "seed": 0,
                    "split": "test",
                    "segment_id": ids,
                    "label": [1.0, 0, -1],
                    "pred": pred,
                }
            )
        )
    grid = pd.concat(rows, ignore_index=True)
    late = late_fusion_predictions(grid, "T+V+A")
    assert late["pred"].tolist() == [4 / 3, 4 / 3, 7 / 3]
    assert set(late["model"]) == {"late fusion"}
    other = late.assign(segment_id=["a", "b", "z"], model="ridge")
    run = type("R", (), {"predictions": late.iloc[:0].assign(split="test")})()
    with pytest.raises(Exception, match="other test rows"):
        side_by_side(pd.concat([late, other]), run)


def _table1_like(folds: dict[str, FeatureSet], seeds: list[int]) -> tuple[pd.DataFrame, ...]:
    """Predictions shaped like a Table-1 study's on ``folds``: the fusion model's per subset and
    seed (label plus noise), and the ridge's for T+V+A."""
    rng = np.random.default_rng(1)
    rows = []
    for split, fs in folds.items():
        for subset, noise in (("T", 0.6), ("V", 1.2), ("A", 1.0), ("T+V+A", 0.5)):
            for seed in seeds:
                pred = fs.label + rng.normal(0, noise, len(fs))
                rows.append(
                    pd.DataFrame(
                        {"segment_id": fs.segment_id, "label": fs.label, "pred": pred}
                    ).assign(model="fusion", subset=subset, seed=seed, split=split)
                )
    grid = pd.concat(rows, ignore_index=True)
    ridge = grid[(grid["subset"] == "T+V+A") & (grid["seed"] == seeds[0])].assign(model="ridge")
    return grid, ridge


def test_field_comparison_puts_mmsa_models_beside_the_table1_study(tmp_path):
    folds = corpus()
    grid, ridge = _table1_like(folds, [0, 1])
    run, compared = field_comparison(
        grid,
        ridge,
        folds,
        ["lmf"],
        seeds=[0, 1],
        n_resamples=200,
        overrides={"lmf": {"early_stop": 3}},
    )
    assert list(compared["model"]) == ["fusion", "ridge", "late fusion", "LMF"]
    assert compared["seeds"].tolist() == [2, 1, 2, 2]  # the ridge is deterministic
    assert set(compared["n"]) == {len(folds["test"])}
    shown = shown_table(compared, ci_column)
    assert shown["model"].iloc[0] == "fusion (paper)" and shown["paper minus model, r"][0] == "–"
    assert shown["r [95% CI]"][3] == ci_text(*compared.loc[3, ["r", "r_lo", "r_hi"]])
    text = cost_text(run)
    assert text.startswith(f"MMSA's models took {run.seconds:.0f} s in this run (2 seeds each; LMF")
    assert f"{run.runs['epochs'].mean():.0f} epochs" in text


def test_the_papers_transfer_runs_on_mmsa_files_end_to_end(tmp_path):
    mosei = mmsa_file(tmp_path / "mosei_aligned_50.pkl", n=(60, 15, 15))
    mosi = mmsa_file(tmp_path / "mosi_unaligned_50.pkl", n=(45, 15, 15))
    source, target = transfer_folds(mosei, mosi)
    data = TransferData(
        "MMSA MOSEI -> MMSA MOSI", "real", source, target, ["visual", "audio", "text"]
    )
    fast = TrainConfig(max_epochs=2, patience=2, batch_size=8)
    rows, tuned = run_transfer(
        data,
        seeds=(0,),
        kinds=("none", "paper", "coral"),
        adapter_config=AdapterConfig(epochs=1, hidden=8, n_target_samples=32, components=2),
        model_config=ModelConfig(hidden=8, token_dim=4, heads=2),
        train_config=fast,
        fine_tune_config=fast,
        fine_tune_kinds=["paper"],
    )
    table = summarise(rows.to_dict("records"), data.name, data.data_source, n_resamples=50)
    assert {"source model", "zero-shot", "zero-shot + AdaBN", "fine-tuned", "target only"} <= set(
        table["setting"]
    )
    assert set(table["adapter"]) >= {"none", "paper", "coral"}  # equal widths: 'none' applies
    mosi_test = table[table["setting"] != "source model"]["n"]
    assert (mosi_test == 15).all() and tuned == ["paper"]
