import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from msa_lib.config import ConfigError, LossConfig, ModelConfig, TrainConfig
from msa_lib.evaluate import metrics
from msa_lib.io.checkpoint import CheckpointError, save_checkpoint
from msa_lib.losses import sentiment_classes
from msa_lib.models.fusion import FusionModel
from msa_lib.train import TrainedModel, TrainInputError, evaluate_model, fit, predict
from msa_lib.train.fusion import CHECKPOINT_KEYS
from tests.train.problem import DIMS, FAST


def test_training_learns_a_linear_problem(problem):
    cfg = TrainConfig(max_epochs=40, patience=40, num_threads=1)
    model, history = fit(ModelConfig(), cfg, problem["train"], problem["valid"], progress=False)
    test = metrics(problem["test"].label, predict(model, problem["test"]))
    assert test["r"] > 0.75, test
    # it learned: the best validation r is far above the first epoch's, and the kept model is it
    assert history["valid_r"].max() > history["valid_r"].iloc[0] + 0.2
    best = history[history["best"]].iloc[0]
    valid_r = metrics(problem["valid"].label, model.predict(problem["valid"]))["r"]
    assert valid_r == pytest.approx(best["valid_r"], abs=1e-5)
    assert model.best_epoch == best["epoch"] and history["valid_r"].max() == best["valid_r"]
    assert model.best_valid_r == best["valid_r"]
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


def test_early_stopping_and_plateau(problem):
    # pure-noise labels: validation r does not improve for long, so training stops early
    rng = np.random.default_rng(5)
    tr, va = (
        dataclasses.replace(problem[k], label=rng.uniform(-3, 3, len(problem[k])))
        for k in ("train", "valid")
    )
    cfg = TrainConfig(max_epochs=60, patience=5, plateau_patience=1, num_threads=1)
    model, history = fit(ModelConfig(), cfg, tr, va, progress=False)
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


def test_missing_modality_rows_imputed_or_dropped(problem):
    fs = problem["train"]
    vis = fs.features["visual"].copy()
    vis[:7] = np.nan
    fs = dataclasses.replace(fs, features={**fs.features, "visual": vis})
    for rule in ("impute", "drop"):
        cfg = dataclasses.replace(FAST, max_epochs=1, missing=rule)
        model, _ = fit(ModelConfig(), cfg, fs, problem["valid"], progress=False)
        assert model.input_counts["train"]["n_missing_modality"] == 7
        used = model.input_counts["train"]["n_used"]
        assert used == (len(fs) if rule == "impute" else len(fs) - 7)
        p = predict(model, fs)  # prediction imputes: every segment gets a finite score
        assert np.isfinite(p).all() and len(p) == len(fs)


def test_unlabelled_rows_are_left_out(problem):
    tr = problem["train"]
    tr = dataclasses.replace(tr, label=np.where(np.arange(len(tr)) < 5, np.nan, tr.label))
    model, _ = fit(
        ModelConfig(), dataclasses.replace(FAST, max_epochs=1), tr, problem["valid"], progress=False
    )
    assert model.input_counts["train"]["n_unlabelled"] == 5
    ev = evaluate_model(model, {"train": tr})
    assert ev.loc[0, "n"] == len(tr) - 5


def test_multitask_head_learns_and_needs_a_head(problem):
    # lower dropout than the paper's 0.7/0.8, so that 180 segments teach the head in a few epochs
    head = ModelConfig(n_classes=2, encoder_dropout=0.2, attention_dropout=0.2)
    cfg = TrainConfig(max_epochs=25, patience=25, num_threads=1)
    mt = LossConfig(kind="multitask")
    model, history = fit(head, cfg, problem["train"], problem["valid"], mt, progress=False)
    assert model.model.classifier.out_features == 2

    def head_scores(net: FusionModel) -> tuple[float, float]:
        x = model.scaler.transform(problem["test"])
        net.eval()
        with torch.no_grad():
            logits = net({m: torch.from_numpy(x[m]) for m in model.modalities}).logits
        target = sentiment_classes(torch.as_tensor(problem["test"].label, dtype=torch.float32), 2)
        ce = float(F.cross_entropy(logits, target))
        return ce, float((logits.argmax(1) == target).float().mean())

    torch.manual_seed(0)
    ce0, acc0 = head_scores(FusionModel(model.dims, head))  # the same network untrained
    ce1, acc1 = head_scores(model.model)
    majority = max(np.mean(problem["test"].label >= 0), np.mean(problem["test"].label < 0))
    assert ce1 < 0.6 * ce0  # cross-entropy fell
    assert acc1 > majority + 0.15 and acc1 > acc0  # far above chance on a near-separable problem
    assert np.isfinite(history["valid_loss"]).all()
    with pytest.raises(
        TrainInputError, match=r"multi-task loss needs a classification head.*n_classes=0"
    ):
        fit(ModelConfig(), FAST, problem["train"], problem["valid"], mt, progress=False)


# ----------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def trained(problem):
    return fit(
        ModelConfig(),
        FAST,
        problem["train"],
        problem["valid"],
        modalities=["text", "audio"],
        progress=False,
    )[0]


def test_checkpoint_roundtrip(problem, trained, tmp_path):
    path = trained.save(tmp_path / "sub" / "m")
    assert path == tmp_path / "sub" / "m"
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "scaler.pt", "weights.pt"]
    back = TrainedModel.load(path)
    assert back.modalities == ["text", "audio"] and back.best_epoch == trained.best_epoch
    assert back.model_config == trained.model_config and back.train_config == trained.train_config
    assert back.loss_config == trained.loss_config and back.dims == trained.dims
    assert back.input_counts == trained.input_counts
    assert back.best_valid_r == trained.best_valid_r
    np.testing.assert_array_equal(back.predict(problem["test"]), trained.predict(problem["test"]))
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["m"]  # no temp folder left
    config = json.loads((path / "config.json").read_text())
    assert config["kind"] == "fusion" and set(config["config"]) == set(CHECKPOINT_KEYS)


