"""The adapters study (chapter 6): every adapter kind scored where the true target vectors are known.

Input: for each named pair of extractors (e.g. "MiniLM -> GloVe-50"), train/valid/test folds of one
FeatureSet with modalities ``source`` and ``target`` for the same segments
(:func:`msa_lib.adapters.pairs.paired_featureset`). Each kind is fitted on the train fold and its
test outputs are scored against the true test vectors: reconstruction (MSE, cosine), spread, and
what a sentiment model trained on the true target vectors (a ridge, penalty chosen on valid) scores
on them. Two reference rows bound the table: ``truth`` (the true vectors) and ``target mean`` (the
training mean vector for every segment).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from msa_lib.adapters.base import get, names
from msa_lib.config import AdapterConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import spread_ratio

REFERENCES = ("truth", "target mean")  # rows that depend on no adapter and no seed


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
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Each adapter kind (default: every registered one) fitted on train, scored on test.

    ``splits`` (train/valid/test) hold modalities ``source`` and ``target`` for the same segments.
    Paired kinds learn from the train pairs; the others see the train sets unpaired. Returns one
    row per kind and seed (after the reference rows ``truth`` and ``target mean``, seed 0), and
    the first seed's mapped test vectors per kind (for plots).
    """
    from msa_lib.train.baselines import fit_ridge

    kinds = names() if kinds is None else list(kinds)
    train, test = splits["train"], splits["test"]
    ridge = fit_ridge(train, splits["valid"], ["target"])
    truth = test.features["target"]

    def score(kind: str, seed: int, mapped: np.ndarray) -> dict:
        fs = dataclasses.replace(test, features={"target": mapped.astype(np.float32)})
        down = ridge.score(fs)
        return {
            "adapter": kind,
            "seed": seed,
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
            adapter = get(kind)(dataclasses.replace(config, seed=seed))
            adapter.fit(train.features["source"], train.features["target"], pairs)
            mapped = adapter.transform(test.features["source"])
            rows.append(score(kind, seed, mapped))
            mapped_first.setdefault(kind, mapped)
    out = pd.DataFrame(rows)
    out["alpha"] = ridge.alpha
    return out, mapped_first


def _one_seed(
    splits: Mapping[str, FeatureSet], kinds: Sequence[str], seed: int, config: AdapterConfig
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """:func:`adapter_quality` for one seed on one torch thread (seeds run side by side)."""
    import torch

    torch.set_num_threads(1)
    return adapter_quality(splits, kinds, [seed], config)


def adapter_runs(
    pairs: Mapping[str, Mapping[str, FeatureSet]],
    kinds: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    config: AdapterConfig = AdapterConfig(),
    n_jobs: int = 1,
    fold_names: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """:func:`adapter_quality` for every pair and seed, in ``n_jobs`` processes (one per seed).

    Returns the runs table (one row per pair, kind and seed; the reference rows once per pair,
    seed 0; column ``pair``, and ``fold`` after ``adapter`` where ``fold_names`` describes each
    pair's folds) and, per pair, the mapped test vectors of the first seed per kind.
    """
    from joblib import Parallel, delayed

    kinds = names() if kinds is None else list(kinds)
    jobs = [(p, s) for p in pairs for s in seeds]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_one_seed)(pairs[p], kinds, s, config) for p, s in jobs
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
