"""Audio features as in the paper (§3.2): librosa, 29 values per frame, averaged, padded to 74.

Per STFT frame (22.05 kHz, n_fft 2048, hop 512, Hann): 13 MFCC, 12 chroma, spectral centroid,
spectral rolloff, zero-crossing rate and tempo; the mean over frames (29 values) is zero-padded
to 74, COVAREP's width on MOSEI. The STFT is computed once and shared by every feature; MFCC and
chroma from it equal librosa's ``mfcc(y=...)`` and ``chroma_stft(y=...)``.

**Samples.** The audio is decoded from the video file itself (PyAV) at the file's own rate,
averaged to mono, cut to the first ``duration`` seconds and resampled to 22.05 kHz with soxr
(``librosa.resample``, ``res_type="soxr_hq"``): the samples ``librosa.load(sr=22050,
duration=3.0)`` gives in the paper's code. ``AudioConfig(resampler="swresample")`` resamples in
the decoder with FFmpeg instead (faster; its default filter cuts 8-11 kHz by up to 29%).

**Tempo.** The paper's text counts tempo among the values per frame, so ``tempo="frames"`` (the
default, ``protocol="ours"``) takes librosa's local tempo per frame (``rhythm.tempo`` with
``aggregate=None``) and averages it like the rest. Its code takes one ``librosa.beat.beat_track``
tempo for the clip: ``tempo="global"`` (``protocol="paper"``) gives that value, the same on every
frame. (That code calls ``librosa.feature.chroma``, which does not exist; its bare ``except`` then
returns 74 zeros for every clip. ``chroma_stft`` is what was meant, and what is computed here.)
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import librosa  # lazy (lazy_loader): a submodule loads when first used
import numpy as np

from msa_lib.config import AudioConfig
from msa_lib.config.paper import AUDIO_VALUES
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract.base import Extractor, Outcome, Segment, register
from msa_lib.extract.engines.media import (
    NoAudioError,
    check_truncation,
    check_window,
    probe,
    read_audio,
    read_audio_native,
)

N_PAPER = AUDIO_VALUES  # values per frame (§3.2)
SILENCE_PEAK = 1e-4  # peak amplitude below which a segment counts as silent (-80 dBFS)


def feature_names(cfg: AudioConfig = AudioConfig()) -> list[str]:
    """Names of the ``cfg.pad_to`` output columns (the padding columns included)."""
    names = [f"mfcc_{i}" for i in range(cfg.n_mfcc)]
    names += [f"chroma_{i}" for i in range(cfg.n_chroma)]
    names += ["spectral_centroid", "spectral_rolloff", "zero_crossing_rate", "tempo"]
    return names + [f"pad_{i}" for i in range(max(0, cfg.pad_to - len(names)))]


@dataclass
class AudioResult:
    """One segment's audio vector with what was found on the way."""

    vector: np.ndarray  # [cfg.pad_to] float32; all NaN when the audio is missing
    n_samples: int = 0
    n_frames: int = 0
    flags: dict[str, bool] = field(default_factory=dict)
    frames: np.ndarray | None = None  # [n_frames, 29] when asked for
    warnings: list[str] = field(default_factory=list)  # e.g. a truncated file


@lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int) -> np.ndarray:
    """librosa's default 128-band mel filter bank (cached: building it costs more than using it)."""
    return librosa.filters.mel(sr=sr, n_fft=n_fft)


@lru_cache(maxsize=8)
def _chroma_basis(sr: int, n_fft: int, n_chroma: int, tuning: float) -> np.ndarray:
    """librosa's chroma filter bank for one tuning."""
    return librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning)


def load_audio(
    path: str | os.PathLike,
    start: float = 0.0,
    duration: float | None = None,
    cfg: AudioConfig = AudioConfig(),
    partial_ok: bool = False,
) -> np.ndarray:
    """Mono float32 samples at ``cfg.sample_rate`` from ``start`` for ``duration`` s (None: to the end).

    With a soxr ``cfg.resampler`` (the default): decoded at the file's own rate, averaged to mono,
    cut, then ``librosa.resample`` -- as ``librosa.load(path, sr, offset=start, duration)`` reads a
    file. With "swresample": resampled by FFmpeg while decoding.
    """
    if cfg.resampler == "swresample":
        return read_audio(path, cfg.sample_rate, start, duration, partial_ok=partial_ok)
    y, native = read_audio_native(path, start, duration, partial_ok=partial_ok)
    if not len(y):
        return y
    return librosa.resample(y, orig_sr=native, target_sr=cfg.sample_rate, res_type=cfg.resampler)