def test_a_checkpoint_with_an_undefined_validation_r_round_trips(trained, tmp_path):
    # NaN is null in strict JSON; it reads back as NaN
    undefined = dataclasses.replace(trained, best_valid_r=float("nan"))
    assert np.isnan(TrainedModel.load(undefined.save(tmp_path / "m")).best_valid_r)


def test_saving_again_replaces_the_checkpoint_but_never_another_folder(trained, tmp_path):
    path = trained.save(tmp_path / "m")
    later = dataclasses.replace(trained, best_epoch=trained.best_epoch + 7)
    assert TrainedModel.load(later.save(path)).best_epoch == trained.best_epoch + 7
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(CheckpointError, match="mine: a folder that is not a checkpoint"):
        trained.save(mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    (tmp_path / "old.pt").write_bytes(b"a single-file checkpoint")
    with pytest.raises(CheckpointError, match="old.pt: exists and is not a folder"):
        trained.save(tmp_path / "old.pt")


def test_unreadable_checkpoints_are_one_clear_error(trained, tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt: not a checkpoint"):
        TrainedModel.load(tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="nope: no such checkpoint folder"):
        TrainedModel.load(tmp_path / "nope")
    save_checkpoint(tmp_path / "other", "temporal", {})
    with pytest.raises(CheckpointError, match="other: a 'temporal' checkpoint, not a 'fusion'"):
        TrainedModel.load(tmp_path / "other")
    path = trained.save(tmp_path / "m")
    (path / "weights.pt").write_bytes(b"damaged")
    with pytest.raises(CheckpointError, match=r"weights.pt: cannot be read as tensors"):
        TrainedModel.load(path)


def edit_config(path, **change):
    """Rewrite the ``config`` of a checkpoint's config.json with ``change`` (None: key removed)."""
    blob = json.loads((path / "config.json").read_text())
    for key, value in change.items():
        if value is None:
            del blob["config"][key]
        else:
            blob["config"][key] = value
    (path / "config.json").write_text(json.dumps(blob))
    return path


@pytest.mark.parametrize("key", CHECKPOINT_KEYS)
def test_checkpoint_missing_a_key_names_file_and_key(trained, tmp_path, key):
    path = edit_config(trained.save(tmp_path / "m"), **{key: None})
    with pytest.raises(
        CheckpointError, match=rf"m/config.json: checkpoint config has no key '{key}'"
    ):
        TrainedModel.load(path)


@pytest.mark.parametrize("part", ["weights.pt", "scaler.pt"])
def test_checkpoint_missing_a_file_names_it(trained, tmp_path, part):
    path = trained.save(tmp_path / "m")
    (path / part).unlink()
    with pytest.raises(CheckpointError, match=rf"m: checkpoint has no {part}"):
        TrainedModel.load(path)


def test_checkpoint_with_wrong_contents(trained, tmp_path):
    path = trained.save(tmp_path / "m")
    good = json.loads((path / "config.json").read_text())["config"]
    with pytest.raises(
        CheckpointError,
        match=r"m/config.json: checkpoint key 'dims' has no entry for modality \['audio'\]",
    ):
        TrainedModel.load(edit_config(path, dims={"text": 8}))
    with pytest.raises(CheckpointError, match="checkpoint key 'dims' holds non-positive"):
        TrainedModel.load(edit_config(path, dims={"text": 8, "audio": "6"}))
    with pytest.raises(ConfigError, match=r"m/config.json \[model_config\]: hidden: expected an"):
        bad = {**good["model_config"], "hidden": "192"}
        TrainedModel.load(edit_config(path, dims=good["dims"], model_config=bad))
    with pytest.raises(CheckpointError, match="'modalities' must be a list of names"):
        TrainedModel.load(edit_config(path, model_config=good["model_config"], modalities="text"))
    # widths that do not fit the weights: the scaler is checked first, then the weights
    edit_config(path, modalities=good["modalities"], dims={"text": 9, "audio": 6})
    with pytest.raises(CheckpointError, match=r"scaler.pt: 'mean' does not fit the input widths"):
        TrainedModel.load(path)
    scaler = torch.load(path / "scaler.pt", weights_only=True)
    for part in ("mean", "std"):
        scaler[part]["text"] = torch.zeros(9, dtype=scaler[part]["text"].dtype)
    torch.save(scaler, path / "scaler.pt")
    with pytest.raises(CheckpointError, match=r"m/weights.pt: does not fit the model"):
        TrainedModel.load(path)
    del scaler["std"]["audio"]
    torch.save(scaler, path / "scaler.pt")
    with pytest.raises(
        CheckpointError, match=r"scaler.pt: no 'std' entry for modality \['audio'\]"
    ):
        TrainedModel.load(path)


def test_fine_tune_keeps_the_scaler_and_trains_a_copy(problem):
    from msa_lib.train import fine_tune

    tr, va = problem["train"], problem["valid"]
    trained, _ = fit(ModelConfig(), TrainConfig(max_epochs=3, patience=3), tr, va, progress=False)
    before = {k: v.clone() for k, v in trained.model.state_dict().items()}
    tuned = fine_tune(trained, tr, va, TrainConfig(max_epochs=2, patience=2, seed=1))
    assert tuned.scaler is trained.scaler and tuned.model is not trained.model
    assert all(torch.equal(v, trained.model.state_dict()[k]) for k, v in before.items())
    assert any(not torch.equal(v, tuned.model.state_dict()[k]) for k, v in before.items())
    assert 1 <= tuned.best_epoch <= 2
