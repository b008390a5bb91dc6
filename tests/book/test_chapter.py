"""A chapter's setup, its "Data:" line, folders as the book prints them, and the benchmark table."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from msa_lib.book.chapter import (
    NO_BENCHMARK,
    benchmark_bundle,
    benchmark_rows,
    benchmark_table,
    data_note,
    display_path,
    show_benchmark,
    start_chapter,
)
from msa_lib.data import DataFolder


@pytest.fixture
def places(tmp_path, monkeypatch) -> dict[str, Path]:
    """A home folder, a data folder and a cache folder, none named by a variable yet."""
    out = {name: tmp_path / name for name in ("home", "data", "cache", "elsewhere")}
    for p in out.values():
        p.mkdir()
    monkeypatch.setenv("HOME", str(out["home"]))
    monkeypatch.delenv("MSA_DATA_DIR", raising=False)
    monkeypatch.delenv("MSA_CACHE_DIR", raising=False)
    return out


def test_display_path_names_the_data_folder_by_its_variable(places, monkeypatch):
    monkeypatch.setenv("MSA_DATA_DIR", str(places["data"]))
    assert display_path(places["data"]) == "$MSA_DATA_DIR"
    assert (
        display_path(places["data"] / "mosi" / "segments.csv") == "$MSA_DATA_DIR/mosi/segments.csv"
    )
    # the same folder reached through a link is still the data folder
    (places["elsewhere"] / "link").symlink_to(places["data"])
    assert display_path(places["elsewhere"] / "link") == "$MSA_DATA_DIR"
    # a folder beside it is not ($MSA_DATA_DIR-ish names are not prefixes)
    sibling = places["data"].with_name("data2")
    sibling.mkdir()
    assert display_path(sibling) == str(sibling.resolve())


def test_display_path_shows_the_cache_by_variable_or_under_home(places, monkeypatch):
    default_cache = places["home"] / ".cache" / "msa-book"
    assert display_path(default_cache / "synthetic") == "~/.cache/msa-book/synthetic"
    assert display_path(places["home"]) == "~"
    monkeypatch.setenv("MSA_CACHE_DIR", str(places["cache"]))
    assert display_path(places["cache"] / "synthetic" / "x") == "$MSA_CACHE_DIR/synthetic/x"
    # a data folder inside the cache is named by the more specific variable
    monkeypatch.setenv("MSA_DATA_DIR", str(places["cache"] / "synthetic"))
    assert display_path(places["cache"] / "synthetic") == "$MSA_DATA_DIR"
    assert display_path(places["cache"] / "other") == "$MSA_CACHE_DIR/other"
    # outside every named folder: the path as it is
    assert display_path(places["elsewhere"]) == str(places["elsewhere"].resolve())


def test_display_path_ignores_an_empty_variable(places, monkeypatch):
    monkeypatch.setenv("MSA_DATA_DIR", "")
    assert display_path(places["home"] / "d") == "~/d"


def test_a_chapter_on_synthetic_data_says_so(small_synthetic, monkeypatch):
    monkeypatch.setenv("MSA_DATA_DIR", str(small_synthetic))
    folder = start_chapter(None)
    try:
        assert folder.is_synthetic
        assert logging.getLogger("msa_lib").level == logging.ERROR
        note = data_note(folder, "Every number here is SYNTHETIC.")
        assert note == "**Data:** `$MSA_DATA_DIR` (SYNTHETIC). Every number here is SYNTHETIC."
    finally:
        logging.getLogger("msa_lib").setLevel(logging.NOTSET)


def test_a_chapter_on_real_data_adds_no_synthetic_note(real_data_dir, monkeypatch):
    monkeypatch.setenv("MSA_DATA_DIR", str(real_data_dir))
    folder = start_chapter(str(real_data_dir))
    try:
        assert data_note(folder, "SYNTHETIC") == "**Data:** `$MSA_DATA_DIR` (real)."
    finally:
        logging.getLogger("msa_lib").setLevel(logging.NOTSET)


def test_the_data_line_prints_a_folder_under_home_from_the_tilde(places):
    folder = DataFolder(root=places["home"] / "corpora" / "mine", source="real")
    assert data_note(folder, "SYNTHETIC") == "**Data:** `~/corpora/mine` (real)."
    assert str(places["home"]) not in data_note(folder, "")


def write_bench(results_dir: Path) -> None:
    """A throughput table of two extractors, as ``make bench`` writes it."""
    pd.DataFrame(
        {
            "extractor": ["audio", "visual", "audio"],
            "setting": ["paper", "paper", "whole"],
            "workers": [1, 1, 2],
            "metric": ["x_real_time", "frames/s", "x_real_time"],
            "value": [41.256, 120.0, 80.5],
            "unit": ["x", "fps", "x"],
            "target": [30.0, None, 60.0],
            "met": [True, None, False],
            "n_items": [12, 12, 12],
            "note": ["decoding included", None, "pool start-up included"],
        }
    ).to_csv(results_dir / "extract_throughput.csv", index=False)


def test_benchmark_rows_selects_one_extractor_or_none(tmp_path):
    assert benchmark_rows(tmp_path, "audio") is None
    write_bench(tmp_path)
    assert benchmark_rows(tmp_path, "audio")["value"].tolist() == [41.256, 80.5]


def test_benchmark_table_joins_value_and_unit(tmp_path):
    assert benchmark_table(tmp_path, "audio") is None
    write_bench(tmp_path)
    table = benchmark_table(tmp_path, "audio")
    assert "extractor" not in table and "unit" not in table
    assert table["value"].tolist() == ["41.256 x", "80.5 x"]
    assert table["target"].tolist() == ["≥ 30: met", "≥ 60: not met"]
    assert table["metric"].tolist() == ["x real time", "x real time"]  # wraps at spaces
    assert table["note"].tolist() == ["decoding included", "pool start-up included"]
    assert benchmark_table(tmp_path, "text") is None  # no rows of that extractor


def test_benchmark_bundle_is_a_numbered_table_or_a_note(tmp_path, capsys):
    none = benchmark_bundle(tmp_path, "audio", "tab-audio-bench", "real")
    assert none["text/markdown"] == NO_BENCHMARK
    write_bench(tmp_path)
    md = benchmark_bundle(tmp_path, "audio", "tab-audio-bench", "real")["text/markdown"]
    assert ":name: tab-audio-bench" in md
    assert "The audio extractor in the last `make bench` run" in md and "[real data]" in md
    assert "41.256 x" in md and "120" not in md  # the visual row is not the audio extractor's
    show_benchmark(tmp_path, "visual", "tab-visual-bench", "synthetic")
    shown = capsys.readouterr().out  # outside a kernel, display prints the bundle
    assert "tab-visual-bench" in shown and "120.0 fps" in shown and "SYNTHETIC" in shown
