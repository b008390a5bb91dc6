"""CORAL and optimal transport on clouds whose moments are known."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from msa_lib.adapters.base import AdapterError, get
from tests.adapters.data import FAST


def test_coral_matches_the_target_second_moments_in_equal_widths():
    rng = np.random.default_rng(0)
    xs = rng.normal(0, 1, (3000, 3)) @ np.array([[2.0, 0.3, 0], [0, 0.5, 0.1], [0, 0, 1.5]])
    xt = rng.normal(0, 1, (3000, 3)) @ np.array([[1.0, 0.8, 0.2], [0, 1.0, 0], [0, 0.4, 0.7]]) + 5
    ad = get("coral")(dataclasses.replace(FAST, components=3)).fit(xs, xt)
    out = ad.transform(xs)
    np.testing.assert_allclose(out.mean(axis=0), xt.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(np.cov(out.T), np.cov(xt.T), atol=0.08)


def test_ot_moves_source_rows_onto_the_target_cloud():
    rng = np.random.default_rng(0)
    xs = rng.normal(0, 1, (300, 5))
    xt = rng.normal(4, 2, (300, 5))
    out = get("ot")(dataclasses.replace(FAST, components=5)).fit(xs, xt).transform(xs)
    assert np.abs(out.mean(axis=0) - xt.mean(axis=0)).max() < 0.6


@pytest.mark.parametrize("kind", ["coral", "ot"])
def test_a_target_set_too_small_for_a_covariance_is_one_clear_error(kind):
    rng = np.random.default_rng(0)
    with pytest.raises(AdapterError, match="the target set has 4 rows; a covariance of 4"):
        get(kind)(FAST).fit(rng.normal(size=(100, 6)), rng.normal(size=(4, 5)))
