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


def test_floor_epoch_times_gemms_and_adam():
    plain = floor_epoch(2, n_train=64, n_valid=16, dims=SMALL)
    with_adam = floor_epoch(2, n_train=64, n_valid=16, dims=SMALL, with_adam=True)
    assert plain["wall"] > 0 and plain["cpu"] > 0 and with_adam["cpu"] > 0


def test_seed_epoch_seconds_side_by_side(tmp_path):
    rows = seed_epoch_seconds(
        k=2, n_train=96, n_valid=40, dims=SMALL, epochs=2, separate_seeds=1, repeats=1
    )
    assert list(rows["measure"]) == ["separate", "ensemble", "gemm_floor", "gemm_adam_floor"]
    assert (rows["cpu"] > 0).all() and (rows["wall"] > 0).all()
    summary = summarise_seed_epochs(rows)
    assert summary["ensemble"]["members"] == 2 and summary["separate"]["members"] == 1
    table = training_cost_table(summary)
    assert (
        table.loc[table["measure"].str.startswith("floor: the same GEMMs +"), "x floor"].item() == 1
    )
    assert table.loc[table["measure"].str.startswith("separate"), "x separate"].item() == 1
    # the benchmark's JSON read back; a missing file is None, a broken one an error naming it
    path = tmp_path / "train.json"
    assert load_training_benchmark(path) is None
    path.write_text(json.dumps({"summary": summary}))
    assert load_training_benchmark(path)["summary"] == summary
    path.write_text("{not json")
    with pytest.raises(ValueError, match="train.json: not valid JSON"):
        load_training_benchmark(path)
