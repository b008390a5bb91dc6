"""benchmarks/extract.py's bookkeeping: throughput rows against targets, budgets, sections."""

from __future__ import annotations

import importlib.util
import math

import pytest

from msa_lib.extract.base import Segment
from msa_lib.io.paths import repo_root


@pytest.fixture(scope="module")
def bench_module():
    path = repo_root() / "benchmarks" / "extract.py"
    spec = importlib.util.spec_from_file_location("bench_extract", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_meet_their_targets_and_budgets(bench_module, face_clip, tmp_path):
    b = bench_module.Bench([Segment("face", "face", str(face_clip))], "generated", tmp_path)
    assert b.total_s == pytest.approx(2.0, abs=0.1)  # the generated clip's length
    assert b.details["machine"]["cpu_count"] >= 1 and b.details["data"] == "generated"
    b.add("visual", "paper", 1, "frames_per_s_per_core", 150.0, "frames per CPU-s", 30)
    b.add("visual", "paper", 1, "frames_per_s", 150.0, "frames/s", 30)  # no target for this one
    b.add("text", "minilm", 1, "segments_per_s", 120.0, "segments/s", 10)
    met = {(r["extractor"], r["metric"]): (r["target"], r["met"]) for r in b.rows}
    assert met[("visual", "frames_per_s_per_core")] == (100.0, True)
    assert met[("visual", "frames_per_s")] == (None, None)
    assert met[("text", "segments_per_s")] == (300.0, False)
    b.budget("start-up", 0.7, 0.05, "python", 0.5)
    b.ratio("audio", 2.0, 1.0, "librosa", 1.0)
    start_up, audio = b.ratios
    assert start_up["target"] == "<= 0.5 s" and start_up["met"] is False
    assert math.isnan(start_up["ratio"])
    assert audio["ratio"] == 2.0 and audio["met"] is True
    b.section("first")
    assert list(b.details["sections_s"]) == ["first"]
