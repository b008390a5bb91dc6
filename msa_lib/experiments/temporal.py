"""The temporal study: the aligned sequence model (§3.5) against the averaged fusion model.

:func:`compare_temporal` trains the sequence model (:mod:`msa_lib.models.temporal`, fitted by
:func:`msa_lib.train.temporal.fit_temporal`) on a corpus's aligned sequences
(:mod:`msa_lib.data.align`) and the **averaged model**, the paper's fusion model on the
time-averaged features of the same segments, splits and seeds (:func:`msa_lib.train.grid.run_grid`);
:func:`summarise_comparison` gives both models' seed-mean test metrics with bootstrap intervals
and their difference, and :func:`temporal_verdict` states what they show. :func:`trend_task` is a
SYNTHETIC control where only the order of the frames carries the label.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.config import LossConfig, ModelConfig, TemporalConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet, ModalityMeta
from msa_lib.evaluate import seed_mean_cis, seed_sd, two_level_ci
from msa_lib.io.cache import ResultCache
from msa_lib.train.codehash import code_fingerprint
from msa_lib.train.fusion import score_predictions
from msa_lib.train.grid import run_grid, run_key
from msa_lib.train.temporal import fit_temporal

log = logging.getLogger(__name__)


def _temporal_run(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seed: int,
    config: TemporalConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> dict[str, pd.DataFrame]:
    """One seed of the temporal model, trained and scored once on every split."""
    cfg = dataclasses.replace(train_config, seed=seed)
    trained, history = fit_temporal(
        splits["train"], splits["valid"], modalities, config, cfg, loss_config
    )
    runs, preds = [], []
    for name, fs in splits.items():
        p = trained.predict(fs)
        runs.append({"split": name, **score_predictions(fs.label, p, loss_config)})
        preds.append(
            pd.DataFrame({"segment_id": fs.segment_id, "split": name, "label": fs.label, "pred": p})
        )
    meta = {"model": "temporal", "seed": seed}
    return {
        "runs": pd.DataFrame(runs).assign(
            **meta,
            best_epoch=trained.best_epoch,
            epochs=len(history),
            sec_per_epoch=history.seconds.mean(),
        ),
        "predictions": pd.concat(preds, ignore_index=True).assign(**meta),
    }


def _cached_temporal_run(
    cache: ResultCache,
    key: str,
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seed: int,
    config: TemporalConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> dict[str, pd.DataFrame]:
    """:func:`_temporal_run` of one seed, read from ``cache`` when it holds ``key``."""
    args = (splits, modalities, seed, config, train_config, loss_config)
    return cache.cached(key, lambda: _temporal_run(*args))


def run_temporal(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    config: TemporalConfig = TemporalConfig(),
    train_config: TrainConfig = TrainConfig(),
    loss_config: LossConfig = LossConfig(),
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The temporal model for every seed (one torch thread each, ``n_jobs`` side by side).

    Returns (runs: one row per seed and split, predictions: one row per seed and segment). With
    ``cache_dir``, each finished seed is kept there (a :class:`~msa_lib.io.cache.ResultCache` of
    kind ``temporal``) under a key of the data, settings, seed and code.
    """
    for need in ("train", "valid"):
        if need not in splits:
            raise ValueError(f"run_temporal needs a '{need}' split; got {list(splits)}")
    train_config = dataclasses.replace(train_config, num_threads=1)
    cache = ResultCache(cache_dir, "temporal")
    code = code_fingerprint(__name__) if cache.enabled else ""
    args = (config, train_config, loss_config)
    jobs = [(run_key(splits, modalities, s, args, code) if cache.enabled else "", s) for s in seeds]
    if n_jobs > 1:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(
            delayed(_cached_temporal_run)(cache, k, splits, modalities, s, *args) for k, s in jobs
        )
    else:
        parts = [_cached_temporal_run(cache, k, splits, modalities, s, *args) for k, s in jobs]
    return (
        pd.concat([p["runs"] for p in parts], ignore_index=True),
        pd.concat([p["predictions"] for p in parts], ignore_index=True),
    )


