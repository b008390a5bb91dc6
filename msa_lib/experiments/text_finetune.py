"""The fine-tuning study: one text model per seed on the MOSI training fold, scored once on its test fold.

Each seed fine-tunes :mod:`msa_lib.train.text`'s recipe, keeps the epoch of highest validation r
and scores the test fold once; the table holds every seed, their mean and sd with bootstrap
intervals, and the ensemble of the seeds' predictions. Each finished seed (its model, a checkpoint
folder, and ``scores.json``) is a folder of a :class:`~msa_lib.io.cache.ResultCache` (kind
``text-finetune``) keyed by data, settings, seed and code.

:func:`text_verdict` states what the seeds show against the goals set for the model
(:data:`GOALS`), a published model's MOSI figures and the frozen encoder's ridge;
:func:`save_best_model` / :func:`load_best_model` keep the best seed's model in the book's results
for the section that uses it (``msa predict``'s bundle).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from msa_lib.config import TextFineTuneConfig
from msa_lib.evaluate import metrics, two_level_ci
from msa_lib.io.cache import ResultCache, cache_key, digest
from msa_lib.io.jsonio import dumps
from msa_lib.train.text import FineTunedText, fine_tune_text

CACHE_KIND = "text-finetune"
MODEL_DIR = "model"  # a seed's checkpoint folder inside its cache folder
SCORES_FILE = "scores.json"
TABLE_NAME = "text_finetuned"
TABLE_METRICS = ("r", "mae", "acc2_non0", "f1_non0", "acc7")
CI_METRICS = ("r", "mae", "acc2_non0")
FOLDS = ("train", "valid", "test")


def trained_on_label(source: str, corpus: str = "mosi") -> str:
    """What a model's ``info['trained_on']`` says for data of this source."""
    name = {"mosi": "CMU-MOSI", "mosei": "CMU-MOSEI"}.get(corpus, corpus)
    if source == "real":
        return f"{name} train fold (real)"
    return (
        f"SYNTHETIC {corpus} corpus train fold (generated bag-of-words transcripts, not real data)"
    )


def text_folds(segments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The train/valid/test rows (segment_id, text, label) of a segment table, or a clear error."""
    need = {"segment_id", "text", "label", "split"}
    missing = need - set(segments.columns)
    if missing:
        raise ValueError(f"segment table lacks column(s) {sorted(missing)} (has {list(segments)})")
    out = {}
    for fold in FOLDS:
        rows = segments.loc[segments["split"] == fold, ["segment_id", "text", "label"]]
        rows = rows[rows["label"].notna()].reset_index(drop=True)
        if len(rows) < 2:
            raise ValueError(f"segment table has {len(rows)} labelled '{fold}' rows; need >= 2")
        empty = [str(s) for s, t in zip(rows["segment_id"], rows["text"]) if not str(t).strip()]
        if empty or rows["text"].isna().any():
            raise ValueError(f"'{fold}' rows without a transcript: {empty[:5]}")
        out[fold] = rows
    return out


def data_key(folds: dict[str, pd.DataFrame]) -> str:
    """A hash of the folds' ids, transcripts and labels (the cache's data part)."""
    parts: list[str | np.ndarray] = []
    for fold, rows in folds.items():
        parts += [fold, pd.util.hash_pandas_object(rows, index=False).to_numpy()]
    return digest(*parts)


def run_key(
    folds: dict[str, pd.DataFrame], config: TextFineTuneConfig, seed: int, code: str
) -> str:
    """A hash of everything one seed's run depends on: data, settings, seed and code."""
    return cache_key(code, data_key(folds), config, int(seed))


def train_seed(
    folds: dict[str, pd.DataFrame],
    config: TextFineTuneConfig,
    seed: int,
    trained_on: str,
    out_dir: Path,
) -> dict:
    """Train one seed (one torch thread), score valid and test once; write the model (a checkpoint
    folder, ``model/``) and the scores (``scores.json``) into ``out_dir``; returns the scores."""
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    tr, va, te = (folds[f] for f in FOLDS)
    model = fine_tune_text(
        tr["text"].tolist(), tr["label"], va["text"].tolist(), va["label"], config, seed, trained_on
    )
    seconds = time.perf_counter() - t0
    pred = model.predict(te["text"].tolist())
    model.info["test"] = metrics(te["label"].to_numpy(), pred)
    model.save(out_dir / MODEL_DIR)
    scores = {
        "seed": int(seed),
        "epoch": model.info["epoch"],
        "val_r": model.info["val_r"],
        "val_mae": model.info["val_mae"],
        "seconds": seconds,
        "test_pred": [float(p) for p in pred],
        "history": model.info["history"],
    }
    (out_dir / SCORES_FILE).write_text(dumps(scores) + "\n", encoding="utf-8")
    return read_scores(out_dir)


