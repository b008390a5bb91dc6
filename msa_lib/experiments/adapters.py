"""The adapters study (chapter 6): every adapter kind scored where the true target vectors are known.

Input: for each named pair of extractors (e.g. "MiniLM -> GloVe-50"), train/valid/test folds of one
FeatureSet with modalities ``source`` and ``target`` for the same segments
(:func:`msa_lib.adapters.pairs.paired_featureset`). Each kind is fitted on the train fold and its
test outputs are scored against the true test vectors: reconstruction (MSE, cosine), spread, and
what a sentiment model trained on the true target vectors (a ridge, penalty chosen on valid) scores
on them. Two reference rows bound the table: ``truth`` (the true vectors) and ``target mean`` (the
training mean vector for every segment).

What the chapter states about the runs comes from :func:`adapter_verdicts` (one
:class:`PairVerdict` per pair) and :func:`closing_text`: whether each kind's downstream r is above
chance (its 95% Fisher-z interval against 0), how the paired kinds compare with the true vectors,
whether the paper's random-pair adapter carries information about its input
(:func:`nearer_own`: is an adapted vector nearer its own true vector than another segment's?),
and whether cosine and MSE rank the kinds as the downstream score does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msa_lib.adapters.base import build, get, names
from msa_lib.config import AdapterConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import r_interval, side_of, spread_ratio

REFERENCES = ("truth", "target mean")  # rows that depend on no adapter and no seed
PAPER_KIND = "paper"  # the paper's adapter: random pairs
CONFIDENCE = 0.95  # of every interval the verdicts read

# ci(value, lo, hi, sign=..., percent=...) -> "v [lo, hi]": the book's interval format, given by
# the chapter (msa_lib.book.format.ci_text; a study module does not import the book)
IntervalText = Callable[..., str]


def reconstruction(mapped: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Per-row MSE and cosine of mapped vectors to the true vectors of the same segments (means)."""
    m = np.asarray(mapped, float)
    t = np.asarray(truth, float)
    cos = (m * t).sum(1) / (np.linalg.norm(m, axis=1) * np.linalg.norm(t, axis=1) + 1e-12)
    return {"mse": float(((m - t) ** 2).mean()), "cosine": float(cos.mean())}