def tempo_frames(onset: np.ndarray, mel_db: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """The tempo of each frame (BPM, ``[T]``) under ``cfg.tempo``.

    "frames": librosa's local estimate per frame (``rhythm.tempo(aggregate=None)``). "global":
    ``librosa.beat.beat_track(y=y, sr=sr)``'s one tempo (its onset envelope is the median over
    mel bands; 0 where it has no onset, as beat_track returns) repeated on every frame.
    """
    # librosa.feature does not expose rhythm lazily; importing it brings numba in, so it happens
    # here, when a segment is extracted, not when the extractor is named
    from librosa.feature import rhythm

    sr, hop = cfg.sample_rate, cfg.hop_length
    if cfg.tempo == "frames":
        return rhythm.tempo(onset_envelope=onset, sr=sr, hop_length=hop, aggregate=None)
    if cfg.tempo == "global":
        env = librosa.onset.onset_strength(S=mel_db, sr=sr, aggregate=np.median)
        bpm = (
            float(rhythm.tempo(onset_envelope=env, sr=sr, hop_length=hop)[0]) if env.any() else 0.0
        )
        return np.full(onset.shape[-1], bpm)
    raise ValueError(f"unknown tempo '{cfg.tempo}' (known: 'frames', 'global')")


def frame_features(y: np.ndarray, cfg: AudioConfig = AudioConfig()) -> np.ndarray:
    """The paper's 29 values for every STFT frame of ``y`` (mono, at ``cfg.sample_rate``): [T, 29]."""
    cfg = cfg.resolved()
    sr, n_fft, hop = cfg.sample_rate, cfg.n_fft, cfg.hop_length
    if len(y) < n_fft:
        raise ValueError(f"audio has {len(y)} samples, fewer than one frame (n_fft {n_fft})")
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, window=cfg.window, center=True))
    power = mag**2
    mel_db = librosa.power_to_db(_mel_basis(sr, n_fft) @ power)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=cfg.n_mfcc)
    # chroma_stft(y=...) estimates the tuning from the spectrogram, then applies the filter bank
    with warnings.catch_warnings():  # silence has no pitch to tune to: librosa warns, gives 0
        warnings.simplefilter("ignore", UserWarning)
        tuning = float(librosa.estimate_tuning(S=power, sr=sr, n_fft=n_fft, bins_per_octave=12))
    chroma = librosa.util.normalize(
        _chroma_basis(sr, n_fft, cfg.n_chroma, round(tuning, 2)) @ power, norm=np.inf, axis=-2
    )
    centroid = librosa.feature.spectral_centroid(S=mag, sr=sr, n_fft=n_fft, hop_length=hop)
    rolloff = librosa.feature.spectral_rolloff(S=mag, sr=sr, n_fft=n_fft, hop_length=hop)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop, center=True)
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr)
    tempo = tempo_frames(onset, mel_db, cfg)[None, :]
    t = min(x.shape[-1] for x in (mfcc, chroma, centroid, rolloff, zcr, tempo))
    stacked = np.concatenate([x[:, :t] for x in (mfcc, chroma, centroid, rolloff, zcr, tempo)])
    return stacked.T.astype(np.float32)


def pool(frames: np.ndarray, cfg: AudioConfig = AudioConfig()) -> np.ndarray:
    """Mean over frames, zero-padded to ``cfg.pad_to`` (§3.2: 29 -> 74)."""
    mean = frames.mean(axis=0)
    out = np.zeros(max(cfg.pad_to, mean.shape[0]), np.float32)
    out[: mean.shape[0]] = mean
    return out


def features_from_samples(
    y: np.ndarray, cfg: AudioConfig = AudioConfig(), keep_frames: bool = False
) -> AudioResult:
    """Audio vector of mono samples; too-short audio gives a NaN vector and a flag, never a crash."""
    y = np.asarray(y, dtype=np.float32)
    n_out = len(feature_names(cfg))
    silent = bool(len(y)) and float(np.abs(y).max()) < SILENCE_PEAK
    flags = {"too_short": len(y) < cfg.n_fft, "silent": silent}
    if flags["too_short"]:
        return AudioResult(np.full(n_out, np.nan, np.float32), n_samples=len(y), flags=flags)
    frames = frame_features(y, cfg)
    return AudioResult(
        vector=pool(frames, cfg),
        n_samples=len(y),
        n_frames=len(frames),
        flags=flags,
        frames=frames if keep_frames else None,
    )


