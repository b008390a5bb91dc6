"""Extraction cost: the benchmark's JSON read back and a corpus's time estimated from it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from msa_lib.perf.costs import (
    corpus_estimate,
    load_ratios,
    load_speed,
    per_segment_seconds,
    scaling,
    worker_table,
)

SPEED = {
    "segments": [
        {"seconds": 4.0, "visual_ours_cpu_s": 0.6, "audio_ours_s": 0.05},
        {"seconds": 9.0, "visual_ours_cpu_s": 0.8, "audio_ours_s": 0.15},
    ],
    "corpus": {
        "paper-1": {"frames": 300, "wall_s": 3.0},
        "paper-2": {"frames": 300, "wall_s": 2.0},
    },
}


def test_per_segment_seconds_and_scaling():
    throughput = pd.DataFrame(
        [
            {"extractor": "text", "metric": "segments_per_s", "value": 50.0},
            {"extractor": "glove", "metric": "segments_per_s", "value": 1000.0},
            {"extractor": "visual", "metric": "frames_per_s", "value": 9.0},
        ]
    )
    per = per_segment_seconds(SPEED, throughput)
    assert per == pytest.approx({"visual": 0.7, "audio": 0.1, "text": 0.02, "glove": 0.001})
    assert per_segment_seconds(SPEED) == pytest.approx({"visual": 0.7, "audio": 0.1})
    assert scaling(SPEED) == pytest.approx(0.75)  # 150 / 100 frames/s, halved
    assert worker_table(SPEED)["workers"].tolist() == [1, 2]


def test_corpus_estimate_by_hand():
    est = corpus_estimate(0.9, n_segments=4000, cores=2, efficiency=0.5, machines=(1, 10))
    assert est["cpu_hours"].tolist() == pytest.approx([1.0, 1.0])  # 0.9 s x 4000 = 1 h
    assert est["wall_hours"].tolist() == pytest.approx([1.0, 0.1])  # 2 workers at half speed
    with pytest.raises(ValueError, match="0 < efficiency <= 1"):
        corpus_estimate(0.9, efficiency=0.0)


def test_missing_and_bad_files(tmp_path):
    assert load_speed(tmp_path / "none.json") is None
    assert load_ratios(tmp_path) is None
    bad = tmp_path / "speed.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=f"{bad}: not valid JSON"):
        load_speed(bad)
    bad.write_text(json.dumps(SPEED))
    assert load_speed(bad)["corpus"]["paper-2"]["frames"] == 300
