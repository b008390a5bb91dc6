"""The fine-tuning study: one text model per seed on the MOSI training fold, scored once on its test fold.

Each seed fine-tunes :mod:`msa_lib.train.text`'s recipe, keeps the epoch of highest validation r
and scores the test fold once; the table holds every seed, their mean and sd with bootstrap
intervals, and the ensemble of the seeds' predictions. Each finished seed (its model, a checkpoint
folder, and ``scores.json``) is a folder of a :class:`~msa_lib.io.cache.ResultCache` (kind
``text-finetune``) keyed by data, settings, seed and code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from msa_lib.config import TextFineTuneConfig
from msa_lib.evaluate import metrics, seed_mean_ci
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
    """Rows: each seed, ``mean`` (CIs of the seed-mean metric), ``sd``, and ``ensemble``.

    ``ensemble`` scores the seeds' predictions averaged per segment (one model of all seeds, at
    their summed cost); it is left out for a single seed.
    """
    per_seed = pd.DataFrame([scored_row(str(s), labels, p, n_resamples) for s, p in preds.items()])
    mean = {"seed": "mean", **per_seed[list(TABLE_METRICS)].mean().to_dict()}
    sd = {"seed": "sd", **per_seed[list(TABLE_METRICS)].std(ddof=1).to_dict()}
    for m in CI_METRICS:
        _, mean[f"{m}_lo"], mean[f"{m}_hi"] = seed_mean_ci(
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
