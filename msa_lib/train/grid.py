"""Many runs: every modality subset x seed, trained, selected and scored; resumable through a cache.

Each finished run can be stored under a key computed from everything it depends on: the data,
the modalities, the seed, the configs and the source of every ``msa_lib`` module this one imports,
directly or not (:func:`msa_lib.train.codehash.code_fingerprint`). An interrupted grid resumes
from whole runs; an edit to the code it runs starts afresh.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.io.atomic import atomic_path
from msa_lib.train.codehash import code_fingerprint
from msa_lib.train.ensemble import fit_seeds
from msa_lib.train.fusion import TrainedModel, fit, predict, score_predictions

# The paper's seven modality subsets (Table 1), each with its token order.
SUBSETS: dict[str, tuple[str, ...]] = {
    "A": ("audio",),
    "V": ("visual",),
    "T": ("text",),
    "A+V": ("audio", "visual"),
    "A+T": ("audio", "text"),
    "T+V": ("text", "visual"),
    "T+V+A": ("text", "visual", "audio"),
}


@dataclass
class GridResult:
    """Everything a grid of runs produced, in long form."""

    runs: pd.DataFrame  # model, subset, seed, split, loss, mae, r, ..., n, best_epoch
    histories: pd.DataFrame  # subset, seed and the per-epoch history of each run
    predictions: pd.DataFrame  # model, subset, seed, split, segment_id, label, pred


def grid_code() -> str:
    """Fingerprint of the code a grid run executes (this module and everything it imports)."""
    return code_fingerprint(__name__)


def run_key(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seed: int,
    configs: Sequence[object],
    code: str | None = None,
) -> str:
    """A hash of everything a run depends on: data, modalities, seed, configs and the code."""
    h = hashlib.sha256()
    h.update((code if code is not None else grid_code()).encode())
    h.update(
        json.dumps([list(modalities), seed, [dataclasses.asdict(c) for c in configs]]).encode()
    )
    for name, fs in splits.items():
        h.update(name.encode())
        for arr in (fs.segment_id.astype("U"), fs.label, *(fs.features[m] for m in modalities)):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:20]


def _seed_runs(
    splits: Mapping[str, FeatureSet],
    subset: str,
    modalities: Sequence[str],
    seeds: Sequence[int],
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
    cache_files: Sequence[Path | None],
) -> list[dict[str, pd.DataFrame]]:
    """Seeds of one subset: cached runs read back, one other trained alone, more as an ensemble."""
    parts: dict[int, dict[str, pd.DataFrame]] = {}
    todo = []
    for seed, cache in zip(seeds, cache_files, strict=True):
        if cache is not None and cache.is_file():
            parts[seed] = pd.read_pickle(cache)
        else:
            todo.append((seed, cache))
    args, to_train = (model_config, train_config, loss_config), [s for s, _ in todo]
    if len(to_train) > 1:
        trained = _train_and_score_seeds(splits, subset, modalities, to_train, *args)
    else:  # one seed (or none) trains as a separate run
        trained = [_train_and_score(splits, subset, modalities, s, *args) for s in to_train]
    for (seed, cache), result in zip(todo, trained, strict=True):
        _store(result, cache)
        parts[seed] = result
    return [parts[s] for s in seeds]


def _store(result: dict[str, pd.DataFrame], cache_file: Path | None) -> None:
    """Write one run's results to its cache file, atomically (a grid resumes from whole runs)."""
    if cache_file is not None:
        with atomic_path(cache_file) as tmp:
            pd.to_pickle(result, tmp)


def _scored(
    trained: TrainedModel,
    history: pd.DataFrame,
    splits: Mapping[str, FeatureSet],
    subset: str,
    seed: int,
    loss_config: LossConfig,
) -> dict[str, pd.DataFrame]:
    """One trained run scored once on every split (test read once here), in long form."""
    runs, preds = [], []
    for name, fs in splits.items():
        p = predict(trained, fs)
        scores = score_predictions(fs.label, p, loss_config)
        runs.append({"model": "fusion", "subset": subset, "seed": seed, "split": name, **scores})
        preds.append(
            pd.DataFrame({"segment_id": fs.segment_id, "split": name, "label": fs.label, "pred": p})
        )
    meta = {"model": "fusion", "subset": subset, "seed": seed}
    runs_df = pd.DataFrame(runs).assign(
        best_epoch=trained.best_epoch, epochs=len(history), sec_per_epoch=history.seconds.mean()
    )
    return {
        "runs": runs_df,
        "histories": history.assign(**meta),
        "predictions": pd.concat(preds, ignore_index=True).assign(**meta),
    }


