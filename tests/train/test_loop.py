"""The generic loop, used the way an adapter would: plain tensors, MSE, selection on valid loss."""

import dataclasses
from typing import NamedTuple

import numpy as np
import pytest
import torch
from torch import nn

from msa_lib.config import TrainConfig
from msa_lib.train import predict_batches, seeded, train_loop

CFG = TrainConfig(max_epochs=30, patience=30, lr=5e-2, weight_decay=0.0, num_threads=1)


def linear_data(n=200, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, 1, generator=g)
    y = x @ w + 0.1 * torch.randn(n, 1, generator=g)
    return x[:150], y[:150], x[150:], y[150:]


def mse_batch(model, batch):
    xb, yb = batch
    return nn.functional.mse_loss(model(xb), yb)


def on_valid_loss(x_va, y_va):
    def validate(model):
        with torch.no_grad():
            loss = float(nn.functional.mse_loss(predict_batches(model, x_va), y_va))
        return -loss, {"valid_loss": loss}

    return validate


def test_an_adapter_style_model_learns():
    x_tr, y_tr, x_va, y_va = linear_data()
    res = train_loop(
        lambda: nn.Linear(5, 1),
        (x_tr, y_tr),
        mse_batch,
        on_valid_loss(x_va, y_va),
        CFG,
        progress=False,
    )
    h = res.history
    assert list(h.columns) == ["epoch", "lr", "train_loss", "valid_loss", "seconds", "best"]
    assert h["valid_loss"].min() < 0.1 * h["valid_loss"].iloc[0]
    # the kept model is the best epoch's
    best = h.loc[h["best"], "valid_loss"].item()
    assert best == h["valid_loss"].min() and res.best_epoch == h.loc[h["best"], "epoch"].item()
    assert on_valid_loss(x_va, y_va)(res.model)[1]["valid_loss"] == pytest.approx(best, rel=1e-6)
    assert not res.model.training  # left in evaluation mode


def test_best_state_is_restored_not_the_last():
    x_tr, y_tr, *_ = linear_data()
    scores = iter([0.1, 0.5, 0.9, 0.2, 0.3, 0.1])
    states = []

    def validate(model):
        states.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(scores), {}

    cfg = dataclasses.replace(CFG, max_epochs=6, patience=10)
    res = train_loop(nn.Linear(5, 1), (x_tr, y_tr), mse_batch, validate, cfg, progress=False)
    assert res.best_epoch == 3 and res.best_score == 0.9 and len(res.history) == 6
    for k, v in res.model.state_dict().items():
        assert torch.equal(v, states[2][k])
        assert not torch.equal(v, states[-1][k])


def test_early_stopping_and_plateau_schedule():
    x_tr, y_tr, *_ = linear_data()
    cfg = dataclasses.replace(
        CFG, max_epochs=50, patience=4, plateau_patience=1, plateau_factor=0.5
    )
    res = train_loop(
        nn.Linear(5, 1), (x_tr, y_tr), mse_batch, lambda m: (1.0, {}), cfg, progress=False
    )
    # a score that never improves after epoch 1: stop after `patience` more epochs
    assert res.best_epoch == 1 and len(res.history) == 1 + 4
    # ReduceLROnPlateau (patience 1): the rate halves after two epochs without improvement
    assert res.history["lr"].tolist() == pytest.approx([5e-2, 5e-2, 5e-2, 2.5e-2, 2.5e-2])


def test_seeded_determinism_and_caller_state_left_alone():
    x_tr, y_tr, x_va, y_va = linear_data()
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    cfg = dataclasses.replace(CFG, max_epochs=3, num_threads=1)

    def run(seed):
        model = lambda: nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.5), nn.Linear(8, 1))  # noqa: E731
        c = dataclasses.replace(cfg, seed=seed)
        return train_loop(
            model, (x_tr, y_tr), mse_batch, on_valid_loss(x_va, y_va), c, progress=False
        )

    a, b, c = run(0), run(0), run(1)
    assert torch.equal(torch.rand(3), expected)  # the caller's RNG is where it was
    assert torch.get_num_threads() == threads
    np.testing.assert_array_equal(a.history["train_loss"], b.history["train_loss"])
    assert not np.array_equal(a.history["train_loss"], c.history["train_loss"])


def test_small_last_batch_is_skipped_and_optimizer_is_a_parameter():
    x = torch.randn(33, 5)
    y = torch.randn(33, 1)
    sizes = []

    def counting(model, batch):
        sizes.append(len(batch[0]))
        return mse_batch(model, batch)

    frozen = lambda model, cfg: torch.optim.SGD(model.parameters(), lr=0.0)  # noqa: E731
    model = nn.Linear(5, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = dataclasses.replace(CFG, max_epochs=2)
    train_loop(
        model, (x, y), counting, lambda m: (0.0, {}), cfg, make_optimizer=frozen, progress=False
    )
    assert sizes == [32, 32]  # one full batch per epoch; the batch of 1 is skipped
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])  # lr 0: the factory's optimizer was the one used


def test_bad_loop_inputs():
    x, y = torch.randn(10, 5), torch.randn(9, 1)
    with pytest.raises(ValueError, match=r"differ in length: \[10, 9\]"):
        train_loop(nn.Linear(5, 1), (x, y), mse_batch, lambda m: (0.0, {}), CFG, progress=False)
    with pytest.raises(ValueError, match="validation score of epoch 1 is nan"):
        train_loop(
            nn.Linear(5, 1),
            (x, torch.randn(10, 1)),
            mse_batch,
            lambda m: (float("nan"), {}),
            CFG,
            progress=False,
        )


class Out(NamedTuple):
    score: torch.Tensor
    logits: torch.Tensor | None


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 1)
        self.drop = nn.Dropout(0.9)

    def forward(self, x):
        return Out(self.drop(self.lin(x)).squeeze(-1), None)


def test_predict_batches_in_chunks_and_eval_mode():
    model = TwoHeads()
    x = torch.randn(25, 4)
    whole = predict_batches(model, x, chunk=100)
    chunked = predict_batches(model, x, chunk=7)
    assert isinstance(chunked, Out) and chunked.logits is None
    # dropout is off (evaluation mode): chunks give the same scores, up to the GEMM's rounding,
    # which may differ between a 25-row and a 7-row product on some CPUs
    assert torch.allclose(whole.score, chunked.score, rtol=0, atol=1e-6)
    with torch.no_grad():
        assert torch.allclose(whole.score, model.lin(x).squeeze(-1))
    assert predict_batches(nn.Linear(4, 2), x, chunk=10).shape == (25, 2)
    with pytest.raises(ValueError, match="no rows"):
        predict_batches(model, x[:0])


def test_seeded_restores_threads_after_an_error():
    threads = torch.get_num_threads()
    with pytest.raises(RuntimeError), seeded(0, num_threads=1):
        assert torch.get_num_threads() == 1
        raise RuntimeError
    assert torch.get_num_threads() == threads