def extract_audio(
    path: str | os.PathLike,
    start: float | None = None,
    end: float | None = None,
    cfg: AudioConfig = AudioConfig(),
    keep_frames: bool = False,
) -> AudioResult:
    """Audio vector of the segment [start, end) of a media file (the first ``cfg.duration`` s).

    A file without an audio track gives a NaN vector flagged ``no_audio``; silent audio is
    computed (finite values) and flagged ``silent``; audio shorter than one STFT frame gives a NaN
    vector flagged ``too_short``. A file whose streams end well before its declared duration (an
    interrupted download) is flagged ``truncated`` with a warning naming both durations.
    Unreadable files raise ``MediaError`` naming the file.
    """
    info = probe(path)
    s, e = check_window(info, start, end)
    length = e - s if cfg.duration is None else min(cfg.duration, e - s)
    cut = check_truncation(info)
    warn = [cut.message(s + length)] if cut else []
    try:
        y = load_audio(path, s, length, cfg, partial_ok=cut is not None)
    except NoAudioError:
        nan = np.full(len(feature_names(cfg)), np.nan, np.float32)
        flags = {"no_audio": True, "too_short": False, "silent": False, "truncated": bool(cut)}
        return AudioResult(nan, flags=flags, warnings=warn)
    result = features_from_samples(y, cfg, keep_frames=keep_frames)
    result.flags["no_audio"] = False
    result.flags["truncated"] = cut is not None
    result.warnings = warn
    return result


def tone_gain(freq_hz: float, cfg: AudioConfig = AudioConfig(), native_rate: int = 44100) -> float:
    """A pure tone's amplitude after :func:`load_audio` over its amplitude in the file.

    The tone (2 s, amplitude 0.5) is written as a float WAV at ``native_rate`` and read back at
    ``cfg.sample_rate`` with ``cfg.resampler``: 1 where the resampler passes that frequency whole.
    """
    import tempfile

    import soundfile

    amplitude = 0.5
    t = np.arange(2 * native_rate) / native_rate
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tone.wav")
        soundfile.write(path, amplitude * np.sin(2 * np.pi * freq_hz * t), native_rate, "FLOAT")
        y = load_audio(path, 0.0, None, cfg)
    edge = cfg.sample_rate // 10  # the filters' start-up and tail
    return float(np.sqrt(2) * y[edge:-edge].std() / amplitude)


def params(cfg: AudioConfig = AudioConfig()) -> dict:
    """The settings recorded in a FeatureSet's metadata (the protocol's choices filled in)."""
    return dataclasses.asdict(cfg.resolved())


# librosa's modules whose numba kernels compile at import and are cached on disk (cache=True)
NUMBA_CACHED = (
    "librosa.core.audio",
    "librosa.core.pitch",
    "librosa.util.utils",
    "librosa.beat",
    "librosa.feature.rhythm",
)


@register
class AudioExtractor(Extractor):
    """librosa features of a segment's audio (§3.2)."""

    name = "audio"
    modality = "audio"
    section = "audio"
    needs = "media"
    libraries = ("librosa", "soxr")

    def dim(self) -> int:
        """``pad_to`` columns (or the 29 values when padding is narrower)."""
        return len(feature_names(self.settings))

    def before_workers(self) -> None:
        """Import the librosa modules whose numba kernels are cached on disk, here, once: they
        compile at import (seconds each on a fresh install) and are written to numba's cache,
        which worker processes writing at once can leave corrupt (every process that reads it
        then crashes); afterwards the workers only read it."""
        for module in NUMBA_CACHED:
            importlib.import_module(module)

    def run(self, seg: Segment) -> Outcome:
        """Audio vector of the segment's window; flags count frames and name what was missing."""
        r = extract_audio(seg.media, seg.start, seg.end, self.settings)
        return Outcome(
            r.vector, dict(r.flags) | {"n_audio_frames": r.n_frames}, warnings=r.warnings
        )

    def metadata(self) -> ModalityMeta:
        """librosa's version, the settings and the column names."""
        return ModalityMeta(
            "librosa", librosa.__version__, params(self.settings), feature_names(self.settings)
        )
