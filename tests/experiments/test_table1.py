import numpy as np
import pandas as pd
import pytest

from msa_lib.book.format import ci_text
from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data import DataFolder
from msa_lib.data.featureset import FeatureSet
from msa_lib.data.splits import fold_splits
from msa_lib.evaluate import table1
from msa_lib.experiments.table1 import (
    OFFICIAL_FOLDS,
    OWN_FOLDS,
    RGap,
    baseline_claim_text,
    by_model_columns,
    ci_table,
    comparison_text,
    difference_text,
    fold_predictions,
    fusion_ridge_differences,
    fusion_vs_ridge,
    leak_check,
    leak_table,
    leak_verdict,
    optimism_verdict,
    oracle_r,
    run_table1,
    scale_table,
    subset_lines,
    summarise_test,
    table1_value,
    with_folds,
)
from msa_lib.train import SUBSETS


def test_oracle_r_by_hand():
    rho = {"text": 0.8, "audio": 0.6}
    assert oracle_r(rho, ["text"]) == pytest.approx(0.8)
    s = 0.64 / 0.36 + 0.36 / 0.64
    assert oracle_r(rho, ["text", "audio"]) == pytest.approx(np.sqrt(s / (1 + s)))
    assert oracle_r(rho, ["text", "audio"]) > 0.8


def test_table1_run_end_to_end(small_synthetic, tmp_path):
    fs, _ = DataFolder.open(small_synthetic).features("mosei")
    run = run_table1(
        fold_splits(fs),
        "tiny",
        seeds=[0],
        model_config=ModelConfig(),
        train_config=TrainConfig(max_epochs=2, batch_size=16),
        loss_config=LossConfig(),
        n_jobs=1,
    )
    assert set(run.table["subset"]) == set(SUBSETS) and run.table["paper valid_r"].notna().any()
    summary = summarise_test(run.runs)
    assert list(summary.index) == list(SUBSETS)
    assert {"fusion", "ridge", "late fusion"} <= set(summary.columns.get_level_values("model"))
    # the summary is the mean over seeds of each model's test rows
    test = run.runs[run.runs["split"] == "test"]
    for (model, subset), g in test.groupby(["model", "subset"]):
        assert summary.loc[subset, ("test_r", model)] == pytest.approx(g["r"].mean())
        assert summary.loc[subset, ("test_mae", model)] == pytest.approx(g["mae"].mean())
    scales = scale_table(run)
    c = fusion_vs_ridge(summary, scales)
    d_r = summary[("test_r", "fusion")] - summary[("test_r", "ridge")]
    assert c["d_r_mean"] == pytest.approx(d_r.mean()) and c["n_subsets"] == 7
    assert c["n_fusion_r_higher"] == int((d_r > 0).sum())
    assert c["n_late"] == 4  # the multi-modality subsets
    ci = ci_table(run, seed=0, n_resamples=50)
    assert set(ci["model"]) == {"fusion", "ridge"} and len(ci) == 14
    t_fusion = ci[(ci.model == "fusion") & (ci.subset == "T")].iloc[0]
    assert t_fusion["test_r_lo"] <= t_fusion["test_r"] <= t_fusion["test_r_hi"]
    assert t_fusion["test_mae_lo"] <= t_fusion["test_mae"] <= t_fusion["test_mae_hi"]
    assert t_fusion["test_r"] == pytest.approx(summary.loc["T", ("test_r", "fusion")])  # one seed
    preds = fold_predictions(run, "T+V+A", 0)
    assert set(preds["split"]) == {"test"} and set(preds["model"]) == {"fusion", "ridge"}
    assert len(preds) == 2 * int((fs.split == "test").sum())
    # the paired intervals are of the same differences the summary holds
    diffs = fusion_ridge_differences(run, n_resamples=50).set_index(["subset", "metric"])
    assert len(diffs) == 14
    for k in SUBSETS:
        for metric in ("r", "mae"):
            d = diffs.loc[(k, metric)]
            want = (
                summary.loc[k, (f"test_{metric}", "fusion")]
                - summary.loc[k, (f"test_{metric}", "ridge")]
            )
            assert d["difference"] == pytest.approx(want)
            assert d["lo"] <= d["difference"] <= d["hi"]
    verdict = optimism_verdict(run.runs, max_epochs=2)
    assert [g.subset for g in verdict.gaps] == list(SUBSETS) and verdict.n_runs == 7
    assert 0 <= verdict.kept_epoch_min <= verdict.kept_epoch_max <= 2
    assert "of at most 2" in verdict.sentence()


