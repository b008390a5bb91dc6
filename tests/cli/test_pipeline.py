"""From clips to a trained model in two commands: ``msa extract`` then ``msa train`` on its output."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from msa_lib.cli import main
from msa_lib.data.featureset import FeatureSet
from msa_lib.extract.generate import tone

WORDS = {1: "a wonderful moving film i loved it", -1: "a dull awful film i hated it"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """36 short spoken-tone clips with a segments table: labels, folds by video, transcripts."""
    root = tmp_path_factory.mktemp("corpus")
    clips = root / "clips"
    clips.mkdir()
    rows = []
    rng = np.random.default_rng(0)
    for i in range(36):
        polarity = 1 if i % 2 else -1
        video = f"v{i // 3}"
        sid = f"{video}_{i % 3}"
        # pitch follows the polarity a little, so audio carries some signal too
        y = tone(0.6, 22050, f0=200.0 if polarity > 0 else 120.0, seed=i)
        sf.write(clips / f"{sid}.wav", y, 22050)
        split = "train" if i < 24 else ("valid" if i < 30 else "test")
        label = float(np.clip(polarity * 1.5 + rng.normal(0, 0.3), -3, 3))
        rows.append((sid, video, label, split, WORDS[polarity]))
    table = root / "segments.csv"
    pd.DataFrame(rows, columns=["segment_id", "video_id", "label", "split", "text"]).to_csv(
        table, index=False
    )
    return clips, table


def train_and_score(features: Path, config: Path, model: Path, capsys) -> tuple[dict, dict]:
    """``msa train`` on ``features``, then ``msa evaluate`` on its test fold: both JSON reports."""
    rc = main(["train", "--features", str(features), "--config", str(config), "--out", str(model)])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and model.exists()  # a checkpoint (file or folder)
    rc = main(["evaluate", "--features", str(features), "--model", str(model), "--split", "test"])
    assert rc == 0
    return report, json.loads(capsys.readouterr().out)


def test_extract_then_train_on_the_merged_set(corpus, tmp_path, capsys):
    clips, table = corpus
    out = tmp_path / "features"
    args = ["extract", str(clips), "--segments", str(table), "--out", str(out)]
    assert main([*args, "--extractors", "audio", "text", "glove", "--json", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {n: e["n_failed"] for n, e in summary["extractors"].items()} == {
        "audio": 0,
        "text": 0,
        "glove": 0,
    }
    merged = out / "features.h5"
    assert merged.is_file()
    # the same features with every label negated: the control for "the model learned the labels"
    fs = FeatureSet.load(merged)
    flipped = replace(fs, label=-fs.label).save(tmp_path / "flipped.h5")

    # Tiny data: a light dropout, a larger step and the MSE loss let six steps an epoch learn the
    # labels' scale, not only their order (r alone is reached without learning: on six
    # validation segments the best-r epoch is often the first, chosen among BatchNorm states).
    config = tmp_path / "train.yaml"
    config.write_text(
        "train:\n  batch_size: 4\n  max_epochs: 5\n  patience: 5\n  lr: 3.0e-3\n"
        "model:\n  encoder_dropout: 0.1\n  attention_dropout: 0.1\n"
        "loss:\n  kind: mse\n"
    )
    report, scores = train_and_score(merged, config, tmp_path / "model.pt", capsys)
    assert sorted(report["modalities"]) == ["audio", "glove", "text"]
    assert report["epochs"] == 5
    assert scores["n"] == 6
    _, control = train_and_score(flipped, config, tmp_path / "flipped.pt", capsys)
    # Every held-out segment is scored on its label's side of zero, and in the same order, in
    # both runs. A model that learned nothing from the labels gives nearly the same predictions
    # whatever they are (same seed, same features): it could pass one run, never both.
    for run in (scores, control):
        assert run["acc2_non0"] == 1.0 and run["r"] > 0.8, run


def test_modalities_choose_among_the_extracted_ones(corpus, tmp_path, capsys):
    clips, table = corpus
    out = tmp_path / "features"
    args = ["extract", str(clips), "--segments", str(table), "--out", str(out), "--no-progress"]
    assert main([*args, "--extractors", "audio", "glove"]) == 0
    capsys.readouterr()
    config = tmp_path / "train.yaml"
    config.write_text("train:\n  batch_size: 4\n  max_epochs: 2\n")
    base = ["train", "--config", str(config), "--out", str(tmp_path / "m.pt")]
    files = [str(out / "audio.h5"), str(out / "glove.h5")]
    assert main([*base, "--features", *files, "--modalities", "glove"]) == 0
    assert json.loads(capsys.readouterr().out)["modalities"] == ["glove"]
    assert main([*base, "--features", *files, "--modalities", "visual"]) == 2
    err = capsys.readouterr().err
    assert "visual" in err and "audio" in err and "glove" in err
