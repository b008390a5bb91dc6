"""The plain baselines every speed ratio of chapter 9 is measured against: the paper's recipe done plainly.

Each baseline computes what the library's extractor computes, the way the paper's public code
(``train_mosei_test_mosi_with_adapters.py``) does it, without the library's machinery, so that a
ratio of ours to it is a ratio between two ways of getting the same numbers (the tests hold each
baseline to the extractor's output):

- :func:`baseline_visual`: every frame of the first ``max_frames`` of a segment decoded by PyAV
  and passed one by one to a fresh MediaPipe Tasks ``FaceLandmarker`` (VIDEO mode) per segment;
- :func:`baseline_audio`: ``librosa.load(sr=22050, duration=3.0)`` done by hand (PyAV decodes
  at the file's own rate, ``librosa.resample`` with ``soxr_hq``, as ``librosa.load`` does where
  it can read the file) and :func:`librosa_recipe`: one librosa call per feature, each computing
  its own spectrogram.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from msa_lib.config import AudioConfig, VisualConfig
from msa_lib.extract.base import Segment
from msa_lib.extract.engines.landmarks import N_LANDMARKS, face_model_path, quiet_native_stderr


def baseline_visual(
    seg: Segment, model_path: str | os.PathLike | None = None, max_frames: int | None = None
) -> np.ndarray:
    """Landmarks ``[frames, 478, 3]`` (NaN: no face) of a segment's first frames, done plainly.

    A fresh Tasks ``FaceLandmarker`` (VIDEO mode) for the segment, every frame decoded by PyAV
    (from the one on screen at the segment's start, as the extractor reads them), converted to a
    contiguous RGB array and passed on with its time in ms from the segment's start; the
    landmarks as an array, as the paper's code has them. ``max_frames`` None: the
    paper's 100 (``VisualConfig().max_frames``); ``model_path`` None: the shipped model.
    """
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    max_frames = VisualConfig().max_frames if max_frames is None else max_frames
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path or face_model_path())),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=1,
    )
    start = seg.start or 0.0
    out: list[np.ndarray] = []
    with quiet_native_stderr():
        landmarker = vision.FaceLandmarker.create_from_options(options)
    try:
        with av.open(str(seg.media)) as c:
            stream = c.streams.video[0]
            fps = float(stream.average_rate or 25)
            if start > 0.5:
                c.seek(int(start * av.time_base), backward=True)
            for frame in c.decode(stream):
                t = float(frame.time or 0.0)
                if t + 0.5 / fps < start:  # the frame on screen at ``start`` is the first
                    continue
                if seg.end is not None and t >= seg.end:
                    break
                # MediaPipe reads the buffer as contiguous: rows padded to the line alignment
                # (a width of 486, say) must be copied, or it sees no face
                rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                with quiet_native_stderr() if not out else contextlib.nullcontext():
                    result = landmarker.detect_for_video(image, int((t - start) * 1000))
                if result.face_landmarks:
                    out.append(
                        np.array([[p.x, p.y, p.z] for p in result.face_landmarks[0]], np.float32)
                    )
                else:
                    out.append(np.full((N_LANDMARKS, 3), np.nan, np.float32))
                if len(out) >= max_frames:
                    break
    finally:
        landmarker.close()
    return np.asarray(out, np.float32).reshape(-1, N_LANDMARKS, 3)


def librosa_load(seg: Segment, cfg: AudioConfig = AudioConfig()) -> np.ndarray:
    """``librosa.load(media, sr, offset=start, duration)`` by hand: mono samples at ``cfg.sample_rate``.

    ``duration`` is ``cfg.duration``, cut at the segment's end when it has one. PyAV decodes the file's first audio stream at its own rate to planar float, the channels are
    averaged, the window cut, and ``librosa.resample`` (``soxr_hq``, librosa's default) brings it
    to ``cfg.sample_rate``. (``librosa.load`` itself reads video files only through audioread and
    an FFmpeg program.)
    """
    import av
    import librosa

    start = seg.start or 0.0
    seconds = cfg.duration
    if seg.end is not None:  # a segment of a longer file: its own end, as a clip's end would be
        seconds = seg.end - start if seconds is None else min(seconds, seg.end - start)
    chunks, native, first, n = [], 0, None, 0
    with av.open(str(seg.media)) as c:
        stream = c.streams.audio[0]
        to_float = av.AudioResampler(format="fltp")  # planar float at the file's own rate
        if start > 0.5:
            c.seek(int(start * av.time_base), backward=True)
        for frame in c.decode(stream):
            first = float(frame.time or 0.0) if first is None else first
            native = frame.sample_rate
            for out in to_float.resample(frame):
                chunks.append(out.to_ndarray().mean(axis=0))
                n += len(chunks[-1])
            if seconds is not None and first + n / native > start + seconds:
                break
    if not chunks:
        raise ValueError(f"{seg.media}: no audio decoded from {start:.2f} s")
    y = np.concatenate(chunks)
    i0 = max(0, int(round((start - first) * native)))
    y = y[i0:] if seconds is None else y[i0 : i0 + int(seconds * native)]
    return librosa.resample(y, orig_sr=native, target_sr=cfg.sample_rate, res_type="soxr_hq")


def librosa_recipe(y: np.ndarray, sr: int, chroma: str = "chroma_stft") -> np.ndarray:
    """The paper's 29 audio values, one librosa call per feature, averaged over frames.

    13 MFCC, 12 chroma (``librosa.feature.<chroma>``: the paper's code names ``chroma``, which
    librosa does not have), spectral centroid, rolloff, zero-crossing rate, and one
    ``librosa.beat.beat_track`` tempo; each call with librosa's defaults, as the code makes it.
    """
    import librosa

    feats = [
        librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13).mean(axis=1),
        getattr(librosa.feature, chroma)(y=y, sr=sr).mean(axis=1),
        [librosa.feature.spectral_centroid(y=y, sr=sr).mean()],
        [librosa.feature.spectral_rolloff(y=y, sr=sr).mean()],
        [librosa.feature.zero_crossing_rate(y).mean()],
        np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0]),
    ]
    return np.concatenate([np.asarray(f, np.float64).ravel() for f in feats])


def baseline_audio(seg: Segment, cfg: AudioConfig = AudioConfig()) -> np.ndarray:
    """The paper's audio recipe done plainly on a segment: :func:`librosa_load`, :func:`librosa_recipe`."""
    return librosa_recipe(librosa_load(seg, cfg), cfg.sample_rate)
