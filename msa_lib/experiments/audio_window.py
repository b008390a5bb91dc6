"""The audio-window study (chapter 2): the paper's first 3 s of a segment against the whole of it.

§3.2 reads the first ``AudioConfig.duration`` seconds of each segment; ``duration=None`` reads
the whole segment. :func:`audio_window_table` runs both on every clip (timed after one warm-up
call) and gives, per clip and setting, the audio read, the frames, the speed and the relative
change of the informative values against the paper's setting; :func:`audio_window_verdict`
states the speed over the clips and the clips flagged silent or without audio.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msa_lib.config import AudioConfig
from msa_lib.config.paper import AUDIO_VALUES
from msa_lib.extract.engines.media import probe
from msa_lib.extract.features.audio import AudioResult, extract_audio

COLUMNS = [
    "segment_id",
    "duration_s",
    "setting",
    "audio_s",
    "frames",
    "seconds",
    "real_time_factor",
    "silent",
    "no_audio",
    "change_vs_paper",
]


def window_settings(cfg: AudioConfig = AudioConfig()) -> dict[str, AudioConfig]:
    """The two settings compared, by their table name: the paper's window first, then the whole."""
    return {
        f"paper: first {cfg.duration:g} s": cfg,
        "whole segment": dataclasses.replace(cfg, duration=None),
    }


def timed_extract(media: str | os.PathLike, cfg: AudioConfig) -> tuple[AudioResult, float]:
    """One clip's audio features and the seconds they took, after one warm-up call (the first
    call compiles librosa's numba code)."""
    extract_audio(media, cfg=cfg)
    t0 = time.perf_counter()
    r = extract_audio(media, cfg=cfg)
    return r, time.perf_counter() - t0


def relative_change(vectors: np.ndarray, reference: Sequence[int]) -> np.ndarray:
    """Per row, ``|(v - v_ref) / s| / |v_ref / s|`` with ``v_ref`` the row ``reference[i]`` and
    ``s`` each column's mean magnitude over the rows without NaN, so that every value counts
    alike (a row with NaN, e.g. a clip without audio, gets NaN)."""
    v = np.asarray(vectors)
    ok = np.isfinite(v).all(axis=1)
    if not ok.any():
        return np.full(len(v), np.nan)
    scale = np.abs(v[ok]).mean(0) + 1e-9
    ref = v[np.asarray(reference, dtype=int)]
    return np.array(
        [float(np.linalg.norm((a - b) / scale) / np.linalg.norm(b / scale)) for a, b in zip(v, ref)]
    )


def audio_window_table(segments: Sequence, cfg: AudioConfig = AudioConfig()) -> pd.DataFrame:
    """Per clip (``segments``: objects with ``segment_id`` and ``media``) and setting of
    :func:`window_settings`: the clip's duration, the seconds of audio read, frames, extraction
    seconds and real-time factor, the silent/no-audio flags, and the relative change of the
    ``AUDIO_VALUES`` informative values against the paper's window (:func:`relative_change`)."""
    settings = window_settings(cfg)
    rows, vectors, reference = [], [], []
    for s in segments:
        d = probe(s.media).duration
        first = len(rows)
        for name, c in settings.items():
            r, sec = timed_extract(s.media, c)
            audio_s = r.n_samples / c.sample_rate
            rows.append(
                {
                    "segment_id": s.segment_id,
                    "duration_s": round(d, 2),
                    "setting": name,
                    "audio_s": round(audio_s, 2),
                    "frames": r.n_frames,
                    "seconds": round(sec, 4),
                    "real_time_factor": round(audio_s / sec, 1),
                    "silent": r.flags["silent"],
                    "no_audio": r.flags["no_audio"],
                }
            )
            vectors.append(r.vector[:AUDIO_VALUES])
            reference.append(first)
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    change = relative_change(np.stack(vectors), reference) if vectors else []
    return table.assign(change_vs_paper=np.round(change, 3))


@dataclass(frozen=True)
class WindowVerdict:
    """How fast the extractor ran over the clips, and which clips were flagged."""

    n_clips: int
    real_time_factor: float  # seconds of audio over seconds of compute, all rows together
    flagged: tuple[str, ...]  # clips flagged silent or without audio

    def sentence(self) -> str:
        """The verdict as the chapter states it."""
        if not self.n_clips:
            return "No clip was extracted, so this build states no speed."
        text = (
            f"Over these clips the extractor ran at **{self.real_time_factor:.0f}x real time** in "
            "this run (decoding included, one core). "
        )
        if self.flagged:
            return text + f"Clips flagged silent or without audio: {', '.join(self.flagged)}."
        return text + "No clip was flagged silent or without audio."


def audio_window_verdict(table: pd.DataFrame) -> WindowVerdict:
    """The verdict of :func:`audio_window_table`'s rows."""
    seconds = float(table["seconds"].sum())
    flagged = table.loc[table["silent"] | table["no_audio"], "segment_id"].unique()
    return WindowVerdict(
        n_clips=int(table["segment_id"].nunique()),
        real_time_factor=float(table["audio_s"].sum()) / seconds if seconds > 0 else float("nan"),
        flagged=tuple(str(s) for s in flagged),
    )
