"""How the extraction benchmark measures: interleaving, landmark gaps, and fresh processes."""

from __future__ import annotations

import numpy as np
import pytest

from msa_lib.data import FeatureSet
from msa_lib.extract.base import Segment
from msa_lib.perf.measure import (
    cli_startup,
    cold_extract,
    landmark_gap,
    model_load_seconds,
    peak_rss_mb,
    side_by_side,
)


def test_side_by_side_alternates_the_order_segment_by_segment():
    calls = []

    def ours(seg):
        calls.append(("ours", seg.segment_id))
        return [1, 2]

    def base(seg):
        calls.append(("base", seg.segment_id))
        return [1, 2, 3]

    segs = [Segment(str(i), str(i), None) for i in range(3)]
    res = side_by_side(segs, ours, base, len)
    assert [c[0] for c in calls] == ["ours", "base", "base", "ours", "ours", "base"]
    assert [c[1] for c in calls] == ["0", "0", "1", "1", "2", "2"]
    assert res["ours_n"] == [2, 2, 2] and res["base_n"] == [3, 3, 3]
    assert all(len(v) == 3 for v in res.values())
    calls.clear()
    side_by_side(segs, ours, base, len, flip=True)  # a repeat that starts with the baseline
    assert [c[0] for c in calls] == ["base", "ours", "ours", "base", "base", "ours"]


def test_landmark_gap_in_inter_ocular_distances():
    ref = np.zeros((478, 3), np.float32)
    ref[263, 0] = 0.5  # eyes 0.5 of the width apart: 50 px in a 100 x 200 frame
    moved = ref + np.array([0.01, 0.0, 0.0], np.float32)  # 1 px to the right, every landmark
    gap = landmark_gap([ref, ref, None, ref], [moved, ref, None, None], [(100, 200)] * 4)
    assert gap["mean"] == pytest.approx((1 / 50 + 0) / 2)
    assert gap["max"] == pytest.approx(1 / 50)
    assert gap["frames"] == 2 and gap["face_disagreements"] == 1
    with pytest.raises(ValueError, match="as many frames"):
        landmark_gap([ref], [ref, ref], [(100, 200)])


def test_cold_extract_runs_msa_extract_in_a_fresh_process(face_clip, tmp_path):
    cold = cold_extract(Segment("face", "face", str(face_clip)), tmp_path, extractors=["audio"])
    files = sorted((tmp_path / "cold-out").glob("*audio*.h5")) + sorted(
        (tmp_path / "cold-out").glob("*audio*.npz")
    )
    assert files, sorted(p.name for p in (tmp_path / "cold-out").iterdir())
    fs = FeatureSet.load(files[0])
    assert len(fs) == 1 and np.isfinite(fs.features["audio"]).all()
    assert cold["models"] == {} and cold["model_s"] == 0  # the audio extractor loads no model
    # the cold run imports the audio extractor and then extracts: longer than the import alone
    assert cold["wall_s"] > cold["imports"]["audio libraries"] > 0
    with pytest.raises(ValueError, match="unknown models"):
        model_load_seconds(["face"])


def test_the_cli_starts_slower_than_a_bare_interpreter():
    startup = cli_startup(repeats=2)
    assert startup["help_s"] > startup["python_s"] > 0


def test_peak_memory_of_a_fresh_process_grows_with_what_it_holds():
    mb = 2**20
    ballast = b"x" * (300 * mb)  # this process's peak must not count in the fresh one's
    before, after = peak_rss_mb("b = b'x' * {media}", mb, 200 * mb, setup="")
    assert len(ballast) and before < 100
    assert 190 < after - before < 230
