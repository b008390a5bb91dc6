"""Many runs: every modality subset x seed, trained, selected and scored; resumable through a cache.

Each finished run can be stored in a :class:`~msa_lib.io.cache.ResultCache` (kind ``run``) under a
key computed from everything it depends on: the data, the modalities, the seed, the configs and
the source of every ``msa_lib`` module this one imports, directly or not
(:func:`msa_lib.train.codehash.code_fingerprint`). An interrupted grid resumes from whole runs; an
edit to the code it runs starts afresh.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from tqdm import tqdm

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import two_level_ci
from msa_lib.io.cache import ResultCache, cache_key, digest
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


def data_digest(splits: Mapping[str, FeatureSet], modalities: Sequence[str]) -> str:
    """A hash of what a run reads: each split's name, segment ids, labels and modality features."""
    parts = []
    for name, fs in splits.items():
        parts += [name, fs.segment_id.astype("U"), fs.label, *(fs.features[m] for m in modalities)]
    return digest(*parts)


def run_threads(train_config: TrainConfig, n_jobs: int) -> TrainConfig:
    """The training settings of a grid's runs: one torch thread each when runs go side by side
    (``n_jobs > 1``) or when the settings leave the count open; else as given."""
    if n_jobs > 1 or train_config.num_threads is None:
        return dataclasses.replace(train_config, num_threads=1)
    return train_config


def run_key(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seed: int,
    configs: Sequence[object],
    code: str | None = None,
    way: str = "separate",
) -> str:
    """A hash of everything a run depends on: data, modalities, seed, configs, the code and the
    way it trains (``"separate"``: a lone :func:`fit`; ``"ensemble"``: a member of
    :func:`fit_seeds`, whose dropout masks a lone run does not draw)."""
    return cache_key(
        code if code is not None else grid_code(),
        list(modalities),
        int(seed),
        list(configs),
        data_digest(splits, modalities),
        way,
    )


def _seed_runs(
    splits: Mapping[str, FeatureSet],
    subset: str,
    modalities: Sequence[str],
    seeds: Sequence[int],
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
    cache: ResultCache,
    keys: Sequence[str],
    ensemble: bool,
) -> list[dict[str, pd.DataFrame]]:
    """Seeds of one subset: cached runs read back, the others trained as one ensemble (or alone).

    An ensemble member draws from its own seed only, so seeds left over by an interrupted grid
    train together as a smaller ensemble: the runs of a whole one up to float rounding, which a
    long training can grow into another draw of the same runs.
    """
    parts: dict[int, dict[str, pd.DataFrame]] = {}
    todo = []
    for seed, key in zip(seeds, keys, strict=True):
        if key in cache:
            parts[seed] = cache.load(key)
        else:
            todo.append((seed, key))
    args, to_train = (model_config, train_config, loss_config), [s for s, _ in todo]
    if ensemble and to_train:
        trained = _train_and_score_seeds(splits, subset, modalities, to_train, *args)
    else:
        trained = [_train_and_score(splits, subset, modalities, s, *args) for s in to_train]
    for (seed, key), result in zip(todo, trained, strict=True):
        parts[seed] = cache.store(key, result)
    return [parts[s] for s in seeds]


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
    ensemble (:func:`~msa_lib.train.ensemble.fit_seeds`): several times cheaper than separate
    runs and statistically equivalent to them (its members draw their own dropout masks);
    ``ensemble=False`` trains each seed on its own (:func:`fit`). The two ways are cached apart.
    With ``n_jobs > 1`` jobs (a subset's ensemble, or one run) go to that many worker processes
    (joblib), one torch thread each: this model's small matrices gain little from threads, much
    from running side by side. Results do not depend on ``n_jobs`` (each run seeds itself; one
    thread per run). With ``cache_dir``, each finished run is stored there (a
    :class:`~msa_lib.io.cache.ResultCache` of kind ``run``) under :func:`run_key`, so an
    interrupted grid resumes where it stopped.
    """
    for need in ("train", "valid"):
        if need not in splits:
            raise ValueError(f"run_grid needs a '{need}' split; got {list(splits)}")
    train_config = run_threads(train_config, n_jobs)
    args = (model_config, train_config, loss_config)
    cache = ResultCache(cache_dir, "run")
    code = grid_code() if cache.enabled else ""

    way = "ensemble" if ensemble else "separate"

    def key_of(m: Sequence[str], seed: int) -> str:
        return run_key(splits, m, seed, args, code, way) if cache.enabled else ""

    # a job: a subset's seeds trained together (``ensemble``), else one seed of it
    groups = [list(seeds)] if ensemble else [[seed] for seed in seeds]
    jobs = [
        (splits, s, tuple(m), g, *args, cache, [key_of(m, seed) for seed in g], ensemble)
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


def r_difference(
    first: GridResult, second: GridResult, subset: str, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Seed-mean test r of ``first`` less that of ``second`` on ``subset``, with the two-level
    bootstrap interval of :func:`~msa_lib.evaluate.two_level_ci` (seeds and segments)."""
    preds = []
    for grid in (first, second):
        p = grid.predictions
        p = p[(p.split == "test") & (p.subset == subset)]
        preds.append([g.sort_values("segment_id") for _, g in p.groupby("seed")])
    return two_level_ci(
        preds[0][0]["label"].to_numpy(),
        [g["pred"].to_numpy() for g in preds[0]],
        "r",
        minus=[g["pred"].to_numpy() for g in preds[1]],
        confidence=confidence,
    )
