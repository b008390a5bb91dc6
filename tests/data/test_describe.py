"""Chapter 1's descriptive tables, checked on a small segments frame whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.data.describe import (
    corpus_segments,
    label_summary,
    segments_per_video,
    split_table,
    video_overlap,
)
from msa_lib.data.folder import DataFolder


def hand_made() -> pd.DataFrame:
    """Two corpora, five videos; mosi video b is in two folds."""
    rows = [
        # corpus, video, split, label, duration
        ("mosi", "a", "train", -1.0, 2.0),
        ("mosi", "a", "train", 0.0, 4.0),
        ("mosi", "a", "train", 2.0, 9.0),
        ("mosi", "b", "test", 1.5, 3.0),
        ("mosi", "b", "valid", -0.5, 1.0),
        ("mosei", "c", "test", 0.0, 5.0),
        ("mosei", "d", "train", 1.0, 6.0),
        ("mosei", "e", "train", -2.0, 8.0),
        ("mosei", "e", "unassigned", 3.0, 7.0),
    ]
    df = pd.DataFrame(rows, columns=["corpus", "video_id", "split", "label", "duration"])
    df["segment_id"] = [f"{v}_{i}" for i, v in enumerate(df["video_id"])]
    df["start"] = 0.0
    df["end"] = df["duration"]
    return df


def test_split_table_counts_segments_and_videos_in_fold_order():
    table = split_table(hand_made())
    assert table.to_dict("records") == [
        {"corpus": "mosei", "split": "train", "segments": 2, "videos": 2},
        {"corpus": "mosei", "split": "test", "segments": 1, "videos": 1},
        {"corpus": "mosei", "split": "unassigned", "segments": 1, "videos": 1},
        {"corpus": "mosi", "split": "train", "segments": 3, "videos": 1},
        {"corpus": "mosi", "split": "valid", "segments": 1, "videos": 1},
        {"corpus": "mosi", "split": "test", "segments": 1, "videos": 1},
    ]


def test_label_summary_matches_hand_computed_values():
    out = label_summary(hand_made()).set_index(["corpus", "split"])
    mosi_train = out.loc[("mosi", "train")]
    # labels -1, 0, 2: mean 1/3, sample sd sqrt(((-4/3)^2 + (1/3)^2 + (5/3)^2) / 2) = sqrt(7/3)
    assert mosi_train["n"] == 3
    assert mosi_train["mean"] == pytest.approx(1 / 3)
    assert mosi_train["sd"] == pytest.approx(np.sqrt(7 / 3))
    assert mosi_train["share_negative"] == pytest.approx(1 / 3)
    assert mosi_train["share_zero"] == pytest.approx(1 / 3)
    assert mosi_train["share_positive"] == pytest.approx(1 / 3)
    assert mosi_train["median_duration_s"] == 4.0
    mosei_train = out.loc[("mosei", "train")]  # labels 1, -2
    assert mosei_train["mean"] == pytest.approx(-0.5)
    assert mosei_train["sd"] == pytest.approx(np.sqrt(4.5))
    assert mosei_train["share_zero"] == 0.0
    assert mosei_train["median_duration_s"] == 7.0
    # one segment: the sample sd is undefined, not 0
    assert np.isnan(out.loc[("mosi", "test"), "sd"])
    shares = out[["share_negative", "share_zero", "share_positive"]].sum(axis=1)
    assert np.allclose(shares, 1.0)


def test_segments_per_video_and_overlap_name_the_video_in_two_folds():
    df = hand_made()
    per_video = segments_per_video(df).set_index(["corpus", "video_id"])["segments"]
    assert per_video.to_dict() == {
        ("mosei", "c"): 1,
        ("mosei", "d"): 1,
        ("mosei", "e"): 2,
        ("mosi", "a"): 3,
        ("mosi", "b"): 2,
    }
    overlap = video_overlap(df)
    # mosi b (test + valid) and mosei e (train + unassigned) are in two folds each
    assert sorted(map(tuple, overlap[["corpus", "video_id"]].to_numpy())) == [
        ("mosei", "e"),
        ("mosi", "b"),
    ]
    assert (overlap["n_splits"] == 2).all()
    assert video_overlap(df[~df["video_id"].isin(["b", "e"])]).empty


def test_corpus_segments_stacks_both_corpora_of_a_folder(small_synthetic):
    folder = DataFolder.open(small_synthetic)
    seg = corpus_segments(folder)
    for corpus in ("mosi", "mosei"):
        own = folder.segments(corpus)
        part = seg[seg["corpus"] == corpus]
        assert len(part) == len(own)
        assert list(part["segment_id"]) == list(own["segment_id"])
        assert np.allclose(part["label"], own["label"])
    assert {"segment_id", "video_id", "duration", "label", "split", "corpus"} <= set(seg.columns)
