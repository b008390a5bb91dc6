import dataclasses

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from msa_lib.data.splits import fold_splits
from msa_lib.evaluate import metrics
from msa_lib.train import TrainInputError, run_grid
from msa_lib.train.baselines import (
    RIDGE_ALPHAS,
    fit_ridge,
    late_fusion,
    late_fusion_runs,
    ridge_runs,
)
from tests.train.problem import FAST, make_problem

MODS = ["visual", "audio", "text"]


@pytest.fixture(scope="module")
def problem():
    return fold_splits(make_problem(noise=1.0))


def test_ridge_picks_the_penalty_of_best_validation_r(problem):
    tr, va = problem["train"], problem["valid"]
    ridge = fit_ridge(tr, va, MODS)
    # by hand: standardise on train, fit each penalty, r on valid
    x = {k: np.concatenate([f.features[m] for m in MODS], axis=1) for k, f in problem.items()}
    mu, sd = x["train"].mean(0), x["train"].std(0)
    rs = []
    for a in RIDGE_ALPHAS:
        p = Ridge(alpha=a).fit((x["train"] - mu) / sd, tr.label).predict((x["valid"] - mu) / sd)
        rs.append(np.corrcoef(va.label, p)[0, 1])
    np.testing.assert_allclose(ridge.valid_curve["valid_r"], rs, rtol=1e-4)
    assert ridge.alpha == RIDGE_ALPHAS[int(np.argmax(rs))]
    assert ridge.alpha != RIDGE_ALPHAS[0]  # the noisy problem wants a penalty: the grid matters
    assert ridge.n_used == {"train": 180, "valid": 60}


def test_ridge_never_looks_at_test(problem):
    runs, preds = ridge_runs(problem, {"T": ("text",), "all": tuple(MODS)})
    rng = np.random.default_rng(0)
    shuffled = dict(problem)
    shuffled["test"] = dataclasses.replace(
        problem["test"], label=rng.permutation(problem["test"].label)
    )
    runs2, preds2 = ridge_runs(shuffled, {"T": ("text",), "all": tuple(MODS)})
    assert runs["alpha"].tolist() == runs2["alpha"].tolist()
    np.testing.assert_array_equal(preds["pred"], preds2["pred"])
    fit = runs[runs["split"] != "test"].drop(columns="alpha")
    fit2 = runs2[runs2["split"] != "test"].drop(columns="alpha")
    assert fit.equals(fit2)


def test_ridge_on_a_linear_problem_and_its_runs():
    clean = fold_splits(make_problem())
    ridge = fit_ridge(clean["train"], clean["valid"], MODS)
    assert metrics(clean["test"].label, ridge.predict(clean["test"]))["r"] > 0.9
    assert ridge.score(clean["test"])["n"] == 60
    runs, preds = ridge_runs(clean, {"T": ("text",), "A+T": ("audio", "text")})
    assert set(runs["split"]) == {"train", "valid", "test"} and (runs["model"] == "ridge").all()
    assert len(preds) == 2 * 300


def test_ridge_missing_rule_and_bad_input(problem):
    te = problem["test"]
    txt = te.features["text"].copy()
    txt[:4] = np.nan
    te = dataclasses.replace(te, features={**te.features, "text": txt})
    dropped = fit_ridge(problem["train"], problem["valid"], ["text"], missing="drop")
    imputed = fit_ridge(problem["train"], problem["valid"], ["text"])
    assert dropped.score(te)["n"] == 56 and imputed.score(te)["n"] == 60
    assert np.isfinite(imputed.predict(te)).all()
    flat = dataclasses.replace(problem["train"], label=np.ones(180))
    with pytest.raises(TrainInputError, match=r"\(train split\): every usable label is 1"):
        fit_ridge(flat, problem["valid"], ["text"])
    with pytest.raises(ValueError, match="2 usable segments"):
        fit_ridge(problem["train"], problem["valid"].take([0, 1]), ["text"])


def test_late_fusion(problem):
    np.testing.assert_allclose(
        late_fusion({"a": [1.0, 2.0], "b": [3.0, 0.0]}, ["a", "b"]), [2.0, 1.0]
    )
    with pytest.raises(KeyError, match="'c'"):
        late_fusion({"a": [1.0]}, ["a", "c"])
    # from a grid: the average of the unimodal runs' predictions, per seed and split
    sub = {"A": ("audio",), "T": ("text",), "A+T": ("audio", "text")}
    grid = run_grid(
        problem, sub, [0], train_config=dataclasses.replace(FAST, max_epochs=1), progress=False
    )
    late = late_fusion_runs(grid.predictions, sub)
    p = grid.predictions
    want = (
        p[(p.subset == "A") & (p.split == "test")]["pred"].to_numpy()
        + p[(p.subset == "T") & (p.split == "test")]["pred"].to_numpy()
    ) / 2
    got = late[(late.split == "test")].iloc[0]
    assert got["mae"] == pytest.approx(np.abs(problem["test"].label - want).mean(), rel=1e-6)
    assert set(late["subset"]) == {"A+T"}
