import json

import pytest
import torch

from msa_lib.config import ModelConfig
from msa_lib.models.fusion import FusionModel, count_parameters
from msa_lib.perf.timing import (
    MOSEI_DIMS,
    floor_epoch,
    floor_parameters,
    linear_layers,
    load_training_benchmark,
    seed_epoch_seconds,
    summarise_seed_epochs,
    training_cost_table,
    training_steps,
)

SMALL = {"visual": 12, "audio": 6, "text": 8}


@pytest.mark.parametrize("dims", [MOSEI_DIMS, {"text": 300}, {"audio": 74, "text": 300}])
def test_the_floor_has_the_models_parameters(dims):
    layers = linear_layers(dims)
    assert [ly.grad_input for ly in layers].count(False) == len(dims)  # first layers only
    params = floor_parameters(layers, 3, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in params) == 3 * count_parameters(FusionModel(dims))
    model_config = ModelConfig(hidden=64, token_dim=32)
    layers = linear_layers(dims, model_config)
    params = floor_parameters(layers, 1, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in params) == count_parameters(FusionModel(dims, model_config))


class CountingSGD(torch.optim.SGD):
    """SGD that counts its steps."""

    steps = 0

    def step(self, closure=None):
        CountingSGD.steps += 1
        return super().step(closure)


@pytest.mark.parametrize("n_train", [64, 65, 66, 95])
def test_the_floor_takes_as_many_steps_as_the_training_loop(n_train):
    from msa_lib.config import TrainConfig
    from msa_lib.train.loop import train_loop

    cfg = TrainConfig(max_epochs=1, patience=2, batch_size=32)
    x, y = torch.randn(n_train, 3), torch.randn(n_train)
    CountingSGD.steps = 0
    train_loop(
        torch.nn.Linear(3, 1),
        (x, y),
        lambda model, batch: ((model(batch[0]).squeeze(1) - batch[1]) ** 2).mean(),
        lambda model: (0.0, {}),
        cfg,
        make_optimizer=lambda model, c: CountingSGD(model.parameters(), lr=0.01),
        progress=False,
    )
    assert training_steps(n_train, 32) == CountingSGD.steps  # a last batch of 1 is skipped
    assert floor_epoch(1, n_train=n_train, n_valid=8, dims=SMALL)["steps"] == CountingSGD.steps


def test_seed_epoch_seconds_side_by_side(tmp_path):
    rows = seed_epoch_seconds(
        k=2, n_train=96, n_valid=40, dims=SMALL, epochs=2, separate_seeds=1, repeats=1
    )
    assert list(rows["measure"]) == ["separate", "ensemble", "gemm_floor", "gemm_adam_floor"]
    summary = summarise_seed_epochs(rows)
    assert summary["ensemble"]["members"] == 2 and summary["separate"]["members"] == 1
    # the floor is the GEMMs alone: below a separate run of the model on the same input
    sep = summary["separate"]["cpu"]
    assert summary["gemm_floor"]["cpu"] < sep and summary["gemm_adam_floor"]["cpu"] < sep
    # the benchmark's JSON read back; a missing file is None, a broken one an error naming it
    path = tmp_path / "train.json"
    assert load_training_benchmark(path) is None
    path.write_text(json.dumps({"summary": summary}))
    assert load_training_benchmark(path)["summary"] == summary
    path.write_text("{not json")
    with pytest.raises(ValueError, match="train.json: not valid JSON"):
        load_training_benchmark(path)


def test_the_cost_table_sets_each_measure_against_the_floor_and_separate_runs():
    summary = {
        "separate": {"cpu": 4.0, "wall": 5.0, "members": 2},
        "ensemble": {"cpu": 1.5, "wall": 2.0, "members": 5},
        "gemm_floor": {"cpu": 0.5, "wall": 0.6, "members": 5},
        "gemm_adam_floor": {"cpu": 1.0, "wall": 1.2, "members": 5},
    }
    table = training_cost_table(summary).set_index("measure")
    ens = table.loc["seeds as one ensemble (fit_seeds)"]
    assert ens["x floor"] == 1.5 and ens["x separate"] == pytest.approx(0.375)
    assert table.loc["floor: the same GEMMs alone", "x floor"] == 0.5
    assert table.loc["separate runs (fit per seed)", "x floor"] == 4.0
    assert table["members"].tolist() == [2, 5, 5, 5]