def _train_and_score(
    splits: Mapping[str, FeatureSet],
    subset: str,
    modalities: Sequence[str],
    seed: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> dict[str, pd.DataFrame]:
    """Train one configuration and score it once on every split."""
    cfg = dataclasses.replace(train_config, seed=seed)
    trained, history = fit(
        model_config, cfg, splits["train"], splits["valid"], loss_config, modalities, False
    )
    return _scored(trained, history, splits, subset, seed, loss_config)


def _train_and_score_seeds(
    splits: Mapping[str, FeatureSet],
    subset: str,
    modalities: Sequence[str],
    seeds: Sequence[int],
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> list[dict[str, pd.DataFrame]]:
    """:func:`_train_and_score` for several seeds, trained together (:func:`fit_seeds`)."""
    runs = fit_seeds(
        model_config,
        train_config,
        splits["train"],
        splits["valid"],
        seeds,
        loss_config,
        modalities,
        progress=False,
    )
    return [
        _scored(trained, history, splits, subset, seed, loss_config)
        for seed, (trained, history) in zip(seeds, runs, strict=True)
    ]


def run_grid(
    splits: Mapping[str, FeatureSet],
    subsets: Mapping[str, Sequence[str]] = SUBSETS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    model_config: ModelConfig = ModelConfig(),
    train_config: TrainConfig = TrainConfig(),
    loss_config: LossConfig = LossConfig(),
    n_jobs: int = 1,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
    ensemble: bool = True,
) -> GridResult:
    """Train every (subset, seed) on ``splits['train']``, select on 'valid', score every split.

    With ``ensemble`` (the default) the seeds of one subset train together as one batched
    ensemble (:func:`~msa_lib.train.ensemble.fit_seeds`), equal to separate runs up to float
    rounding and several times cheaper; ``ensemble=False`` trains each seed on its own.
    With ``n_jobs > 1`` jobs (a subset's ensemble, or one run) go to that many worker processes
    (joblib), one torch thread each: this model's small matrices gain little from threads, much
    from running side by side. Results do not depend on ``n_jobs`` (each run seeds itself; one
    thread per run). With ``cache_dir``, each finished run is stored there under :func:`run_key`,
    so an interrupted grid resumes where it stopped.
    """
    for need in ("train", "valid"):
        if need not in splits:
            raise ValueError(f"run_grid needs a '{need}' split; got {list(splits)}")
    if n_jobs > 1 or train_config.num_threads is None:
        train_config = dataclasses.replace(train_config, num_threads=1)
    args = (model_config, train_config, loss_config)
    code = grid_code() if cache_dir is not None else ""

    def cache_file(m: Sequence[str], seed: int) -> Path | None:
        if cache_dir is None:
            return None
        return Path(cache_dir) / f"run-{run_key(splits, m, seed, args, code)}.pkl"

    # a job: a subset's seeds trained together (``ensemble``), else one seed of it
    groups = [list(seeds)] if ensemble and len(seeds) > 1 else [[seed] for seed in seeds]
    jobs = [
        (splits, s, tuple(m), g, *args, [cache_file(m, seed) for seed in g])
        for s, m in subsets.items()
        for g in groups
    ]
    # the costliest first (more modalities, more encoders), so that parallel workers finish together
    jobs.sort(key=lambda job: -len(job[2]))
    bar = tqdm(total=len(subsets) * len(seeds), desc="runs", disable=not progress)
    parts: list[dict[str, pd.DataFrame]] = []
    if n_jobs > 1:
        from joblib import Parallel, delayed

        gen = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_seed_runs)(*job) for job in jobs
        )
    else:
        gen = (_seed_runs(*job) for job in jobs)
    for done in gen:
        parts.extend(done)
        bar.update(len(done))
    bar.close()
    order = {s: i for i, s in enumerate(subsets)}

    def cat(key: str) -> pd.DataFrame:
        df = pd.concat([p[key] for p in parts], ignore_index=True)
        df["_o"] = df["subset"].map(order)
        return (
            df.sort_values(["_o", "seed"], kind="stable").drop(columns="_o").reset_index(drop=True)
        )

    return GridResult(cat("runs"), cat("histories"), cat("predictions"))
