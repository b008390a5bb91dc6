import numpy as np
import pytest

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data import DataFolder
from msa_lib.experiments import (
    ci_table,
    fold_predictions,
    fusion_vs_ridge_note,
    oracle_r,
    run_table1,
    scale_table,
    subset_lines,
    summarise_test,
)
from msa_lib.train import SUBSETS, fold_splits


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
        "synthetic",
        seeds=[0],
        model_config=ModelConfig(),
        train_config=TrainConfig(max_epochs=2, batch_size=16),
        loss_config=LossConfig(),
        results_dir=tmp_path,
        n_jobs=1,
    )
    assert (tmp_path / "table1_tiny.csv").is_file() and (
        tmp_path / "table1_tiny_runs.csv"
    ).is_file()
    summary = summarise_test(run.runs)
    assert list(summary.index) == list(SUBSETS)
    assert {"fusion", "ridge", "late fusion"} <= set(summary.columns.get_level_values("model"))
    scales = scale_table(run)
    note = fusion_vs_ridge_note(summary, scales)
    assert "fusion minus ridge" in note and "of 7" in note
    assert len(subset_lines(summary)) == 7
    ci = ci_table(run, seed=0, n_resamples=50)
    assert set(ci["model"]) == {"fusion", "ridge"}
    preds = fold_predictions(run, "T+V+A", 0)
    assert set(preds["split"]) == {"test"} and set(preds["model"]) == {"fusion", "ridge"}
    assert len(preds) == 2 * int((fs.split == "test").sum())
