import numpy as np
import pandas as pd
import pytest

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data import DataFolder
from msa_lib.data.splits import fold_splits
from msa_lib.evaluate import table1
from msa_lib.experiments.table1 import (
    by_model_columns,
    ci_table,
    fold_predictions,
    fusion_vs_ridge,
    oracle_r,
    run_table1,
    scale_table,
    summarise_test,
    table1_value,
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
    t_fusion = ci[(ci.model == "fusion") & (ci.subset == "T")]["test r [95% CI]"].item()
    est, lo, hi = (
        float(v) for v in t_fusion.replace("[", "").replace("]", "").replace(",", "").split()
    )
    assert lo <= est <= hi
    assert est == pytest.approx(summary.loc["T", ("test_r", "fusion")], abs=5e-4)  # one seed
    preds = fold_predictions(run, "T+V+A", 0)
    assert set(preds["split"]) == {"test"} and set(preds["model"]) == {"fusion", "ridge"}
    assert len(preds) == 2 * int((fs.split == "test").sum())


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
