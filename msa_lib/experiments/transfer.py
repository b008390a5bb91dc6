"""Cross-domain transfer of a trained fusion model, one row per setting, scored on the target test fold.

A :class:`TransferData` holds a **source** domain (the features a model is trained on: MOSEI in
the paper's spaces, or GloVe vectors of MOSI transcripts) and a **target** domain (new features of
the corpus to be scored: MOSI from new extractors), both with train/valid/test folds, and, where
both extractors ran on the same segments, the pairs paired adapters learn from. Settings:

- ``source model``: the model trained on source train (selected on source valid), scored on the
  source test fold (its own domain);
- ``zero-shot``: the same model on target test features mapped by an adapter (a registered kind
  of :mod:`msa_lib.adapters`, built for each modality with the kind's settings there:
  :func:`msa_lib.adapters.base.build`), no target label used; with ``adabn``, BatchNorm
  statistics re-estimated on the unlabelled adapted target train features; adapter ``none``
  (widths equal only) feeds the target features unchanged. Every kind's row is reported; the
  **headline** kind is fixed in advance (:data:`HEADLINE_KINDS`, :func:`headline_kind`), never
  chosen on target labels;
- ``fine-tuned``: the source model after adaptation, trained further on target train labels
  (selected on target valid), scored on target test;
- ``target only``: a model trained on target train alone, for comparison.

Each row says which target labels it used (column ``target_labels``). The zero-shot kind of
highest target-validation r is a choice made with target labels: :func:`label_selected_rows`
reports it as a row of its own, in its own group, labelled so.

Every setting is run for each seed (source model, adapters, fine-tuning all seeded) and the
target test fold is scored once per setting and seed. :func:`summarise` gives mean metrics over
seeds with 95% intervals of a bootstrap over seeds and test segments together
(:func:`~msa_lib.evaluate.two_level_ci`): they hold the randomness of training as well as that of
the test sample. With a cache
folder, every trained model, adapter set and fine-tuned row is kept in a
:class:`~msa_lib.io.cache.ResultCache` under a key of the data, the settings and the code.

What the chapter states comes from :func:`transfer_verdict` (one transfer's answer) and
:func:`closing_text` (the findings over every transfer), read from :func:`summarise`'s rows: a
setting is at chance when its interval of r contains 0, and one setting is set against another by
where its r lies against the other's interval.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from msa_lib.adapters.adabn import adabn_fusion
from msa_lib.adapters.base import Adapter, build, get, names
from msa_lib.config import AdapterConfig, LossConfig, ModelConfig, SynthConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics, side_of, two_level_ci
from msa_lib.experiments.adapters import PAPER_KIND, chance_word
from msa_lib.io.cache import ResultCache, cache_key
from msa_lib.train.codehash import code_fingerprint
from msa_lib.train.fusion import TrainedModel, fine_tune, fit, predict

SETTINGS = ("source model", "zero-shot", "fine-tuned", "target only")
ALIGNMENT_KINDS = ("coral", "ot")  # kinds that align distributions without pairs
# The headline zero-shot kind, fixed before any run: the simplest map of each family, the first
# the data supports. Where true pairs exist, a linear map fitted on them (closed form, no seed);
# where none exist, CORAL's linear map of means and covariances. No label of either domain enters
# the choice.
HEADLINE_KINDS = ("paired-ridge", "coral")
# The target labels each setting uses (the source model's own labels are the source domain's).
TARGET_LABELS = {
    "source model": "none",
    "zero-shot": "none",
    "zero-shot + AdaBN": "none",
    "fine-tuned": "train, valid",
    "target only": "train, valid",
}
SELECTED = "zero-shot, kind chosen on target labels"  # the setting of label_selected_rows
SELECTED_LABELS = "valid (to choose the kind)"

# ci(value, lo, hi, sign=...) -> "v [lo, hi]": the book's interval format, given by the chapter
# (msa_lib.book.format.ci_text; a study module does not import the book)
IntervalText = Callable[..., str]


class TransferError(ValueError):
    """Transfer inputs that cannot be used (missing folds, modalities, pairs)."""


@dataclass
class TransferData:
    """Source and target domains (train/valid/test each) and optional paired segments."""

    name: str  # e.g. "synthetic MOSEI -> MOSI"
    data_source: str  # "real" or "synthetic"
    source: Mapping[str, FeatureSet]
    target: Mapping[str, FeatureSet]
    modalities: Sequence[str]
    pairs: tuple[FeatureSet, FeatureSet] | None = None  # (target-space, source-space) same ids

    def __post_init__(self) -> None:
        for side in ("source", "target"):
            sets = getattr(self, side)
            for fold in ("train", "valid", "test"):
                if fold not in sets or len(sets[fold]) == 0:
                    raise TransferError(f"{self.name}: the {side} domain has no {fold} segments")
                lacking = [m for m in self.modalities if m not in sets[fold].features]
                if lacking:
                    raise TransferError(f"{self.name}: {side} {fold} lacks modalities {lacking}")

    def kinds(self, requested: Sequence[str]) -> list[str]:
        """The requested adapter kinds this data supports (paired kinds need pairs; none equal widths)."""
        out = []
        for k in requested:
            if k == "none":
                if self.same_widths:
                    out.append(k)
            elif self.pairs is not None or not get(k).paired:
                out.append(k)
        return out

    @property
    def same_widths(self) -> bool:
        """Whether every modality has the same width in both domains."""
        s, t = self.source["train"].dims, self.target["train"].dims
        return all(s[m] == t[m] for m in self.modalities)


def oracle_r(config: SynthConfig, modalities: Sequence[str] = ("visual", "audio", "text")) -> float:
    """The best r any model can reach from the synthetic generator's per-modality sentiment signals.

    Each modality's signal has correlation ``rho_m`` with the standardised label and independent
    noise, so the best linear combination reaches ``r^2 = S / (1 + S)``, ``S = sum rho^2 / (1 - rho^2)``
    (frame noise and nuisance factors only lower what a model reaches).
    """
    s = sum(config.signal[m] ** 2 / (1 - config.signal[m] ** 2) for m in modalities)
    return math.sqrt(s / (1 + s))


# ----------------------------------------------------------------- pieces
def rows_without_nan(fs: FeatureSet, modalities: Sequence[str]) -> FeatureSet:
    """The labelled segments with every modality present (adapters and AdaBN need whole rows)."""
    ok = ~np.isnan(fs.label)
    for m in modalities:
        ok &= np.isfinite(fs.features[m]).all(axis=1)
    return fs.take(np.flatnonzero(ok))


def adapt_set(
    fs: FeatureSet, adapters: Mapping[str, Adapter | None], widths: Mapping[str, int]
) -> FeatureSet:
    """``fs`` with each modality mapped by its adapter (``None``: unchanged)."""
    feats = {}
    for m, ad in adapters.items():
        x = fs.features[m]
        feats[m] = x if ad is None else ad.transform(x).astype(np.float32)
        if feats[m].shape[1] != widths[m]:
            raise TransferError(
                f"{fs.corpus}: {m} features are {feats[m].shape[1]}-d after adaptation; the model "
                f"expects {widths[m]}-d"
            )
    return dataclasses.replace(fs, features=feats, meta={}, flags={})


def headline_kind(kinds: Sequence[str]) -> str | None:
    """The headline zero-shot kind among ``kinds``: the first of :data:`HEADLINE_KINDS` present,
    else the first kind that maps features (None where there is none). Fixed in advance: no
    label is read."""
    fixed = next((k for k in HEADLINE_KINDS if k in kinds), None)
    return fixed or next((k for k in kinds if k != "none"), None)


def label_selected_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Per transfer of a :func:`summarise` table, the zero-shot row (without AdaBN) of highest
    mean target-validation r, as a row of its own: setting :data:`SELECTED`, target labels
    :data:`SELECTED_LABELS`. Choosing the kind reads target labels, so the row belongs in its own
    group, never among the zero-shot rows."""
    zs = table[(table["setting"] == "zero-shot") & table["valid_r"].notna()]
    if zs.empty:
        return table.iloc[0:0].copy()
    chosen = zs.groupby("data", sort=False)["valid_r"].idxmax().to_numpy()
    out = table.loc[chosen].copy()
    out["setting"] = SELECTED
    out["target_labels"] = SELECTED_LABELS
    return out.reset_index(drop=True)


