import pytest
import torch

from msa_lib.config import ModelConfig
from msa_lib.models import FusionModel, ModalityEncoder, count_parameters

DIMS = {"visual": 713, "audio": 74, "text": 300}


def batch(dims, n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(n, d, generator=g) for m, d in dims.items()}


@pytest.mark.parametrize(
    "mods", [("text",), ("audio", "visual"), ("text", "visual", "audio")], ids=["1", "2", "3"]
)
def test_output_shapes_for_one_two_three_modalities(mods):
    dims = {m: DIMS[m] for m in mods}
    model = FusionModel(dims)
    out = model(batch(dims))
    assert out.score.shape == (8,) and out.logits is None
    assert model.tokens(batch(dims)).shape == (8, len(mods), 96)
    assert model.mlp[0].in_features == 96 * len(mods)  # 288 for three modalities
    model.eval()
    assert model(batch(dims, n=1)).score.shape == (1,)


def test_architecture_follows_the_paper():
    model = FusionModel(DIMS)
    enc = model.encoders["visual"]
    linears = [m for m in enc if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(713, 192), (192, 192), (192, 96)]
    assert [m.p for m in enc if isinstance(m, torch.nn.Dropout)] == [0.7, 0.7]
    assert isinstance(enc[-1], torch.nn.BatchNorm1d)  # last encoder layer: Linear -> BN
    assert model.attention.num_heads == 4 and model.attention.dropout == 0.8
    mlp = [(m.in_features, m.out_features) for m in model.mlp if isinstance(m, torch.nn.Linear)]
    assert mlp == [(288, 192), (192, 96)]
    assert (model.regressor.in_features, model.regressor.out_features) == (96, 1)
    # parameter count by hand: encoders, attention (in/out projections), MLP, regressor
    enc_params = sum(
        d * 192 + 192 + 2 * 192 + 192 * 192 + 192 + 2 * 192 + 192 * 96 + 96 + 2 * 96
        for d in DIMS.values()
    )
    attn = 3 * 96 * 96 + 3 * 96 + 96 * 96 + 96
    mlp_params = 288 * 192 + 192 + 2 * 192 + 192 * 96 + 96 + 2 * 96 + 96 + 1
    assert count_parameters(model) == enc_params + attn + mlp_params


def test_classification_head():
    model = FusionModel({"text": 10, "audio": 4}, ModelConfig(n_classes=7))
    out = model(batch({"text": 10, "audio": 4}))
    assert out.logits.shape == (8, 7) and out.score.shape == (8,)


def test_same_seed_same_model():
    torch.manual_seed(3)
    a = FusionModel({"text": 10})
    torch.manual_seed(3)
    b = FusionModel({"text": 10})
    a.eval(), b.eval()
    x = batch({"text": 10})
    assert torch.equal(a(x).score, b(x).score)


def test_bad_inputs():
    model = FusionModel({"text": 10, "audio": 4})
    with pytest.raises(KeyError, match="missing \\['audio'\\]"):
        model({"text": torch.randn(4, 10)})
    with pytest.raises(ValueError, match="modality 'text': expected input \\[batch, 10\\]"):
        model({"text": torch.randn(4, 11), "audio": torch.randn(4, 4)})
    with pytest.raises(ValueError, match="at least one modality"):
        FusionModel({})
    with pytest.raises(ValueError, match="width must be >= 1"):
        ModalityEncoder(0)
