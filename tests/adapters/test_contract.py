"""The contract every registered adapter kind keeps, checked on each of them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from msa_lib.adapters.base import Adapter, AdapterError, get, names
from msa_lib.config import AdapterConfig
from tests.adapters.data import linear_pairs

TINY = AdapterConfig(epochs=3, hidden=16, n_target_samples=64, components=3, ot_max_samples=80)


def fitted(kind: str):
    """An adapter of ``kind`` fitted on 120 rows 8-d -> 5-d (pairs given where the kind needs them)."""
    x, y, ids, _, _ = linear_pairs(n=120, d_in=8, d_out=5)
    adapter = get(kind)(TINY)
    if adapter.paired:
        perm = np.random.default_rng(1).permutation(len(y))  # pairs found by id, not by row
        return adapter.fit(x, y[perm], (ids, ids[perm]))
    return adapter.fit(x, y)


@pytest.mark.parametrize("kind", names())
def test_transform_gives_finite_vectors_of_the_target_width(kind):
    adapter = fitted(kind)
    assert (adapter.kind, adapter.in_dim, adapter.out_dim) == (kind, 8, 5)
    out = adapter.transform(np.random.default_rng(2).normal(size=(30, 8)))
    assert out.shape == (30, 5) and out.dtype == np.float64
    assert np.isfinite(out).all()


@pytest.mark.parametrize("kind", names())
def test_save_and_load_give_identical_transforms(kind, tmp_path):
    adapter = fitted(kind)
    folder = adapter.save(tmp_path / kind)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "scaler.pt", "weights.pt"]
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "adapter"
    assert (config["config"]["adapter"], config["config"]["in_dim"]) == (kind, 8)
    back = Adapter.load(folder)
    assert type(back) is type(adapter)
    assert (back.config, back.in_dim, back.out_dim, back.info) == (TINY, 8, 5, adapter.info)
    x = np.random.default_rng(3).normal(size=(40, 8))
    np.testing.assert_array_equal(back.transform(x), adapter.transform(x))
    np.testing.assert_array_equal(get(kind).load(folder).transform(x), adapter.transform(x))


@pytest.mark.parametrize("kind", names())
def test_input_of_the_wrong_width_is_one_clear_error(kind, tmp_path):
    adapter = fitted(kind)
    with pytest.raises(
        AdapterError, match=f"{kind} adapter input: .*expects 8-d features, got 7-d"
    ):
        adapter.transform(np.zeros((4, 7)))
    with pytest.raises(AdapterError, match="expects 8-d features, got 7-d"):
        Adapter.load(adapter.save(tmp_path / kind)).transform(np.zeros((4, 7)))


@pytest.mark.parametrize("kind", names())
def test_paired_kinds_refuse_data_without_pairs(kind):
    x, y, _, _, _ = linear_pairs(n=120, d_in=8, d_out=5)
    adapter = get(kind)(TINY)
    if adapter.paired:
        with pytest.raises(AdapterError, match=f"{kind}: paired training needs the segment ids"):
            adapter.fit(x, y)
    else:
        assert adapter.fit(x, y).fitted  # the unpaired kinds need no ids


@pytest.mark.parametrize("kind", names())
def test_an_unfitted_adapter_says_so(kind, tmp_path):
    adapter = get(kind)(TINY)
    with pytest.raises(AdapterError, match="not fitted"):
        adapter.transform(np.zeros((2, 8)))
    with pytest.raises(AdapterError, match="not fitted"):
        adapter.save(tmp_path / kind)


@pytest.mark.parametrize("kind", names())
def test_too_few_rows_are_refused_naming_the_minimum(kind):
    # one pair used to give a paired ridge with every coefficient zero: one vector for every row
    x, y, ids, _, _ = linear_pairs(n=120, d_in=8, d_out=5)
    adapter = get(kind)(TINY)
    least, _ = adapter.minimum()
    assert least >= 2
    what = "pair" if adapter.paired else "source row"
    with pytest.raises(AdapterError, match=f"{kind}: 1 {what}; fitting needs at least {least} "):
        adapter.fit(x[:1], y, (ids[:1], ids)) if adapter.paired else adapter.fit(x[:1], y)


@pytest.mark.parametrize("kind", names())
def test_source_rows_that_do_not_vary_are_refused(kind):
    x, y, ids, _, _ = linear_pairs(n=120, d_in=8, d_out=5)
    same = np.repeat(x[:1], len(x), axis=0)
    adapter = get(kind)(TINY)
    with pytest.raises(AdapterError, match=f"{kind}: every source column is constant over the 120"):
        adapter.fit(same, y, (ids, ids)) if adapter.paired else adapter.fit(same, y)
