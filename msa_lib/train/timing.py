"""How long a training epoch of the fusion model takes on a random input of a given size."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from msa_lib.config import ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.train.fusion import fit

MOSEI_DIMS = {"visual": 713, "audio": 74, "text": 300}  # OpenFace2, COVAREP, GloVe widths


def random_featureset(
    n_train: int, n_valid: int, dims: Mapping[str, int], seed: int = 0
) -> FeatureSet:
    """Random features with a weak shared signal, ``n_train`` train and ``n_valid`` valid segments."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    z = rng.normal(size=n)
    return FeatureSet(
        segment_id=np.arange(n).astype(str),
        video_id=(np.arange(n) // 10).astype(str),
        split=np.where(np.arange(n) < n_train, "train", "valid"),
        label=np.clip(z, -3, 3),
        features={m: rng.normal(size=(n, d)) + z[:, None] * 0.1 for m, d in dims.items()},
        corpus="random-timing",
        source="synthetic",
    )


def time_epochs(
    n_train: int = 16331,
    n_valid: int = 1871,
    dims: Mapping[str, int] | None = None,
    epochs: int = 2,
    num_threads: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-epoch seconds of :func:`~msa_lib.train.fit` (train pass + validation pass), MOSEI-sized."""
    fs = random_featureset(n_train, n_valid, dict(dims or MOSEI_DIMS), seed)
    cfg = TrainConfig(max_epochs=epochs, patience=epochs + 1, num_threads=num_threads, seed=seed)
    _, history = fit(ModelConfig(), cfg, fs.select("train"), fs.select("valid"), progress=False)
    return history[["epoch", "seconds"]].assign(
        n_train=n_train, n_valid=n_valid, num_threads=num_threads
    )
