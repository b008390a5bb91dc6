import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from msa_lib.baselines import fit_ridge, late_fusion, late_fusion_runs, predict_ridge, ridge_runs
from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics
from msa_lib.train import (
    Standardizer,
    TrainInputError,
    evaluate_model,
    fit,
    fold_splits,
    load_model,
    predict,
    run_grid,
    save_model,
    usable_rows,
)

DIMS = {"visual": 12, "audio": 6, "text": 8}
FAST = TrainConfig(max_epochs=4, patience=4, num_threads=1)


def make_problem(n=300, seed=0, noise=0.3, dims=DIMS, offsets=True) -> FeatureSet:
    """A linear problem: the label is a noisy linear function of every modality's features."""
    rng = np.random.default_rng(seed)
    feats, signal = {}, np.zeros(n)
    for i, (m, d) in enumerate(dims.items()):
        x = rng.normal(size=(n, d))
        signal += x @ rng.normal(size=d) / np.sqrt(d)
        # large, different scales and offsets: the model must standardise to learn at all
        feats[m] = x * (10.0**i) + (100.0 * i if offsets else 0.0)
    z = signal / signal.std()
    label = np.clip(z + noise * rng.normal(size=n), -3, 3)
    split = np.array(["train", "valid", "test"])[np.arange(n) % 10 // 6 + (np.arange(n) % 10 > 7)]
    return FeatureSet(
        segment_id=[f"s{i}" for i in range(n)],
        video_id=[f"v{i // 5}" for i in range(n)],
        split=split,
        label=label,
        features=feats,
        corpus="linear-test",
        source="synthetic",
    )


@pytest.fixture(scope="module")
def problem():
    return fold_splits(make_problem())


def test_splits_of_the_problem(problem):
    assert {k: len(v) for k, v in problem.items()} == {"train": 180, "valid": 60, "test": 60}


def test_training_learns_a_linear_problem(problem):
    cfg = TrainConfig(max_epochs=40, patience=40, num_threads=1)
    model, history = fit(ModelConfig(), cfg, problem["train"], problem["valid"], progress=False)
    test = metrics(problem["test"].label, predict(model, problem["test"]))
    assert test["r"] > 0.75, test
    # it learned: the best validation r is far above the first epoch's, and the kept model is it
    assert history["valid_r"].max() > history["valid_r"].iloc[0] + 0.2
    best = history[history["best"]].iloc[0]
    valid_r = metrics(problem["valid"].label, predict(model, problem["valid"]))["r"]
    assert valid_r == pytest.approx(best["valid_r"], abs=1e-5)
    assert model.best_epoch == best["epoch"] and history["valid_r"].max() == best["valid_r"]
    assert {"lr", "train_loss", "valid_loss", "valid_mae", "seconds"} <= set(history.columns)


def test_fixed_seed_gives_identical_results(problem):
    runs = [
        fit(ModelConfig(), FAST, problem["train"], problem["valid"], progress=False) for _ in "ab"
    ]
    pd.testing.assert_frame_equal(
        runs[0][1].drop(columns="seconds"), runs[1][1].drop(columns="seconds")
    )
    p0, p1 = (predict(m, problem["test"]) for m, _ in runs)
    np.testing.assert_array_equal(p0, p1)
    other = fit(
        ModelConfig(),
        dataclasses.replace(FAST, seed=1),
        problem["train"],
        problem["valid"],
        progress=False,
    )
    assert not np.array_equal(p0, predict(other[0], problem["test"]))


def test_fit_leaves_global_rng_and_threads_alone(problem):
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    fit(
        ModelConfig(),
        dataclasses.replace(FAST, max_epochs=1),
        problem["train"],
        problem["valid"],
        progress=False,
    )
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_early_stopping_and_plateau():
    # pure-noise labels: validation r does not improve for long, so training stops early
    fs = make_problem(seed=1)
    fs.label[:] = np.random.default_rng(5).uniform(-3, 3, len(fs)).astype(np.float32)
    sp = fold_splits(fs)
    cfg = TrainConfig(max_epochs=60, patience=5, plateau_patience=1, num_threads=1)
    model, history = fit(ModelConfig(), cfg, sp["train"], sp["valid"], progress=False)
    assert len(history) == model.best_epoch + 5 < 60
    assert history["lr"].min() < cfg.lr  # the plateau scheduler lowered the learning rate


def test_standardised_with_training_statistics_only(problem):
    model, _ = fit(
        ModelConfig(),
        dataclasses.replace(FAST, max_epochs=1),
        problem["train"],
        problem["valid"],
        progress=False,
    )
    for m in DIMS:
        np.testing.assert_allclose(
            model.scaler.mean[m], problem["train"].features[m].mean(0), rtol=1e-4, atol=1e-3
        )
    # a constant feature gets sd 1, not a division by zero
    fs = problem["train"]
    fs = dataclasses.replace(
        fs, features={**fs.features, "text": np.ones_like(fs.features["text"])}
    )
    sc = Standardizer.fit(fs, ["text"])
    assert (sc.std["text"] == 1).all() and (sc.transform(fs)["text"] == 0).all()


def test_missing_modality_rows_imputed_or_dropped(problem):
    fs = problem["train"]
    vis = fs.features["visual"].copy()
    vis[:7] = np.nan
    fs = dataclasses.replace(fs, features={**fs.features, "visual": vis})
    assert usable_rows(fs, ["visual", "text"], "impute")[1]["n_missing_modality"] == 7
    keep, counts = usable_rows(fs, ["visual", "text"], "drop")
    assert counts["n_used"] == len(fs) - 7 and not keep[:7].any()
    assert usable_rows(fs, ["text"], "drop")[1]["n_used"] == len(fs)  # unused modality: no effect
    for rule in ("impute", "drop"):
        cfg = dataclasses.replace(FAST, max_epochs=1, missing=rule)
        model, _ = fit(ModelConfig(), cfg, fs, problem["valid"], progress=False)
        assert model.input_counts["train"]["n_missing_modality"] == 7
        p = predict(model, fs)  # prediction imputes: every segment gets a finite score
        assert np.isfinite(p).all() and len(p) == len(fs)
    with pytest.raises(ValueError, match="unknown missing-modality rule 'zero'"):
        usable_rows(fs, ["text"], "zero")


def test_bad_inputs_are_clear_errors(problem):
    tr, va = problem["train"], problem["valid"]
    go = dict(progress=False)
    # a modality missing from the FeatureSet
    with pytest.raises(TrainInputError, match=r"modality \['face'\] is not in the FeatureSet"):
        fit(ModelConfig(), FAST, tr, va, modalities=["text", "face"], **go)
    # a split smaller than one batch
    with pytest.raises(
        TrainInputError, match="valid split has 20 usable segments, fewer than one batch"
    ):
        fit(ModelConfig(), FAST, tr, va.take(np.arange(20)), **go)
    with pytest.raises(TrainInputError, match="train split has 31"):
        fit(ModelConfig(), FAST, tr.take(np.arange(31)), va, **go)
    # labels outside [-3, 3]
    bad = dataclasses.replace(tr, label=np.where(np.arange(len(tr)) == 4, 3.5, tr.label))
    with pytest.raises(
        TrainInputError, match=r"segment '\w+' has label 3.5, outside \[-3.0, 3.0\]"
    ):
        fit(ModelConfig(), FAST, bad, va, **go)
    # a NaN inside a row (not a whole missing row)
    x = tr.features["audio"].copy()
    x[3, 2] = np.nan
    with pytest.raises(TrainInputError, match="non-finite value"):
        fit(
            ModelConfig(),
            FAST,
            dataclasses.replace(tr, features={**tr.features, "audio": x}),
            va,
            **go,
        )
    # widths that do not match the model
    model, _ = fit(ModelConfig(), dataclasses.replace(FAST, max_epochs=1), tr, va, **go)
    other = make_problem(dims={"visual": 5, "audio": 6, "text": 8})
    with pytest.raises(TrainInputError, match="'visual' has width 5, the model expects 12"):
        predict(model, other)
    # a modality missing for every training segment
    allnan = dataclasses.replace(
        tr, features={**tr.features, "text": np.full_like(tr.features["text"], np.nan)}
    )
    with pytest.raises(TrainInputError, match="'text' is missing for every training segment"):
        fit(ModelConfig(), FAST, allnan, va, **go)


def test_unlabelled_rows_are_left_out(problem):
    tr = problem["train"]
    tr = dataclasses.replace(tr, label=np.where(np.arange(len(tr)) < 5, np.nan, tr.label))
    model, _ = fit(
        ModelConfig(), dataclasses.replace(FAST, max_epochs=1), tr, problem["valid"], progress=False
    )
    assert model.input_counts["train"]["n_unlabelled"] == 5
    ev = evaluate_model(model, {"train": tr})
    assert ev.loc[0, "n"] == len(tr) - 5


def test_checkpoint_roundtrip(problem, tmp_path):
    model, _ = fit(
        ModelConfig(),
        FAST,
        problem["train"],
        problem["valid"],
        modalities=["text", "audio"],
        progress=False,
    )
    path = save_model(model, tmp_path / "m.pt")
    back = load_model(path)
    assert back.modalities == ["text", "audio"] and back.best_epoch == model.best_epoch
    np.testing.assert_array_equal(predict(back, problem["test"]), predict(model, problem["test"]))
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt: not a readable model checkpoint"):
        load_model(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_model(tmp_path / "nope.pt")


def test_multitask_training_runs(problem):
    model, history = fit(
        ModelConfig(n_classes=7),
        FAST,
        problem["train"],
        problem["valid"],
        LossConfig(kind="multitask"),
        progress=False,
    )
    assert np.isfinite(history["valid_loss"]).all()
    assert model.model.classifier.out_features == 7


def test_grid_is_the_same_in_parallel(problem):
    subsets = {"T": ("text",), "A+T": ("audio", "text")}
    cfg = dataclasses.replace(FAST, max_epochs=2)
    serial = run_grid(problem, subsets, [0, 1], train_config=cfg, n_jobs=1, progress=False)
    parallel = run_grid(problem, subsets, [0, 1], train_config=cfg, n_jobs=2, progress=False)
    assert len(serial.runs) == 2 * 2 * 3  # subsets x seeds x splits
    cols = ["model", "subset", "seed", "split", "loss", "mae", "r", "n"]
    pd.testing.assert_frame_equal(serial.runs[cols], parallel.runs[cols])
    pd.testing.assert_frame_equal(serial.predictions, parallel.predictions)
    late = late_fusion_runs(serial.predictions, {**subsets, "A": ("audio",)})
    assert late.empty  # no audio-only runs to fuse
    assert set(serial.histories["subset"]) == {"T", "A+T"}


def test_ridge_and_late_fusion(problem):
    model, scaler, alpha = fit_ridge(
        problem["train"], problem["valid"], ["visual", "audio", "text"]
    )
    r = metrics(
        problem["test"].label,
        predict_ridge(model, scaler, problem["test"], ["visual", "audio", "text"]),
    )["r"]
    assert r > 0.9  # a linear problem: ridge is near-perfect
    runs, preds = ridge_runs(problem, {"T": ("text",), "A+T": ("audio", "text")})
    assert set(runs["split"]) == {"train", "valid", "test"} and (runs["model"] == "ridge").all()
    assert len(preds) == 2 * 300
    np.testing.assert_allclose(
        late_fusion({"a": [1.0, 2.0], "b": [3.0, 0.0]}, ["a", "b"]), [2.0, 1.0]
    )
    with pytest.raises(KeyError, match="'c'"):
        late_fusion({"a": [1.0]}, ["a", "c"])
    # late fusion from a grid: the average of the unimodal runs' predictions, per seed and split
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


def test_cli_train_and_evaluate(tmp_path, capsys):
    import json

    from msa_lib.cli import main

    features = make_problem().save(tmp_path / "f.h5")
    ckpt = tmp_path / "m.pt"
    args = ["--features", str(features), "--max-epochs", "2", "--threads", "1"]
    assert main(["train", *args, "--modalities", "text", "audio", "--out", str(ckpt)]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["modalities"] == ["text", "audio"] and trained["epochs"] == 2
    assert set(trained["scores"]) == {"train", "valid"}  # the test split is not scored by training
    assert (
        main(["evaluate", "--features", str(features), "--model", str(ckpt), "--resamples", "100"])
        == 0
    )
    scored = json.loads(capsys.readouterr().out)
    assert scored["split"] == "test" and scored["n"] == 60
    assert scored["r_lo"] <= scored["r"] <= scored["r_hi"]
    # a modality the file does not have: a clear error, exit status 2
    assert main(["train", *args, "--modalities", "face", "--out", str(ckpt)]) == 2
    assert "modality ['face'] is not in the FeatureSet" in capsys.readouterr().err


def test_grid_resumes_from_its_cache(problem, tmp_path, monkeypatch):
    import msa_lib.train as train_mod

    subsets = {"T": ("text",)}
    cfg = dataclasses.replace(FAST, max_epochs=1)
    first = run_grid(problem, subsets, [0], train_config=cfg, progress=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("run-*.pkl"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(train_mod, "_train_and_score", no_training)
    again = run_grid(problem, subsets, [0], train_config=cfg, progress=False, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first.runs, again.runs)
    # a different setting is a different run: it trains (here: fails loudly)
    with pytest.raises(AssertionError, match="trained again"):
        run_grid(problem, subsets, [1], train_config=cfg, progress=False, cache_dir=tmp_path)
