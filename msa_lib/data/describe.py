"""Descriptive tables of a data folder: split counts, label statistics, per-video counts, segment
durations against the audio window, and the features and media the folder holds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from msa_lib.config import AudioConfig
from msa_lib.data.featureset import ALLOWED_SPLITS
from msa_lib.data.folder import DataFolder
from msa_lib.data.layout import BCLSTM_FILE, CORPORA

# The seconds of a segment the paper's audio features read (§3.2): longer segments are cut there.
AUDIO_WINDOW_S = AudioConfig().duration
FEATURE_COLUMNS = ["corpus", "modality", "file", "kind"]
CSD_REPORT_COLUMNS = [
    "corpus",
    "modality",
    "dim",
    "segments",
    "by key",
    "by interval",
    "NaN rows",
    "non-finite values",
    "zero-filled",
]


def corpus_segments(folder: DataFolder) -> pd.DataFrame:
    """Both corpora's segment tables stacked, with a ``corpus`` column."""
    frames = []
    for corpus in CORPORA:
        if folder.has(corpus):
            seg = folder.segments(corpus)
            frames.append(
                seg[
                    ["segment_id", "video_id", "start", "end", "duration", "label", "split"]
                ].assign(corpus=corpus)
            )
    return pd.concat(frames, ignore_index=True)


def split_table(segments: pd.DataFrame) -> pd.DataFrame:
    """Segments and videos per corpus and split."""
    g = segments.groupby(["corpus", "split"])
    table = pd.DataFrame({"segments": g.size(), "videos": g["video_id"].nunique()}).reset_index()
    order = {s: i for i, s in enumerate(ALLOWED_SPLITS)}
    return table.sort_values(
        ["corpus", "split"], key=lambda c: c.map(order) if c.name == "split" else c
    ).reset_index(drop=True)


def label_summary(segments: pd.DataFrame) -> pd.DataFrame:
    """Label mean, sd and class shares (negative < 0, zero, positive > 0) per corpus and split."""

    def stats(g: pd.DataFrame) -> pd.Series:
        y = g["label"].to_numpy()
        return pd.Series(
            {
                "n": len(y),
                "mean": float(np.mean(y)),
                "sd": float(np.std(y, ddof=1)) if len(y) > 1 else float("nan"),
                "share_negative": float(np.mean(y < 0)),
                "share_zero": float(np.mean(y == 0)),
                "share_positive": float(np.mean(y > 0)),
                "median_duration_s": float(g["duration"].median()),
            }
        )

    rows = [stats(g).rename((c, s)) for (c, s), g in segments.groupby(["corpus", "split"])]
    out = pd.DataFrame(rows)
    out.index = pd.MultiIndex.from_tuples(out.index, names=["corpus", "split"])
    return out.reset_index()


def segments_per_video(segments: pd.DataFrame) -> pd.DataFrame:
    """Number of segments of each video, per corpus."""
    return segments.groupby(["corpus", "video_id"]).size().rename("segments").reset_index()


def video_overlap(segments: pd.DataFrame) -> pd.DataFrame:
    """Videos appearing in more than one split, per corpus (should be none)."""
    n = segments.groupby(["corpus", "video_id"])["split"].nunique()
    return n[n > 1].rename("n_splits").reset_index()


def duration_checks(segments: pd.DataFrame, window_s: float = AUDIO_WINDOW_S) -> pd.DataFrame:
    """Per corpus: segments, the share longer than ``window_s`` seconds, segments of zero length
    (``end`` at or before ``start``), segments starting before 0 s and the earliest start."""
    g = segments.groupby("corpus")
    return pd.DataFrame(
        {
            "segments": g.size(),
            "share_over_window": g["duration"].apply(lambda d: float((d > window_s).mean())),
            "zero_length": g["duration"].apply(lambda d: int((d <= 0).sum())),
            "start_before_0": g["start"].apply(lambda t: int((t < 0).sum())),
            "earliest_start_s": g["start"].min().astype(float),
        }
    ).reset_index()


def available_features(folder: DataFolder) -> pd.DataFrame:
    """The features and media a data folder holds: .csd files, bc-LSTM features (with their own
    split), raw clips; one row per corpus and modality."""
    rows = []
    for corpus in ("mosi", "mosei"):
        for modality, path in folder.csd_files(corpus).items():
            rows.append({"corpus": corpus, "modality": modality, "file": path.name, "kind": ".csd"})
    if folder.has_bclstm:
        bc = folder.bclstm()
        own_split = " / ".join(f"{n} {s}" for s, n in bc.split_counts().items())
        for modality, dim in bc.dims.items():
            rows.append(
                {
                    "corpus": "mosi",
                    "modality": modality,
                    "file": f"{BCLSTM_FILE} ({dim}-d)",
                    "kind": f"bc-LSTM, own split: {own_split}",
                }
            )
    for corpus in ("mosi", "mosei"):
        clips = folder.raw_clips(corpus)
        if clips:
            rows.append(
                {
                    "corpus": corpus,
                    "modality": "raw media",
                    "file": f"{len(clips)} clips",
                    "kind": "mp4",
                }
            )
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def csd_report(folder: DataFolder) -> pd.DataFrame:
    """What averaging each corpus's .csd files found, per corpus and modality (corpora with all
    three modalities' files only; empty when none has them): segments found by their own key or
    cut from their video, all-NaN rows, non-finite values left out, zero-filled (segment, column)
    pairs."""
    rows = []
    for corpus in ("mosei", "mosi"):
        if len(folder.csd_files(corpus)) < 3:
            continue
        fs, reports = folder.features(corpus)
        for modality, r in reports.items():
            rows.append(
                {
                    "corpus": corpus,
                    "modality": modality,
                    "dim": fs.dims[modality],
                    "segments": r.n_segments,
                    "by key": r.n_by_key,
                    "by interval": r.n_by_interval,
                    "NaN rows": r.n_nan_rows,
                    "non-finite values": r.n_nonfinite_values,
                    "zero-filled": r.n_zero_filled,
                }
            )
    return pd.DataFrame(rows, columns=CSD_REPORT_COLUMNS)
