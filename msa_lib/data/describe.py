"""Descriptive tables of a data folder: split counts, label statistics, per-video counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from msa_lib.data.featureset import ALLOWED_SPLITS
from msa_lib.data.folder import DataFolder
from msa_lib.data.layout import CORPORA


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
