"""The text-encoder study (chapter 4): every transcript encoded by each encoder and by GloVe, timed.

:func:`encode_transcripts` embeds a segment table's transcripts with each frozen encoder given
(mean over tokens) and with averaged GloVe vectors, and gives the FeatureSets with a speed table
(width, seconds, transcripts per second, empty and truncated transcripts, mean tokens);
:func:`glove_coverage` states how many words GloVe knows. :func:`embedding_map` projects one
encoder's vectors to two dimensions (PCA and t-SNE) and states how strongly the two principal
components follow the label.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msa_lib.config import TextConfig
from msa_lib.data import FeatureSet, ModalityMeta
from msa_lib.extract.features.glove import Glove, GloveResult
from msa_lib.extract.features.text import TextEncoder, version
from msa_lib.extract.run.corpus import featureset_from_vectors

SPEED_COLUMNS = [
    "encoder",
    "dim",
    "segments",
    "seconds",
    "segments_per_s",
    "empty_texts",
    "truncated",
    "mean_tokens",
]
GLOVE_LABEL = "GloVe 6B {dim}-d mean"  # the GloVe row's name (the vectors of GloVe 6B)


def speed_row(
    name: str, dim: int, seconds: float, flags: Mapping[str, np.ndarray], n_tokens: np.ndarray
) -> dict:
    """One encoder's row of the speed table (``n_tokens``: tokens, or words, per transcript)."""
    n = len(n_tokens)
    return {
        "encoder": name,
        "dim": dim,
        "segments": n,
        "seconds": round(seconds, 2),
        "segments_per_s": round(n / seconds, 1),
        "empty_texts": int(np.sum(flags["empty_text"])),
        "truncated": int(np.sum(flags.get("truncated", 0))),
        "mean_tokens": round(float(np.mean(n_tokens)), 1),
    }


@dataclass
class EncodedTranscripts:
    """Each encoder's FeatureSet (GloVe last), the speed table, and GloVe's own counts."""

    embeddings: dict[str, FeatureSet]
    speed: pd.DataFrame
    glove: GloveResult


def encode_transcripts(
    table: pd.DataFrame,
    encoders: Mapping[str, TextConfig],
    glove: str = TextConfig().glove,
    corpus: str = "mosi",
    source: str = "real",
) -> EncodedTranscripts:
    """The ``text`` column of a segment table (with ids, labels and splits) encoded by each of
    ``encoders`` (name: settings) and by the GloVe vectors ``glove``, each timed on the encoding
    alone (the model loaded before)."""
    texts = table["text"].tolist()
    embeddings, rows = {}, []
    for name, cfg in encoders.items():
        enc = TextEncoder(cfg)
        t0 = time.perf_counter()
        res = enc.encode(texts)
        sec = time.perf_counter() - t0
        meta = ModalityMeta("transformers-mean-pool", version(), enc.params())
        embeddings[name] = featureset_from_vectors(
            table, res.vectors, "text", meta, corpus, source, flags=res.flags
        )
        rows.append(speed_row(name, enc.dim, sec, res.flags, res.n_tokens))
    vocab = Glove(glove)
    name = GLOVE_LABEL.format(dim=vocab.dim)
    t0 = time.perf_counter()
    g = vocab.encode(texts)
    sec = time.perf_counter() - t0
    meta = ModalityMeta("glove-mean", "GloVe 6B", vocab.params())
    embeddings[name] = featureset_from_vectors(
        table, g.vectors, "text", meta, corpus, source, flags=g.flags
    )
    rows.append(speed_row(name, vocab.dim, sec, g.flags, g.n_words))
    return EncodedTranscripts(embeddings, pd.DataFrame(rows, columns=SPEED_COLUMNS), g)


@dataclass(frozen=True)
class GloveCoverage:
    """How many of the transcripts' words GloVe knows."""

    known: float  # fraction of all words found in the vocabulary
    no_known_word: int  # transcripts without one known word (NaN rows)

    def sentence(self) -> str:
        """The coverage as the chapter states it."""
        return (
            f"GloVe knows {self.known:.1%} of the transcripts' words; {self.no_known_word} "
            "transcripts have no known word at all (NaN rows)."
        )


def glove_coverage(result: GloveResult) -> GloveCoverage:
    """The coverage of one :meth:`Glove.encode` result."""
    return GloveCoverage(
        known=float(result.n_known.sum() / max(result.n_words.sum(), 1)),
        no_known_word=int(result.flags["no_known_word"].sum()),
    )


@dataclass
class EmbeddingMap:
    """Vectors in two dimensions, and how the principal components follow the label."""

    rows: np.ndarray  # which input rows have a vector (the others are left out)
    pca: np.ndarray  # [n, 2]
    tsne: np.ndarray  # [n, 2]
    explained: float  # fraction of the variance the two principal components keep
    perplexity: float
    label_r: tuple[float, float]  # |Pearson r| between the label and PC1, PC2

    def sentence(self) -> str:
        """The correlations as the chapter states them."""
        r1, r2 = self.label_r
        return f"|Pearson r| between the label and PC1, PC2: {r1:.2f}, {r2:.2f}."


def embedding_map(
    x: np.ndarray, labels: Sequence[float], perplexity: float = 30, seed: int = 0
) -> EmbeddingMap:
    """PCA and t-SNE (``perplexity``, initialised by PCA) of the rows of ``x`` that are not all
    NaN, and the absolute correlation of the label with each principal component."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = np.asarray(x)
    ok = ~np.isnan(x).all(axis=1)
    y = np.asarray(labels)[ok]
    pca = PCA(n_components=2, random_state=seed).fit(x[ok])
    xy = pca.transform(x[ok])
    tsne = TSNE(
        n_components=2, init="pca", perplexity=perplexity, random_state=seed, n_jobs=2
    ).fit_transform(x[ok])
    r = tuple(abs(float(np.corrcoef(xy[:, i], y)[0, 1])) for i in range(2))
    return EmbeddingMap(
        ok, xy, tsne, float(pca.explained_variance_ratio_.sum()), float(perplexity), r
    )