def fit_adapters(data: TransferData, kind: str, config: AdapterConfig) -> dict[str, Adapter | None]:
    """One adapter of ``kind`` per modality from target-domain features into the source space.

    Paired kinds learn from ``data.pairs``, the others from both train folds, unpaired; kind
    ``none`` is no adapter (``None`` per modality). Each adapter has the settings its kind uses
    on that modality (:func:`~msa_lib.adapters.base.build`: the ``paper`` kind the paper's
    hidden width per modality, every other kind ``config`` as given).
    """
    out: dict[str, Adapter | None] = {}
    for m in data.modalities:
        if kind == "none":
            out[m] = None
            continue
        adapter = build(kind, config, m)
        if adapter.paired:
            if data.pairs is None:
                raise TransferError(f"{data.name}: adapter kind '{kind}' needs paired segments")
            t_fs, s_fs = data.pairs
        else:
            t_fs, s_fs = data.target["train"], data.source["train"]
        src, tgt = t_fs.features[m], s_fs.features[m]
        ok_s = np.isfinite(src).all(axis=1)
        ok_t = np.isfinite(tgt).all(axis=1)
        pairs = (t_fs.segment_id[ok_s], s_fs.segment_id[ok_t]) if adapter.paired else None
        out[m] = adapter.fit(src[ok_s], tgt[ok_t], pairs)
    return out


