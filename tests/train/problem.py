"""A small linear problem as a FeatureSet, shared by the training, baseline and CLI tests."""

from __future__ import annotations

import numpy as np

from msa_lib.config import TrainConfig
from msa_lib.data.featureset import FeatureSet

DIMS = {"visual": 12, "audio": 6, "text": 8}
FAST = TrainConfig(max_epochs=4, patience=4, num_threads=1)


def make_problem(n=300, seed=0, noise=0.3, dims=DIMS, offsets=True) -> FeatureSet:
    """The label is a noisy linear function of every modality's features (train/valid/test 6:2:2)."""
    rng = np.random.default_rng(seed)
    feats, signal = {}, np.zeros(n)
    for i, (m, d) in enumerate(dims.items()):
        x = rng.normal(size=(n, d))
        signal += x @ rng.normal(size=d) / np.sqrt(d)
        # large, different scales and offsets: the model must standardise to learn at all
        feats[m] = x * (10.0**i) + (100.0 * i if offsets else 0.0)
    z = signal / signal.std()
    label = np.clip(z + noise * rng.normal(size=n), -3, 3)
    split = np.array(["train", "valid", "test"])[np.arange(n) % 10 // 6 + (np.arange(n) % 10 > 7)]
    return FeatureSet(
        segment_id=[f"s{i}" for i in range(n)],
        video_id=[f"v{i // 5}" for i in range(n)],
        split=split,
        label=label,
        features=feats,
        corpus="linear-test",
        source="synthetic",
    )
