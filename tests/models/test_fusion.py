import pytest
import torch

from msa_lib.config import ModelConfig
from msa_lib.models.ensemble import FusionEnsemble, MemberRNG
from msa_lib.models.fusion import FusionModel, ModalityEncoder, count_parameters

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


def lone_and_stacked(dims, config, seeds):
    """Models built under each seed, the ensemble of them with each seed's dropout stream."""
    members, gens = [], []
    for s in seeds:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s)
            members.append(FusionModel(dims, config))
            gens.append(torch.Generator().manual_seed(0))
            gens[-1].set_state(torch.get_rng_state())
    ens = FusionEnsemble.from_members(members)
    ens.set_rng(MemberRNG(gens))
    return members, ens


@pytest.mark.parametrize("n_classes", [0, 3])
def test_ensemble_is_its_members_side_by_side(n_classes):
    dims = {"text": 30, "visual": 20, "audio": 74}
    config = ModelConfig(n_classes=n_classes, encoder_dropout=0.0, attention_dropout=0.0)
    members, ens = lone_and_stacked(dims, config, [0, 1, 2])
    assert sorted(ens.state_dict()) == sorted(members[0].state_dict())
    g = torch.Generator().manual_seed(1)
    xs = {m: torch.randn(3, 16, d, generator=g) for m, d in dims.items()}
    out = ens.train()(xs)
    assert out.score.shape == (3, 16)
    for i, model in enumerate(members):  # in training mode, without dropout: the lone models
        alone = model.train()({m: x[i] for m, x in xs.items()})
        torch.testing.assert_close(out.score[i], alone.score, atol=1e-6, rtol=0)
        if n_classes:
            assert out.logits.shape == (3, 16, n_classes)
            torch.testing.assert_close(out.logits[i], alone.logits, atol=1e-6, rtol=0)
        # BatchNorm statistics moved per member, as each lone model's did
        for name, t in model.state_dict().items():
            torch.testing.assert_close(ens.member_state(i)[name], t, atol=1e-6, rtol=0)
    # evaluation on one shared batch; members come out as ordinary models
    shared = {m: torch.randn(40, d, generator=g) for m, d in dims.items()}
    scores = ens.eval()(shared).score
    for i, model in enumerate(members):
        torch.testing.assert_close(scores[i], model.eval()(shared).score, atol=1e-5, rtol=0)
        back = ens.member(i)
        assert isinstance(back, FusionModel) and not back.training
        member = ens.member_state(i)
        assert all(torch.equal(t, member[name]) for name, t in back.state_dict().items())
        torch.testing.assert_close(back(shared).score, scores[i], atol=1e-5, rtol=0)
    picked = ens.select([2, 0])
    assert picked.k == 2 and torch.equal(picked(shared).score, scores[[2, 0]])


def test_a_members_dropout_does_not_depend_on_the_members_beside_it():
    dims = {"text": 30, "audio": 74}
    _, three = lone_and_stacked(dims, ModelConfig(), [0, 1, 2])
    _, one = lone_and_stacked(dims, ModelConfig(), [1])
    g = torch.Generator().manual_seed(1)
    xs = {m: torch.randn(3, 16, d, generator=g) for m, d in dims.items()}
    for _ in range(2):  # the second pass continues each member's stream
        out = three.train()(xs).score
        alone = one.train()({m: x[1:2] for m, x in xs.items()}).score
        torch.testing.assert_close(out[1:2], alone, atol=1e-6, rtol=0)
    _, dropless = lone_and_stacked(
        dims, ModelConfig(encoder_dropout=0.0, attention_dropout=0.0), [1]
    )
    assert not torch.allclose(alone, dropless.train()({m: x[1:2] for m, x in xs.items()}).score)


def test_ensemble_without_dropout_draws_nothing():
    config = ModelConfig(encoder_dropout=0.0, attention_dropout=0.0)
    members, ens = lone_and_stacked({"text": 10}, config, [0, 1])
    assert ens.mask_layout(8) == []
    before = [g.get_state() for g in ens.rng.generators]
    out = ens.train()({"text": torch.randn(2, 8, 10)})
    assert out.score.shape == (2, 8)
    assert all(torch.equal(g.get_state(), b) for g, b in zip(ens.rng.generators, before))
    # with dropout, each training pass moves each member's stream
    _, ens = lone_and_stacked({"text": 10}, ModelConfig(), [0, 1])
    before = [g.get_state() for g in ens.rng.generators]
    ens.train()({"text": torch.randn(2, 8, 10)})
    assert not any(torch.equal(g.get_state(), b) for g, b in zip(ens.rng.generators, before))


def test_ensemble_bad_inputs():
    with pytest.raises(ValueError, match="differs from member 0"):
        FusionEnsemble.from_members([FusionModel({"text": 10}), FusionModel({"text": 11})])
    with pytest.raises(ValueError, match="at least one model"):
        FusionEnsemble.from_members([])
    ens = FusionEnsemble.from_members([FusionModel({"text": 10}), FusionModel({"text": 10})])
    with pytest.raises(ValueError, match=r"expected input \[2, batch, 10\] or \[batch, 10\]"):
        ens({"text": torch.randn(3, 4, 10)})
    with pytest.raises(KeyError, match="missing \\['text'\\]"):
        ens({"audio": torch.randn(4, 10)})
