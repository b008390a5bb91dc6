import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from msa_lib.config import LossConfig
from msa_lib.losses import (
    compute_loss,
    correlation_loss,
    error_loss,
    multitask_loss,
    pearson_r,
    sentiment_classes,
)
from msa_lib.models.fusion import FusionOutput


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def test_correlation_loss_hand_checked():
    # MSE = MAE = 1/3; r = 3 / sqrt(2 * 14/3) (centred: [-1, 0, 1] and [-4/3, -1/3, 5/3])
    loss = correlation_loss(t(1, 2, 3), t(1, 2, 4))
    r = 3 / math.sqrt(28 / 3)
    expected = 0.3 * (1 / 3 + 1 / 3) / 2 + 0.7 * (1 - r) ** 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_mse_and_error_loss_hand_checked():
    # errors -1, 0, 2: MSE (1 + 0 + 4) / 3 = 5/3, MAE (1 + 0 + 2) / 3 = 1
    pred, y = t(0, 1, 3), t(1, 1, 1)
    out = FusionOutput(pred, None)
    assert compute_loss(out, y, LossConfig(kind="mse")).item() == pytest.approx(5 / 3, rel=1e-6)
    assert error_loss(pred, y).item() == pytest.approx((5 / 3 + 1) / 2, rel=1e-6)
    assert compute_loss(out, y, LossConfig(kind="mse_mae")).item() == pytest.approx(4 / 3, rel=1e-6)
    # the correlation loss is 0.3 x this error term + 0.7 (1 - r)^2; r of (0, 1, 3) with a
    # constant label is undefined -> 0
    assert correlation_loss(pred, y).item() == pytest.approx(0.3 * 4 / 3 + 0.7, rel=1e-6)


def test_perfect_and_inverted_predictions():
    y = t(-1, 0, 1)
    assert correlation_loss(y, y).item() == pytest.approx(0.0, abs=1e-7)
    # r = -1, MSE = 8/3, MAE = 4/3: 0.3 * 2 + 0.7 * 4
    assert correlation_loss(-y, y).item() == pytest.approx(3.4, rel=1e-6)


def test_constant_batch_gives_r_zero_and_finite_gradient():
    pred = t(0.5, 0.5, 0.5).requires_grad_()
    loss = correlation_loss(pred, t(1, 2, 3))
    # r undefined -> 0: 0.3 * (8.75/3 + 1.5) / 2 + 0.7
    assert loss.item() == pytest.approx(0.15 * (8.75 / 3 + 1.5) + 0.7, rel=1e-6)
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    # constant labels, and a batch of one
    for p, y in ((t(1, 2, 3), t(2, 2, 2)), (t(1.0), t(2.0))):
        p = p.clone().requires_grad_()
        loss = correlation_loss(p, y)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(p.grad).all()
        assert pearson_r(p.detach(), y).item() == 0.0


def test_pearson_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    r = pearson_r(torch.tensor(a), torch.tensor(b)).item()
    assert r == pytest.approx(np.corrcoef(a, b)[0, 1], rel=1e-9)
    with pytest.raises(ValueError, match="1-d"):
        pearson_r(torch.zeros(3), torch.zeros(4))


def test_loss_weights_come_from_config():
    cfg = LossConfig(w_regression=1.0, w_correlation=0.0)
    assert correlation_loss(t(1, 2, 3), t(1, 2, 4), cfg).item() == pytest.approx(1 / 3, rel=1e-6)


def test_multitask_loss_hand_checked():
    out = FusionOutput(score=t(0, 1), logits=torch.zeros(2, 2))
    # 10 * MSE (0.5) + CE of uniform logits over 2 classes (ln 2)
    loss = multitask_loss(out, t(0, 2))
    assert loss.item() == pytest.approx(10 * 0.5 + math.log(2), rel=1e-6)
    cfg = LossConfig(kind="multitask")
    assert compute_loss(out, t(0, 2), cfg).item() == pytest.approx(loss.item())
    with pytest.raises(ValueError, match="classification head"):
        multitask_loss(FusionOutput(t(0, 1), None), t(0, 2))


def test_alpha_weights_the_mse_term_and_beta_the_ce_term():
    out = FusionOutput(
        score=t(0.5, -1, 2), logits=torch.tensor([[2.0, -1.0], [0.0, 3.0], [1.0, 1.0]])
    )
    y = t(1, -2, 2)
    mse = ((0.5 - 1) ** 2 + (-1 + 2) ** 2 + 0) / 3
    base = multitask_loss(out, y, LossConfig(kind="multitask", alpha_mse=10.0, beta_ce=1.0))
    more = multitask_loss(out, y, LossConfig(kind="multitask", alpha_mse=13.0, beta_ce=1.0))
    assert (more - base).item() == pytest.approx(3.0 * mse, rel=1e-5)
    ce_only = multitask_loss(out, y, LossConfig(kind="multitask", alpha_mse=0.0, beta_ce=2.0))
    # classes (has-0): [1, 0, 1]; CE by hand from the logits
    ce = (
        -(
            math.log(math.exp(-1) / (math.exp(2) + math.exp(-1)))
            + math.log(1 / (1 + math.exp(3)))
            + math.log(0.5)
        )
        / 3
    )
    assert ce_only.item() == pytest.approx(2.0 * ce, rel=1e-5)
    assert base.item() == pytest.approx(10.0 * mse + ce, rel=1e-5)


@pytest.mark.parametrize("alpha", [1.0, 5.0, 10.0, 20.0])
def test_multitask_alpha_grid_hand_checked(alpha):
    # the paper's grid (§3.7): alpha in {1, 5, 10, 20}, beta 1; 7 classes (the Acc-7 bins)
    score, y = t(0.0, 2.0, -1.0), t(0.4, 3.0, -2.6)
    logits = torch.zeros(3, 7)
    logits[0, 3] = 1.0  # label 0.4 -> class 3: CE = -log(e / (e + 6))
    logits[1, 6] = 2.0  # label 3 -> class 6: CE = -log(e^2 / (e^2 + 6))
    # label -2.6 -> class 0, uniform logits: CE = log 7
    ce = (
        -math.log(math.e / (math.e + 6)) - math.log(math.e**2 / (math.e**2 + 6)) + math.log(7)
    ) / 3
    mse = (0.4**2 + 1.0**2 + 1.6**2) / 3
    cfg = LossConfig(kind="multitask", alpha_mse=alpha, beta_ce=1.0)
    loss = compute_loss(FusionOutput(score, logits), y, cfg)
    assert loss.item() == pytest.approx(alpha * mse + ce, rel=1e-5)


def test_sentiment_classes():
    y = t(-3, -0.4, 0, 0.6, 2.4, 3)
    assert sentiment_classes(y, 2).tolist() == [0, 0, 1, 1, 1, 1]
    assert sentiment_classes(y, 3).tolist() == [0, 0, 1, 2, 2, 2]
    assert sentiment_classes(y, 7).tolist() == [0, 3, 3, 4, 5, 6]
    assert sentiment_classes(y, 5).tolist() == [0, 2, 2, 3, 4, 4]
    with pytest.raises(ValueError, match="n_classes=4"):
        sentiment_classes(y, 4)


def test_unknown_loss_kind():
    with pytest.raises(ValueError, match="kind must be one of .* got 'huber'"):
        LossConfig(kind="huber")
    with pytest.raises(ValueError, match="unknown loss kind 'huber'"):
        compute_loss(FusionOutput(t(0, 1), None), t(0, 1), SimpleNamespace(kind="huber"))
