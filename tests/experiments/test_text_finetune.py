"""The fine-tuning study (msa_lib.experiments.text_finetune): seeds, the table, the cache."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from msa_lib.config import TextFineTuneConfig
from msa_lib.data.folder import DataFolder
from msa_lib.experiments import text_finetune as tf
from tests.train.opinions import OPINIONS, VALID


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as in the seed jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
    # one cache folder per seed: its model (a checkpoint folder) and its scores
    seeds = sorted((tmp_path / "cache").iterdir())
    assert len(seeds) == 2 and all(d.name.startswith("text-finetune-") for d in seeds)
    assert all(sorted(p.name for p in d.iterdir()) == ["model", "scores.json"] for d in seeds)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached seed was trained again")

    monkeypatch.setattr(tf, "fine_tune_text", no_training)
    again, best2 = tf.run_text_finetune(
        segment_table(), cfg, seeds=(0, 1), cache_dir=tmp_path / "cache", source="real"
    )
    pd.testing.assert_frame_equal(again, table)
    texts = [t for t, _ in VALID]
    np.testing.assert_array_equal(best2.predict(texts), best.predict(texts))
    # another seed, or another setting, is another key: it trains
    with pytest.raises(AssertionError, match="trained again"):
        tf.run_text_finetune(
            segment_table(), cfg, seeds=(2,), cache_dir=tmp_path / "cache", source="real"
        )
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
    saved = json.loads((best.save(tmp_path / "b") / "config.json").read_text())
    assert "SYNTHETIC" in saved["config"]["info"]["trained_on"]
    # the text section saves the best model for the predict section, which loads it back
    results = tmp_path / "results"
    with pytest.raises(FileNotFoundError, match=r"text_model: no fine-tuned text model.*08_1_text"):
        tf.load_best_model(results, "synthetic")
    assert tf.save_best_model(best, results) == results / tf.SAVED_MODEL
    loaded = tf.load_best_model(results, "synthetic")
    texts = folder.segments("mosi")["text"].head(4).tolist()
    np.testing.assert_allclose(loaded.predict(texts), best.predict(texts), atol=1e-6)
    # a model of the other kind of data is not silently used
    with pytest.raises(ValueError, match=r"not on this run's real data; run the text section"):
        tf.load_best_model(results, "real")


def summary_table(r: float, mae: float, acc2: float, seeds: int = 3) -> pd.DataFrame:
    """A results table as run_text_finetune writes it, with the given seed means."""
    rows = [{"seed": str(s), "r": r, "mae": mae, "acc2_non0": acc2} for s in range(seeds)]
    rows += [
        {"seed": "mean", "r": r, "r_lo": r - 0.03, "r_hi": r + 0.03, "mae": mae,
         "mae_lo": mae - 0.04, "mae_hi": mae + 0.04, "acc2_non0": acc2},
        {"seed": "sd", "r": 0.007, "mae": 0.004, "acc2_non0": 0.01},
        {"seed": "ensemble", "r": r + 0.01, "mae": mae - 0.02, "acc2_non0": acc2 + 0.01},
    ]  # fmt: skip
    return pd.DataFrame(rows).assign(n_test=686)


def interval(value: float, lo: float, hi: float, **kwargs) -> str:
    """The chapter's interval writer, as a plain stand-in: ``v [lo, hi]``."""
    return f"{value:.3f} [{lo:.3f}, {hi:.3f}]"


def test_the_verdict_sets_the_seed_mean_against_the_goals_and_self_mm():
    selfmm = tf.reference_figures("Self-MM")
    assert selfmm == pytest.approx({"r": 0.795, "mae": 0.712, "acc2_non0": 0.848})
    # below every goal and every Self-MM figure
    v = tf.text_verdict(summary_table(0.775, 0.814, 0.834), "real", ridge_r=0.709)
    assert v.missed == ("r", "mae", "acc2_non0") and v.beaten == ()
    assert (v.n_seeds, v.n_test) == (3, 686)
    text = v.sentence(interval)
    assert "misses all three goals set for it (r ≥ 0.80, MAE ≤ 0.71, Acc-2 ≥ 86%)" in text
    assert "beats none of Self-MM's published figures" in text
    assert "test r 0.775 [0.745, 0.805] (sd 0.007 over seeds)" in text
    assert "fine-tuning adds +0.066 in r" in text
    assert "Averaging the 3 seeds' predictions" in text and "r 0.785" in text
    # past Self-MM on r only; a goal met exactly counts as reached
    v = tf.text_verdict(summary_table(0.80, 0.75, 0.84), "real")
    assert v.beaten == ("r",) and v.missed == ("mae", "acc2_non0")
    text = v.sentence(interval)
    assert "misses the goals set for it on MAE, Acc-2 (non-0)" in text
    assert "beats Self-MM's published r with text alone" in text
    assert "ridge" not in text
    v = tf.text_verdict(summary_table(0.81, 0.70, 0.87), "real")
    assert v.missed == () and v.beaten == ("r", "mae", "acc2_non0")
    assert "reaches all three goals" in v.sentence(interval)
    # one seed: no ensemble row, no ensemble sentence
    one = summary_table(0.81, 0.70, 0.87, seeds=1)
    v = tf.text_verdict(one[one["seed"] != "ensemble"], "real")
    assert v.ensemble is None and "Averaging" not in v.sentence(interval)


def test_the_synthetic_verdict_draws_no_comparison():
    v = tf.text_verdict(summary_table(0.9, 0.3, 0.95), "synthetic", ridge_r=0.5)
    text = v.sentence(interval)
    assert "SYNTHETIC" in text and "Self-MM" not in text and "goal" not in text


def test_the_verdict_needs_the_summary_rows():
    table = summary_table(0.8, 0.7, 0.85)
    with pytest.raises(ValueError, match=r"lacks the row\(s\) \['sd'\]"):
        tf.text_verdict(table[table["seed"] != "sd"], "real")
    with pytest.raises(ValueError, match="no published figures for 'Nobody'"):
        tf.text_verdict(table, "real", reference="Nobody")


def test_bad_tables_are_refused():
    df = segment_table()
    with pytest.raises(ValueError, match="lacks column"):
        tf.run_text_finetune(df.drop(columns="text"), seeds=(0,), source="real")
    df.loc[df["split"] == "test", "text"] = " "
    with pytest.raises(ValueError, match="'test' rows without a transcript"):
        tf.run_text_finetune(df, seeds=(0,), source="real")
    with pytest.raises(ValueError, match="source"):
        tf.run_text_finetune(segment_table(), seeds=(0,))