def read_scores(folder: Path) -> dict:
    """A finished seed's ``scores.json`` (an undefined value, null in the file, as NaN)."""
    scores = json.loads((folder / SCORES_FILE).read_text(encoding="utf-8"))
    return {k: float("nan") if v is None else v for k, v in scores.items()}


def seed_job(
    cache: ResultCache,
    folds: dict[str, pd.DataFrame],
    config: TextFineTuneConfig,
    seed: int,
    trained_on: str,
    code: str,
) -> dict:
    """One seed's scores: read from its finished folder in ``cache``, else trained into it."""
    return cache.cached_folder(
        run_key(folds, config, seed, code),
        lambda folder: train_seed(folds, config, seed, trained_on, folder),
        read_scores,
    )


def _finite(value: float | None) -> float:
    """``value``, with null or NaN (an undefined validation r) as minus infinity."""
    return -np.inf if value is None or not np.isfinite(value) else float(value)


def scored_row(name: str, labels: np.ndarray, pred: np.ndarray, n_resamples: int) -> dict:
    """Test metrics of one set of predictions with 95% percentile-bootstrap bounds."""
    from msa_lib.evaluate import bootstrap_ci

    row = {"seed": name, **{m: metrics(labels, pred)[m] for m in TABLE_METRICS}}
    for m in CI_METRICS:
        _, row[f"{m}_lo"], row[f"{m}_hi"] = bootstrap_ci(
            labels, pred, m, n_resamples=n_resamples, method="percentile"
        )
    return row


def results_table(
    labels: np.ndarray, preds: dict[int, np.ndarray], extra: pd.DataFrame, n_resamples: int = 1000
) -> pd.DataFrame:
    """Rows: each seed, ``mean`` (CIs of the seed-mean metric over seeds and test segments
    together, :func:`~msa_lib.evaluate.two_level_ci`), ``sd``, and ``ensemble``.

    ``ensemble`` scores the seeds' predictions averaged per segment (one model of all seeds, at
    their summed cost); it is left out for a single seed.
    """
    per_seed = pd.DataFrame([scored_row(str(s), labels, p, n_resamples) for s, p in preds.items()])
    mean = {"seed": "mean", **per_seed[list(TABLE_METRICS)].mean().to_dict()}
    sd = {"seed": "sd", **per_seed[list(TABLE_METRICS)].std(ddof=1).to_dict()}
    for m in CI_METRICS:
        _, mean[f"{m}_lo"], mean[f"{m}_hi"] = two_level_ci(
            labels, list(preds.values()), m, n_resamples=n_resamples
        )
    rows = [mean, sd]
    if len(preds) > 1:
        ensemble = np.mean(np.stack(list(preds.values())), axis=0)
        rows.append(scored_row("ensemble", labels, ensemble, n_resamples))
    table = pd.concat([per_seed, pd.DataFrame(rows)], ignore_index=True)
    table["n_test"] = len(labels)
    extra = extra.assign(seed=extra["seed"].astype(str)).set_index("seed")
    numeric = extra.select_dtypes("number")
    extra.loc["mean"], extra.loc["sd"] = numeric.mean(), numeric.std(ddof=1)
    return table.merge(extra.reset_index(), on="seed", how="left")