def adapter_widths(adapters: Mapping[str, Adapter | None]) -> str:
    """Each modality's map as the tables state it: ``visual 65→512→512→713; audio 74→256→256→74``
    (empty where no modality is mapped)."""
    return "; ".join(f"{m} {a.widths()}" for m, a in adapters.items() if a is not None)


def _row(
    setting: str,
    adapter: str,
    adabn: bool,
    seed: int,
    fs: FeatureSet,
    pred: np.ndarray,
    valid_r: float = float("nan"),
    widths: str = "",
) -> dict:
    return {
        "setting": setting,
        "adapter": adapter,
        "adabn": adabn,
        "seed": seed,
        "valid_r": valid_r,
        "widths": widths,
        "segment_id": fs.segment_id,
        "label": fs.label.astype(np.float64),
        "pred": np.asarray(pred, np.float64),
    }


def _valid_r(trained: TrainedModel, fs: FeatureSet) -> float:
    return metrics(fs.label, predict(trained, fs))["r"]


# ----------------------------------------------------------------- jobs
def data_key(data: TransferData) -> str:
    """A hash of the domains' ids, labels, folds and features (the cache's data part)."""
    import hashlib

    h = hashlib.sha256(data.name.encode())
    sets = [*data.source.values(), *data.target.values(), *(data.pairs or ())]
    for fs in sets:
        for arr in (fs.segment_id.astype("U"), fs.split.astype("U"), fs.label):
            h.update(np.ascontiguousarray(arr).tobytes())
        for m in data.modalities:
            h.update(np.ascontiguousarray(fs.features[m]).tobytes())
    return h.hexdigest()[:20]


def transfer_code() -> str:
    """A fingerprint of the code the jobs run: this module's imports and every adapter kind's module.

    The adapter kinds' modules load through the registry, not by an import this module states,
    so they are added by name.
    """
    modules = [__name__, *sorted({get(k).__module__ for k in names()})]
    return cache_key(*[code_fingerprint(m) for m in modules], length=64)


