"""The fine-tuned text regressor: training and selection, save/load, bad input, seeds and cache."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from msa_lib.config import TextFineTuneConfig
from msa_lib.data.folder import DataFolder
from msa_lib.evaluate import metrics
from msa_lib.experiments import text_finetune as tf
from msa_lib.train import text as tt
from msa_lib.train.text import FineTunedText, fine_tune_text

# short opinions in MOSI's style (upper case, no punctuation), with a sentiment in [-3, 3]
OPINIONS = [
    ("I LOVED THIS MOVIE SO MUCH", 3.0),
    ("IT WAS REALLY GREAT AND FUNNY", 2.4),
    ("THE ACTING WAS WONDERFUL", 2.0),
    ("I REALLY ENJOYED THE STORY", 2.2),
    ("A BEAUTIFUL AND MOVING FILM", 2.6),
    ("THE MUSIC WAS PRETTY GOOD", 1.4),
    ("I LIKED THE ENDING", 1.2),
    ("IT WAS OKAY I GUESS", 0.2),
    ("THE MOVIE IS ABOUT A FAMILY", 0.0),
    ("IT CAME OUT LAST YEAR", 0.0),
    ("SOME PARTS WERE SLOW", -0.8),
    ("I DID NOT LIKE THE MAIN CHARACTER", -1.4),
    ("THE PLOT WAS BORING", -1.8),
    ("IT WAS A WASTE OF TIME", -2.4),
    ("THE WORST FILM I HAVE EVER SEEN", -3.0),
    ("TERRIBLE ACTING AND AWFUL DIALOGUE", -2.8),
    ("I HATED EVERY MINUTE", -2.6),
    ("IT WAS REALLY DISAPPOINTING", -2.0),
    ("THE JOKES WERE NOT FUNNY", -1.6),
    ("AN AMAZING PERFORMANCE", 2.8),
    ("I WOULD WATCH IT AGAIN", 1.8),
    ("NOTHING SPECIAL REALLY", -0.4),
    ("THE EFFECTS WERE STUNNING", 2.2),
    ("DO NOT BOTHER SEEING IT", -2.2),
]
VALID = [
    ("I LOVED IT", 2.8),
    ("IT WAS AWFUL", -2.6),
    ("PRETTY GOOD OVERALL", 1.4),
    ("REALLY BORING", -1.8),
    ("A GREAT FILM", 2.4),
    ("I HATED THE ENDING", -2.0),
]
# from a random head (no ridge probe), so the loss has somewhere to fall
TINY = TextFineTuneConfig(
    epochs=3, max_length=16, batch_size=8, lr_encoder=1e-4, lr_head=3e-3, warmup=0.0,
    probe_init=False,
)  # fmt: skip


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


def test_predictions_are_clipped_and_learn_the_polarity(trained):
    p = trained.predict(["I LOVED THIS FILM", "THE WORST MOVIE EVER", "it was great"])
    assert p.shape == (3,) and np.all(np.abs(p) <= 3)
    assert p[0] > p[1]


def test_lowercasing_makes_case_irrelevant(trained):
    a = trained.predict(["THE ACTING WAS WONDERFUL"])
    b = trained.predict(["the acting was wonderful"])
    assert a == pytest.approx(b)


def test_save_and_load_give_identical_predictions(trained, tmp_path):
    folder = trained.save(tmp_path / "model")
    assert (folder / "encoder" / "config.json").is_file()
    loaded = FineTunedText.load(folder)
    texts = [t for t, _ in VALID]
    np.testing.assert_array_equal(loaded.predict(texts), trained.predict(texts))
    assert loaded.info["epoch"] == trained.info["epoch"]
    assert loaded.config == trained.config


def test_empty_text_names_its_index(trained):
    with pytest.raises(ValueError, match=r"texts\[2\] is empty"):
        trained.predict(["GOOD", "BAD", "   ", "FINE"])
    with pytest.raises(ValueError, match="not one string"):
        trained.predict("GOOD")


def test_load_names_the_folder_and_what_is_missing(trained, tmp_path):
    folder = trained.save(tmp_path / "m")
    (folder / "head.pt").unlink()
    with pytest.raises(FileNotFoundError, match=r"m is incomplete: missing head\.pt"):
        FineTunedText.load(folder)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FineTunedText.load(tmp_path / "nowhere")


def test_config_is_validated():
    with pytest.raises(ValueError, match="schedule"):
        TextFineTuneConfig(schedule="cosine")
    with pytest.raises(ValueError, match="epochs"):
        TextFineTuneConfig(epochs=0)


def segment_table() -> pd.DataFrame:
    """A tiny MOSI-like table: half the opinions train, the other half test, VALID valid."""
    rows = [(t, y, "train") for t, y in OPINIONS[::2]]
    rows += [(t, y, "valid") for t, y in VALID]
    rows += [(t, y, "test") for t, y in OPINIONS[1::2]]
    df = pd.DataFrame(rows, columns=["text", "label", "split"])
    return df.assign(segment_id=[f"s{i}" for i in range(len(df))])


def test_run_scores_every_seed_and_a_cache_hit_does_not_train(tmp_path, monkeypatch):
    cfg = TextFineTuneConfig(epochs=1, max_length=16, batch_size=8)
    table, best = tf.run_text_finetune(
        segment_table(), cfg, seeds=(0, 1), cache_dir=tmp_path / "cache", source="real"
    )
    assert list(table["seed"]) == ["0", "1", "mean", "sd", "ensemble"]
    assert (table["n_test"] == 12).all()
    per_seed = table.iloc[:2]
    assert table.loc[2, "r"] == pytest.approx(per_seed["r"].mean())
    assert (table.loc[:2, "r_lo"] <= table.loc[:2, "r_hi"]).all()
    assert table.loc[3, "r"] == pytest.approx(per_seed["r"].std(ddof=1))
    best_seed = int(per_seed.loc[per_seed["val_r"].idxmax(), "seed"])
    assert best.info["seed"] == best_seed
    assert best.info["trained_on"] == "CMU-MOSI train fold (real)"
    assert {"seed", "r", "mae", "acc2_non0", "f1_non0", "acc7", "n_test"} <= set(table.columns)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached seed was trained again")

    monkeypatch.setattr(tf, "fine_tune_text", no_training)
    again, best2 = tf.run_text_finetune(
        segment_table(), cfg, seeds=(0, 1), cache_dir=tmp_path / "cache", source="real"
    )
    pd.testing.assert_frame_equal(again, table)
    texts = [t for t, _ in VALID]
    np.testing.assert_array_equal(best2.predict(texts), best.predict(texts))
    # another setting is another key: it trains
    with pytest.raises(AssertionError, match="trained again"):
        tf.run_text_finetune(
            segment_table(), TextFineTuneConfig(epochs=1, max_length=12, batch_size=8),
            seeds=(0,), cache_dir=tmp_path / "cache", source="real",
        )  # fmt: skip


def test_run_on_the_synthetic_folder_says_so(small_synthetic, tmp_path):
    folder = DataFolder.open(small_synthetic)
    cfg = TextFineTuneConfig(epochs=1, max_length=16, batch_size=16)
    table, best = tf.run_text_finetune(folder, cfg, seeds=(0,))
    assert "SYNTHETIC" in best.info["trained_on"]
    assert table.loc[0, "n_test"] == (folder.segments("mosi")["split"] == "test").sum()
    saved = json.loads((best.save(tmp_path / "b") / "info.json").read_text())
    assert "SYNTHETIC" in saved["info"]["trained_on"]


def test_bad_tables_are_refused():
    df = segment_table()
    with pytest.raises(ValueError, match="lacks column"):
        tf.run_text_finetune(df.drop(columns="text"), seeds=(0,), source="real")
    df.loc[df["split"] == "test", "text"] = " "
    with pytest.raises(ValueError, match="'test' rows without a transcript"):
        tf.run_text_finetune(df, seeds=(0,), source="real")
    with pytest.raises(ValueError, match="source"):
        tf.run_text_finetune(segment_table(), seeds=(0,))


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
