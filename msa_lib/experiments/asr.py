"""The speech-recognition study: Whisper's word error rate on clips with transcripts, MOSEI
transcripts per source video, and ``msa predict`` on the chapter's clips.

:func:`wer_table` and :func:`asr_table` hear the clips; :func:`video_table` sums the MOSEI rows per
source video; :func:`wer_summary`, :func:`words_sentence` and :func:`predict_verdict` state what the
runs show.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
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


def video_table(rows):
    """Per source video of :func:`asr_table`'s rows: its segments, the words heard in them, and
    its first segment's times and transcript."""
    import pandas as pd

    need = {"video_id", "start", "end", "text", "n_words"}
    if not need <= set(rows.columns):
        raise ValueError(f"video_table needs columns {sorted(need)}, got {list(rows.columns)}")
    first = rows.sort_values(["video_id", "start"]).groupby("video_id").head(1)
    counts = rows.groupby("video_id")["n_words"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "video_id": first["video_id"].to_numpy(),
            "segments": first["video_id"].map(counts["size"]).to_numpy(),
            "words": first["video_id"].map(counts["sum"]).to_numpy(),
            "start": first["start"].to_numpy(),
            "end": first["end"].to_numpy(),
            "text": first["text"].to_numpy(),
        }
    )


@dataclass(frozen=True)
class WerSummary:
    """Whisper on the chapter's clips: how many, how many true words, the pooled WER, the time."""

    n_clips: int
    n_words: int
    audio_s: float
    pooled_wer: float  # WER weighted by the true transcripts' words
    seconds_per_clip: float
    generated: bool  # generated speech (espeak-ng), not the corpus's recordings

    def sentence(self) -> str:
        """What the WER table shows, as the chapter states it."""
        text = (
            f"Over the {self.n_clips} clips, {self.pooled_wer:.1%} of the true words are missed or "
            f"changed (WER weighted by words); recognition took {self.seconds_per_clip:.1f} s a "
            "clip in this run, on one CPU thread, the machine shared with other work. "
        )
        if self.generated:
            return text + (
                "These clips are GENERATED: espeak-ng reading the synthetic corpus's first "
                "transcripts, so the WER measures Whisper on synthetic speech, not on the corpus."
            )
        return text + (
            "The differences are listed in full in the table: where the same words are spelled "
            "two ways (a contraction, a compound written as one word or two, a colloquial form), "
            "each still counts as an error."
        )


def wer_summary(table, generated: bool) -> WerSummary:
    """The summary of a :func:`wer_table` (at least one clip with words)."""
    if table.empty or table["n_words"].sum() == 0:
        raise ValueError("wer_summary: no clip with a true transcript")
    words = int(table["n_words"].sum())
    return WerSummary(
        n_clips=len(table),
        n_words=words,
        audio_s=float(table["audio_s"].sum()),
        pooled_wer=float((table["wer"] * table["n_words"]).sum() / words),
        seconds_per_clip=float(table["seconds"].mean()),
        generated=generated,
    )


def words_sentence(rows) -> str:
    """How many of :func:`asr_table`'s segments got words (and so text features)."""
    heard = int((rows["n_words"] > 0).sum())
    return (
        f"{heard} of the {len(rows)} MOSEI segments cut from these videos have words, and with "
        "them text features; nothing here says how many of those words are right, since MOSEI's "
        "transcripts are not available offline. A segment boundary can fall inside a sentence, "
        "as the segment times are the corpus's."
    )


@dataclass(frozen=True)
class PredictVerdict:
    """``msa predict`` on the chapter's clips: the worked clip, and polarity against the labels."""

    clip: str
    label: float
    score: float
    polarity: str
    model: str
    wer: float  # of the transcript the worked clip was scored on
    agree: int  # clips whose predicted polarity is the label's
    n_clips: int

    def sentence(self, n_test: int) -> str:
        """The verdict; ``n_test``: the test segments the text model was scored on."""
        return (
            f"The worked clip {self.clip} is labelled {self.label:+.1f}; `msa predict` gives "
            f"{self.score:+.2f} ({self.polarity}) from the {self.model} model, on a transcript "
            f"with a word error rate of {self.wer:.1%}. The polarity agrees with the label on "
            f"{self.agree} of {self.n_clips} clips; {self.n_clips} clips say nothing about "
            f"accuracy, which the text section measures on the {n_test} segments of the test fold."
        )


def predict_verdict(scores, predictions: Sequence) -> PredictVerdict:
    """The verdict of :func:`msa_lib.predict.predictor.predict_segments` (labelled clips; the
    first is the worked one)."""
    if scores.empty or scores["label"].isna().any():
        raise ValueError("predict_verdict needs clips, every one with a label")
    first = predictions[0]
    return PredictVerdict(
        clip=str(scores["clip"].iloc[0]),
        label=float(scores["label"].iloc[0]),
        score=float(first.score),
        polarity=str(first.polarity),
        model=str(first.model),
        wer=float(scores["wer"].iloc[0]),
        agree=int(((scores["label"] > 0) == (scores["score"] > 0)).sum()),
        n_clips=len(scores),
    )
