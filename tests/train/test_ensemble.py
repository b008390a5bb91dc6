"""The seeds of one configuration trained together equal the separate runs, member by member."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.models.ensemble import MemberRNG
from msa_lib.train import fit, fit_seeds, predict
from msa_lib.train.ensemble import MemberAdam, Plateau
from tests.train.problem import FAST

SEEDS = [0, 1, 2]
HISTORY = ["epoch", "lr", "train_loss", "valid_loss", "valid_mae", "valid_r", "best"]
# Tolerances. Training is bit-equal on the machines this was written on, but batched and single
# GEMMs, and the fused Adam kernel's vector and scalar paths, may round differently elsewhere.
# The validation forward shares its input across members (one GEMM): logged validation numbers
# differ from a lone model's by float rounding (about 1e-7 here).
WEIGHT_ATOL = 1e-5
LOGGED_ATOL = 1e-5


def noisy(problem, seed=5):
    """Train/valid with pure-noise labels: validation r plateaus, members stop at different epochs."""
    rng = np.random.default_rng(seed)
    return tuple(
        dataclasses.replace(problem[k], label=rng.uniform(-3, 3, len(problem[k])))
        for k in ("train", "valid")
    )


def assert_runs_equal(together, separate, test_fs):
    for (tm, hist), (tm1, hist1) in zip(together, separate, strict=True):
        assert tm.best_epoch == tm1.best_epoch and tm.train_config == tm1.train_config
        pd.testing.assert_frame_equal(
            hist[HISTORY], hist1[HISTORY], check_exact=False, atol=LOGGED_ATOL, rtol=0
        )
        assert tm.best_valid_r == pytest.approx(tm1.best_valid_r, abs=LOGGED_ATOL)
        s1 = tm1.model.state_dict()
        for name, t in tm.model.state_dict().items():
            torch.testing.assert_close(t, s1[name], atol=WEIGHT_ATOL, rtol=0, msg=name)
        np.testing.assert_allclose(predict(tm, test_fs), predict(tm1, test_fs), atol=WEIGHT_ATOL)


@pytest.mark.parametrize(
    "model_config, loss_config",
    [
        (ModelConfig(), LossConfig()),  # the correlation loss: r of each member's own batch
        (ModelConfig(n_classes=3), LossConfig(kind="multitask")),
    ],
    ids=["correlation", "multitask"],
)
def test_seeds_together_equal_separate_runs(problem, model_config, loss_config):
    train, valid = noisy(problem)
    cfg = TrainConfig(max_epochs=14, patience=3, plateau_patience=1, num_threads=1)
    together = fit_seeds(model_config, cfg, train, valid, SEEDS, loss_config, progress=False)
    separate = [
        fit(
            model_config,
            dataclasses.replace(cfg, seed=s),
            train,
            valid,
            loss_config,
            progress=False,
        )
        for s in SEEDS
    ]
    # the test exercises what it should: members stop at different epochs, rates are lowered
    lengths = [len(h) for _, h in separate]
    assert len(set(lengths)) > 1 and max(lengths) < cfg.max_epochs, lengths
    assert min(h["lr"].min() for _, h in separate) < cfg.lr
    assert_runs_equal(together, separate, problem["test"])
    # and the members differ from one another (each its own seed)
    assert not np.allclose(
        predict(together[0][0], problem["test"]), predict(together[1][0], problem["test"])
    )


def test_learning_problem_equal_and_one_member(problem):
    cfg = dataclasses.replace(FAST, max_epochs=6)
    together = fit_seeds(
        ModelConfig(), cfg, problem["train"], problem["valid"], [3, 1], progress=False
    )
    separate = [
        fit(
            ModelConfig(),
            dataclasses.replace(cfg, seed=s),
            problem["train"],
            problem["valid"],
            progress=False,
        )
        for s in (3, 1)
    ]
    assert_runs_equal(together, separate, problem["test"])
    one = fit_seeds(ModelConfig(), cfg, problem["train"], problem["valid"], [1], progress=False)
    assert_runs_equal(one, separate[1:], problem["test"])


def test_fit_seeds_checks_inputs_and_leaves_rng_and_threads_alone(problem):
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    cfg = dataclasses.replace(FAST, max_epochs=1)
    fit_seeds(ModelConfig(), cfg, problem["train"], problem["valid"], [0, 1], progress=False)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="seeds repeat"):
        fit_seeds(ModelConfig(), cfg, problem["train"], problem["valid"], [0, 0], progress=False)
    with pytest.raises(ValueError, match="at least one seed"):
        fit_seeds(ModelConfig(), cfg, problem["train"], problem["valid"], [], progress=False)


@pytest.mark.parametrize("shape, p", [((32, 192), 0.7), ((7, 4, 3, 3), 0.8), ((2, 5), 0.1)])
def test_member_masks_are_the_masks_of_lone_dropout(shape, p):
    x = torch.randn(shape)
    expected = []
    for seed in (4, 9):
        torch.manual_seed(seed)
        first = F.dropout(x, p, training=True)
        expected.append((first, F.dropout(x, 0.5, training=True)))  # the next layer continues
    rng = MemberRNG([torch.Generator().manual_seed(s) for s in (4, 9)])
    width = int(np.prod(shape))
    rng.start(2, [(width, 1 - p), (width, 0.5)])  # two layers' worth in one draw
    first = x * rng.mask((2, *shape), 1 - p)
    second = x * rng.mask((2, *shape), 0.5)
    rng.finish()
    torch.testing.assert_close(first, torch.stack([e[0] for e in expected]), atol=0, rtol=0)
    torch.testing.assert_close(second, torch.stack([e[1] for e in expected]), atol=0, rtol=0)
    with pytest.raises(RuntimeError, match="more masks asked"):
        rng.mask((2, *shape), 1 - p)


def test_member_rng_checks_counts():
    rng = MemberRNG([torch.Generator()])
    with pytest.raises(ValueError, match="1 dropout generators for 2 members"):
        rng.start(2, [(10, 0.5)])
    rng.start(1, [(6, 0.5), (4, 0.3)])
    with pytest.raises(RuntimeError, match="asks 6 elements at keep 0.3"):
        rng.mask((1, 2, 3), 0.3)
    rng.mask((1, 2, 3), 0.5)
    with pytest.raises(RuntimeError, match="used 1 of the 2 masks"):
        rng.finish()


def test_plateau_follows_torchs_reduce_lr_on_plateau():
    rng = np.random.default_rng(0)
    scores = np.concatenate(
        [rng.uniform(-1, 1, 30), np.full(12, 0.5), -np.abs(rng.normal(size=20)), [0.0] * 5]
    )
    holder = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=8e-4)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(holder, mode="max", factor=0.7, patience=3)
    ours = Plateau(8e-4, 0.7, 3)
    seen = []
    for s in scores:
        ref.step(float(s))
        ours.step(float(s))
        assert ours.lr == holder.param_groups[0]["lr"]
        seen.append(ours.lr)
    assert len(set(seen)) > 3  # the rate was lowered several times


def test_member_adam_is_torchs_adam_per_member():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 5, 4, generator=g).requires_grad_()
    b = torch.randn(3, 5, generator=g).requires_grad_()
    cfg = TrainConfig(lr=1e-2, weight_decay=0.04)
    ours = MemberAdam([w, b], cfg, 3)
    lone = [
        [w[i].detach().clone().requires_grad_(), b[i].detach().clone().requires_grad_()]
        for i in range(3)
    ]
    opts = [torch.optim.Adam(p, lr=cfg.lr, weight_decay=cfg.weight_decay) for p in lone]
    for step in range(6):
        if step == 3:  # rates diverge, then member 1 leaves
            ours.lrs = [1e-2, 5e-3, 2e-3]
            for opt, lr in zip(opts, ours.lrs, strict=True):
                opt.param_groups[0]["lr"] = lr
        if step == 5:
            w = w.detach()[[0, 2]].requires_grad_()
            b = b.detach()[[0, 2]].requires_grad_()
            ours.select([0, 2], [w, b])
            lone, opts = [lone[0], lone[2]], [opts[0], opts[2]]
        grads = [torch.randn(w.shape, generator=g), torch.randn(b.shape, generator=g)]
        ours.zero_grad()
        w.grad, b.grad = grads
        ours.step()
        for i, (opt, (lw, lb)) in enumerate(zip(opts, lone, strict=True)):
            opt.zero_grad()
            lw.grad, lb.grad = grads[0][i].clone(), grads[1][i].clone()
            opt.step()
    for i, (lw, lb) in enumerate(lone):
        torch.testing.assert_close(w[i], lw, atol=1e-7, rtol=0)
        torch.testing.assert_close(b[i], lb, atol=1e-7, rtol=0)