def summary_and_scales():
    """A hand-made summary of three subsets and its scale table."""
    idx = ["A", "T", "A+T"]
    summary = pd.DataFrame(
        {
            ("test_r", "fusion"): [0.2, 0.7, 0.75],
            ("test_r", "ridge"): [0.3, 0.6, 0.70],
            ("test_r", "late fusion"): [np.nan, np.nan, 0.72],
            ("test_mae", "fusion"): [1.0, 0.8, 0.7],
            ("test_mae", "ridge"): [0.9, 0.9, 0.9],
        },
        index=idx,
    )
    scales = pd.DataFrame(
        {
            ("sd_ratio", "fusion"): [0.4, 0.5, 0.6],
            ("sd_ratio", "ridge"): [0.8, 0.9, 1.0],
            ("mae", "fusion"): [1.0, 0.8, 0.6],
            ("mae", "ridge"): [0.9, 0.9, 0.9],
            ("mae_rescaled", "fusion"): [0.9, 0.7, 0.5],
            ("mae_rescaled", "ridge"): [0.9, 0.8, 0.7],
        },
        index=idx,
    )
    return summary, scales


def test_fusion_vs_ridge_by_hand():
    c = fusion_vs_ridge(*summary_and_scales())
    assert c["n_subsets"] == 3
    assert (c["d_r_min"], c["d_r_max"]) == pytest.approx((-0.1, 0.1))
    assert c["d_r_mean"] == pytest.approx((-0.1 + 0.1 + 0.05) / 3)
    assert c["n_fusion_r_higher"] == 2
    assert c["d_mae_mean"] == pytest.approx((0.1 - 0.1 - 0.2) / 3)
    assert c["n_fusion_mae_lower"] == 2
    assert (c["sd_ratio_fusion_min"], c["sd_ratio_fusion_max"]) == (0.4, 0.6)
    assert c["mae_fusion"] == pytest.approx(0.8) and c["mae_rescaled_fusion"] == pytest.approx(0.7)
    assert c["mae_rescaled_ridge"] == pytest.approx(0.8)
    assert c["n_late"] == 1 and c["n_joint_higher"] == 1
    assert c["joint_minus_late_r"] == pytest.approx(0.03)


def test_fusion_vs_ridge_without_late_fusion():
    summary, scales = summary_and_scales()
    c = fusion_vs_ridge(summary.drop(columns=("test_r", "late fusion")), scales)
    assert c["n_late"] == 0 and np.isnan(c["joint_minus_late_r"])


def test_table1_value_takes_one_value_per_split_and_the_paper_column():
    runs = pd.DataFrame(
        [
            {
                "model": m,
                "subset": "T",
                "seed": seed,
                "split": split,
                "loss": 1.0,
                "mae": 0.5,
                "r": r,
            }
            for m, seeds in (("fusion", (0, 1)), ("ridge", (0,)))
            for seed in seeds
            for split, r in (("train", 0.9), ("valid", 0.6 + 0.1 * seed), ("test", 0.4))
        ]
    )
    paper = pd.DataFrame(
        {"subset": ["T"], "valid_loss": [0.2], "valid_mae": [0.4], "valid_r": [0.65]}
    )
    shown = table1_value(table1(runs, paper=paper), "r")
    assert list(shown.columns) == ["model", "subset", "train", "valid", "test", "paper valid"]
    fusion = shown[shown["model"] == "fusion"].iloc[0]
    assert fusion["valid"] == "0.650 ± 0.071" and fusion["test"] == "0.400 ± 0.000"
    assert fusion["paper valid"] == 0.65
    ridge = shown[shown["model"] == "ridge"].iloc[0]
    assert ridge["valid"] == "0.600" and np.isnan(ridge["paper valid"])  # one seed: no sd
    assert "paper valid" not in table1_value(table1(runs), "mae").columns
    with pytest.raises(KeyError, match="acc7"):
        table1_value(table1(runs), "acc7")


