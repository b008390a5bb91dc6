import numpy as np
import pandas as pd
import pytest

from msa_lib.config import SplitConfig
from msa_lib.data.splits import grouped_split, holdout_videos, standard_folds


def test_grouped_split_keeps_videos_whole_and_is_seeded():
    rng = np.random.default_rng(0)
    videos = np.repeat([f"v{i}" for i in range(60)], rng.integers(1, 20, 60))
    split = grouped_split(videos, SplitConfig(seed=3))
    per_video = pd.Series(split).groupby(videos).nunique()
    assert (per_video == 1).all()
    n_video = pd.Series(split).groupby(videos).first().value_counts()
    assert n_video["train"] == 42 and n_video["valid"] == 9 and n_video["test"] == 9
    np.testing.assert_array_equal(split, grouped_split(videos, SplitConfig(seed=3)))
    assert not np.array_equal(split, grouped_split(videos, SplitConfig(seed=4)))


def test_grouped_split_rejects_bad_settings():
    with pytest.raises(ValueError, match="sum to 1"):
        grouped_split(np.array(["a", "b", "c"]), SplitConfig(train=0.9))
    with pytest.raises(ValueError, match="at least 3 videos"):
        grouped_split(np.array(["a", "a", "b"]))


def test_holdout_videos_is_grouped():
    videos = np.repeat(list("abcdefghij"), 5)
    keep, held = holdout_videos(videos, 0.2, seed=0)
    assert set(videos[keep]).isdisjoint(videos[held])
    assert len(keep) + len(held) == 50 and len(set(videos[held])) == 2


def test_standard_folds_match_the_real_tables(real_data_dir):
    for corpus in ("mosi", "mosei"):
        seg = pd.read_csv(real_data_dir / corpus / "segments.csv")
        folds = seg["video_id"].map(standard_folds(corpus)).fillna("unassigned")
        assert (folds == seg["split"]).all()
    with pytest.raises(ValueError, match="no standard folds"):
        standard_folds("iemocap")


def test_fold_splits_with_and_without_holdout():
    from msa_lib.data.splits import fold_splits
    from tests.train.problem import make_problem

    fs = make_problem()
    official = fold_splits(fs)
    assert {k: len(v) for k, v in official.items()} == {"train": 180, "valid": 60, "test": 60}
    assert (official["valid"].split == "valid").all()
    with pytest.raises(ValueError, match="already has a valid split"):
        fold_splits(fs, holdout=0.2)
    no_valid = fs.take(fs.split != "valid")
    held = fold_splits(no_valid, holdout=0.25, seed=1)
    train_videos, valid_videos = set(held["train"].video_id), set(held["valid"].video_id)
    assert train_videos.isdisjoint(valid_videos)  # whole videos held out
    assert train_videos | valid_videos == set(no_valid.select("train").video_id)
    assert len(held["test"]) == 60
    assert (
        held["valid"].segment_id.tolist()
        != fold_splits(no_valid, 0.25, 2)["valid"].segment_id.tolist()
    )
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=f"holdout must be a fraction .* got {bad}"):
            fold_splits(no_valid, holdout=bad)