def run_text_finetune(
    data,
    config: TextFineTuneConfig = TextFineTuneConfig(),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    source: str | None = None,
    n_resamples: int = 1000,
) -> tuple[pd.DataFrame, FineTunedText]:
    """Fine-tune one model per seed on MOSI train, choose epochs on valid, score test once per seed.

    ``data``: a :class:`~msa_lib.data.folder.DataFolder` (its MOSI segment table) or a segment
    table (columns segment_id, text, label, split; ``source`` says "real" or "synthetic").
    Seeds run in ``n_jobs`` worker processes (joblib), one torch thread each. Each finished seed
    (model folder + scores) lives under ``cache_dir`` keyed by data, settings, seed and code, so
    a rerun or an interrupted run resumes from whole seeds; without ``cache_dir`` a temporary
    folder holds them. Returns the table (one row per seed, ``mean``, ``sd``, ``ensemble``; CIs,
    validation r, chosen epoch, seconds) and the model of the seed with the highest validation r.
    """
    import shutil
    import tempfile

    from joblib import Parallel, delayed

    from msa_lib.train.codehash import code_fingerprint

    if hasattr(data, "segments"):
        segments, source = data.segments("mosi"), data.source
    else:
        segments = data
    if source not in ("real", "synthetic"):
        raise ValueError(f"source must be 'real' or 'synthetic', got {source!r}")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and not empty, got {seeds}")
    folds = text_folds(segments)
    trained_on = trained_on_label(source)
    # without a cache folder, a scratch one holds the seeds' models until the best is loaded
    scratch = None if cache_dir is not None else tempfile.mkdtemp(prefix="msa-text-finetune-")
    cache = ResultCache(cache_dir if cache_dir is not None else scratch, CACHE_KIND)
    code = code_fingerprint(__name__) if cache_dir is not None else ""
    try:
        jobs = (delayed(seed_job)(cache, folds, config, s, trained_on, code) for s in seeds)
        done = Parallel(n_jobs=min(n_jobs, len(seeds)))(jobs)
        labels = folds["test"]["label"].to_numpy(np.float64)
        preds = {d["seed"]: np.asarray(d["test_pred"], np.float64) for d in done}
        extra = pd.DataFrame(
            [{k: d[k] for k in ("seed", "val_r", "val_mae", "epoch", "seconds")} for d in done]
        )
        table = results_table(labels, preds, extra, n_resamples)
        best_seed = max(done, key=lambda d: _finite(d["val_r"]))["seed"]
        best_key = run_key(folds, config, best_seed, code)
        best = FineTunedText.load(cache.path(best_key, folder=True) / MODEL_DIR)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return table, best


# ----------------------------------------------------------------- the saved model
SAVED_MODEL = "text_model"  # the best seed's model, a checkpoint folder in the book's results
TEXT_SECTION = "08_1_text"  # the book's section that trains and saves it


def save_best_model(model: FineTunedText, results_dir: str | Path) -> Path:
    """Save the best seed's model as ``<results_dir>/text_model`` (a checkpoint folder)."""
    return model.save(Path(results_dir) / SAVED_MODEL)


def load_best_model(results_dir: str | Path, source: str) -> FineTunedText:
    """The model :func:`save_best_model` left in ``results_dir``, trained on data of ``source``;
    a FileNotFoundError names the folder and the section to run first when it is absent, a
    ValueError when it was trained on the other kind of data."""
    path = Path(results_dir) / SAVED_MODEL
    run_first = f"run the text section first (`msa book --only {TEXT_SECTION} --no-html`)"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: no fine-tuned text model here; {run_first}")
    model = FineTunedText.load(path)
    if model.info.get("trained_on") != trained_on_label(source):
        raise ValueError(
            f"{path}: the text model was trained on {model.info.get('trained_on')!r}, not on this "
            f"run's {source} data; {run_first}"
        )
    return model


# ----------------------------------------------------------------- verdicts
# The goal set for the fine-tuned model: Self-MM's MOSI figures (BERT-base, all three modalities),
# rounded up, with text alone.
GOALS = {"r": 0.80, "mae": 0.71, "acc2_non0": 0.86}
GOAL_NAMES = {"r": "r", "mae": "MAE", "acc2_non0": "Acc-2 (non-0)"}
LOWER_IS_BETTER = ("mae",)
REFERENCE_MODEL = "Self-MM"
REFERENCE_COLUMNS = {"r": "MOSI r", "mae": "MOSI MAE", "acc2_non0": "MOSI Acc-2 non0"}


def _better(metric: str, value: float, than: float, strict: bool = True) -> bool:
    """Whether ``value`` is better than ``than`` on ``metric`` (or as good, without ``strict``)."""
    if metric in LOWER_IS_BETTER:
        return value < than if strict else value <= than
    return value > than if strict else value >= than


def reference_figures(model: str = REFERENCE_MODEL) -> dict[str, float]:
    """A published model's MOSI test figures (Acc-2 as a share), from
    :func:`msa_lib.experiments.reference.anchors`."""
    from msa_lib.experiments.reference import anchors

    table = anchors().set_index("model")
    if model not in table.index:
        raise ValueError(f"no published figures for {model!r}; known: {list(table.index)}")
    row = table.loc[model]
    out = {m: float(row[c]) for m, c in REFERENCE_COLUMNS.items()}
    out["acc2_non0"] /= 100  # the table gives percent
    return out


