"""The fine-tuned text regressor (msa_lib.train.text): training and selection, clipping,
checkpoints, bad input, frozen layers and the ridge probe."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from msa_lib.config import ConfigError, TextFineTuneConfig
from msa_lib.evaluate import metrics
from msa_lib.io.checkpoint import CheckpointError
from msa_lib.train import text as tt
from msa_lib.train.text import FineTunedText, fine_tune_text
from tests.train.opinions import OPINIONS, TINY, VALID


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as in the seed jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained() -> FineTunedText:
    """A model fine-tuned on the 24 opinions for three epochs."""
    torch.set_num_threads(1)
    texts, labels = zip(*OPINIONS)
    vtexts, vlabels = zip(*VALID)
    return fine_tune_text(texts, labels, vtexts, vlabels, TINY, seed=0, trained_on="test opinions")


def test_loss_falls_and_the_best_validation_epoch_is_kept(trained):
    hist = trained.info["history"]
    assert len(hist) == TINY.epochs
    assert hist[-1]["train_l1"] < hist[0]["train_l1"]
    val_r = [h["val_r"] for h in hist]
    assert trained.info["epoch"] == int(np.argmax(val_r)) + 1
    # the weights held are those of the chosen epoch, not the last one
    vtexts, vlabels = zip(*VALID)
    r = metrics(np.array(vlabels), trained.predict(vtexts))["r"]
    assert r == pytest.approx(max(val_r), abs=1e-6)
    assert trained.info["trained_on"] == "test opinions"
    assert trained.info["n_train"] == len(OPINIONS)


def raw_scores(model: FineTunedText, texts: list[str]) -> np.ndarray:
    """The network's outputs before :meth:`FineTunedText.predict` clips them."""
    ids = tt.tokenize(model.tokenizer, texts, model.config)
    with torch.inference_mode():
        return model.model.eval()(*tt.pad(ids, model.tokenizer.pad_token_id)).double().numpy()


def test_predictions_learn_the_polarity_and_are_clipped(trained):
    texts = ["I LOVED THIS FILM", "THE WORST MOVIE EVER", "it was great"]
    p = trained.predict(texts)
    assert p.shape == (3,) and p[0] > p[1]
    np.testing.assert_allclose(p, np.clip(raw_scores(trained, texts), -3, 3), atol=1e-6)
    # a head shifted far past the label range: its raw scores leave [-3, 3], the predictions stop
    # at the bound
    for shift, bound in ((40.0, 3.0), (-40.0, -3.0)):
        shifted = copy.deepcopy(trained)
        with torch.no_grad():
            shifted.model.head.bias += shift
        raw = raw_scores(shifted, texts)
        assert np.all(raw * np.sign(bound) > 3), raw
        np.testing.assert_array_equal(shifted.predict(texts), [bound] * 3)


def test_lowercasing_makes_case_irrelevant(trained):
    a = trained.predict(["THE ACTING WAS WONDERFUL"])
    b = trained.predict(["the acting was wonderful"])
    assert a == pytest.approx(b)


def test_save_and_load_give_identical_predictions(trained, tmp_path):
    folder = trained.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "encoder", "weights.pt"]
    assert (folder / "encoder" / "config.json").is_file()
    saved = json.loads((folder / "config.json").read_text())
    assert saved["kind"] == "text" and saved["config"]["info"]["trained_on"] == "test opinions"
    loaded = FineTunedText.load(folder)
    texts = [t for t, _ in VALID]
    np.testing.assert_array_equal(loaded.predict(texts), trained.predict(texts))
    assert loaded.info["epoch"] == trained.info["epoch"]
    assert loaded.info["history"] == trained.info["history"]
    assert loaded.config == trained.config


def test_empty_text_names_its_index(trained):
    with pytest.raises(ValueError, match=r"texts\[2\] is empty"):
        trained.predict(["GOOD", "BAD", "   ", "FINE"])
    with pytest.raises(ValueError, match="not one string"):
        trained.predict("GOOD")


def test_load_names_the_folder_and_what_is_missing_or_wrong(trained, tmp_path):
    folder = trained.save(tmp_path / "m")
    good = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(
        json.dumps({**good, "config": {**good["config"], "config": {"epochs": "3"}}})
    )
    with pytest.raises(ConfigError, match=r"m/config.json \[config\]: epochs: expected an integer"):
        FineTunedText.load(folder)
    (folder / "config.json").write_text(json.dumps({**good, "config": {"info": {}}}))
    with pytest.raises(CheckpointError, match="checkpoint config has no key 'config'"):
        FineTunedText.load(folder)
    (folder / "config.json").write_text(json.dumps(good))
    weights = torch.load(folder / "weights.pt", weights_only=True)
    torch.save({"head.weight": weights["head.weight"]}, folder / "weights.pt")
    with pytest.raises(CheckpointError, match=r"weights.pt: does not fit the model's head \(miss"):
        FineTunedText.load(folder)
    (folder / "weights.pt").unlink()
    with pytest.raises(CheckpointError, match=r"m: checkpoint has no weights\.pt"):
        FineTunedText.load(folder)
    trained.save(folder)
    (folder / "encoder" / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"m: checkpoint has no encoder/config\.json"):
        FineTunedText.load(folder)
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        FineTunedText.load(tmp_path / "nowhere")


def test_config_is_validated():
    with pytest.raises(ValueError, match="schedule"):
        TextFineTuneConfig(schedule="cosine")
    with pytest.raises(ValueError, match="epochs"):
        TextFineTuneConfig(epochs=0)


def test_frozen_layers_stay_as_pretrained():
    cfg = TextFineTuneConfig(epochs=1, max_length=16, batch_size=8, freeze_layers=2)
    texts, labels = zip(*OPINIONS)
    vtexts, vlabels = zip(*VALID)
    model = fine_tune_text(texts, labels, vtexts, vlabels, cfg, seed=0)
    base, _ = tt.load_base(cfg, seed=0)
    layers, pretrained = model.model.encoder.encoder.layer, base.encoder.encoder.layer
    for i in (0, 1):
        for a, b in zip(layers[i].parameters(), pretrained[i].parameters()):
            assert torch.equal(a, b)
    moved = [
        not torch.equal(a, b) for a, b in zip(layers[5].parameters(), pretrained[5].parameters())
    ]
    assert any(moved)
    with pytest.raises(ValueError, match="freeze_layers 7"):
        tt.param_groups(base, TextFineTuneConfig(freeze_layers=7))


def test_probe_init_fits_the_head_on_frozen_features():
    cfg = TextFineTuneConfig(max_length=16, probe_init=True)
    model, tokenizer = tt.load_base(cfg, seed=0)
    texts, labels = zip(*OPINIONS)
    vtexts, vlabels = zip(*VALID)
    ids, vids = (tt.tokenize(tokenizer, t, cfg) for t in (texts, vtexts))
    tt.probe_head(model, ids, np.array(labels), vids, np.array(vlabels), 0, cfg)
    p = FineTunedText(model, tokenizer, cfg, {}).predict(vtexts)
    assert metrics(np.array(vlabels), p)["r"] > 0.5
    with pytest.raises(ValueError, match="linear head"):
        TextFineTuneConfig(probe_init=True, head_hidden=16)
