"""Face geometry as in the paper (§3.3): MediaPipe landmarks, 65 features per frame, averaged.

MediaPipe Tasks ``FaceLandmarker`` (VIDEO running mode: the face is tracked from frame to frame)
gives 478 landmarks in normalised image coordinates (x, y in [0, 1] of the frame's width and
height, z on the scale of x); the first 468 are FaceMesh's, so the paper's indices hold. One
landmarker serves every segment of a process (``msa_lib.extract.engines.landmarks``: built once, reset
between segments), by the Tasks graph or by its models run directly through LiteRT. Every
distance and norm uses all three components, divided by the face width (the 3-D distance between
two landmarks), which makes them independent of the face's size in the frame.

**Protocols.** Where the paper's text is silent its public code is the reference
(``train_mosei_test_mosi_with_adapters.py``: ``extract_facemesh_features`` and
``_extract_emotion_features``). ``VisualConfig(protocol="paper")`` follows that code in every
choice: MediaPipe's normalised coordinates, the corner angle of the corners against the lips'
centre, eye symmetry divided by the wider eye, and frames without a face (or with a face width
below 1e-6) adding 65 zeros to the mean. ``protocol="ours"`` (the default) keeps the project's
choices where they are sounder: pixel coordinates (x * width, y * height, z * width, so that
distances do not depend on the frame's aspect ratio), the tilt of the line between the corners,
the plain difference of the eye widths (the text's wording), and frames without a face left out
of the mean and counted. Each choice is also a field of its own (``coords``, ``corner_angle``,
``eye_symmetry``, ``no_face``, ``frames``); see :class:`msa_lib.config.VisualConfig`.

**Face width.** The paper names landmarks 0 and 16 (sic), and its code uses them. In FaceMesh both
lie on the lips (0: top of the upper lip, 16: the lower lip), so that "width" is about a mouth
height: small, and it changes whenever the speaker talks, so every normalised feature moves with
the mouth. It is the default (``width_landmarks=(0, 16)``, "paper") because the project
reproduces the paper first; ``FACE_WIDTHS["cheeks"]`` = (234, 454), the cheek-to-cheek width, is
the sound choice, and chapter 3 shows the difference.

**Frames.** The paper reads the first 100 frames of a segment (or all if fewer);
``frames="sampled"`` (``protocol="sampled"``) spreads frames uniformly over the whole segment at
``sample_fps``. With ``no_face="skip"`` a segment with no face at all gets an all-NaN vector; the
``no_face`` flag is raised under every protocol.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

import numpy as np

from msa_lib.config import FACE_WIDTHS, VisualConfig
from msa_lib.config.paper import VISUAL_FEATURES
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract.base import Extractor, Outcome, Segment, library_version, register
from msa_lib.extract.engines.landmarks import face_model_path, get_landmarker
from msa_lib.extract.engines.media import (
    check_truncation,
    check_window,
    iter_frames,
    prefetch,
    probe,
    sample_times,
)

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: errors only
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_FEATURES = VISUAL_FEATURES  # §3.3
MOUTH_LEFT, MOUTH_RIGHT, LIP_TOP, LIP_BOTTOM = 61, 291, 13, 14
LEFT_EYE, RIGHT_EYE = (33, 133), (362, 263)
INTER_EYE = (33, 263)
LEFT_BROW, RIGHT_BROW = (21, 55, 107), (251, 285, 336)
NORM_LANDMARKS = tuple(range(12, 65))  # 12..64 inclusive: 53 norms
# The columns by what they describe (§3.3's groups), as index ranges of the 65.
GROUPS = {
    "mouth": range(0, 5),
    "eyes": range(5, 8),
    "eyebrows": range(8, 10),
    "symmetry": range(10, 12),
    "landmark norms": range(12, 65),
}


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


def to_coords(landmarks: np.ndarray, width: int, height: int, coords: str) -> np.ndarray:
    """Landmarks in MediaPipe's normalised coordinates ``[..., 3]`` in ``coords`` units.

    "normalized" leaves them as they are; "pixels" gives x * width, y * height, z * width
    (MediaPipe's z has the scale of x).
    """
    lm = np.asarray(landmarks, dtype=np.float32)
    if coords == "normalized":
        return lm
    if coords == "pixels":
        return lm * np.array([width, height, width], dtype=np.float32)
    raise ValueError(f"unknown coords '{coords}' (known: 'pixels', 'normalized')")


def face_width(landmarks: np.ndarray, pair: tuple[int, int] = FACE_WIDTHS["paper"]) -> np.ndarray:
    """The 3-D distance between the landmarks of ``pair``, per frame (``[...]``)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return np.linalg.norm(lm[..., pair[0], :] - lm[..., pair[1], :], axis=-1)


def corner_angles(n: np.ndarray, kind: str) -> np.ndarray:
    """The mouth-corner angle of width-normalised landmarks ``n`` (``[..., >=468, 3]``).

    "tilt": ``arctan2(y291 - y61, x291 - x61)``, the slope of the line between the corners (ours).
    "smile": ``arctan2(mean(y61, y291) - mean(y13, y14), mouth_width / 2)``, the corners against
    the inner lips' centre (the paper's code); y grows downwards, so raised corners give < 0.
    """
    y61, y291 = n[..., MOUTH_LEFT, 1], n[..., MOUTH_RIGHT, 1]
    if kind == "tilt":
        return np.arctan2(y291 - y61, n[..., MOUTH_RIGHT, 0] - n[..., MOUTH_LEFT, 0])
    if kind == "smile":
        width = np.linalg.norm(n[..., MOUTH_LEFT, :] - n[..., MOUTH_RIGHT, :], axis=-1)
        centre = (n[..., LIP_TOP, 1] + n[..., LIP_BOTTOM, 1]) / 2
        return np.arctan2((y61 + y291) / 2 - centre, width / 2)
    raise ValueError(f"unknown corner_angle '{kind}' (known: 'tilt', 'smile')")


def eye_asymmetry(left: np.ndarray, right: np.ndarray, kind: str) -> np.ndarray:
    """|left - right| eye width ("difference"), or divided by the wider eye ("ratio", 0 if both 0)."""
    diff = np.abs(left - right)
    if kind == "difference":
        return diff
    if kind == "ratio":
        wider = np.maximum(left, right)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(wider > 0, diff / wider, 0.0)
    raise ValueError(f"unknown eye_symmetry '{kind}' (known: 'difference', 'ratio')")


def geometry(
    landmarks: np.ndarray,
    pair: tuple[int, int] = FACE_WIDTHS["paper"],
    corner_angle: str = "tilt",
    eye_symmetry: str = "difference",
    min_width: float = 0.0,
) -> np.ndarray:
    """The 65 features of each frame from landmarks ``[..., >=468, 3]`` (pixels or normalised).

    Returns ``[..., 65]``; a frame whose face width is zero or below ``min_width`` gives NaN
    (the caller skips it or counts it as zeros, as ``VisualConfig.no_face`` says).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    width = face_width(lm, pair)
    ok = (width > 0) & (width >= min_width)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = lm / np.where(ok, width, np.nan)[..., None, None]

    def dist(i: int, j: int) -> np.ndarray:
        return np.linalg.norm(n[..., i, :] - n[..., j, :], axis=-1)

    y61, y291 = n[..., MOUTH_LEFT, 1], n[..., MOUTH_RIGHT, 1]
    left_eye, right_eye = dist(*LEFT_EYE), dist(*RIGHT_EYE)
    head = [
        dist(MOUTH_LEFT, MOUTH_RIGHT),
        dist(LIP_TOP, LIP_BOTTOM),
        y61,
        y291,
        corner_angles(n, corner_angle),
        left_eye,
        right_eye,
        dist(*INTER_EYE),
        n[..., list(LEFT_BROW), 1].mean(axis=-1),
        n[..., list(RIGHT_BROW), 1].mean(axis=-1),
        eye_asymmetry(left_eye, right_eye, eye_symmetry),
        np.abs(y61 - y291),
    ]
    norms = np.linalg.norm(n[..., list(NORM_LANDMARKS), :], axis=-1)
    out = np.concatenate([np.stack(head, axis=-1), norms], axis=-1)
    out[~ok] = np.nan  # the ratio's 0 for a 0/0 eye must not survive in a frame without a face
    return out.astype(np.float32)


def frame_geometry(
    landmarks: np.ndarray | None, width: int, height: int, cfg: VisualConfig
) -> np.ndarray:
    """The 65 features of one frame from MediaPipe's normalised landmarks under ``cfg``.

    ``landmarks`` None (no face) or a face narrower than ``cfg.min_face_width`` gives NaN.
    """
    cfg = cfg.resolved()
    if landmarks is None:
        return np.full(N_FEATURES, np.nan, np.float32)
    lm = to_coords(landmarks, width, height, cfg.coords)
    return geometry(
        lm, width_pair(cfg), cfg.corner_angle, cfg.eye_symmetry, min_width=cfg.min_face_width
    )


def features_from_landmarks(
    landmarks: np.ndarray, width: int, height: int, cfg: VisualConfig
) -> tuple[np.ndarray, np.ndarray, int]:
    """The vector, the per-frame features and the frames with a face, from kept landmarks.

    ``landmarks`` ``[n, 478, 3]`` in MediaPipe's normalised coordinates (NaN rows: no face), as
    :func:`extract_visual` keeps them under ``coords="normalized"``: another set of choices
    applied to the same landmarks without running the landmark model again.
    """
    cfg = cfg.resolved()
    lm = to_coords(np.asarray(landmarks, np.float32).reshape(-1, 478, 3), width, height, cfg.coords)
    frames = geometry(
        lm, width_pair(cfg), cfg.corner_angle, cfg.eye_symmetry, min_width=cfg.min_face_width
    )
    vector, n_face = mean_features(frames, cfg.no_face)
    return vector, frames, n_face


def group_differences(a: np.ndarray, b: np.ndarray) -> list[dict]:
    """Per column group, how far vectors ``a`` are from ``b`` (both ``[n, 65]``, row by row).

    ``mean_abs``: the mean |a - b| over rows and the group's columns; ``mean_rel`` and
    ``max_rel``: |a - b| / |b| averaged over the group's columns, then the mean and the largest
    over rows.
    """
    a = np.asarray(a, np.float64).reshape(-1, N_FEATURES)
    b = np.asarray(b, np.float64).reshape(-1, N_FEATURES)
    rows = []
    for name, idx in GROUPS.items():
        d = np.abs(a[:, idx] - b[:, idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.nanmean(d / np.abs(b[:, idx]), axis=1)
        rows.append(
            {
                "group": name,
                "columns": len(idx),
                "mean_abs": float(np.nanmean(d)),
                "mean_rel": float(np.nanmean(rel)),
                "max_rel": float(np.nanmax(rel)),
            }
        )
    return rows


def mean_features(frames: np.ndarray, no_face: str = "skip") -> tuple[np.ndarray, int]:
    """The mean of per-frame features ``[n, 65]`` (NaN rows: no face) and the frames with a face.

    "skip": the mean over the rows with a face (all NaN when there is none); "zeros": NaN rows
    count as zeros and the mean is over every row (65 zeros when there is no row at all), as the
    paper's code does.
    """
    frames = np.asarray(frames, dtype=np.float64).reshape(-1, N_FEATURES)
    face = np.isfinite(frames).all(axis=1)
    n_face = int(face.sum())
    if no_face == "skip":
        if not n_face:
            return np.full(N_FEATURES, np.nan, np.float32), 0
        return frames[face].mean(axis=0).astype(np.float32), n_face
    if no_face == "zeros":
        if not len(frames):
            return np.zeros(N_FEATURES, np.float32), 0
        return np.where(face[:, None], frames, 0.0).mean(axis=0).astype(np.float32), n_face
    raise ValueError(f"unknown no_face '{no_face}' (known: 'skip', 'zeros')")


@dataclass
class VisualResult:
    """One segment's visual vector with what was found on the way."""

    vector: np.ndarray  # [65] float32; all NaN when no frame had a face (no_face="skip")
    n_frames: int = 0  # frames read
    n_face_frames: int = 0  # frames with a face (and a face width of at least min_face_width)
    flags: dict[str, bool] = field(default_factory=dict)
    times: np.ndarray | None = None  # [n_frames] when frames are kept
    frames: np.ndarray | None = None  # [n_frames, 65], NaN rows where no face, when kept
    landmarks: np.ndarray | None = None  # [n_frames, 478, 3] in cfg.coords, NaN where no face
    face_width: np.ndarray | None = None  # [n_frames] in cfg.coords units, when kept
    frame_size: tuple[int, int] | None = None  # (width, height) in pixels of the frames read
    warnings: list[str] = field(default_factory=list)  # e.g. a truncated file


def frame_times(info_start: float, info_end: float, cfg: VisualConfig) -> np.ndarray | None:
    """The times to sample under ``cfg.frames`` (None for the paper's first-N-frames)."""
    frames = cfg.resolved().frames
    if frames == "first":
        return None
    if frames == "sampled":
        return sample_times(info_start, info_end, cfg.sample_fps)
    raise ValueError(f"unknown visual frames '{frames}' (known: 'first', 'sampled')")


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
    cfg = cfg.resolved()
    info = probe(path)
    s, e = check_window(info, start, end)
    times = frame_times(s, e, cfg)
    max_frames = cfg.max_frames if cfg.frames == "first" else None
    cut = check_truncation(info)
    needed = e if max_frames is None or not info.fps else min(e, s + max_frames / info.fps)
    pair = width_pair(cfg)
    kept_t, kept_lm = [], []
    h = w = None
    no_face = np.full((478, 3), np.nan, np.float32)
    lmk = get_landmarker(cfg)  # the process's landmarker, reset for this segment
    # frames decode in a thread while the landmark model works on the previous one
    frames_in = iter_frames(path, s, e, max_frames, times, partial_ok=cut is not None)
    for fr in prefetch(frames_in):
        h, w = fr.rgb.shape[:2]
        lm = lmk.detect(fr.rgb, (fr.time - s) * 1000)
        kept_lm.append(no_face if lm is None else to_coords(lm, w, h, cfg.coords))
        if keep_frames:
            kept_t.append(fr.time)
    # the geometry of every frame at once (a frame without a face: NaN landmarks, NaN features):
    # per frame it is what frame_geometry gives, without its per-call overhead
    landmarks = np.asarray(kept_lm, dtype=np.float32).reshape(-1, 478, 3)
    frames = geometry(
        landmarks, pair, cfg.corner_angle, cfg.eye_symmetry, min_width=cfg.min_face_width
    ).reshape(-1, N_FEATURES)
    vector, n_face = mean_features(frames, cfg.no_face)
    result = VisualResult(
        vector=vector,
        n_frames=len(frames),
        n_face_frames=n_face,
        flags={"no_face": n_face == 0, "no_frames": not len(frames), "truncated": cut is not None},
        warnings=[cut.message(needed)] if cut else [],
        frame_size=None if w is None else (int(w), int(h)),
    )
    if keep_frames:
        result.times = np.asarray(kept_t, dtype=np.float64)
        result.frames = frames
        result.landmarks = landmarks
        result.face_width = face_width(landmarks, pair).astype(np.float32)
    return result


def params(cfg: VisualConfig = VisualConfig()) -> dict:
    """The settings recorded in a FeatureSet's metadata (the protocol's choices filled in)."""
    out = dataclasses.asdict(cfg.resolved())
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

    def prepare(self) -> None:
        """Build this process's landmarker (its models read and their graphs built)."""
        get_landmarker(self.settings.resolved())

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
