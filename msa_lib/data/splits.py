"""Train/valid/test splits: official CMU folds where known, else a seeded split grouped by video."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from msa_lib.config import SplitConfig
from msa_lib.data.featureset import FeatureSet


def grouped_split(video_ids: np.ndarray, config: SplitConfig = SplitConfig()) -> np.ndarray:
    """Assign each segment to train/valid/test so that no video spans two splits (seeded)."""
    video_ids = np.asarray(video_ids).astype(str)
    total = config.train + config.valid + config.test
    if not np.isclose(total, 1.0):
        raise ValueError(f"split fractions must sum to 1, got {total}")
    n_videos = len(np.unique(video_ids))
    if n_videos < 3:
        raise ValueError(f"a grouped 3-way split needs at least 3 videos, got {n_videos}")
    split = np.empty(len(video_ids), dtype=object)
    idx = np.arange(len(video_ids))
    # scikit-learn's GroupShuffleSplit splits by group fraction, which is what we want: the
    # fractions are of videos, so a speaker never appears in two splits.
    outer = GroupShuffleSplit(n_splits=1, test_size=config.test, random_state=config.seed)
    rest, test = next(outer.split(idx, groups=video_ids))
    inner = GroupShuffleSplit(
        n_splits=1,
        test_size=config.valid / (config.train + config.valid),
        random_state=config.seed + 1,
    )
    tr, va = next(inner.split(rest, groups=video_ids[rest]))
    split[test] = "test"
    split[rest[tr]] = "train"
    split[rest[va]] = "valid"
    return split.astype(str)


def standard_folds(corpus: str) -> dict[str, str]:
    """The CMU-MultimodalSDK standard folds as ``{video_id: split}`` for 'mosi' or 'mosei'."""
    if corpus == "mosi":
        from mmsdk.mmdatasdk.dataset.standard_datasets.CMU_MOSI import cmu_mosi_std_folds as f
    elif corpus == "mosei":
        from mmsdk.mmdatasdk.dataset.standard_datasets.CMU_MOSEI import cmu_mosei_std_folds as f
    else:
        raise ValueError(f"no standard folds for corpus '{corpus}' (known: mosi, mosei)")
    folds: dict[str, str] = {}
    for name, ids in (
        ("train", f.standard_train_fold),
        ("valid", f.standard_valid_fold),
        ("test", f.standard_test_fold),
    ):
        for vid in ids:
            folds[str(vid)] = name
    return folds


def holdout_videos(
    video_ids: np.ndarray, fraction: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into (keep, held_out) by whole videos: for early stopping on a train fold."""
    video_ids = np.asarray(video_ids).astype(str)
    gss = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    keep, held = next(gss.split(np.arange(len(video_ids)), groups=video_ids))
    return np.sort(keep), np.sort(held)


def fold_splits(
    fs: FeatureSet, holdout: float | None = None, seed: int = 0
) -> dict[str, FeatureSet]:
    """``{train, valid, test}`` from ``fs.split``; with ``holdout``, valid = whole videos held out of train.

    The hold-out is for corpora without a validation fold (the bc-LSTM features' own split).
    """
    train = fs.select("train")
    if holdout is None:
        return {"train": train, "valid": fs.select("valid"), "test": fs.select("test")}
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be a fraction between 0 and 1 (exclusive), got {holdout}")
    if (fs.split == "valid").any():
        raise ValueError(
            f"{fs.corpus}: already has a valid split; hold-out is for corpora without one"
        )
    keep, held = holdout_videos(train.video_id, holdout, seed)
    return {"train": train.take(keep), "valid": train.take(held), "test": fs.select("test")}
