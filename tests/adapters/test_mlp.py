"""The paper's network on random pairs and on true pairs."""

from __future__ import annotations

import numpy as np
import pytest

from msa_lib.adapters.base import Adapter, AdapterError, build, get
from msa_lib.adapters.mlp import random_pairs
from msa_lib.evaluate import spread_ratio
from msa_lib.experiments.adapters import reconstruction
from tests.adapters.data import FAST, linear_pairs


def test_paired_mlp_carries_information_the_random_pair_mlp_does_not():
    x, y, ids, _, _ = linear_pairs(noise=0.0)
    paper = get("paper")(FAST).fit(x, y)
    paired = get("paired-mlp")(FAST).fit(x, y, (ids, ids))
    x_new, _, _, _, _ = linear_pairs(n=200, seed=0)
    truth = y[:200]
    # random pairs: the outputs collapse toward the target mean (spread far below the target's)
    assert spread_ratio(paper.transform(x_new[:200]), truth) < 0.35
    assert spread_ratio(paired.transform(x_new[:200]), truth) > 0.6
    assert (
        reconstruction(paired.transform(x), y)["mse"] < reconstruction(paper.transform(x), y)["mse"]
    )
    collapsed = paper.transform(x_new[:200]).mean(axis=0)
    np.testing.assert_allclose(collapsed, y.mean(axis=0), atol=0.5 * y.std(axis=0).max())
    assert paper.info["n_pairs"] == FAST.n_target_samples and paired.info["n_pairs"] == len(x)


def test_random_pairs_are_seeded_draws_of_the_configured_size():
    zs, zt = np.arange(10.0)[:, None], np.arange(100.0, 130.0)[:, None]
    a, b = random_pairs(zs, zt, FAST)
    assert a.shape == b.shape == (FAST.n_target_samples, 1)
    assert set(a.ravel()) <= set(zs.ravel()) and set(b.ravel()) <= set(zt.ravel())
    np.testing.assert_array_equal(random_pairs(zs, zt, FAST)[1], b)


def test_fewer_pairs_than_one_batch_is_one_clear_error():
    x, y, ids, _, _ = linear_pairs(n=10)
    with pytest.raises(
        AdapterError, match=r"paired-mlp: 10 pairs; fitting needs at least 16 \(one batch\)"
    ):
        get("paired-mlp")(FAST).fit(x, y, (ids, ids))


@pytest.mark.parametrize(
    ("modality", "d_in", "d_out", "widths"),
    [
        ("visual", 6, 9, "6→512→512→9"),
        ("audio", 5, 5, "5→256→256→5"),
        ("text", 7, 4, "7→384→384→4"),
        ("gaze", 3, 2, "3→32→32→2"),  # no paper adapter for it: the configured width
    ],
)
def test_the_paper_kind_has_the_paper_widths_per_modality(modality, d_in, d_out, widths, tmp_path):
    x, y, ids, _, _ = linear_pairs(n=64, d_in=d_in, d_out=d_out)
    config = FAST.__class__(epochs=1, hidden=32, n_target_samples=32)
    paper = build("paper", config, modality).fit(x, y)
    assert paper.widths() == widths
    loaded = Adapter.load(paper.save(tmp_path / "a"))
    assert loaded.widths() == widths
    np.testing.assert_array_equal(loaded.transform(x), paper.transform(x))
    # every other kind keeps its own setting, whatever the modality
    paired = build("paired-mlp", config, modality).fit(x, y, (ids, ids))
    assert paired.widths() == f"{d_in}→32→32→{d_out}"
    assert (
        build("paired-ridge", config, modality).fit(x, y, (ids, ids)).widths() == f"{d_in}→{d_out}"
    )
