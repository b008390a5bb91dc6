"""Generated stand-in media for tests and chapters when no real clips exist (always labelled so).

Speech comes from ``espeak-ng`` (a system program; where it is absent, a harmonic tone with a
syllable-like envelope stands in, and callers say so); the face is scikit-image's ``astronaut``
photograph, moved and scaled a little from frame to frame so that the landmarks change. Clips are
written with PyAV (H.264 + AAC in mp4), the same way real clips are stored.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from msa_lib.extract.engines.media import write_media


def espeak_available() -> bool:
    """Whether the ``espeak-ng`` program is installed."""
    return shutil.which("espeak-ng") is not None


def speech(text: str, sample_rate: int = 22050) -> np.ndarray:
    """Mono float32 speech of ``text`` from espeak-ng (raises FileNotFoundError without it)."""
    import soundfile

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run([exe, "--stdout", text], check=True, capture_output=True).stdout
    y, sr = soundfile.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != sample_rate:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate)
    return np.ascontiguousarray(y, dtype=np.float32)


def tone(seconds: float, sample_rate: int = 22050, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A voice-like stand-in: harmonics of a wavering f0 under a 4 Hz syllable envelope."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f) / sample_rate
    y = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    y = 0.3 * y * env / np.abs(y).max() + 0.003 * rng.standard_normal(len(t))
    return y.astype(np.float32)


def face_frames(n_frames: int, size: int = 256, seed: int = 0) -> list[np.ndarray]:
    """RGB frames of the scikit-image astronaut's face, drifting and zooming slightly."""
    from skimage import data, transform

    rng = np.random.default_rng(seed)
    img = data.astronaut()[:320, 80:400]  # head and shoulders
    frames = []
    for i in range(n_frames):
        scale = 1.0 + 0.05 * np.sin(2 * np.pi * i / max(n_frames, 8))
        shift = rng.normal(0, 2.0, size=2) + [3 * np.sin(i / 5), 0]
        tf = transform.SimilarityTransform(scale=scale, translation=shift)
        warped = transform.warp(img, tf.inverse, mode="edge", preserve_range=True)
        frames.append(
            transform.resize(warped, (size, size), preserve_range=True, anti_aliasing=True).astype(
                np.uint8
            )
        )
    return frames


def blank_frames(n_frames: int, size: int = 128) -> list[np.ndarray]:
    """Uniform grey frames (a video with no face)."""
    return [np.full((size, size, 3), 128, np.uint8) for _ in range(n_frames)]


@dataclass(frozen=True)
class GeneratedClip:
    """A generated clip and how its parts were made."""

    path: Path
    text: str
    speech: str  # "espeak-ng" or "tone (espeak-ng not installed)"
    face: str  # "skimage astronaut" or "none"


def make_clip(
    path: str | os.PathLike,
    text: str = "this movie was surprisingly good",
    seconds: float | None = None,
    fps: int = 15,
    face: bool = True,
    size: int = 256,
    sample_rate: int = 22050,
    seed: int = 0,
) -> GeneratedClip:
    """An mp4 with speech of ``text`` (or a tone) and a moving face (or grey frames)."""
    if espeak_available():
        y, how = speech(text, sample_rate), "espeak-ng"
    else:
        y, how = tone(seconds or 2.0, sample_rate, seed=seed), "tone (espeak-ng not installed)"
    if seconds is not None:
        y = np.pad(y, (0, max(0, int(seconds * sample_rate) - len(y))))[
            : int(seconds * sample_rate)
        ]
    n = max(1, int(round(len(y) / sample_rate * fps)))
    frames = face_frames(n, size, seed) if face else blank_frames(n, size)
    write_media(path, frames, fps=fps, audio=y, sample_rate=sample_rate)
    return GeneratedClip(Path(path), text, how, "skimage astronaut" if face else "none")


class ChapterClips(NamedTuple):
    """The clips a chapter shows, a phrase saying what they are, and their data source."""

    segments: list
    phrase: str  # for captions: "real CMU-MOSI clips" or "GENERATED clips (...)"
    source: str  # "real" or "synthetic"


def chapter_clips(folder, workdir: str | os.PathLike, n: int = 3) -> ChapterClips:
    """The clips a chapter shows: the data folder's real MOSI clips, else ``n`` generated ones.

    The segments carry the transcripts, labels and folds of the corpus table; generated clips
    speak the corpus's first transcripts.
    """
    from msa_lib.extract.base import Segment
    from msa_lib.extract.plan import plan_clips

    table = folder.segments("mosi")
    clips = folder.raw_clips("mosi")
    if clips:
        return ChapterClips(plan_clips(clips, table), "real CMU-MOSI clips", "real")
    workdir = Path(workdir)
    segs, how = [], set()
    for i, row in enumerate(table.head(n).itertuples(index=False)):
        text = " ".join(str(row.text).lower().split()[:12]) or "this movie was good"
        clip = make_clip(workdir / f"generated_{i}.mp4", text=text, seed=i, face=True)
        how.add(clip.speech)
        segs.append(Segment(f"generated_{i}", f"generated_{i}", str(clip.path), text=text))
    phrase = f"GENERATED clips ({', '.join(sorted(how))} speech, scikit-image astronaut face)"
    return ChapterClips(segs, phrase, "synthetic")