@dataclass
class TemporalComparison:
    """The temporal model and the averaged model on the same segments, splits and seeds."""

    name: str
    source: str
    runs: pd.DataFrame  # model, seed, split, loss, mae, r, ..., best_epoch
    predictions: pd.DataFrame  # model, seed, split, segment_id, label, pred
    seconds: dict[str, float]


def compare_temporal(
    aligned: Mapping[str, FeatureSet],
    averaged: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    name: str,
    source: str,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    config: TemporalConfig = TemporalConfig(),
    train_config: TrainConfig = TrainConfig(),
    model_config: ModelConfig = ModelConfig(),
    loss_config: LossConfig = LossConfig(),
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
) -> TemporalComparison:
    """Train the temporal model on ``aligned`` and the fusion model on ``averaged`` (same segments)."""
    for split in ("train", "valid", "test"):
        a, b = aligned[split].segment_id, averaged[split].segment_id
        if not np.array_equal(a, b):
            raise ValueError(
                f"{name}: the aligned and averaged {split} splits hold different segments"
            )
    t0 = time.perf_counter()
    t_runs, t_preds = run_temporal(
        aligned, modalities, seeds, config, train_config, loss_config, n_jobs, cache_dir
    )
    t1 = time.perf_counter()
    grid = run_grid(
        averaged,
        {"averaged": tuple(modalities)},
        seeds,
        model_config,
        train_config,
        loss_config,
        n_jobs,
        progress=False,
        cache_dir=cache_dir,
    )
    t2 = time.perf_counter()
    avg_runs = grid.runs.drop(columns=["model"]).rename(columns={"subset": "model"})
    avg_preds = grid.predictions.drop(columns=["model"]).rename(columns={"subset": "model"})
    return TemporalComparison(
        name,
        source,
        pd.concat([t_runs, avg_runs], ignore_index=True),
        pd.concat([t_preds, avg_preds], ignore_index=True),
        {"temporal": t1 - t0, "averaged": t2 - t1},
    )


def trend_task(
    n: int = 600,
    steps: int = 30,
    widths: Mapping[str, int] | None = None,
    noise: float = 1.0,
    seed: int = 0,
) -> FeatureSet:
    """A SYNTHETIC aligned set where only the order of frames carries the label.

    Each modality's frames drift along a random direction, ``x_t = b + s (t / (steps - 1) - 1/2) w
    + noise``, with the segment's label ``s`` (in [-3, 3]): the time average of every modality is
    ``b`` plus noise whatever ``s`` is, so a model of averaged features can reach r near 0, one that
    reads the order much more. Split 60/20/20 by segment (one video each).
    """
    widths = dict(widths or {"visual": 8, "audio": 6, "text": 10})
    rng = np.random.default_rng(seed)
    label = np.round(rng.uniform(-3, 3, n) * 5) / 5
    ramp = np.linspace(-0.5, 0.5, steps)
    feats = {}
    for m, d in widths.items():
        w = rng.normal(size=d) / np.sqrt(d) * 2
        base = rng.normal(size=(n, 1, d))
        x = (
            base
            + label[:, None, None] * ramp[None, :, None] * w
            + noise * rng.normal(size=(n, steps, d))
        )
        feats[m] = x.reshape(n, steps * d).astype(np.float32)
    split = np.array(["train", "valid", "test"])[
        np.searchsorted([0.6, 0.8], np.arange(n) / n, side="right")
    ]
    return FeatureSet(
        segment_id=[f"trend{i}" for i in range(n)],
        video_id=[f"trendvideo{i}" for i in range(n)],
        split=split,
        label=label,
        features=feats,
        meta={
            m: ModalityMeta("trend task", params={"steps": steps, "width": d})
            for m, d in widths.items()
        },
        corpus="trend-task",
        source="synthetic",
    )