def test_by_model_columns_flattens_value_and_model():
    summary, scales = summary_and_scales()
    summary.index.name = "subset"
    flat = by_model_columns(summary, {"test_r": "", "test_mae": "MAE"})
    assert list(flat.columns) == [
        "subset",
        "fusion",
        "ridge",
        "late fusion",
        "fusion MAE",
        "ridge MAE",
    ]
    assert flat["subset"].tolist() == ["A", "T", "A+T"]
    assert flat["late fusion"].tolist()[2] == 0.72 and flat["ridge MAE"].tolist() == [0.9] * 3
    flat = by_model_columns(scales, {"mae_rescaled": "rescaled"})
    assert list(flat.columns) == ["subset", "fusion rescaled", "ridge rescaled"]
    with pytest.raises(KeyError, match="sd"):
        by_model_columns(scales, {"sd": ""})


def test_comparison_text_and_subset_lines_state_the_numbers():
    summary, scales = summary_and_scales()
    text = comparison_text(fusion_vs_ridge(summary, scales))
    assert "from -0.100 to +0.100 across the 3 subsets" in text
    assert "better on 2 of 3" in text and "joint higher on 1 of 1, by +0.030" in text
    assert subset_lines(summary) == [
        "- A: r 0.200 (0.300), MAE 1.000 (0.900)",
        "- T: r 0.700 (0.600), MAE 0.800 (0.900)",
        "- A+T: r 0.750 (0.700), MAE 0.700 (0.900)",
    ]  # in SUBSETS order


def test_difference_text_says_which_differences_the_intervals_resolve():
    diffs = pd.DataFrame(
        [
            ("T", "r", 0.05, 0.01, 0.09),  # resolved, fusion better
            ("A", "r", -0.02, -0.06, 0.02),  # within noise
            ("T", "mae", 0.10, 0.05, 0.15),  # resolved, fusion worse
            ("A", "mae", 0.01, -0.02, 0.04),
        ],
        columns=["subset", "metric", "difference", "lo", "hi"],
    )
    r_line, mae_line = difference_text(diffs, ci_text).splitlines()
    assert "excludes 0 on 1 of 2 subsets (T +0.050 [+0.010, +0.090])" in r_line
    assert "in the fusion model's favour on 1" in r_line
    assert "(T +0.100 [+0.050, +0.150]), in the fusion model's favour on 0" in mae_line
    within = diffs[diffs["subset"] == "A"]
    assert "every interval contains 0" in difference_text(within, ci_text)


def test_the_claim_of_an_improvement_over_baselines_is_answered_from_the_intervals():
    diffs = pd.DataFrame(
        [
            ("T", "r", 0.05, 0.01, 0.09),  # fusion ahead, resolved
            ("A", "r", -0.02, -0.06, 0.02),  # within noise
            ("V", "r", -0.08, -0.12, -0.03),  # ridge ahead, resolved
            ("T", "mae", 0.10, 0.05, 0.15),
        ],
        columns=["subset", "metric", "difference", "lo", "hi"],
    )
    text = baseline_claim_text(diffs, {"n_late": 4, "n_joint_higher": 1}, "toy data")
    assert text.startswith("On toy data, the paper's claimed improvement over baselines")
    assert (
        "above ridge's, resolved over seeds and test segments, on 1 of 3 subsets, below it on 1"
        in text
    )
    assert "not resolved on 1; joint training beats late fusion" in text
    assert text.endswith("shows no consistent improvement over the baselines.")
    ahead = diffs[diffs["subset"] == "T"]
    assert "shows an improvement over the baselines" in baseline_claim_text(ahead, {}, "x")


def bclstm_like(n_videos: int = 40, per_video: int = 12) -> FeatureSet:
    """Three modalities that carry the label, and an own split by video (train/test)."""
    rng = np.random.default_rng(0)
    n = n_videos * per_video
    label = np.clip(rng.normal(0, 1.3, n), -3, 3).astype(np.float32)
    feats = {
        m: (np.outer(label, rng.normal(size=4)) + s * rng.normal(size=(n, 4))).astype(np.float32)
        for m, s in (("audio", 3.0), ("visual", 2.0), ("text", 0.5))
    }
    video = np.repeat([f"v{i}" for i in range(n_videos)], per_video)
    split = np.where(np.repeat(np.arange(n_videos), per_video) < 28, "train", "test")
    return FeatureSet(
        segment_id=[f"s{i}" for i in range(n)],
        video_id=video,
        split=split,
        label=label,
        features=feats,
    )


