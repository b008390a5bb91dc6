"""Small generated data for adapter tests: source rows and their images under a known map."""

from __future__ import annotations

import numpy as np

from msa_lib.config import AdapterConfig

FAST = AdapterConfig(epochs=8, hidden=32, n_target_samples=400, components=4)


def linear_pairs(n: int = 400, d_in: int = 6, d_out: int = 4, noise: float = 0.01, seed: int = 0):
    """Source rows, their images under a known affine map (plus a little noise), ids, the map."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, d_in))
    w = rng.normal(0, 1, (d_in, d_out))
    b = rng.normal(0, 1, d_out)
    y = x @ w + b + noise * rng.normal(0, 1, (n, d_out))
    ids = np.array([f"s{i}" for i in range(n)])
    return x, y, ids, w, b
