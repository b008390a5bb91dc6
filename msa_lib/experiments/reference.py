"""Published numbers the book states or compares against, typed from their printed sources.

- the paper's Table 1 (Roswendi 2025) and what it says of its data;
- the anchors: published models on the official CMU-MOSI/MOSEI test folds, as their papers
  report them;
- the corpora as released: CMU-MOSI (Zadeh et al. 2016) and CMU-MOSEI (Zadeh et al. 2018) with
  the CMU Multimodal SDK's standard folds, and the bc-LSTM feature release (Poria et al. 2017).

- the paper's public code: the repository and the commit the book reads it at
  (:data:`PAPER_CODE`), and :func:`code_citation` to cite one of its files wherever the book
  states what that code does.

Nothing here is computed: the book shows these under a "published" tag (the ``*_SOURCE``
strings, through :func:`msa_lib.book.format.published`), never as its own results.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

PAPER = (
    "Roswendi (2025), Cross-Domain Multimodal Sentiment Analysis through Dataset Fusion and "
    "Multi-Objective Learning, Table 1"
)
# Where each published table of this module comes from, as its caption's "published" tag says it.
TABLE1_SOURCE = "Roswendi (2025), Table 1"
ANCHORS_SOURCE = "the models' own papers, cited in the caption"
CORPORA_SOURCE = "the corpora's papers and the CMU Multimodal SDK's standard folds"

# The paper's public code, at the commit the book reads it (every statement about what that code
# does cites a file of this tree: code_citation).
PAPER_CODE = {
    "repository": "rayhanros2030/Multimodal-Sentiment-Analysis",
    "commit": "f41198ad059a3b7ff13210169db1ea5e9614828e",
    "url": "https://github.com/rayhanros2030/Multimodal-Sentiment-Analysis/tree/"
    "f41198ad059a3b7ff13210169db1ea5e9614828e",
}
# The files of that tree the book states facts about.
PAPER_CODE_FILES = (
    "train_mosei_test_mosi_with_adapters.py",
    "train_mosei_only.py",
    "train_facemesh_bert_librosa_cmumosi.py",
    "FACEMESH_FEATURE_EXTRACTION.py",
)


def code_url(file: str) -> str:
    """The address of one file of the paper's code at the cited commit."""
    if file not in PAPER_CODE_FILES:
        raise ValueError(f"code_url: '{file}' is not a cited file of the paper's code")
    return f"https://github.com/{PAPER_CODE['repository']}/blob/{PAPER_CODE['commit']}/{file}"


def code_citation(file: str, symbols: Sequence[str] = ()) -> str:
    """A Markdown citation of a file of the paper's code (and the functions meant), with the
    repository and the commit: ``[`file`](url) (`fn`) in rayhanros2030/... at commit f41198a``."""
    names = f" ({', '.join(f'`{s}`' for s in symbols)})" if symbols else ""
    return (
        f"[`{file}`]({code_url(file)}){names} in `{PAPER_CODE['repository']}` at commit "
        f"`{PAPER_CODE['commit'][:7]}`"
    )


def code_source() -> str:
    """The paper's text and code as the source of a table: its "published" tag."""
    return f"Roswendi (2025) and its code, {PAPER_CODE['repository']} at {PAPER_CODE['commit'][:7]}"


def paper_table1() -> pd.DataFrame:
    """Table 1 of the paper as printed (MOSEI, pre-extracted features; its own random split)."""
    rows = [
        ("A", 0.5678, 0.5574, 0.2604, 0.5423, 0.5656, 0.2703),
        ("V", 0.5632, 0.5642, 0.2625, 0.4797, 0.5659, 0.3265),
        ("T", 0.1093, 0.3401, 0.7932, 0.2142, 0.4440, 0.6526),
        ("A+V", 0.4680, 0.5398, 0.3494, 0.4233, 0.5395, 0.3835),
        ("A+T", 0.1064, 0.3362, 0.8024, 0.2138, 0.4330, 0.6705),
        ("T+V", 0.1086, 0.3379, 0.7951, 0.2160, 0.4398, 0.6686),
        ("T+V+A", 0.1075, 0.3358, 0.7979, 0.2197, 0.4462, 0.6622),
    ]
    cols = ["subset", "train_loss", "train_mae", "train_r", "valid_loss", "valid_mae", "valid_r"]
    return pd.DataFrame(rows, columns=cols)


ANCHOR_COLUMNS = [
    "model",
    "text features",
    "MOSI MAE",
    "MOSI r",
    "MOSI Acc-2 non0",
    "MOSEI MAE",
    "MOSEI r",
    "MOSEI Acc-2 non0",
    "citation",
]


def anchors() -> pd.DataFrame:
    """Published multimodal models on the official test folds: MAE, r and Acc-2 (non-0, in %)."""
    rows = [
        (
            "TFN",
            "GloVe",
            0.901,
            0.698,
            80.8,
            0.593,
            0.700,
            82.5,
            "Zadeh et al. (2017), Tensor Fusion Network for Multimodal Sentiment Analysis, EMNLP",
        ),
        (
            "MulT",
            "GloVe",
            0.871,
            0.698,
            83.0,
            0.580,
            0.703,
            82.5,
            "Tsai et al. (2019), Multimodal Transformer for Unaligned Multimodal Language "
            "Sequences, ACL",
        ),
        (
            "MISA",
            "BERT",
            0.783,
            0.761,
            83.4,
            0.555,
            0.756,
            85.5,
            "Hazarika et al. (2020), MISA: Modality-Invariant and -Specific Representations for "
            "Multimodal Sentiment Analysis, ACM MM",
        ),
        (
            "Self-MM",
            "BERT",
            0.712,
            0.795,
            84.8,
            0.530,
            0.765,
            85.2,
            "Yu et al. (2021), Learning Modality-Specific Representations with Self-Supervised "
            "Multi-Task Learning for Multimodal Sentiment Analysis, AAAI",
        ),
    ]
    return pd.DataFrame(rows, columns=ANCHOR_COLUMNS)


# The corpora as released. Folds: the CMU Multimodal SDK's standard folds (by video).
CORPORA = {
    "mosi": {
        "segments": 2199,
        "videos": 93,
        "folds": {"train": 1284, "valid": 229, "test": 686},
        "citation": "Zadeh et al. (2016), MOSI: Multimodal Corpus of Sentiment Intensity and "
        "Subjectivity Analysis in Online Opinion Videos, IEEE Intelligent Systems",
    },
    "mosei": {
        "segments": 23259,
        "videos": 3837,
        "hours": 65.0,
        "folds": {"train": 16331, "valid": 1871, "test": 4662},
        "unassigned": 395,  # segments of videos in no standard fold
        "citation": "Zadeh et al. (2018), Multimodal Language Analysis in the Wild: CMU-MOSEI "
        "Dataset and Interpretable Dynamic Fusion Graph, ACL",
    },
}

# The bc-LSTM release's MOSI utterance features and the split its extractors were trained on.
BCLSTM = {
    "dims": {"audio": 73, "visual": 100, "text": 100},
    "split_videos": {"train": 62, "test": 31},
    "citation": "Poria et al. (2017), Context-Dependent Sentiment Analysis in User-Generated "
    "Videos, ACL",
}

# What the paper's public code does with MOSEI: whole videos as samples (about 3.3k), split at
# random without a seed, instead of the 23k standard segments.
PAPER_CODE_MOSEI_SAMPLES = 3300