def adapter_quality(
    splits: Mapping[str, FeatureSet],
    kinds: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    config: AdapterConfig = AdapterConfig(),
    modality: str = "text",
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Each adapter kind (default: every registered one) fitted on train, scored on test.

    ``splits`` (train/valid/test) hold modalities ``source`` and ``target`` for the same segments,
    features of ``modality`` (each kind is built with its settings for it:
    :func:`~msa_lib.adapters.base.build`). Paired kinds learn from the train pairs; the others
    see the train sets unpaired. Returns one row per kind and seed (after the reference rows
    ``truth`` and ``target mean``, seed 0; column ``widths``: the fitted map's), and the first
    seed's mapped test vectors per kind (for plots).
    """
    from msa_lib.train.baselines import fit_ridge

    kinds = names() if kinds is None else list(kinds)
    train, test = splits["train"], splits["test"]
    ridge = fit_ridge(train, splits["valid"], ["target"])
    truth = test.features["target"]

    def score(kind: str, seed: int, mapped: np.ndarray, widths: str = "") -> dict:
        fs = dataclasses.replace(test, features={"target": mapped.astype(np.float32)})
        down = ridge.score(fs)
        return {
            "adapter": kind,
            "seed": seed,
            "widths": widths,
            **reconstruction(mapped, truth),
            "spread": spread_ratio(mapped, truth),
            **{k: down[k] for k in ("r", "mae", "acc2_non0", "f1_non0")},
            "n": down["n"],
        }

    rows = [score("truth", 0, truth)]
    mean = np.repeat(train.features["target"].mean(axis=0, keepdims=True), len(test), axis=0)
    rows.append(score("target mean", 0, mean))
    mapped_first: dict[str, np.ndarray] = {"truth": truth}
    pairs = (train.segment_id, train.segment_id)
    for kind in kinds:
        for seed in seeds:
            adapter = build(kind, dataclasses.replace(config, seed=seed), modality)
            adapter.fit(train.features["source"], train.features["target"], pairs)
            mapped = adapter.transform(test.features["source"])
            rows.append(score(kind, seed, mapped, adapter.widths()))
            mapped_first.setdefault(kind, mapped)
    out = pd.DataFrame(rows)
    out["alpha"] = ridge.alpha
    return out, mapped_first


def _one_seed(
    splits: Mapping[str, FeatureSet],
    kinds: Sequence[str],
    seed: int,
    config: AdapterConfig,
    modality: str,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """:func:`adapter_quality` for one seed on one torch thread (seeds run side by side)."""
    import torch

    torch.set_num_threads(1)
    return adapter_quality(splits, kinds, [seed], config, modality)


def adapter_runs(
    pairs: Mapping[str, Mapping[str, FeatureSet]],
    kinds: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    config: AdapterConfig = AdapterConfig(),
    n_jobs: int = 1,
    fold_names: Mapping[str, str] | None = None,
    modality: str = "text",
) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """:func:`adapter_quality` for every pair and seed, in ``n_jobs`` processes (one per seed);
    every pair maps features of ``modality``.

    Returns the runs table (one row per pair, kind and seed; the reference rows once per pair,
    seed 0; column ``pair``, and ``fold`` after ``adapter`` where ``fold_names`` describes each
    pair's folds) and, per pair, the mapped test vectors of the first seed per kind.
    """
    from joblib import Parallel, delayed

    kinds = names() if kinds is None else list(kinds)
    jobs = [(p, s) for p in pairs for s in seeds]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_one_seed)(pairs[p], kinds, s, config, modality) for p, s in jobs
    )
    runs = pd.concat(
        [
            rows.assign(pair=p, seed=np.where(rows["adapter"].isin(kinds), s, 0))
            for (p, s), (rows, _) in zip(jobs, results)
        ],
        ignore_index=True,
    )
    # the reference rows do not depend on the seed: every seed's run has them, keep one copy
    runs = runs.drop_duplicates(subset=["pair", "adapter", "seed"])
    mapped = {p: m for (p, s), (_, m) in zip(jobs, results) if s == seeds[0]}
    if fold_names is not None:
        runs.insert(1, "fold", runs["pair"].map(fold_names))
    return runs, mapped


# ----------------------------------------------------------------- what the runs say
def chance_word(lo: float, hi: float, chance: float = 0.0) -> str:
    """An interval against the chance value: "above chance", "at chance" (inside), "below chance"."""
    side = side_of(chance, lo, hi)
    return {
        "below": "above chance",
        "above": "below chance",
        "inside": "at chance",
        "undefined": "undefined",
    }[side]


def nearer_own(mapped: Mapping[str, np.ndarray], truth: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Per kind, the share of segments whose mapped vector is nearer (Euclidean) its own true
    vector than a randomly chosen other segment's (one permutation, drawn with ``seed``, for every
    kind), with its exact binomial interval: 0.5 means no information about the input.

    Columns: adapter, share, lo, hi, n.
    """
    from scipy.stats import binomtest

    truth = np.asarray(truth, float)
    other = truth[np.random.default_rng(seed).permutation(len(truth))]
    rows = []
    for kind, m in mapped.items():
        nearer = np.linalg.norm(m - truth, axis=1) < np.linalg.norm(m - other, axis=1)
        ci = binomtest(int(nearer.sum()), len(nearer)).proportion_ci(CONFIDENCE)
        rows.append(
            {"adapter": kind, "share": nearer.mean(), "lo": ci.low, "hi": ci.high, "n": len(nearer)}
        )
    return pd.DataFrame(rows, columns=["adapter", "share", "lo", "hi", "n"])


@dataclass(frozen=True)
class KindResult:
    """One row of a pair's results (a kind, or a reference row), mean over seeds."""

    adapter: str
    r: float  # the ridge's r on the adapted vectors
    lo: float  # Fisher-z interval of r at the pair's n
    hi: float
    cosine: float
    mse: float
    spread: float
    paired: bool = False

    @property
    def chance(self) -> str:
        """Where r lies against chance (see :func:`chance_word`)."""
        return chance_word(self.lo, self.hi)

    def r_value(self, ci: IntervalText) -> str:
        """``0.470 [0.409, 0.527]``, or ``undefined`` (constant vectors)."""
        return ci(self.r, self.lo, self.hi) if np.isfinite(self.r) else "undefined"

    def r_text(self, ci: IntervalText) -> str:
        """``r 0.470 [0.409, 0.527]``, or ``r undefined``."""
        return f"r {self.r_value(ci)}"


def _names(kinds: Sequence[KindResult]) -> str:
    """```coral` and `ot```, ```a`, `b` and `c```."""
    names = [f"`{k.adapter}`" for k in kinds]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class PairVerdict:
    """What one pair's runs show: every kind against chance, the truth and each other."""

    pair: str
    fold: str
    n: int  # held-out segments scored
    truth: KindResult
    mean: KindResult  # the target mean row
    kinds: tuple[KindResult, ...]  # adapter kinds, highest r first
    shares: Mapping[str, tuple[float, float, float]]  # kind -> share nearer own, lo, hi

    def kind(self, name: str) -> KindResult | None:
        """The result of kind ``name``, or None where it did not run."""
        return next((k for k in self.kinds if k.adapter == name), None)

    @property
    def paired(self) -> tuple[KindResult, ...]:
        """The kinds that learn from true pairs, highest r first."""
        return tuple(k for k in self.kinds if k.paired)

    @property
    def aligned(self) -> tuple[KindResult, ...]:
        """The kinds that learn without pairs (distribution alignment), highest r first."""
        return tuple(k for k in self.kinds if not k.paired and k.adapter != PAPER_KIND)

    def against_truth(self, kind: KindResult) -> str:
        """Where a kind's r lies against the true vectors' interval: above, inside, below."""
        return side_of(kind.r, self.truth.lo, self.truth.hi)

    def order(self, metric: str) -> list[str]:
        """The kinds ranked by ``metric`` (r and cosine: highest first; mse: lowest first)."""
        sign = 1 if metric == "mse" else -1
        ranked = sorted(
            self.kinds,
            key=lambda k: sign * getattr(k, metric) if np.isfinite(getattr(k, metric)) else np.inf,
        )
        return [k.adapter for k in ranked]

    @property
    def orders_agree(self) -> bool:
        """Whether cosine and MSE rank the kinds as the downstream r does."""
        return self.order("cosine") == self.order("r") == self.order("mse")

    def ranking_line(self) -> str:
        """The kinds ranked by the downstream r, as one bullet."""
        a = self.kinds
        text = (
            f"- **{self.pair}** ({self.fold}, n = {self.n}): ranking by the ridge's r on adapted "
            "vectors: "
            + ", ".join(f"`{k.adapter}` {k.r:.3f}" for k in a)
            + f" (true vectors: {self.truth.r:.3f})."
        )
        if len(a) > 1:
            text += (
                f" The best kind, `{a[0].adapter}`, leads `{a[1].adapter}` by "
                f"{a[0].r - a[1].r:.3f} in r"
            )
            paper = self.kind(PAPER_KIND)
            if paper is not None and paper is not a[0]:
                text += f" and the paper's random-pair adapter by {a[0].r - paper.r:.3f}"
            text += "."
        if self.aligned:
            best = self.aligned[0]
            text += f" The best kind without pairs, `{best.adapter}`, reaches {best.r:.3f}."
        return text

    def metrics_sentence(self, ci: IntervalText) -> str:
        """The training mean vector and the paper's adapter: cosine against the downstream r."""
        m, t = self.mean, self.truth
        text = (
            f"On {self.pair} the training mean vector has cosine {m.cosine:.3f} to the true vectors"
        )
        paper = self.kind(PAPER_KIND)
        if paper is not None:
            text += (
                f" and the `paper` adapter {paper.cosine:.3f}; the ridge's r is {m.r_value(ci)} on "
                f"the first (constant predictions) and {paper.r_value(ci)} on the second "
                f"({paper.chance}), against {t.r:.3f} on the true vectors."
            )
        else:
            text += f"; the ridge's r is {m.r_value(ci)} on it, against {t.r:.3f} on the truth."
        lower = [k for k in self.kinds if k.cosine < m.cosine and k.adapter != PAPER_KIND]
        if lower:
            text += (
                f" {_names(lower)} {'has' if len(lower) == 1 else 'have'} a lower cosine than the "
                "mean vector ("
                + ", ".join(f"{k.cosine:.3f}" for k in lower)
                + ") and r "
                + ", ".join(f"{k.r:.3f}" for k in lower)
                + "."
            )
        return text

    def collapse_sentence(
        self, ci: IntervalText, config: AdapterConfig, other: str = "paired-ridge"
    ) -> str:
        """The paper's adapter: the spread of its outputs, and whether they are nearer their own
        true vectors than chance (``other``: the kind set beside it)."""
        paper, o = self.kind(PAPER_KIND), self.kind(other)
        if paper is None or PAPER_KIND not in self.shares:
            return f"The `{PAPER_KIND}` adapter did not run on {self.pair}."
        share, lo, hi = self.shares[PAPER_KIND]
        text = f"The `paper` adapter's outputs have a spread of {paper.spread:.2f} of the true vectors'"
        text += f" (`{other}`: {o.spread:.2f}); " if o is not None else "; "
        text += (
            f"{ci(share, lo, hi, percent=True)} of its outputs are nearer their own segment's true "
            "vector than another segment's"
        )
        if o is not None and other in self.shares:
            text += f", against {ci(*self.shares[other], percent=True)} for `{other}`"
        if chance_word(lo, hi, 0.5) == "at chance":
            return text + (
                ". That is chance (0.5 lies inside the interval): what spread remains is not "
                f"information about the input. The {config.epochs} epochs on "
                f"{config.n_target_samples} random pairs fit noise, and the network passes its "
                "input through weights that no pair constrained."
            )
        return text + (
            f" (0.5 lies {side_of(0.5, lo, hi)} the interval): its outputs are not independent "
            "of which segment they came from."
        )


def pair_verdict(
    runs: pd.DataFrame, shares: pd.DataFrame | None = None, fold: str = ""
) -> PairVerdict:
    """The verdict of one pair's rows of :func:`adapter_runs` (seed means) and, where given, its
    :func:`nearer_own` shares."""
    if runs["pair"].nunique() != 1:
        raise ValueError(
            f"pair_verdict: expected one pair's rows, got {sorted(runs['pair'].unique())}"
        )
    missing = sorted(set(REFERENCES) - set(runs["adapter"]))
    if missing:
        raise ValueError(f"pair_verdict: the runs lack the reference row(s) {missing}")
    mean = runs.groupby("adapter", sort=False)[["r", "cosine", "mse", "spread", "n"]].mean()
    n = int(mean["n"].max())

    def result(kind: str) -> KindResult:
        row = mean.loc[kind]
        lo, hi = r_interval(float(row["r"]), n, CONFIDENCE)
        paired = kind not in REFERENCES and bool(get(kind).paired)
        return KindResult(
            kind, float(row["r"]), lo, hi, float(row["cosine"]), float(row["mse"]),
            float(row["spread"]), paired,
        )  # fmt: skip

    kinds = sorted(
        (result(k) for k in mean.index if k not in REFERENCES),
        key=lambda k: -k.r if np.isfinite(k.r) else np.inf,
    )
    share = {} if shares is None else {
        row.adapter: (row.share, row.lo, row.hi) for row in shares.itertuples()
    }  # fmt: skip
    if not fold and "fold" in runs:
        fold = str(runs["fold"].iloc[0])
    return PairVerdict(
        runs["pair"].iloc[0], fold, n, result("truth"), result("target mean"), tuple(kinds), share
    )


def closing_text(verdicts: Sequence[PairVerdict], ci: IntervalText) -> str:
    """The chapter's findings over every pair: paired kinds, the paper's, the alignment kinds, and
    whether cosine and MSE rank the kinds as the downstream score does."""
    out = [v.ranking_line() for v in verdicts]
    paras = []
    # paired kinds against chance and against the true vectors
    paired = [(v, k) for v in verdicts for k in v.paired]
    if paired:
        carry = all(k.chance == "above chance" for _, k in paired)
        parts = [
            f"on {v.pair} the true vectors reach {v.truth.r_text(ci)}, and "
            + ", ".join(
                f"`{k.adapter}` {k.r_text(ci)} ({k.chance}, {v.against_truth(k)} the truth's "
                "interval)"
                for k in v.paired
            )
            for v in verdicts
            if v.paired
        ]
        text = (
            (
                "Adapters trained on true pairs carry the sentiment information: "
                if carry
                else "Adapters trained on true pairs do not all carry the sentiment information: "
            )
            + "; ".join(parts)
            + "."
        )
        if any(v.against_truth(k) == "above" for v, k in paired):
            text += (
                " Scoring above the true vectors is possible: a map from a richer source encoder "
                "can add information the target extractor lacks."
            )
        paras.append(text)
    # the paper's random-pair adapter
    papers = [(v, v.kind(PAPER_KIND)) for v in verdicts if v.kind(PAPER_KIND) is not None]
    if papers:
        none = all(k.chance == "at chance" for _, k in papers) and all(
            chance_word(*v.shares[PAPER_KIND][1:], 0.5) == "at chance"
            for v, _ in papers
            if PAPER_KIND in v.shares
        )
        parts = []
        for v, k in papers:
            part = f"on {v.pair} its {k.r_text(ci)} ({k.chance})"
            if PAPER_KIND in v.shares:
                part += (
                    f", {ci(*v.shares[PAPER_KIND], percent=True)} of its outputs nearer their own "
                    "true vector than another segment's (0.5: none)"
                )
            part += (
                f", cosine to the truth {k.cosine:.3f} (training mean vector: {v.mean.cosine:.3f})"
            )
            parts.append(part)
        head = (
            "The paper's random-pair adapter carries no information about its input: "
            if none
            else "The paper's random-pair adapter is not at chance everywhere: "
        )
        paras.append(head + "; ".join(parts) + ".")
    # distribution alignment without pairs
    aligned = [(v, k) for v in verdicts for k in v.aligned]
    if aligned:
        parts = [f"on {v.pair}, `{k.adapter}` {k.r_text(ci)} ({k.chance})" for v, k in aligned]
        text = (
            "Distribution alignment without pairs (CORAL, optimal transport) matches the target's "
            "shape, not which segment goes where: " + "; ".join(parts) + "."
        )
        best = [(v, v.aligned[0], v.paired[0]) for v in verdicts if v.aligned and v.paired]
        below = [(v, a, p) for v, a, p in best if a.r < p.lo]
        if below:
            text += (
                " The best kind without pairs stays below the best paired kind's interval on "
                + (
                    ", ".join(
                        f"{v.pair} (`{a.adapter}` {a.r:.3f}, `{p.adapter}` {p.r:.3f})"
                        for v, a, p in below
                    )
                    + "."
                )
            )
        paras.append(text)

    # reconstruction metrics against the downstream score
    def ranks(v: PairVerdict) -> str:
        return "; ".join(
            f"by {label} " + ", ".join(f"`{k}`" for k in v.order(metric))
            for metric, label in (("r", "r"), ("cosine", "cosine"), ("mse", "MSE"))
        )

    differ = [v for v in verdicts if not v.orders_agree]
    agree = [v for v in verdicts if v.orders_agree]
    if differ:
        text = (
            "Cosine and MSE do not rank the kinds as the downstream score does on "
            + ", ".join(f"{v.pair} ({ranks(v)})" for v in differ)
            + ": a high cosine does not mean the information is there, and the downstream score "
            "is the measure that ranks adapters."
        )
        if agree:
            text += f" On {', '.join(v.pair for v in agree)} the three orders agree."
    else:
        text = (
            "Here cosine and MSE rank the kinds as the downstream score does: "
            + "; ".join(f"{v.pair} ({ranks(v)})" for v in agree)
            + "."
        )
    paras.append(text)
    return "\n".join(out) + "\n\n" + "\n\n".join(paras)


def adapter_verdicts(
    runs: pd.DataFrame, shares: Mapping[str, pd.DataFrame] | None = None
) -> dict[str, PairVerdict]:
    """:func:`pair_verdict` of every pair in :func:`adapter_runs`' table (``shares``: per pair,
    its :func:`nearer_own` table, where measured)."""
    shares = shares or {}
    return {
        p: pair_verdict(runs[runs["pair"] == p], shares.get(p)) for p in dict.fromkeys(runs["pair"])
    }