def test_the_leak_check_fits_the_same_ridge_on_two_splits():
    fs = bclstm_like()
    folds = np.array(["train", "valid", "test"])[np.arange(len(fs.label)) % 3]
    segments = pd.DataFrame({"segment_id": fs.segment_id[::-1], "split": folds[::-1]})
    official = with_folds(fs, segments)
    assert (official.split == folds).all()  # matched by id, not by position
    check = leak_check(fold_splits(official), fold_splits(fs, holdout=0.2), LossConfig())
    assert list(check.columns) == ["subset", "folds", "r", "n"] and len(check) == 14
    assert check.loc[check["folds"] == OFFICIAL_FOLDS, "n"].eq((folds == "test").sum()).all()
    table = leak_table(check)
    assert list(table.columns) == [OFFICIAL_FOLDS, OWN_FOLDS] and list(table.index) == list(SUBSETS)
    assert (
        table.loc["T", OWN_FOLDS]
        == check.query("subset == 'T' and folds == @OWN_FOLDS")["r"].item()
    )
    with pytest.raises(ValueError, match="no fold"):
        with_folds(fs, segments.iloc[1:])


def leak_rows(official: dict, own: dict, n=(700, 750)) -> pd.DataFrame:
    """A leak check's long rows from {subset: r} per way to split."""
    return pd.DataFrame(
        [{"subset": k, "folds": OFFICIAL_FOLDS, "r": v, "n": n[0]} for k, v in official.items()]
        + [{"subset": k, "folds": OWN_FOLDS, "r": v, "n": n[1]} for k, v in own.items()]
    )


def test_leak_verdict_names_the_subsets_higher_on_the_official_folds():
    v = leak_verdict(
        leak_rows({"A": 0.15, "V": 0.56, "T": 0.81}, {"A": 0.14, "V": 0.09, "T": 0.60})
    )
    assert [g.subset for g in v.leaky] == ["V", "T"]
    text = v.sentence()
    assert "text features reach a test r of 0.810 on the official folds and 0.600" in text
    assert "on 2 of 3 subsets, most of all V (visual): 0.560 against 0.090" in text
    assert "not on A (audio)" in text and "That gap is the leak" in text
    same = leak_verdict(leak_rows({"A": 0.15, "T": 0.60}, {"A": 0.14, "T": 0.61}))
    assert same.leaky == () and "no leak shows" in same.sentence()
    assert "leak:" not in same.sentence()


def test_an_r_gap_is_resolved_by_fishers_z():
    assert RGap("T", 0.5, 103, 0.3, 103).p == pytest.approx(0.0900, abs=1e-4)
    assert not RGap("T", 0.5, 103, 0.3, 103).higher
    assert RGap("T", 0.5, 400, 0.3, 400).higher and not RGap("T", 0.3, 400, 0.5, 400).higher


def test_optimism_verdict_compares_validation_with_test_per_subset():
    rows = []
    for subset, valid_r, test_r in (("V", 0.73, 0.09), ("A", 0.16, 0.12)):
        for seed, epoch in ((0, 5), (1, 15)):
            for split, r, n in (
                ("train", 0.9, 1200),
                ("valid", valid_r, 240),
                ("test", test_r, 750),
            ):
                rows.append(
                    {
                        "model": "fusion",
                        "subset": subset,
                        "seed": seed,
                        "split": split,
                        "r": r,
                        "n": n,
                        "best_epoch": epoch,
                        "epochs": epoch + 25,
                    }
                )
    runs = pd.DataFrame(rows)
    v = optimism_verdict(pd.concat([runs, runs.assign(model="ridge")]), max_epochs=100)
    assert [g.subset for g in v.gaps] == ["A", "V"] and [g.subset for g in v.optimistic] == ["V"]
    assert (v.kept_epoch_mean, v.kept_epoch_min, v.kept_epoch_max) == (10.0, 5, 15)
    text = v.sentence()
    assert "on 1 of 2 subsets: V (visual) 0.730 against 0.090" in text
    assert "Not on A (audio) 0.160 against 0.120" in text
    assert "kept epoch 10.0 on average over the 4 runs (from 5 to 15), of at most 100" in text
    flat = runs.assign(r=np.where(runs["split"] == "valid", 0.1, runs["r"]))
    assert "On none of the 2 subsets" in optimism_verdict(flat, 100).sentence()
    with pytest.raises(ValueError, match="late fusion"):
        optimism_verdict(runs, 100, model="late fusion")
