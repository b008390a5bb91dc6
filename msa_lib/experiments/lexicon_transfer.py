"""A real cross-domain transfer with no MOSI label (chapter 7): sentiment scorers built on other
text, scored on the MOSI transcripts' official test fold.

- **VADER** (Hutto and Gilbert 2014, ``vaderSentiment``): a valence lexicon rated by people and
  rules tuned on social-media text; the score is its ``compound`` value in [-1, 1];
- **TextBlob** (``textblob``'s default ``PatternAnalyzer``): the pattern library's lexicon of
  adjectives that occur in product reviews, tagged by hand; the score is its polarity in [-1, 1];
- **MiniLM anchors**: the MiniLM sentence vector of each transcript (the vectors chapters 4-8
  share) scored by its mean cosine to the fixed positive anchor sentences minus its mean cosine to
  the negative ones (:data:`POSITIVE_ANCHORS`, :data:`NEGATIVE_ANCHORS`, written before any MOSI
  score was seen and never tuned on a MOSI label): how far a general-purpose encoder gets before
  any sentiment training.

Transcripts are lower-cased before scoring (MOSI's are in capitals, and VADER reads capitals as
emphasis). r and Acc-2 (non-0) are zero-shot: they read the raw scores, a positive score meaning
positive sentiment. MAE needs the label scale: a line ``label = a * score + b`` fitted by least
squares on the MOSI **training** fold's labels (the only labels any of these rows read) maps the
test scores onto it. Intervals: 95% percentile bootstrap over test segments, as the chapter's
other transfers have (no training, so no seeds).

:func:`overview` sets these rows beside the chapter's other transfers in one table whose rows
say what was trained on what; :func:`lexicon_sentence` states what the rows show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msa_lib.config import TextConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics, seed_mean_ci, side_of
from msa_lib.experiments.adapters import chance_word

# Written before any score on MOSI was computed; mirrored pairs, about nothing in particular.
POSITIVE_ANCHORS = (
    "I really loved it.",
    "This is great, I enjoyed every minute of it.",
    "It was wonderful and I would recommend it to everyone.",
    "I am very happy with how good it was.",
)
NEGATIVE_ANCHORS = (
    "I really hated it.",
    "This is terrible, I did not enjoy any of it.",
    "It was awful and I would not recommend it to anyone.",
    "I am very disappointed with how bad it was.",
)
VADER, TEXTBLOB, ANCHORS = "VADER", "TextBlob (pattern)", "MiniLM anchors"
# What each scorer was built from (the overview's "trained on" column).
BUILT_FROM = {
    VADER: "VADER's lexicon: valence rated by people, rules tuned on social-media text",
    TEXTBLOB: "pattern's lexicon: adjectives from product reviews, tagged by hand",
    ANCHORS: "MiniLM (sentence pairs, no sentiment label) and the fixed anchor sentences",
}
NO_LABEL = "none (MAE: a line fitted on the train fold)"
CI_METRICS = ("r", "acc2_non0", "mae")

# ci(value, lo, hi, sign=...) -> "v [lo, hi]": the book's interval format, given by the chapter
IntervalText = Callable[..., str]


class LexiconError(ValueError):
    """Inputs the lexicon transfer cannot use (no transcripts, no test fold, another encoder)."""


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound score of each text (lower-cased), in [-1, 1]."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    return np.array([vader.polarity_scores(str(t).lower())["compound"] for t in texts], float)


def textblob_scores(texts: Sequence[str]) -> np.ndarray:
    """TextBlob's pattern polarity of each text (lower-cased), in [-1, 1]."""
    from textblob.en.sentiments import PatternAnalyzer

    pattern = PatternAnalyzer()
    return np.array([pattern.analyze(str(t).lower()).polarity for t in texts], float)


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    x = np.asarray(x, float)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def anchor_scores(vectors: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """Mean cosine of each vector to the positive anchors minus its mean cosine to the negative."""
    v = _unit(vectors)
    return (v @ _unit(positive).T).mean(axis=1) - (v @ _unit(negative).T).mean(axis=1)


def anchor_vectors(config: TextConfig) -> tuple[np.ndarray, np.ndarray]:
    """The anchor sentences through the text encoder of ``config`` (positive, negative)."""
    from msa_lib.extract.features.text import TextEncoder

    enc = TextEncoder(config)
    return (
        enc.encode(list(POSITIVE_ANCHORS)).vectors,
        enc.encode(list(NEGATIVE_ANCHORS)).vectors,
    )


def encoder_config(fs: FeatureSet, modality: str = "text") -> TextConfig:
    """The text encoder settings a FeatureSet's vectors were made with (so anchors match them)."""
    meta = fs.meta.get(modality)
    if meta is None or "model" not in meta.params:
        raise LexiconError(
            f"{fs.corpus or 'feature set'}: '{modality}' has no encoder in its metadata; anchor "
            "sentences must go through the encoder that made the vectors"
        )
    return TextConfig(model=meta.params["model"], max_length=int(meta.params["max_length"]))


def calibration(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of the least-squares line ``label = a * score + b``."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, float)
    if len(scores) < 2 or np.ptp(scores) == 0:
        raise LexiconError(
            f"calibration: {len(scores)} training scores without spread; a line needs two values"
        )
    a, b = np.polyfit(scores, labels, 1)
    return float(a), float(b)


def scorer_row(
    name: str,
    scores: pd.Series,
    labels: pd.Series,
    split: pd.Series,
    n_resamples: int = 1000,
) -> dict:
    """One scorer's row: zero-shot r and Acc-2 on the test fold, MAE after a line fitted on train.

    ``scores``, ``labels`` and ``split`` share one index (segment ids); NaN scores are left out.
    """
    ok = scores.notna() & labels.notna()
    train, test = ok & (split == "train"), ok & (split == "test")
    if test.sum() < 3:
        raise LexiconError(f"{name}: {int(test.sum())} scored test segments; need at least 3")
    a, b = calibration(scores[train].to_numpy(), labels[train].to_numpy())
    y, raw = labels[test].to_numpy(float), scores[test].to_numpy(float)
    m = metrics(y, raw)
    row = {
        "scorer": name,
        "built from": BUILT_FROM.get(name, name),
        "MOSI labels": NO_LABEL,
        "n": int(test.sum()),
        "seeds": 0,
        "r": m["r"],
        "acc2_non0": m["acc2_non0"],
        "mae": float(np.mean(np.abs(a * raw + b - y))),
        "calibration_a": a,
        "calibration_b": b,
    }
    for metric in CI_METRICS:
        pred = a * raw + b if metric == "mae" else raw
        _, row[f"{metric}_lo"], row[f"{metric}_hi"] = seed_mean_ci(
            y, [pred], metric, n_resamples=n_resamples
        )
    return row


def lexicon_transfer(
    segments: pd.DataFrame,
    vectors: FeatureSet | None = None,
    n_resamples: int = 1000,
    anchors: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The three scorers' rows (:func:`scorer_row`) on a segments table (columns segment_id,
    split, label, text) and, for the anchors, the transcripts' sentence vectors (``vectors``,
    modality ``text``; none: the anchor row is left out). ``anchors`` (positive, negative) defaults
    to the anchor sentences through the encoder that made ``vectors``."""
    lacking = sorted({"segment_id", "split", "label", "text"} - set(segments.columns))
    if lacking:
        raise LexiconError(f"lexicon transfer: the segments table lacks columns {lacking}")
    seg = segments.set_index("segment_id")
    has_text = seg["text"].fillna("").astype(str).str.strip() != ""
    texts = seg.loc[has_text, "text"].astype(str)
    rows = []
    for name, fn in ((VADER, vader_scores), (TEXTBLOB, textblob_scores)):
        scores = pd.Series(np.nan, index=seg.index)
        scores[texts.index] = fn(texts.tolist())
        rows.append(scorer_row(name, scores, seg["label"], seg["split"], n_resamples))
    if vectors is not None:
        pos, neg = anchors if anchors is not None else anchor_vectors(encoder_config(vectors))
        x = np.asarray(vectors.features["text"], float)
        ok = np.isfinite(x).all(axis=1)
        scores = pd.Series(np.nan, index=seg.index)
        known = pd.Index(vectors.segment_id[ok]).intersection(seg.index)
        where = {s: i for i, s in enumerate(vectors.segment_id)}
        scores[known] = anchor_scores(x[[where[s] for s in known]], pos, neg)
        rows.append(scorer_row(ANCHORS, scores, seg["label"], seg["split"], n_resamples))
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- beside the other transfers
OVERVIEW_COLUMNS = [
    "transfer",
    "model trained on",
    "map fitted on",
    "MOSI labels used",
    "data_source",
    "n",
    "seeds",
    *[f"{m}{s}" for m in CI_METRICS for s in ("", "_lo", "_hi")],
]


def overview(
    transfers: Sequence[Mapping[str, object]], lexicon: pd.DataFrame, data_source: str
) -> pd.DataFrame:
    """One table of every transfer, its rows saying what was trained on what.

    ``transfers``: rows of the chapter's other transfers, each a :func:`transfer.summarise` row
    (r, mae, acc2_non0 and their bounds, n, seeds, data_source) with ``transfer``, ``model trained
    on``, ``map fitted on`` and ``MOSI labels used`` added; ``lexicon``: :func:`lexicon_transfer`'s
    rows, computed on data of ``data_source``.
    """
    rows = [{k: t.get(k, np.nan) for k in OVERVIEW_COLUMNS} for t in transfers]
    for _, r in lexicon.iterrows():
        row = {k: r.get(k, np.nan) for k in OVERVIEW_COLUMNS}
        row.update(
            {
                "transfer": f"{r['scorer']}, zero-shot",
                "model trained on": r["built from"],
                "map fitted on": "none",
                "MOSI labels used": r["MOSI labels"],
                "data_source": data_source,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)


@dataclass(frozen=True)
class ScorerResult:
    """One scorer's test r and its interval."""

    name: str
    r: float
    lo: float
    hi: float
    acc2: float

    @property
    def chance(self) -> str:
        """Where the interval lies against 0."""
        return chance_word(self.lo, self.hi)


def lexicon_sentence(
    lexicon: pd.DataFrame,
    reference: Mapping[str, float],
    reference_name: str,
    ci: IntervalText,
    synthetic: bool = False,
) -> str:
    """What the label-free scorers show, against a model trained on MOSI's labels (``reference``:
    its r, r_lo, r_hi)."""
    results = [
        ScorerResult(r["scorer"], r["r"], r["r_lo"], r["r_hi"], r["acc2_non0"])
        for _, r in lexicon.iterrows()
    ]
    if not results:
        raise LexiconError("lexicon_sentence: no scorer rows")
    what = "the generated SYNTHETIC transcripts" if synthetic else "the MOSI transcripts"
    parts = [
        f"With no MOSI label, on {what} (test fold, n = {int(lexicon['n'].iloc[0])}): "
        + "; ".join(
            f"{s.name} r {ci(s.r, s.lo, s.hi)} ({s.chance}), Acc-2 {s.acc2:.1%}" for s in results
        )
        + "."
    ]
    best = max(results, key=lambda s: s.r)
    side = side_of(best.r, reference["r_lo"], reference["r_hi"])
    gap = reference["r"] - best.r
    parts.append(
        f" The best of them, {best.name}, lies {side} the interval of {reference_name} "
        f"(r {ci(reference['r'], reference['r_lo'], reference['r_hi'])}"
        + (f", {gap:.3f} higher" if side == "below" else "")
        + ")"
    )
    above = [s for s in results if s.chance == "above chance"]
    parts.append(
        (
            f": text alone carries sentiment across domains without a single MOSI label, and "
            f"{len(above)} of the {len(results)} label-free scorers are above chance."
        )
        if above
        else ": none of the label-free scorers is above chance here."
    )
    return "".join(parts)
