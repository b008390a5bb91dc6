"""Test media fixtures, shared by every test folder (registered in tests/conftest.py).

Speech from espeak-ng (tests using it are marked ``espeak``: they skip without it, or fail under
``MSA_REQUIRE_ESPEAK=1``), a face video with a voice-like tone, and broken files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from msa_lib.extract.engines.media import write_media
from msa_lib.extract.generate import (
    blank_frames,
    face_frames,
    make_clip,
    speech,
    tone,
)
from tests.conftest import NEED, check

SR = 22050


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """A folder for the session's generated clips."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def speech_samples() -> np.ndarray:
    """About 2 s of espeak-ng speech at 22.05 kHz (tests using it are marked ``espeak``)."""
    check(NEED["espeak"])
    return speech("this movie was surprisingly good, I loved it", SR)


@pytest.fixture(scope="session")
def face_clip(media_dir) -> Path:
    """2.0 s, 15 fps, 256x256: the astronaut's face with a voice-like tone (always available)."""
    y = tone(2.0, SR)
    return write_media(
        media_dir / "face.mp4", face_frames(30, 256), fps=15, audio=y, sample_rate=SR
    )


@pytest.fixture(scope="session")
def speech_clip(media_dir, speech_samples) -> Path:
    """A face video carrying espeak-ng speech."""
    return make_clip(media_dir / "speech.mp4", "this movie was surprisingly good").path


@pytest.fixture(scope="session")
def long_tone_clip(media_dir) -> Path:
    """5 s of tone and grey frames, for the 3-s cap and time windows."""
    y = tone(5.0, SR, f0=180.0, seed=1)
    return write_media(
        media_dir / "long.mp4", blank_frames(50, 64), fps=10, audio=y, sample_rate=SR
    )


@pytest.fixture(scope="session")
def no_face_clip(media_dir) -> Path:
    """Grey frames and a tone: a clip with no face."""
    return write_media(
        media_dir / "noface.mp4", blank_frames(15, 128), fps=15, audio=tone(1.0, SR), sample_rate=SR
    )


@pytest.fixture(scope="session")
def no_audio_clip(media_dir) -> Path:
    """Face frames only, no audio track."""
    return write_media(media_dir / "noaudio.mp4", face_frames(10, 192), fps=10)


@pytest.fixture(scope="session")
def silent_clip(media_dir) -> Path:
    """Face frames with an audio track of digital silence."""
    return write_media(
        media_dir / "silent.mp4",
        face_frames(10, 192),
        fps=10,
        audio=np.zeros(SR, np.float32),
        sample_rate=SR,
    )


@pytest.fixture(scope="session")
def short_audio_clip(media_dir) -> Path:
    """An audio-only file of 40 ms: shorter than one 2048-sample STFT frame."""
    return write_media(media_dir / "short.mp4", audio=tone(0.04, SR), sample_rate=SR)


@pytest.fixture(scope="session")
def zero_byte_clip(media_dir) -> Path:
    """An empty .mp4 file."""
    p = media_dir / "empty.mp4"
    p.write_bytes(b"")
    return p


@pytest.fixture(scope="session")
def corrupt_clip(media_dir) -> Path:
    """An .mp4 holding random bytes."""
    p = media_dir / "corrupt.mp4"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return p


def truncate(src: Path, dst: Path, keep: float) -> Path:
    """A copy of ``src`` cut after ``keep`` of its bytes, as an interrupted download leaves it."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


@pytest.fixture(scope="session")
def ten_second_clip(media_dir) -> Path:
    """10 s of tone and a moving face at 10 fps, index first (as files made for streaming)."""
    return write_media(
        media_dir / "ten.mp4",
        face_frames(100, 96),
        fps=10,
        audio=tone(10.0, SR, seed=2),
        sample_rate=SR,
    )


@pytest.fixture(scope="session")
def truncated_clip(media_dir, ten_second_clip) -> Path:
    """The 10-s clip cut to 35% of its bytes: the header still says 10 s, the streams end near 3 s."""
    return truncate(ten_second_clip, media_dir / "truncated.mp4", 0.35)


@pytest.fixture()
def clip_folder(tmp_path, face_clip, no_face_clip, zero_byte_clip, no_audio_clip) -> Path:
    """A folder of clips with sidecar transcripts: good, no face, empty file, no audio."""
    d = tmp_path / "clips"
    d.mkdir()
    for name, src in [
        ("good", face_clip),
        ("noface", no_face_clip),
        ("empty", zero_byte_clip),
        ("mute", no_audio_clip),
    ]:
        shutil.copy(src, d / f"{name}.mp4")
    (d / "good.txt").write_text("what a wonderful film")
    (d / "noface.txt").write_text("   ")
    return d