@dataclass(frozen=True)
class TextVerdict:
    """What the fine-tuned model's seeds show on the test fold: the seed mean against the goals,
    a published model's figures and the frozen encoder's ridge, and the seeds' ensemble."""

    source: str
    n_seeds: int
    n_test: int
    mean: Mapping[str, float]  # a results_table row: r, r_lo, r_hi, mae, ..., acc2_non0
    sd: Mapping[str, float]
    ensemble: Mapping[str, float] | None  # None for one seed
    goals: Mapping[str, float]
    missed: tuple[str, ...]  # the goals (metrics) the seed mean misses
    reference: str
    beaten: tuple[str, ...]  # the reference's figures (metrics) the seed mean beats
    ridge_r: float | None  # the frozen encoder + ridge's test r

    def goal_text(self) -> str:
        """``r ≥ 0.80, MAE ≤ 0.71, Acc-2 ≥ 86%``."""
        parts = []
        for m, v in self.goals.items():
            sign = "≤" if m in LOWER_IS_BETTER else "≥"
            value = f"{100 * v:.0f}%" if m == "acc2_non0" else f"{v:.2f}"
            parts.append(f"{GOAL_NAMES[m].replace(' (non-0)', '')} {sign} {value}")
        return ", ".join(parts)

    def sentence(self, ci: Callable[..., str]) -> str:
        """The verdict as the chapter states it; ``ci(value, lo, hi, ...)`` writes an interval."""
        if self.source != "real":
            return (
                "On the SYNTHETIC corpus the transcripts are generated bags of words whose polar "
                "words follow the label; the numbers above show that the code runs, not how well a "
                "text model reads opinions, and no comparison with the published models is drawn."
            )
        m, sd = self.mean, self.sd
        names = [GOAL_NAMES[k] for k in self.missed]
        if not names:
            reached = "reaches all three goals set for it"
        elif len(names) == len(self.goals):
            reached = "misses all three goals set for it"
        else:
            reached = f"misses the goals set for it on {', '.join(names)}"
        text = (
            f"Mean over {self.n_seeds} seeds, the fine-tuned MiniLM-L6 scores test r "
            f"{ci(m['r'], m['r_lo'], m['r_hi'])} (sd {sd['r']:.3f} over seeds), MAE "
            f"{ci(m['mae'], m['mae_lo'], m['mae_hi'])} (sd {sd['mae']:.3f}), Acc-2 (non-0) "
            f"{100 * m['acc2_non0']:.1f}% (n = {self.n_test} test segments): it {reached} "
            f"({self.goal_text()}), and "
            + (
                f"beats {self.reference}'s published {', '.join(GOAL_NAMES[k] for k in self.beaten)}"
                if self.beaten
                else f"beats none of {self.reference}'s published figures"
            )
            + " with text alone."
        )
        if self.ridge_r is not None:
            text += (
                f" Against chapter 4's frozen MiniLM + ridge (r {self.ridge_r:.3f}) fine-tuning "
                f"adds {m['r'] - self.ridge_r:+.3f} in r."
            )
        if self.ensemble is not None:
            e = self.ensemble
            text += (
                f" Averaging the {self.n_seeds} seeds' predictions (an ensemble, {self.n_seeds} "
                f"times the cost) gives r {e['r']:.3f}, MAE {e['mae']:.3f}, Acc-2 "
                f"{100 * e['acc2_non0']:.1f}%."
            )
        return text


def text_verdict(
    table: pd.DataFrame,
    source: str,
    ridge_r: float | None = None,
    reference: str = REFERENCE_MODEL,
    goals: Mapping[str, float] = GOALS,
) -> TextVerdict:
    """The verdict of :func:`run_text_finetune`'s table (rows per seed, ``mean``, ``sd`` and,
    for several seeds, ``ensemble``); ``ridge_r``: the frozen encoder + ridge's test r."""
    rows = table.assign(seed=table["seed"].astype(str)).set_index("seed")
    missing = {"mean", "sd"} - set(rows.index)
    if missing:
        raise ValueError(f"text_verdict: the table lacks the row(s) {sorted(missing)}")
    mean, sd = rows.loc["mean"].to_dict(), rows.loc["sd"].to_dict()
    n_seeds = len(rows.index.difference(["mean", "sd", "ensemble"]))
    published = reference_figures(reference)
    return TextVerdict(
        source=source,
        n_seeds=n_seeds,
        n_test=int(mean["n_test"]),
        mean=mean,
        sd=sd,
        ensemble=rows.loc["ensemble"].to_dict() if "ensemble" in rows.index else None,
        goals=dict(goals),
        missed=tuple(m for m, g in goals.items() if not _better(m, mean[m], g, strict=False)),
        reference=reference,
        beaten=tuple(m for m, v in published.items() if _better(m, mean[m], v)),
        ridge_r=ridge_r,
    )
