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
