"""Adapters on small synthetic arrays whose right answer is known."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from msa_lib.adapters.base import (
    KINDS,
    Adapter,
    AdapterError,
    adabn,
    fit_adapter,
    pair_rows,
    reconstruction,
)
from msa_lib.config import AdapterConfig, ConfigError
from msa_lib.evaluate import spread_ratio

FAST = AdapterConfig(epochs=8, hidden=32, n_target_samples=400, components=4)


def linear_pairs(n: int = 400, d_in: int = 6, d_out: int = 4, noise: float = 0.01, seed: int = 0):
    """Source rows, their images under a known affine map (plus a little noise), and the map."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, d_in))
    w = rng.normal(0, 1, (d_in, d_out))
    b = rng.normal(0, 1, d_out)
    y = x @ w + b + noise * rng.normal(0, 1, (n, d_out))
    ids = np.array([f"s{i}" for i in range(n)])
    return x, y, ids, w, b


def test_paired_ridge_recovers_a_known_linear_map_from_shuffled_rows():
    x, y, ids, w, b = linear_pairs()
    perm = np.random.default_rng(1).permutation(len(y))  # the target rows in another order
    ad = fit_adapter("paired-ridge", x, y[perm], FAST, ids, ids[perm])
    x_new = np.random.default_rng(2).normal(0, 1, (50, x.shape[1]))
    np.testing.assert_allclose(ad.transform(x_new), x_new @ w + b, atol=0.05)
    assert ad.info["n_pairs"] == len(x)


def test_paired_mlp_carries_information_the_random_pair_mlp_does_not():
    x, y, ids, _, _ = linear_pairs(noise=0.0)
    paper = fit_adapter("paper", x, y, FAST)
    paired = fit_adapter("paired-mlp", x, y, FAST, ids, ids)
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


def test_coral_matches_the_target_second_moments_in_equal_widths():
    rng = np.random.default_rng(0)
    xs = rng.normal(0, 1, (3000, 3)) @ np.array([[2.0, 0.3, 0], [0, 0.5, 0.1], [0, 0, 1.5]])
    xt = rng.normal(0, 1, (3000, 3)) @ np.array([[1.0, 0.8, 0.2], [0, 1.0, 0], [0, 0.4, 0.7]]) + 5
    ad = fit_adapter("coral", xs, xt, dataclasses.replace(FAST, components=3))
    out = ad.transform(xs)
    np.testing.assert_allclose(out.mean(axis=0), xt.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(np.cov(out.T), np.cov(xt.T), atol=0.08)


def test_ot_moves_source_rows_onto_the_target_cloud():
    rng = np.random.default_rng(0)
    xs = rng.normal(0, 1, (300, 5))
    xt = rng.normal(4, 2, (300, 5))
    out = fit_adapter("ot", xs, xt, dataclasses.replace(FAST, components=5)).transform(xs)
    assert np.abs(out.mean(axis=0) - xt.mean(axis=0)).max() < 0.6


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_saves_and_loads_to_the_same_outputs(kind, tmp_path):
    x, y, ids, _, _ = linear_pairs(n=120)
    ad = fit_adapter(kind, x, y, FAST, ids, ids)
    back = Adapter.load(ad.save(tmp_path / f"{kind}.pt"))
    assert (back.kind, back.config, back.in_dim, back.out_dim) == (kind, FAST, 6, 4)
    np.testing.assert_allclose(back.transform(x[:20]), ad.transform(x[:20]), rtol=1e-6, atol=1e-8)


def test_a_feature_of_the_wrong_width_is_one_clear_error():
    x, y, ids, _, _ = linear_pairs(n=60)
    ad = fit_adapter("paired-ridge", x, y, FAST, ids, ids)
    with pytest.raises(AdapterError, match="expects 6-d features, got 5-d"):
        ad.transform(x[:, :5])


def test_paired_training_without_shared_segment_ids_is_one_clear_error():
    x, y, ids, _, _ = linear_pairs(n=60)
    other = np.array([f"t{i}" for i in range(len(y))])
    with pytest.raises(AdapterError, match="no segment id is in both sets"):
        fit_adapter("paired-mlp", x, y, FAST, ids, other)
    si, ti = pair_rows(["a", "b", "c"], ["c", "x", "a"])
    assert si.tolist() == [0, 2] and ti.tolist() == [2, 0]


@pytest.mark.parametrize("kind", ["coral", "ot"])
def test_a_target_set_too_small_for_a_covariance_is_one_clear_error(kind):
    rng = np.random.default_rng(0)
    with pytest.raises(AdapterError, match="the target set has 4 rows; a covariance of 4"):
        fit_adapter(kind, rng.normal(size=(100, 6)), rng.normal(size=(4, 5)), FAST)


def test_unreadable_adapter_files_and_bad_configs_are_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(AdapterError, match="not a readable adapter file"):
        Adapter.load(bad)
    with pytest.raises(ConfigError, match="components"):
        AdapterConfig(components=0)
    with pytest.raises(AdapterError, match="unknown adapter kind"):
        fit_adapter("magic", np.ones((3, 2)), np.ones((3, 2)))


def test_adabn_changes_running_statistics_only():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 1)
    )
    model.eval()
    shifted = torch.randn(200, 3) * 3 + 7
    adapted = adabn(model, [shifted[:100], shifted[100:]])
    before, after = model.state_dict(), adapted.state_dict()
    for key in before:
        same = torch.equal(before[key], after[key])
        assert same == (not key.startswith("1.running") and key != "1.num_batches_tracked"), key
    expected = model[0](shifted).detach()
    torch.testing.assert_close(adapted[1].running_mean, expected.mean(0), atol=1e-4, rtol=1e-4)
    assert not adapted.training and not adapted[1].training
    # normalised by target statistics, the first block's outputs are centred on the target
    with torch.no_grad():
        assert adapted[1](adapted[0](shifted)).mean().abs() < 0.1


def test_adapter_quality_ranks_paired_above_random_pairs_by_the_downstream_score():
    from msa_lib.adapters.base import adapter_quality
    from msa_lib.data.featureset import FeatureSet

    rng = np.random.default_rng(0)
    n = 300
    label = np.clip(rng.normal(0, 1.2, n), -3, 3).astype(np.float32)
    target = np.column_stack([label + 0.3 * rng.normal(size=n), rng.normal(size=(n, 3))])
    source = target @ rng.normal(size=(4, 6)) + 0.01 * rng.normal(size=(n, 6))
    split = np.array(["train"] * 200 + ["valid"] * 50 + ["test"] * 50)
    fs = FeatureSet(
        segment_id=[f"s{i}" for i in range(n)],
        video_id=[f"v{i // 5}" for i in range(n)],
        split=split,
        label=label,
        features={"source": source.astype(np.float32), "target": target.astype(np.float32)},
    )
    splits = {s: fs.select(s) for s in ("train", "valid", "test")}
    rows, mapped = adapter_quality(splits, ["paper", "paired-ridge"], [0], FAST)
    r = rows.set_index("adapter")["r"]
    assert r["paired-ridge"] > r["truth"] - 0.05 and r["truth"] > 0.8
    assert abs(r["paper"]) < 0.4 and np.isnan(r["target mean"])
    assert rows.set_index("adapter").loc["truth", "cosine"] == pytest.approx(1.0)
    assert mapped["paper"].shape == (50, 4)
