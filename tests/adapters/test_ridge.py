"""The paired ridge on a map whose answer is known."""

from __future__ import annotations

import numpy as np

from msa_lib.adapters.base import get
from tests.adapters.data import FAST, linear_pairs


def test_paired_ridge_recovers_a_known_linear_map_from_shuffled_rows():
    x, y, ids, w, b = linear_pairs()
    perm = np.random.default_rng(1).permutation(len(y))  # the target rows in another order
    ad = get("paired-ridge")(FAST).fit(x, y[perm], (ids, ids[perm]))
    x_new = np.random.default_rng(2).normal(0, 1, (50, x.shape[1]))
    np.testing.assert_allclose(ad.transform(x_new), x_new @ w + b, atol=0.05)
    assert ad.info["n_pairs"] == len(x) and ad.info["alpha"] in FAST.ridge_alphas


def test_paired_ridge_learns_only_from_the_segments_both_sets_have():
    x, y, ids, w, b = linear_pairs(n=200)
    y_wrong = y.copy()
    y_wrong[150:] = 0.0  # rows whose ids the source lacks: they must not count
    ids_t = np.concatenate([ids[:150], [f"other{i}" for i in range(50)]])
    ad = get("paired-ridge")(FAST).fit(x, y_wrong, (ids, ids_t))
    assert ad.info["n_pairs"] == 150
    np.testing.assert_allclose(ad.transform(x[:20]), x[:20] @ w + b, atol=0.05)