def summarise_comparison(
    comparison: TemporalComparison, n_resamples: int = 1000
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per model: test r, MAE, Acc-2 (non-0) averaged over seeds with 95% bootstrap intervals,
    mean validation r and epoch kept; and temporal minus averaged (``d_r``, ``d_mae``) with the
    paired interval over test segments (:func:`msa_lib.evaluate.seed_mean_ci`)."""
    from msa_lib.experiments.ablation import seed_predictions

    runs, rows, preds = comparison.runs, [], {}
    for model in ("temporal", "averaged"):
        y, preds[model] = seed_predictions(comparison.predictions, "model", model)
        own = runs[runs["model"] == model]
        row: dict[str, object] = {
            "data": comparison.name,
            "model": model,
            "seeds": len(preds[model]),
            "n_test": len(y),
            "valid_r": float(own[own["split"] == "valid"]["r"].mean()),
            "best_epoch": float(own[own["split"] == "test"]["best_epoch"].mean()),
            "seconds": comparison.seconds[model],
        }
        row.update(seed_mean_cis(y, preds[model], n_resamples=n_resamples))
        rows.append(row)
    effect: dict[str, float] = {}
    for metric, key in (("r", "d_r"), ("mae", "d_mae")):
        effect[key], effect[f"{key}_lo"], effect[f"{key}_hi"] = two_level_ci(
            y, preds["temporal"], metric, preds["averaged"], n_resamples=n_resamples
        )
        effect[f"{key}_sd"] = seed_sd(y, preds["temporal"], metric, minus=preds["averaged"])
    return pd.DataFrame(rows), effect


@dataclass(frozen=True)
class TemporalVerdict:
    """What one comparison shows: the two models' test r, their difference with its paired
    interval, the MAE difference, and the time each took."""

    name: str
    r_temporal: float
    r_averaged: float
    effect: Mapping[str, float]  # d_r, d_mae with _lo/_hi (temporal minus averaged)
    seconds: Mapping[str, float]
    n_seeds: int
    n_test: int

    @property
    def outcome(self) -> str:
        """Which model's r is higher, resolved over seeds and test segments, in words."""
        lo, hi = self.effect["d_r_lo"], self.effect["d_r_hi"]
        if lo > 0:
            return "the sequence model's r is higher, resolved over seeds and test segments"
        if hi < 0:
            return "the averaged model's r is higher, resolved over seeds and test segments"
        return "no difference resolved"

    @property
    def _seed_sd(self) -> str:
        """``, seed sd 0.012``: the per-seed difference's spread, where there is one."""
        sd = self.effect.get("d_r_sd", float("nan"))
        return f", seed sd {sd:.3f}" if np.isfinite(sd) else ""

    def sentence(self, ci: Callable[..., str], side_by_side: int | None = None) -> str:
        """The verdict as one bullet; ``ci(value, lo, hi, sign=...)`` writes an interval;
        ``side_by_side``: the runs trained in parallel, for the timing."""
        e = self.effect
        jobs = f", {side_by_side} side by side" if side_by_side else ""
        return (
            f"- **{self.name}** (n = {self.n_test} test segments): the sequence model's test r is "
            f"{self.r_temporal:.3f} against {self.r_averaged:.3f} for the averaged model, a "
            f"difference of {ci(e['d_r'], e['d_r_lo'], e['d_r_hi'], sign=True)} (95% CI over "
            f"seeds and test segments{self._seed_sd}; {self.outcome}); test MAE {ci(e['d_mae'], e['d_mae_lo'], e['d_mae_hi'], sign=True)}. "
            f"Training took {self.seconds['temporal']:.0f} s for the sequence model and "
            f"{self.seconds['averaged']:.0f} s for the averaged one ({self.n_seeds} seeds{jobs})."
        )


def temporal_verdict(
    comparison: TemporalComparison, table: pd.DataFrame, effect: Mapping[str, float]
) -> TemporalVerdict:
    """The verdict of a comparison and its :func:`summarise_comparison` (table, effect)."""
    row = table.set_index("model")
    for need in ("temporal", "averaged"):
        if need not in row.index:
            raise ValueError(f"{comparison.name}: the summary has no '{need}' row")
    return TemporalVerdict(
        name=comparison.name,
        r_temporal=float(row.loc["temporal", "r"]),
        r_averaged=float(row.loc["averaged", "r"]),
        effect=dict(effect),
        seconds=dict(comparison.seconds),
        n_seeds=int(row.loc["temporal", "seeds"]),
        n_test=int(row.loc["temporal", "n_test"]),
    )
