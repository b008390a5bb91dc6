"""The sequence model's training (msa_lib.train.temporal): it learns frame order; checkpoints."""

import dataclasses
import json

import numpy as np
import pytest

from msa_lib.config import ModelConfig, TemporalConfig, TrainConfig
from msa_lib.data.align import time_average
from msa_lib.data.splits import fold_splits
from msa_lib.evaluate import pearson
from msa_lib.experiments.temporal import trend_task
from msa_lib.io.checkpoint import CheckpointError
from msa_lib.train import fit, predict
from msa_lib.train.temporal import CHECKPOINT_KEYS, TrainedTemporal, fit_temporal

MODS = ["audio", "text"]


def test_temporal_model_reads_order_the_average_cannot():
    # only the drift of the frames carries the label: the averaged model is blind to it
    fs = trend_task(n=300, steps=10, noise=0.7, seed=3)
    splits = fold_splits(fs)
    # 25 epochs of 6 batches: a higher lr than the recipe's 8e-4 lets any data seed converge
    train = TrainConfig(max_epochs=25, patience=25, num_threads=1, lr=3e-3)
    cfg = TemporalConfig(steps=10, hidden=16, projection=8, dropout=0.1)
    mods = ["visual", "audio", "text"]
    trained, history = fit_temporal(splits["train"], splits["valid"], mods, cfg, train)
    assert history["train_loss"].iloc[-5:].mean() < history["train_loss"].iloc[:3].mean()
    r_temporal = pearson(splits["test"].label, trained.predict(splits["test"]))
    avg = {k: time_average(v, 10) for k, v in splits.items()}
    avg_model, _ = fit(ModelConfig(), train, avg["train"], avg["valid"], progress=False)
    r_avg = pearson(avg["test"].label, predict(avg_model, avg["test"]))
    assert r_temporal > 0.75 and r_temporal > r_avg + 0.5, (r_temporal, r_avg)


@pytest.fixture(scope="module")
def splits():
    return fold_splits(trend_task(n=200, steps=5, widths={"audio": 3, "text": 4}, seed=2))


def small_fit(splits, architecture: str = "bilstm") -> TrainedTemporal:
    cfg = TemporalConfig(steps=5, hidden=8, projection=4, heads=2, architecture=architecture)
    train = TrainConfig(max_epochs=2, patience=2, num_threads=1)
    return fit_temporal(splits["train"], splits["valid"], MODS, cfg, train)[0]


@pytest.mark.parametrize("architecture", ["bilstm", "transformer"])
def test_save_and_load_give_identical_predictions(splits, tmp_path, architecture):
    trained = small_fit(splits, architecture)
    path = trained.save(tmp_path / "temporal")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "scaler.pt", "weights.pt"]
    back = TrainedTemporal.load(path)
    assert back.modalities == MODS and back.config == trained.config
    assert back.best_epoch == trained.best_epoch and back.best_valid_r == trained.best_valid_r
    assert back.model.widths == {"audio": 3, "text": 4} and back.model.steps == 5
    test = splits["test"]
    np.testing.assert_array_equal(back.predict(test), trained.predict(test))
    # a modality missing from the input gets the training mean, after loading as before
    nan_text = np.full_like(test.features["text"], np.nan)
    partial = dataclasses.replace(test, features={**test.features, "text": nan_text})
    np.testing.assert_array_equal(back.predict(partial), trained.predict(partial))


def test_temporal_checkpoint_errors_name_the_file_and_key(splits, tmp_path):
    trained = small_fit(splits)
    path = trained.save(tmp_path / "t")
    good = json.loads((path / "config.json").read_text())

    def write(**config):
        (path / "config.json").write_text(json.dumps({**good, "config": config}))

    for key in CHECKPOINT_KEYS:
        write(**{k: v for k, v in good["config"].items() if k != key})
        with pytest.raises(CheckpointError, match=f"checkpoint config has no key '{key}'"):
            TrainedTemporal.load(path)
    write(**{**good["config"], "steps": 6})  # the scaler holds 5 x width values per modality
    with pytest.raises(CheckpointError, match="scaler.pt: 'mean' does not fit the input widths"):
        TrainedTemporal.load(path)
    write(**{**good["config"], "steps": "5"})
    with pytest.raises(CheckpointError, match="'steps' \\(an integer >= 1\\)"):
        TrainedTemporal.load(path)
    write(**{**good["config"], "config": {**good["config"]["config"], "hidden": 16}})
    with pytest.raises(CheckpointError, match="t/weights.pt: does not fit the model"):
        TrainedTemporal.load(path)
    (path / "config.json").write_text(json.dumps({**good, "kind": "fusion"}))
    with pytest.raises(CheckpointError, match="a 'fusion' checkpoint, not a 'temporal' one"):
        TrainedTemporal.load(path)
