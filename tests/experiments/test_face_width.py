"""The face-width study: its per-clip table on a generated face clip, and the verdict it states."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import FACE_WIDTHS, VisualConfig
from msa_lib.experiments.face_width import (
    COLUMNS,
    face_width_table,
    face_width_verdict,
    width_label,
    width_stats,
)
from msa_lib.extract.base import Segment
from msa_lib.extract.features.visual import extract_visual


def test_width_stats_on_known_values():
    out = width_stats(np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 4.0, 6.0, np.nan]))
    assert out["median_width_px"] == 2.0
    assert out["width_cv"] == pytest.approx(np.std([1, 2, 3]) / 2)
    assert out["corr_width_mouth_opening"] == pytest.approx(1.0)
    against = width_stats(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    assert against["corr_width_mouth_opening"] == pytest.approx(-1.0)
    # a correlation needs three frames with both values; no frame with a face: nothing at all
    two = width_stats(np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 2.0]))
    assert np.isnan(two["corr_width_mouth_opening"]) and two["median_width_px"] == 2.0
    none = width_stats(np.full(4, np.nan), np.full(4, np.nan))
    assert all(np.isnan(v) for v in none.values())


def test_width_labels_name_the_landmark_pairs():
    assert width_label("paper") == "paper (0-16)"
    assert width_label("cheeks") == "cheeks (234-454)"


@pytest.fixture(scope="module")
def face_table(face_clip) -> pd.DataFrame:
    return face_width_table([Segment("face", "face", str(face_clip))])


def test_face_width_table_on_a_generated_face(face_table, face_clip):
    assert list(face_table.columns) == COLUMNS
    assert face_table["width"].tolist() == ["paper (0-16)", "cheeks (234-454)"]
    assert (face_table["segment_id"] == "face").all()
    assert (face_table["frames_with_face"] > 0).all()
    rows = face_table.set_index("width")
    # cheek to cheek spans the face; the paper's pair spans the lips
    assert (
        rows.loc["cheeks (234-454)", "median_width_px"]
        > rows.loc["paper (0-16)", "median_width_px"]
    )
    assert (face_table["width_cv"] >= 0).all()
    assert face_table["corr_width_mouth_opening"].between(-1, 1).all()
    # the same numbers as the extractor's own width over the clip's frames
    r = extract_visual(
        face_clip, cfg=VisualConfig(width_landmarks=FACE_WIDTHS["cheeks"]), keep_frames=True
    )
    w = r.face_width[np.isfinite(r.face_width)]
    assert rows.loc["cheeks (234-454)", "median_width_px"] == pytest.approx(float(np.median(w)))
    assert rows.loc["cheeks (234-454)", "width_cv"] == pytest.approx(float(w.std() / w.mean()))
    assert rows.loc["cheeks (234-454)", "frames_with_face"] == r.n_face_frames


def test_the_verdict_of_a_generated_face_follows_its_table(face_table):
    v = face_width_verdict(face_table)
    rows = face_table.set_index("width")
    assert v.n_clips == 1 and v.n_steadier == 1
    assert v.steadier == rows["width_cv"].idxmin()
    assert v.follows_mouth == rows["corr_width_mouth_opening"].idxmax()
    assert v.steadier in v.sentence() and v.follows_mouth in v.sentence()


def hand_made(cv_a, cv_b, corr_a, corr_b) -> pd.DataFrame:
    """Clips c0, c1, ... with widths A and B."""
    rows = []
    for i, values in enumerate(zip(cv_a, cv_b, corr_a, corr_b)):
        for name, cv, corr in (("A", values[0], values[2]), ("B", values[1], values[3])):
            rows.append(
                {
                    "segment_id": f"c{i}",
                    "width": name,
                    "frames_with_face": 10,
                    "median_width_px": 1.0,
                    "width_cv": cv,
                    "corr_width_mouth_opening": corr,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def test_the_verdict_names_the_steadier_width_and_the_one_that_follows_the_mouth():
    table = hand_made(
        [0.2, 0.25, 0.3, np.nan],
        [0.03, 0.01, 0.4, 0.02],
        [0.9, 0.95, 0.99, 0.9],
        [0.1, 0.2, 0.7, 0.1],
    )
    v = face_width_verdict(table)
    assert v.n_clips == 3  # the clip without a coefficient for A is left out
    assert v.steadier == "B" and v.n_steadier == 2
    assert v.median_cv == pytest.approx({"A": 0.25, "B": 0.03})
    assert v.follows_mouth == "A" and v.median_corr == pytest.approx({"A": 0.95, "B": 0.2})
    text = v.sentence()
    assert "**B**: the median of its coefficient of variation over frames is 0.030" in text
    assert "8.3 times smaller than that of A (0.250)" in text and "lowest in 2 of 3 clips" in text
    assert "is **A**, with a median correlation of 0.95 (B: 0.20)" in text
    assert v.clear and text.endswith("carries the mouth's movement into every feature.")
    # a weak correlation is stated, not turned into a claim
    weak = face_width_verdict(hand_made([0.2], [0.1], [0.3], [0.1]))
    assert weak.steadier == "B" and weak.follows_mouth == "A"
    assert "1 of 1 clip." in weak.sentence() and weak.sentence().endswith("0.30 (B: 0.10).")


def test_a_small_or_split_difference_is_no_clear_verdict():
    close = face_width_verdict(
        hand_made([0.036, 0.05, 0.02], [0.037, 0.04, 0.03], [0.8] * 3, [0.5] * 3)
    )
    assert close.steadier == "A" and not close.clear  # 0.036 against 0.037
    text = close.sentence()
    assert text.startswith("On these 3 clips neither width is clearly the steadier")
    assert "A 0.036, B 0.037" in text and "A has the lowest in 2 of 3 clips" in text
    # a large difference of medians, but the lowest in only half of the clips
    split = face_width_verdict(
        hand_made([0.1, 0.1, 0.9, 0.9], [0.2, 0.2, 0.21, 0.21], [0.1] * 4, [0.2] * 4)
    )
    assert split.median_cv == pytest.approx({"A": 0.5, "B": 0.205})
    assert split.steadier == "B" and split.n_steadier == 2 and not split.clear
    assert "neither width is clearly the steadier" in split.sentence()


def test_no_verdict_without_comparable_clips_and_none_of_one_width():
    v = face_width_verdict(hand_made([np.nan], [0.1], [0.5], [0.2]))
    assert v.n_clips == 0 and v.steadier is None
    assert v.sentence().startswith("No clip had enough frames with a face")
    assert face_width_verdict(pd.DataFrame(columns=COLUMNS)).n_clips == 0
    with pytest.raises(ValueError, match="compares widths"):
        face_width_verdict(hand_made([0.1], [0.2], [0.5], [0.2]).query("width == 'A'"))
