"""Chapter 1's descriptive tables, checked on a small segments frame whose answers are known."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from msa_lib.data.describe import (
    AUDIO_WINDOW_S,
    CSD_REPORT_COLUMNS,
    FEATURE_COLUMNS,
    available_features,
    corpus_segments,
    csd_report,
    duration_checks,
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


def test_duration_checks_count_long_empty_and_early_segments():
    df = hand_made()
    df.loc[df["segment_id"] == "b_4", ["start", "end", "duration"]] = [-0.25, -0.25, 0.0]
    df.loc[df["segment_id"] == "c_5", "start"] = -1.5
    out = duration_checks(df).set_index("corpus")
    assert list(out.index) == ["mosei", "mosi"]
    # mosi durations 2, 4, 9, 3, 0: two longer than the 3 s window (3 itself is not longer)
    assert AUDIO_WINDOW_S == 3.0
    assert out.loc["mosi", "segments"] == 5
    assert out.loc["mosi", "share_over_window"] == pytest.approx(2 / 5)
    assert out.loc["mosi", "zero_length"] == 1 and out.loc["mosei", "zero_length"] == 0
    assert out.loc["mosi", "start_before_0"] == 1 and out.loc["mosei", "start_before_0"] == 1
    assert out.loc["mosi", "earliest_start_s"] == -0.25
    assert out.loc["mosei", "earliest_start_s"] == -1.5
    # mosei durations 5, 6, 8, 7: all longer than 3 s, none longer than 7.5 s but one
    assert out.loc["mosei", "share_over_window"] == 1.0
    assert (
        duration_checks(df, window_s=7.5).set_index("corpus").loc["mosei", "share_over_window"]
        == 0.25
    )


def test_available_features_lists_csd_bclstm_and_raw_media(small_synthetic, tmp_path):
    root = shutil.copytree(small_synthetic, tmp_path / "data")
    table = available_features(DataFolder.open(root))
    assert list(table.columns) == FEATURE_COLUMNS
    csd = table[table["kind"] == ".csd"]
    assert sorted(map(tuple, csd[["corpus", "modality"]].to_numpy())) == sorted(
        (c, m) for c in ("mosi", "mosei") for m in ("visual", "audio", "text")
    )
    assert (csd["file"].str.endswith(".csd")).all()
    # add bc-LSTM features of every MOSI segment on their own split, and two raw clips
    seg = DataFolder.open(root).segments("mosi")
    n = len(seg)
    split = np.where(np.arange(n) < n - 10, "train", "test")
    rng = np.random.default_rng(0)
    np.savez(
        root / "mosi" / "bclstm_features.npz",
        segment_id=seg["segment_id"].to_numpy().astype(str),
        bclstm_split=split,
        audio=rng.normal(size=(n, 3)),
        visual=rng.normal(size=(n, 2)),
        text=rng.normal(size=(n, 4)),
    )
    (root / "raw" / "mosi").mkdir(parents=True)
    for name in ("a.mp4", "b.mp4", "notes.txt"):
        (root / "raw" / "mosi" / name).write_bytes(b"")
    table = available_features(DataFolder.open(root)).set_index(["corpus", "modality"])
    bc = table[table["kind"].str.startswith("bc-LSTM")]
    assert sorted(bc["file"]) == [f"bclstm_features.npz ({d}-d)" for d in (2, 3, 4)]
    assert (bc["kind"] == f"bc-LSTM, own split: 10 test / {n - 10} train").all()
    assert table.loc[("mosi", "raw media"), "file"] == "2 clips"  # the .txt is no media
    assert ("mosei", "raw media") not in table.index


def test_csd_report_counts_what_averaging_found(small_synthetic, tmp_path):
    folder = DataFolder.open(small_synthetic)
    report = csd_report(folder)
    assert list(report.columns) == CSD_REPORT_COLUMNS
    assert list(report["corpus"].unique()) == ["mosei", "mosi"]
    for corpus, part in report.groupby("corpus"):
        seg = folder.segments(corpus)
        n = int((seg["split"] != "unassigned").sum())
        assert (part["segments"] == n).all()
        assert (part["by key"] + part["by interval"] <= n).all()
        assert (part["NaN rows"] >= 0).all()
        dims = folder.synthetic_info()["config"][f"{corpus}_dims"]
        assert dict(zip(part["modality"], part["dim"])) == dict(
            zip(("visual", "audio", "text"), dims)
        )
    # the generator writes -inf audio frames: the report counts the values left out
    assert report.set_index(["corpus", "modality"]).loc[("mosei", "audio"), "non-finite values"] > 0
    # a folder missing one .csd file has nothing to average
    root = shutil.copytree(small_synthetic, tmp_path / "data")
    for path in DataFolder.open(root).csd_files("mosi").values():
        path.unlink()
    next(iter(DataFolder.open(root).csd_files("mosei").values())).unlink()
    assert csd_report(DataFolder.open(root)).empty
