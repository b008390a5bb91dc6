"""Face landmarks: the Tasks landmarker reused across segments, and the LiteRT route against it."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from msa_lib.config import VisualConfig
from msa_lib.extract.engines.landmarks import (
    LiteRTLandmarker,
    OneEuroSmoother,
    TasksLandmarker,
    face_model_path,
    get_landmarker,
    make_landmarker,
    ssd_anchors,
    warp_roi,
)
from msa_lib.extract.engines.media import iter_frames

TOLERANCE = 0.001  # of the inter-ocular distance (33-263), mean over landmarks and frames


def frames_of(path, n: int = 100) -> list[tuple[float, np.ndarray]]:
    """(time in ms, RGB frame) of the first ``n`` frames."""
    return [(f.time * 1000, f.rgb) for f in iter_frames(path, 0.0, None, n)]


def run(lmk, frames) -> list[np.ndarray | None]:
    """Landmarks of every frame, in order."""
    return [lmk.detect(rgb, ms) for ms, rgb in frames]


def gap(ref: list, other: list, width: int, height: int) -> np.ndarray:
    """Per frame and landmark: 3-D distance in pixels (z on x's scale) over the inter-ocular one."""
    px = np.array([width, height, width], np.float32)
    assert [r is None for r in ref] == [o is None for o in other]
    out = []
    for r, o in zip(ref, other):
        if r is not None:
            iod = np.linalg.norm((r[33, :2] - r[263, :2]) * px[:2])
            out.append(np.linalg.norm((r - o) * px, axis=1) / iod)
    return np.array(out)


@pytest.fixture(scope="module")
def bundle():
    return face_model_path()


def test_litert_matches_tasks_on_the_face_clip(face_clip, bundle):
    frames = frames_of(face_clip)
    with TasksLandmarker(bundle) as tasks, LiteRTLandmarker(bundle) as lite:
        ref, ours = run(tasks, frames), run(lite, frames)
    assert sum(r is not None for r in ref) == len(frames)  # a face on every frame
    assert ref[0].shape == (478, 3) and ref[0].dtype == np.float32
    assert 0 < ref[0][:, :2].min() and ref[0][:, :2].max() < 1  # normalised coordinates
    err = gap(ref, ours, 256, 256)
    assert err.mean() < TOLERANCE, f"{err.mean():.5f} of the inter-ocular distance"


def test_exact_sampling_reproduces_the_first_frame(face_clip, bundle):
    frames = frames_of(face_clip, 3)
    with TasksLandmarker(bundle) as tasks, LiteRTLandmarker(bundle, exact=True) as lite:
        err = gap(run(tasks, frames), run(lite, frames), 256, 256)
    # the face detector, the crop and the landmark model as Tasks runs them: float precision
    assert err[0].max() < 1e-4
    assert err.mean() < TOLERANCE


def test_litert_matches_tasks_on_a_real_clip(real_data_dir, bundle):
    clips = sorted((real_data_dir / "raw" / "mosi").glob("*.mp4"))
    if not clips:
        pytest.skip("no MOSI clips under MSA_DATA_DIR/raw/mosi")
    frames = frames_of(clips[0])
    h, w = frames[0][1].shape[:2]
    with TasksLandmarker(bundle) as tasks, LiteRTLandmarker(bundle) as lite:
        err = gap(run(tasks, frames), run(lite, frames), w, h)
    assert len(err) and err.mean() < TOLERANCE, f"{err.mean():.5f} of the inter-ocular distance"


@pytest.mark.parametrize("kind", ["tasks", "litert"])
def test_reused_landmarker_equals_a_fresh_one(kind, face_clip, ten_second_clip):
    first, second = frames_of(ten_second_clip, 20), frames_of(face_clip, 20)
    cfg = VisualConfig()
    with make_landmarker(cfg, kind) as fresh:
        want = run(fresh, second)
    lmk = get_landmarker(cfg, kind)
    run(lmk, first)
    assert get_landmarker(cfg, kind) is lmk  # one per process, reset for the new segment
    got = run(lmk, second)  # the segment's times restart at 0: offset past the last ones
    for w, g in zip(want, got):
        np.testing.assert_array_equal(w, g)


@pytest.mark.parametrize("kind", ["tasks", "litert"])
def test_no_face_and_bad_frames(kind, bundle):
    with make_landmarker(VisualConfig(), kind) as lmk:
        assert lmk.detect(np.full((96, 128, 3), 128, np.uint8), 0) is None
        with pytest.raises(ValueError, match="RGB uint8"):
            lmk.detect(np.zeros((32, 32), np.uint8), 40)
        with pytest.raises(ValueError, match="RGB uint8"):
            lmk.detect(np.zeros((32, 32, 3), np.float32), 80)


def test_unknown_route_and_bad_bundle(tmp_path):
    with pytest.raises(ValueError, match="unknown landmarker 'dlib'"):
        get_landmarker(VisualConfig(), "dlib")
    bad = tmp_path / "face.task"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=f"{bad}: not a MediaPipe face landmarker bundle"):
        LiteRTLandmarker(bad)


def test_anchors_of_the_face_detector():
    a = ssd_anchors()
    assert a.shape == (896, 2)
    np.testing.assert_allclose(a[0], [1 / 32, 1 / 32])  # stride 8: 16 x 16 cells, 2 anchors
    np.testing.assert_allclose(a[512], [1 / 16, 1 / 16])  # stride 16: 8 x 8 cells, 6 anchors
    np.testing.assert_allclose(a[-1], [15 / 16, 15 / 16])


def test_warp_roi_identity_and_quarter_turn():
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    same = warp_roi(img, (32, 32, 64, 64, 0.0), 64, cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(same, img)
    turned = warp_roi(img, (32, 32, 64, 64, math.pi / 2), 64, cv2.BORDER_REPLICATE)
    # the image turned a quarter, about (32, 32): MediaPipe maps the rectangle's corners onto
    # the crop's pixel edges 0 and 64 (pixel centres sit at whole numbers), so the turn moves
    # the result down by one row
    np.testing.assert_array_equal(turned[1:], np.rot90(img, k=1)[:-1])


def test_one_euro_by_hand():
    f = OneEuroSmoother()
    lm = np.zeros((478, 3), np.float32)
    lm[1, :2] = [0.5, 0.5]  # the face's box: 0.5 of a 100 x 100 frame, so scale 50 pixels
    np.testing.assert_array_equal(f(lm, 100, 100, 1000), lm)  # the first frame passes
    np.testing.assert_array_equal(f(lm, 100, 100, 1100), lm)  # still: stays
    moved = lm.copy()
    moved[0, 0] = 0.01  # one pixel to the right, 100 ms later
    out = f(moved, 100, 100, 1200)
    freq, speed = 10.0, 1.0 / 50 * 10.0  # 10 Hz; 1 px / 50 px at 10 Hz
    alpha = lambda cutoff: 1 / (1 + freq / (2 * math.pi * cutoff))  # noqa: E731
    d = alpha(1.0) * speed  # the speed, low-passed at 1 Hz from 0
    a = alpha(0.05 + 80 * d)
    assert out[0, 0] == pytest.approx(a * 0.01, rel=1e-5)
    f.reset()
    np.testing.assert_array_equal(f(moved, 100, 100, 1300), moved)  # reset: passes again
