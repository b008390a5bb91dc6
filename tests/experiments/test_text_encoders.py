"""The text-encoder study: a few transcripts encoded and timed, GloVe's coverage, the 2-D map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import TextConfig
from msa_lib.experiments.text_encoders import (
    GLOVE_LABEL,
    SPEED_COLUMNS,
    embedding_map,
    encode_transcripts,
    glove_coverage,
    speed_row,
)
from msa_lib.extract.features.glove import Glove
from msa_lib.extract.features.text import TextEncoder

TEXTS = [
    "this movie was surprisingly good",
    "",
    "i hated every minute of it and the ending was even worse than the start",
    "qwzxv blorf",
    "fine",
]
MINI = TextConfig(batch_size=4, max_length=12)  # the long transcript is truncated


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    n = len(TEXTS)
    return pd.DataFrame(
        {
            "segment_id": [f"s{i}" for i in range(n)],
            "video_id": [f"v{i}" for i in range(n)],
            "split": ["train", "train", "valid", "test", "test"],
            "label": np.linspace(-2, 2, n),
            "text": TEXTS,
        }
    )


@pytest.fixture(scope="module")
def encoded(table):
    return encode_transcripts(table, {"mini": MINI}, source="synthetic")


@pytest.fixture(scope="module")
def direct():
    """The encoder's own result on the transcripts."""
    return TextEncoder(MINI).encode(TEXTS)


def test_speed_row_on_known_counts():
    flags = {"empty_text": np.array([True, False, False, False])}
    row = speed_row("x", 7, 0.5, flags, np.array([0, 2, 3, 5]))
    assert list(row) == SPEED_COLUMNS
    assert row == {
        "encoder": "x",
        "dim": 7,
        "segments": 4,
        "seconds": 0.5,
        "segments_per_s": 8.0,
        "empty_texts": 1,
        "truncated": 0,  # no such flag: GloVe truncates nothing
        "mean_tokens": 2.5,
    }


def test_the_speed_table_has_a_row_per_encoder_and_glove_last(encoded, direct):
    speed = encoded.speed
    glove_name = GLOVE_LABEL.format(dim=Glove().dim)
    assert list(speed.columns) == SPEED_COLUMNS
    assert speed["encoder"].tolist() == ["mini", glove_name] == list(encoded.embeddings)
    rows = speed.set_index("encoder")
    assert rows.loc["mini", "dim"] == 384 and rows.loc[glove_name, "dim"] == Glove().dim
    assert (speed["segments"] == len(TEXTS)).all() and (speed["segments_per_s"] > 0).all()
    assert (speed["empty_texts"] == 1).all()
    assert rows.loc["mini", "truncated"] == 1 and rows.loc[glove_name, "truncated"] == 0
    assert rows.loc["mini", "mean_tokens"] == round(float(direct.n_tokens.mean()), 1)
    assert rows.loc[glove_name, "mean_tokens"] == round(float(encoded.glove.n_words.mean()), 1)


def test_the_embeddings_are_the_encoders_vectors_with_the_tables_rows(encoded, direct, table):
    fs = encoded.embeddings["mini"]
    assert fs.segment_id.tolist() == table["segment_id"].tolist()
    assert fs.split.tolist() == table["split"].tolist() and fs.source == "synthetic"
    np.testing.assert_allclose(fs.label, table["label"], rtol=1e-6)
    np.testing.assert_allclose(fs.features["text"], direct.vectors, atol=1e-5)
    assert fs.meta["text"].extractor == "transformers-mean-pool"
    assert fs.missing("text").tolist() == [False, True, False, False, False]
    glove = encoded.embeddings[GLOVE_LABEL.format(dim=Glove().dim)]
    assert glove.meta["text"].extractor == "glove-mean"
    # GloVe knows no word of the empty transcript nor of the made-up one
    assert glove.missing("text").tolist() == [False, True, False, True, False]


def test_glove_coverage_counts_known_words():
    r = Glove().encode(["good movie", "qwzxv blorf", ""])
    cov = glove_coverage(r)
    assert cov.known == pytest.approx(0.5) and cov.no_known_word == 2
    assert cov.sentence() == (
        "GloVe knows 50.0% of the transcripts' words; 2 transcripts have no known word at all "
        "(NaN rows)."
    )
    assert glove_coverage(Glove().encode([""])).known == 0


def test_the_map_leaves_out_rows_without_a_vector_and_follows_the_label():
    rng = np.random.default_rng(0)
    labels = rng.uniform(-3, 3, 40)
    x = np.column_stack([10 * labels, rng.normal(0, 1, (40, 4))])  # PC1 is the label
    x[5] = np.nan
    m = embedding_map(x, labels, perplexity=10)
    assert m.rows.sum() == 39 and not m.rows[5]
    assert m.pca.shape == m.tsne.shape == (39, 2)
    assert 0.9 < m.explained <= 1
    assert m.label_r[0] > 0.99 and m.label_r[1] < 0.5
    assert m.sentence() == (
        f"|Pearson r| between the label and PC1, PC2: {m.label_r[0]:.2f}, {m.label_r[1]:.2f}."
    )
    # a label unrelated to the vectors: PC1 no longer follows it
    other = embedding_map(x, rng.permutation(labels), perplexity=10)
    assert other.label_r[0] < 0.5
