"""Speed ratios: one row per measure against its target, merged into one CSV by measure."""

import pandas as pd
import pytest

from msa_lib.perf.speed import RATIO_COLUMNS, ratio_row, read_ratios, upsert_ratios


def test_ratio_row_against_its_target():
    faster = ratio_row("visual fps", 150.0, 100.0, "paper's recipe", 1.4)
    assert faster["ratio"] == 1.5 and faster["target"] == ">= 1.4" and faster["met"] is True
    slower = ratio_row("train s", 2.0, 1.0, "floor", 1.1, higher_is_better=False)
    assert slower["ratio"] == 2.0 and slower["target"] == "<= 1.1" and slower["met"] is False
    assert list(faster) == list(RATIO_COLUMNS) and faster["spread"] == ""


def test_a_repeated_measure_reports_the_median_ratio_and_its_range():
    row = ratio_row(
        "visual fps", 150.0, 100.0, "recipe", 1.5, repeats=[1.49, 1.56, 1.52, 1.61, 1.4]
    )
    assert row["ratio"] == 1.52 and row["met"] is True  # the median, not 150 / 100
    assert row["spread"] == "1.40-1.61 (5 repeats)"


def test_a_file_written_before_the_spread_column_reads_with_it_empty(tmp_path):
    old = tmp_path / "speed_ratios.csv"
    old.write_text("measure,ours,baseline,baseline_name,ratio,target,met\na,2,1,x,2.0,>= 1,True\n")
    merged = upsert_ratios([ratio_row("b", 1, 1, "y", 1, repeats=[1.0, 1.2, 0.9])], old)
    assert merged["spread"].tolist() == ["", "0.90-1.20 (3 repeats)"]
    assert read_ratios(old)["spread"].tolist() == ["", "0.90-1.20 (3 repeats)"]


def test_upsert_replaces_own_rows_in_place_and_keeps_the_others(tmp_path):
    path = tmp_path / "speed_ratios.csv"
    upsert_ratios([ratio_row("a", 2, 1, "x", 1), ratio_row("b", 1, 2, "y", 1)], path)
    merged = upsert_ratios(
        [ratio_row("b", 3, 1, "y", 1), ratio_row("c", 1, 1, "z", 1, higher_is_better=False)], path
    )
    again = read_ratios(path)
    pd.testing.assert_frame_equal(merged, again)
    assert again["measure"].tolist() == ["a", "b", "c"]
    assert again.set_index("measure").loc["b", "ours"] == 3
    assert again.set_index("measure").loc["a", "ours"] == 2  # another benchmark's row untouched
    assert list(again.columns) == list(RATIO_COLUMNS)


def test_bad_rows_and_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="lack the columns"):
        upsert_ratios([{"measure": "a", "ours": 1}], tmp_path / "r.csv")
    with pytest.raises(ValueError, match="repeat a measure"):
        upsert_ratios([ratio_row("a", 1, 1, "x", 1)] * 2, tmp_path / "r.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\nx,1\n")
    with pytest.raises(ValueError, match="bad.csv: ratios CSV lacks the columns"):
        upsert_ratios([ratio_row("a", 1, 1, "x", 1)], bad)
    assert read_ratios(tmp_path / "absent.csv").empty
