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


def test_bad_tables_are_refused():
    df = segment_table()
    with pytest.raises(ValueError, match="lacks column"):
        tf.run_text_finetune(df.drop(columns="text"), seeds=(0,), source="real")
    df.loc[df["split"] == "test", "text"] = " "
    with pytest.raises(ValueError, match="'test' rows without a transcript"):
        tf.run_text_finetune(df, seeds=(0,), source="real")
    with pytest.raises(ValueError, match="source"):
        tf.run_text_finetune(segment_table(), seeds=(0,))
