"""The speech-recognition study: Whisper's word error rate on clips with transcripts, and MOSEI transcripts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from msa_lib.config import AsrConfig
from msa_lib.extract.engines.asr import (
    normalise,
    transcribe_cached,
    transcribe_segments,
    wer,
    word_differences,
)


def wer_table(
    segments: Sequence, cfg: AsrConfig = AsrConfig(), cache_dir: str | os.PathLike | None = None
):
    """Per segment with a true transcript and media: the truth, what ASR heard, WER, differences."""
    import pandas as pd

    rows = []
    for sg in segments:
        if sg.media is None or not sg.text:
            continue
        tr = transcribe_cached(sg.media, sg.start, sg.end, cfg, cache_dir)
        rows.append(
            {
                "segment_id": sg.segment_id,
                "truth": sg.text,
                "asr": tr.text,
                "wer": wer(sg.text, tr.text),
                "differences": "; ".join(word_differences(sg.text, tr.text)),
                "n_words": len(normalise(sg.text).split()),
                "audio_s": round(tr.end - tr.start, 2),
                "seconds": round(tr.seconds, 2),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "segment_id",
            "truth",
            "asr",
            "wer",
            "differences",
            "n_words",
            "audio_s",
            "seconds",
        ],
    )


def asr_table(
    table,
    media_dir: str | os.PathLike,
    cfg: AsrConfig = AsrConfig(),
    cache_dir: str | os.PathLike | None = None,
):
    """The rows of a segments table whose media exists, with ``text`` from speech recognition.

    Each source video is heard once (see :func:`transcribe_segments`); the result has the
    table's columns plus ``text`` and ``n_words``, ready for
    :func:`msa_lib.extract.runner.transcript_features`.
    """
    from msa_lib.extract.plan import plan_table

    segs = [s for s in plan_table(table.drop(columns=["text"], errors="ignore"), Path(media_dir))]
    segs = [s for s in segs if s.media is not None]
    heard, _ = transcribe_segments(segs, cfg, cache_dir)
    text = {s.segment_id: s.text for s in heard if s.text is not None}
    out = table[table["segment_id"].isin(list(text))].drop(columns=["text"], errors="ignore")
    out = out.assign(text=out["segment_id"].map(text)).reset_index(drop=True)
    return out.assign(n_words=out["text"].str.split().str.len())