def _clean(data: TransferData) -> tuple[dict[str, FeatureSet], dict[str, FeatureSet]]:
    mods = list(data.modalities)
    src = {k: rows_without_nan(v, mods) for k, v in data.source.items()}
    tgt = {k: rows_without_nan(v, mods) for k, v in data.target.items()}
    return src, tgt


def train_job(
    data: TransferData,
    side: str,
    seed: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> TrainedModel:
    """The model trained on one domain's train fold (selected on its valid fold), for one seed."""
    torch.set_num_threads(1)
    src, tgt = _clean(data)
    folds = src if side == "source" else tgt
    cfg = dataclasses.replace(train_config, seed=seed, num_threads=1)
    model, _ = fit(
        model_config, cfg, folds["train"], folds["valid"], loss_config, list(data.modalities), False
    )
    return model


def adapter_job(data: TransferData, kind: str, seed: int, config: AdapterConfig) -> dict:
    """One kind's adapters (one per modality) for one seed."""
    torch.set_num_threads(1)
    return fit_adapters(data, kind, dataclasses.replace(config, seed=seed))


def zero_shot_rows(
    source_model: TrainedModel,
    folds: Mapping[str, FeatureSet],
    kind: str,
    seed: int,
    widths: str = "",
) -> list[dict]:
    """Zero-shot rows for one adapter kind and seed: without and with AdaBN on target train."""
    rows = []
    for use_bn in (False, True):
        model = adabn_fusion(source_model, folds["train"]) if use_bn else source_model
        rows.append(
            _row(
                "zero-shot",
                kind,
                use_bn,
                seed,
                folds["test"],
                predict(model, folds["test"]),
                _valid_r(model, folds["valid"]),
                widths,
            )
        )
    return rows


def fine_tune_job(
    source_model: TrainedModel,
    folds: Mapping[str, FeatureSet],
    kind: str,
    seed: int,
    fine_tune_config: TrainConfig,
    widths: str = "",
) -> dict:
    """The fine-tuned setting after ``kind``'s adaptation, for one seed."""
    torch.set_num_threads(1)
    cfg = dataclasses.replace(fine_tune_config, seed=seed, num_threads=1)
    tuned = fine_tune(source_model, folds["train"], folds["valid"], cfg)
    return _row(
        "fine-tuned",
        kind,
        False,
        seed,
        folds["test"],
        predict(tuned, folds["test"]),
        tuned.best_valid_r,
        widths,
    )


# ----------------------------------------------------------------- summaries
def summarise(
    rows: Sequence[dict],
    data_name: str,
    data_source: str,
    n_resamples: int = 1000,
    ci_metrics: Sequence[str] = ("r", "mae", "acc2_non0"),
) -> pd.DataFrame:
    """One line per (setting, adapter, adabn): metrics averaged over seeds, 95% bootstrap bounds,
    the adapter's widths per modality and the target labels the setting used."""
    frame = pd.DataFrame(rows)
    out = []
    for (setting, adapter, bn), g in frame.groupby(["setting", "adapter", "adabn"], sort=False):
        g = g.sort_values("seed")
        ids = g["segment_id"].iloc[0]
        if any(not np.array_equal(ids, other) for other in g["segment_id"]):
            raise TransferError(f"{setting}/{adapter}: seeds scored different segments")
        y = g["label"].iloc[0]
        preds = list(g["pred"])
        per_seed = pd.DataFrame([metrics(y, p) for p in preds])
        line = {
            "setting": setting + (" + AdaBN" if bn else ""),
            "adapter": adapter,
            "adabn": bool(bn),
            "data": data_name,
            "data_source": data_source,
            "n": len(y),
            "seeds": len(preds),
            **{m: float(per_seed[m].mean()) for m in ("r", "mae", "acc2_non0", "f1_non0")},
            "r_sd": float(per_seed["r"].std(ddof=1)) if len(preds) > 1 else float("nan"),
            "widths": str(g["widths"].iloc[0]) if "widths" in g else "",
            "target_labels": TARGET_LABELS.get(
                setting + (" + AdaBN" if bn else ""), "train, valid"
            ),
            "valid_r": float(np.nanmean(g["valid_r"]))
            if g["valid_r"].notna().any()
            else float("nan"),
        }
        for m in ci_metrics:
            _, line[f"{m}_lo"], line[f"{m}_hi"] = two_level_ci(y, preds, m, n_resamples=n_resamples)
        out.append(line)
    return pd.DataFrame(out)


def run_transfer(
    data: TransferData,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    kinds: Sequence[str] = ("none", "paper", "paired-mlp", "paired-ridge", "coral", "ot"),
    adapter_config: AdapterConfig = AdapterConfig(),
    model_config: ModelConfig = ModelConfig(),
    train_config: TrainConfig = TrainConfig(),
    fine_tune_config: TrainConfig = TrainConfig(max_epochs=40, patience=10),
    loss_config: LossConfig = LossConfig(),
    n_jobs: int = 1,
    fine_tune_kinds: Sequence[str] | None = None,
    cache_dir: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Every setting for every seed; returns per-seed rows (with predictions) and the fine-tuned kinds.

    Models and adapters are trained as separate jobs (``n_jobs`` processes, one torch thread
    each); zero-shot scoring and AdaBN run in this process. Fine-tuning follows the paper's
    adapter and the headline kind (:func:`headline_kind`, fixed in advance), unless
    ``fine_tune_kinds`` names the kinds. With ``cache_dir``, each trained model, adapter set and
    fine-tuned row is stored there (:class:`~msa_lib.io.cache.ResultCache` kinds
    ``transfer-model``, ``transfer-adapters``, ``transfer-finetuned``) under a key of the data,
    the settings and the code (:func:`transfer_code`), so an interrupted run resumes from
    finished jobs.
    """
    from joblib import Parallel, delayed

    models = ResultCache(cache_dir, "transfer-model")
    adapter_sets = ResultCache(cache_dir, "transfer-adapters")
    tuned_rows = ResultCache(cache_dir, "transfer-finetuned")
    base = [transfer_code(), data_key(data)] if cache_dir is not None else []

    kinds = data.kinds(kinds)
    jobs = [("model", side, s) for side in ("source", "target") for s in seeds]
    jobs += [("adapter", k, s) for k in kinds for s in seeds if k != "none"]

    def job(what: str, name: str, seed: int):
        if what == "model":
            key = cache_key(*base, name, seed, model_config, train_config, loss_config)
            return models.cached(
                key, lambda: train_job(data, name, seed, model_config, train_config, loss_config)
            )
        key = cache_key(*base, name, seed, adapter_config)
        return adapter_sets.cached(key, lambda: adapter_job(data, name, seed, adapter_config))

    def tune(k: str, s: int):
        configs = (model_config, train_config, loss_config, adapter_config, fine_tune_config)
        return tuned_rows.cached(
            cache_key(*base, k, s, *configs),
            lambda: fine_tune_job(
                result[("model", "source", s)],
                adapted[(k, s)],
                k,
                s,
                fine_tune_config,
                widths[(k, s)],
            ),
        )

    done = Parallel(n_jobs=n_jobs)(delayed(job)(*j) for j in jobs)
    result = dict(zip(jobs, done))
    src, tgt = _clean(data)
    rows = []
    adapted: dict[tuple[str, int], dict[str, FeatureSet]] = {}
    widths: dict[tuple[str, int], str] = {}
    for s in seeds:
        source_model = result[("model", "source", s)]
        rows.append(
            _row("source model", "none", False, s, src["test"], predict(source_model, src["test"]))
        )
        alone = result[("model", "target", s)]
        rows.append(_row("target only", "none", False, s, tgt["test"], predict(alone, tgt["test"])))
        for k in kinds:
            ads = result.get(("adapter", k, s)) or {m: None for m in data.modalities}
            folds = {f: adapt_set(v, ads, source_model.dims) for f, v in tgt.items()}
            adapted[(k, s)] = folds
            widths[(k, s)] = adapter_widths(ads)
            rows += zero_shot_rows(source_model, folds, k, s, widths[(k, s)])
    if fine_tune_kinds is None:
        fine_tune_kinds = [k for k in dict.fromkeys(("paper", headline_kind(kinds))) if k in kinds]
    tuned = Parallel(n_jobs=n_jobs)(delayed(tune)(k, s) for k in fine_tune_kinds for s in seeds)
    return pd.DataFrame(rows + list(tuned)), list(fine_tune_kinds)


# ----------------------------------------------------------------- what the rows say
@dataclass(frozen=True)
class Score:
    """A setting's mean r over seeds and its 95% interval."""

    r: float
    lo: float
    hi: float
    valid_r: float = float("nan")  # mean target-validation r, where the setting has one

    @property
    def chance(self) -> str:
        """Where the interval lies against 0: above, at or below chance."""
        return chance_word(self.lo, self.hi)

    def text(self, ci: IntervalText) -> str:
        """``0.460 [0.407, 0.512]``."""
        return ci(self.r, self.lo, self.hi)

    def against(self, other: Score) -> str:
        """Where this r lies against ``other``'s interval: above, inside, below."""
        return side_of(self.r, other.lo, other.hi)


@dataclass(frozen=True)
class TransferVerdict:
    """One transfer's settings, as the chapter answers "does adaptation transfer, and which kind"."""

    name: str
    synthetic: bool
    n: int  # target test segments scored
    own: Score  # the source model in its own domain
    alone: Score  # a model trained on the target alone
    headline: str  # the zero-shot kind fixed in advance (headline_kind)
    selected: str  # the zero-shot kind of highest target-validation r: a choice with labels
    zero_shot: Mapping[str, Score]
    adabn: Mapping[str, Score] = field(default_factory=dict)
    tuned: Mapping[str, Score] = field(default_factory=dict)
    paired: tuple[str, ...] = ()  # zero-shot kinds that learned from true pairs
    oracle: float | None = None

    @property
    def aligned(self) -> tuple[str, ...]:
        """The zero-shot kinds that align distributions without pairs."""
        return tuple(k for k in self.zero_shot if k in ALIGNMENT_KINDS)

    @property
    def lead(self) -> Score:
        """The headline zero-shot row."""
        return self.zero_shot[self.headline]

    def line(self, ci: IntervalText) -> str:
        """The answer for this transfer, from its rows."""
        z, lead = self.zero_shot, self.lead
        parts = [
            f"**{self.name}** ({'SYNTHETIC' if self.synthetic else 'real'}, n = {self.n} target "
            f"test segments): the source model scores r {self.own.r:.3f} in its own domain. "
            f"Zero-shot through the kind fixed in advance, `{self.headline}`: test r "
            f"{lead.text(ci)} ({lead.chance})"
        ]
        if PAPER_KIND in z and self.headline != PAPER_KIND:
            paper = z[PAPER_KIND]
            parts.append(
                f", against {paper.text(ci)} for the paper's random-pair adapter "
                f"({lead.r - paper.r:+.3f})"
            )
        if self.headline in self.adabn:
            parts.append(f"; AdaBN on top gives {self.adabn[self.headline].r:.3f}")
        parts.append(f". A model trained on the target alone reaches {self.alone.r:.3f}")
        if self.tuned:
            parts.append(
                "; fine-tuned after adaptation: "
                + ", ".join(f"`{k}` {v.r:.3f}" for k, v in self.tuned.items())
            )
        if self.oracle is not None:
            parts.append(f"; the oracle bound is {self.oracle:.3f}")
        parts.append(".")
        if self.selected == self.headline:
            parts.append(
                " The kind of highest target-validation r is the same one, so choosing with "
                "target labels would not change the headline."
            )
        else:
            chosen = z[self.selected]
            parts.append(
                f" Chosen with target validation labels, the kind would be `{self.selected}` "
                f"(test r {chosen.text(ci)}, {round(chosen.r - lead.r, 3) + 0.0:+.3f}): a choice "
                "that is not zero-shot, reported in its own group."
            )
        return "".join(parts)


def _score(row: pd.Series) -> Score:
    """A :func:`summarise` row's r, interval and validation r."""
    return Score(float(row["r"]), float(row["r_lo"]), float(row["r_hi"]), float(row["valid_r"]))


def transfer_verdict(
    table: pd.DataFrame, name: str, oracle: float | None = None
) -> TransferVerdict:
    """The verdict of one transfer's rows of :func:`summarise` (``data`` equal to ``name``)."""
    t = table[table["data"] == name]
    if t.empty:
        raise ValueError(
            f"transfer_verdict: no rows of '{name}' (have {sorted(table['data'].unique())})"
        )
    one = {s: t[t["setting"] == s] for s in ("source model", "target only")}
    lacking = [s for s, rows in one.items() if rows.empty]
    if lacking:
        raise ValueError(f"transfer_verdict: '{name}' has no {lacking} row")
    zs = t[t["setting"] == "zero-shot"].set_index("adapter")
    if zs.empty:
        raise ValueError(f"transfer_verdict: '{name}' has no zero-shot rows")
    bn = t[t["setting"] == "zero-shot + AdaBN"].set_index("adapter")
    tuned = t[t["setting"] == "fine-tuned"].set_index("adapter")
    alone = one["target only"].iloc[0]
    headline = headline_kind(list(zs.index)) or str(zs.index[0])
    valid = zs["valid_r"].astype(float)
    return TransferVerdict(
        name=name,
        synthetic=t["data_source"].iloc[0] == "synthetic",
        n=int(alone["n"]),
        own=_score(one["source model"].iloc[0]),
        alone=_score(alone),
        headline=headline,
        selected=str(valid.idxmax()) if valid.notna().any() else headline,
        zero_shot={k: _score(r) for k, r in zs.iterrows()},
        adabn={k: _score(r) for k, r in bn.iterrows()},
        tuned={k: _score(r) for k, r in tuned.iterrows()},
        paired=tuple(k for k in zs.index if k not in ("none",) and get(k).paired),
        oracle=oracle,
    )


_AS_OWN = {
    "above": "better than its own inputs",
    "inside": "about as well as its own inputs",
    "below": "less well than its own inputs",
}


def closing_text(verdicts: Sequence[TransferVerdict], ci: IntervalText) -> str:
    """The chapter's findings over every transfer: the paper's adapter, paired kinds, alignment
    without pairs, and training on the target's labels. No finding rests on a kind chosen with
    target labels: every kind of a family is named, and the comparisons use the headline kind."""
    paras = []
    papers = [v for v in verdicts if PAPER_KIND in v.zero_shot]
    if papers:
        rows = [
            (v, label, s)
            for v in papers
            for label, s in (
                ("zero-shot", v.zero_shot[PAPER_KIND]),
                ("+ AdaBN", v.adabn.get(PAPER_KIND)),
            )
            if s is not None
        ]
        at_chance = all(s.chance == "at chance" for _, _, s in rows)
        head = (
            "The paper's random-pair adapter does not transfer in any of the measurements here: "
            "its zero-shot rows, with and without AdaBN, are at chance"
            if at_chance
            else "The paper's random-pair adapter is not at chance in every zero-shot row"
        )
        paras.append(
            head
            + " ("
            + "; ".join(f"{v.name} {label} r {s.text(ci)}, {s.chance}" for v, label, s in rows)
            + ")."
        )
    with_pairs = [v for v in verdicts if v.paired]
    if with_pairs:
        parts = []
        for v in with_pairs:
            kinds = [(k, v.zero_shot[k]) for k in v.paired]
            sides = {s.against(v.own) for _, s in kinds}
            side = sides.pop() if len(sides) == 1 else "mixed"
            reads = (
                f"through every paired kind the model reads the target features {_AS_OWN[side]}"
                if side in _AS_OWN
                else "the paired kinds disagree on how well the model reads the target features"
            )
            parts.append(
                f"on {v.name} the source model's own-domain r is {v.own.text(ci)}, and {reads}: "
                "zero-shot "
                + ", ".join(
                    f"`{k}` r {s.text(ci)} ({s.chance}, {s.against(v.own)} that interval)"
                    for k, s in kinds
                )
            )
        paras.append(
            "Paired adapters (the same input through both extractors): " + "; ".join(parts) + "."
        )
    aligned = [v for v in verdicts if v.aligned]
    if aligned:
        parts = []
        for v in aligned:
            kinds = ", ".join(
                f"`{k}` r {v.zero_shot[k].text(ci)} ({v.zero_shot[k].chance})" for k in v.aligned
            )
            if v.paired:
                below = all(
                    v.zero_shot[a].r < v.zero_shot[p].lo for a in v.aligned for p in v.paired
                )
                kinds += (
                    f", {'all below' if below else 'not all below'} the interval of every paired "
                    "kind"
                )
            parts.append(f"on {v.name}, {kinds}")
        paras.append(
            "Without pairs, alignment by second moments (CORAL) or optimal transport: "
            + "; ".join(parts)
            + "."
        )
    parts = []
    for v in verdicts:
        parts.append(
            f"on {v.name} the model trained on the target alone reaches r {v.alone.text(ci)}, "
            f"{v.alone.against(v.lead)} the interval of the headline zero-shot setting "
            f"(`{v.headline}`)"
            + (
                "; fine-tuned after adaptation: "
                + ", ".join(f"`{k}` {s.r:.3f}" for k, s in v.tuned.items())
                if v.tuned
                else ""
            )
        )
    stronger = all(v.alone.against(v.lead) == "above" for v in verdicts)
    paras.append(
        (
            "Where labelled target data exist, training on them is the stronger baseline that a "
            "transfer claim has to beat: "
            if stronger
            else "Training on the target's labels is not above the headline zero-shot setting in "
            "every transfer: "
        )
        + "; ".join(parts)
        + "."
    )
    return "\n\n".join(paras)


# ----------------------------------------------------------------- how the chapter lays rows out
ORDER = ("source model", "zero-shot", "zero-shot + AdaBN", "fine-tuned", "target only", SELECTED)


def display_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped as the chapter shows them: the source model, every zero-shot row, AdaBN,
    fine-tuned, target only, then the row chosen with target labels; any other setting last."""
    rank = table["setting"].map({s: i for i, s in enumerate(ORDER)}).fillna(len(ORDER))
    return table.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank")


def widths_table(table: pd.DataFrame) -> pd.DataFrame:
    """Each transfer's adapter kinds and the widths of their maps, one column per modality
    (from the ``widths`` column of :func:`summarise`'s zero-shot rows; "–" where not mapped)."""
    zs = table[(table["setting"] == "zero-shot") & (table["widths"].fillna("") != "")]
    rows = []
    for (data, kind), w in zip(zip(zs["data"], zs["adapter"]), zs["widths"]):
        per = dict(part.split(" ", 1) for part in str(w).split("; "))
        rows.append({"transfer": data, "adapter": kind, **per})
    out = pd.DataFrame(rows)
    return out.fillna("–") if not out.empty else out
