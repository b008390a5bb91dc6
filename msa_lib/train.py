"""Training the fusion model with the paper's recipe (§3.6.1), prediction, checkpoints, seed grids.

Recipe: Adam (lr 8e-4, weight decay 0.04), batch 32, up to 100 epochs, ReduceLROnPlateau on the
validation Pearson r (mode max, factor 0.7, patience 7), early stopping after 25 epochs without a
better validation r, and the best-validation-r weights kept. Every value is in
:class:`~msa_lib.config.TrainConfig`.

Choices the paper leaves open, made here:

- inputs are standardised per feature with the **training split's** mean and standard deviation
  (a constant feature gets sd 1);
- a segment missing a modality (an all-NaN row) is, by default (``missing="impute"``), given the
  training mean for it (0 after standardising); ``missing="drop"`` leaves such segments out of
  training and validation instead. At prediction time the training mean is always imputed, so
  every segment gets a score. Counts are reported either way;
- unlabelled segments (NaN label) are left out of training and validation and counted;
- a split's loss, MAE and r are computed over the whole split at once (r of the split, not a
  mean of batch values), in evaluation mode;
- a final batch with fewer than ``min_batch`` (2) segments is skipped: BatchNorm needs two rows;
- where a validation r is undefined (constant predictions) it counts as 0 for the scheduler and
  for early stopping.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from msa_lib.atomic import atomic_path
from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet, FeatureSetError
from msa_lib.evaluate import metrics
from msa_lib.losses import compute_loss
from msa_lib.models import FusionModel, FusionOutput

log = logging.getLogger(__name__)

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
MISSING_RULES = ("impute", "drop")


class TrainInputError(ValueError):
    """Data handed to training or prediction cannot be used as it is."""


# ----------------------------------------------------------------- standardising
@dataclass
class Standardizer:
    """Per-feature mean and sd of each modality, fitted on training rows only."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]

    @classmethod
    def fit(cls, fs: FeatureSet, modalities: Sequence[str]) -> Standardizer:
        """Mean and sd (constant features: sd 1) over the rows where the modality is present."""
        mean, std = {}, {}
        for m in modalities:
            x = fs.features[m][~fs.missing(m)].astype(np.float64)
            if len(x) == 0:
                raise TrainInputError(
                    f"{fs.corpus or 'FeatureSet'}: modality '{m}' is missing for every training segment"
                )
            sd = x.std(axis=0)
            mean[m] = x.mean(axis=0).astype(np.float32)
            std[m] = np.where(sd > 1e-8, sd, 1.0).astype(np.float32)
        return cls(mean, std)

    def transform(self, fs: FeatureSet) -> dict[str, np.ndarray]:
        """Standardised float32 matrices; missing rows become 0 (the training mean)."""
        out = {}
        for m in self.mean:
            x = (fs.features[m] - self.mean[m]) / self.std[m]
            x[fs.missing(m)] = 0.0
            out[m] = x.astype(np.float32)
        return out

    def state(self) -> dict[str, dict[str, torch.Tensor]]:
        """As tensors, for a checkpoint."""
        return {
            "mean": {m: torch.from_numpy(v) for m, v in self.mean.items()},
            "std": {m: torch.from_numpy(v) for m, v in self.std.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping) -> Standardizer:
        """Inverse of :meth:`state`."""
        return cls(
            {m: v.numpy() for m, v in state["mean"].items()},
            {m: v.numpy() for m, v in state["std"].items()},
        )


# ----------------------------------------------------------------- checking inputs
def check_featureset(
    fs: FeatureSet, modalities: Sequence[str], name: str, dims: Mapping[str, int] | None = None
) -> None:
    """Contract, modalities present and widths; errors name the corpus, the split and the problem."""
    origin = f"{fs.corpus or 'FeatureSet'} ({name} split)"
    absent = [m for m in modalities if m not in fs.features]
    if absent:
        raise TrainInputError(
            f"{origin}: modality {absent} is not in the FeatureSet; it has {fs.modalities}"
        )
    try:
        fs.validate(origin)  # label range, shapes, non-finite values other than whole missing rows
    except FeatureSetError as exc:
        raise TrainInputError(str(exc)) from exc
    if dims is not None:
        for m in modalities:
            if fs.dims[m] != dims[m]:
                raise TrainInputError(
                    f"{origin}: modality '{m}' has width {fs.dims[m]}, the model expects {dims[m]}"
                )


def usable_rows(
    fs: FeatureSet, modalities: Sequence[str], missing: str
) -> tuple[np.ndarray, dict[str, int]]:
    """Boolean mask of rows to train/validate on and the counts of rows left out or imputed."""
    if missing not in MISSING_RULES:
        raise ValueError(f"unknown missing-modality rule '{missing}' (known: {MISSING_RULES})")
    labelled = ~np.isnan(fs.label)
    any_missing = np.zeros(len(fs), bool)
    for m in modalities:
        any_missing |= fs.missing(m)
    keep = labelled & ~any_missing if missing == "drop" else labelled
    counts = {
        "n_rows": len(fs),
        "n_unlabelled": int((~labelled).sum()),
        "n_missing_modality": int((labelled & any_missing).sum()),
        "n_used": int(keep.sum()),
    }
    return keep, counts


# ----------------------------------------------------------------- the trained model
@dataclass
class TrainedModel:
    """A fitted fusion model with everything needed to predict: weights, scaler, configs."""

    model: FusionModel
    scaler: Standardizer
    modalities: list[str]
    model_config: ModelConfig
    train_config: TrainConfig
    loss_config: LossConfig
    best_epoch: int = 0
    best_valid_r: float = float("nan")
    input_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def dims(self) -> dict[str, int]:
        """Input width per modality."""
        return dict(self.model.dims)


def _tensors(
    scaler: Standardizer, fs: FeatureSet, modalities: Sequence[str]
) -> tuple[torch.Tensor, list[tuple[str, int, int]]]:
    """One ``[n, sum(dims)]`` tensor of standardised inputs and each modality's column range."""
    x = scaler.transform(fs)
    cols, start = [], 0
    for m in modalities:
        cols.append((m, start, start + x[m].shape[1]))
        start += x[m].shape[1]
    return torch.from_numpy(np.concatenate([x[m] for m in modalities], axis=1)), cols


def _split_inputs(x: torch.Tensor, cols: list[tuple[str, int, int]]) -> dict[str, torch.Tensor]:
    return {m: x[:, a:b] for m, a, b in cols}


@torch.no_grad()
def _forward_all(
    model: FusionModel, x: torch.Tensor, cols: list[tuple[str, int, int]], chunk: int = 8192
) -> FusionOutput:
    """Evaluation-mode outputs for every row, in chunks."""
    model.eval()
    scores, logits = [], []
    for i in range(0, len(x), chunk):
        out = model(_split_inputs(x[i : i + chunk], cols))
        scores.append(out.score)
        if out.logits is not None:
            logits.append(out.logits)
    return FusionOutput(torch.cat(scores), torch.cat(logits) if logits else None)


def _score(r: float) -> float:
    """The validation r used for model selection; undefined counts as 0."""
    return r if np.isfinite(r) else 0.0


def _make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam with the paper's lr and weight decay (fused kernel where this torch has one)."""
    try:
        return torch.optim.Adam(
            model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True
        )
    except (RuntimeError, TypeError):  # pragma: no cover - older torch without fused CPU Adam
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    loss_config: LossConfig = LossConfig(),
    modalities: Sequence[str] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> tuple[TrainedModel, pd.DataFrame]:
    """Train on ``train_fs``, select on ``valid_fs``; returns the best model and per-epoch history."""
    cfg = train_config
    mods = list(modalities) if modalities is not None else train_fs.modalities
    if not mods:
        raise TrainInputError("no modalities to train on")
    check_featureset(train_fs, mods, "train")
    check_featureset(valid_fs, mods, "valid", train_fs.dims)
    keep_tr, counts_tr = usable_rows(train_fs, mods, cfg.missing)
    keep_va, counts_va = usable_rows(valid_fs, mods, cfg.missing)
    for name, n in (("train", counts_tr["n_used"]), ("valid", counts_va["n_used"])):
        if n < cfg.batch_size:
            raise TrainInputError(
                f"{train_fs.corpus or 'FeatureSet'}: the {name} split has {n} usable segments, "
                f"fewer than one batch ({cfg.batch_size}); {counts_tr if name == 'train' else counts_va}"
            )
    for name, c in (("train", counts_tr), ("valid", counts_va)):
        if c["n_unlabelled"] or c["n_missing_modality"]:
            log.info("%s split: %s (missing-modality rule: %s)", name, c, cfg.missing)
    train_fs, valid_fs = train_fs.take(keep_tr), valid_fs.take(keep_va)

    threads = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        with torch.random.fork_rng(devices=[]):  # seeds here leave the caller's RNG untouched
            torch.manual_seed(cfg.seed)
            scaler = Standardizer.fit(train_fs, mods)
            x_tr, cols = _tensors(scaler, train_fs, mods)
            x_va, _ = _tensors(scaler, valid_fs, mods)
            y_tr = torch.from_numpy(train_fs.label.astype(np.float32))
            y_va = torch.from_numpy(valid_fs.label.astype(np.float32))
            model = FusionModel({m: train_fs.dims[m] for m in mods}, model_config)
            trained, history = _train_loop(
                model, x_tr, y_tr, x_va, y_va, cols, cfg, loss_config, progress, desc
            )
    finally:
        torch.set_num_threads(threads)
    return (
        TrainedModel(
            model=model,
            scaler=scaler,
            modalities=mods,
            model_config=model_config,
            train_config=cfg,
            loss_config=loss_config,
            best_epoch=trained["best_epoch"],
            best_valid_r=trained["best_r"],
            input_counts={"train": counts_tr, "valid": counts_va},
        ),
        history,
    )


def _train_loop(
    model: FusionModel,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    x_va: torch.Tensor,
    y_va: torch.Tensor,
    cols: list[tuple[str, int, int]],
    cfg: TrainConfig,
    loss_config: LossConfig,
    progress: bool,
    desc: str,
) -> tuple[dict, pd.DataFrame]:
    """Epochs of shuffled mini-batches; plateau scheduler and early stopping on validation r."""
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = _make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", factor=cfg.plateau_factor, patience=cfg.plateau_patience
    )
    best = {"score": -np.inf, "best_epoch": 0, "best_r": float("nan"), "state": None}
    rows = []
    bar = tqdm(range(1, cfg.max_epochs + 1), desc=desc, disable=not progress, leave=False)
    n = len(x_tr)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, seen = 0.0, 0
        for start in range(0, n, cfg.batch_size):
            idx = perm[start : start + cfg.batch_size]
            if len(idx) < cfg.min_batch:
                continue
            out = model(_split_inputs(x_tr[idx], cols))
            loss = compute_loss(out, y_tr[idx], loss_config)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        out_va = _forward_all(model, x_va, cols)
        valid_loss = float(compute_loss(out_va, y_va, loss_config))
        m_va = metrics(y_va.numpy(), out_va.score.numpy())
        score = _score(m_va["r"])
        lr = opt.param_groups[0]["lr"]
        sched.step(score)
        rows.append(
            {
                "epoch": epoch,
                "lr": lr,
                "train_loss": total / max(seen, 1),
                "valid_loss": valid_loss,
                "valid_mae": m_va["mae"],
                "valid_r": m_va["r"],
                "seconds": time.perf_counter() - t0,
            }
        )
        if score > best["score"]:
            best.update(score=score, best_epoch=epoch, best_r=m_va["r"])
            best["state"] = copy.deepcopy(model.state_dict())
        bar.set_postfix(
            valid_r=f"{m_va['r']:.3f}", best=f"{best['score']:.3f}@{best['best_epoch']}"
        )
        if epoch - best["best_epoch"] >= cfg.patience:
            break
    model.load_state_dict(best["state"])
    model.eval()
    history = pd.DataFrame(rows)
    history["best"] = history["epoch"] == best["best_epoch"]
    return best, history


# ----------------------------------------------------------------- prediction and evaluation
def predict(trained: TrainedModel, fs: FeatureSet) -> np.ndarray:
    """Scores for every segment of ``fs`` (missing modalities get the training mean)."""
    check_featureset(fs, trained.modalities, "predict", trained.dims)
    x, cols = _tensors(trained.scaler, fs, trained.modalities)
    return _forward_all(trained.model, x, cols).score.numpy().astype(np.float64)


def split_loss(y_true: np.ndarray, y_pred: np.ndarray, config: LossConfig = LossConfig()) -> float:
    """The training loss over a whole split (regression-only losses; NaN for the multi-task one)."""
    if config.kind == "multitask":
        return float("nan")
    out = FusionOutput(torch.as_tensor(y_pred, dtype=torch.float32), None)
    return float(compute_loss(out, torch.as_tensor(y_true, dtype=torch.float32), config))


def score_predictions(
    y_true: np.ndarray, y_pred: np.ndarray, config: LossConfig = LossConfig()
) -> dict[str, float]:
    """Loss and every metric of :func:`msa_lib.evaluate.metrics`, over labelled segments."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    ok = ~np.isnan(y_true)
    return {
        "loss": split_loss(y_true[ok], y_pred[ok], config),
        **metrics(y_true[ok], y_pred[ok]),
        "n": int(ok.sum()),
    }


def evaluate_model(trained: TrainedModel, splits: Mapping[str, FeatureSet]) -> pd.DataFrame:
    """One row per split: loss, MAE, r, Acc-2, F1, Acc-7 and the segment count."""
    rows = []
    for name, fs in splits.items():
        p = predict(trained, fs)
        rows.append({"split": name, **score_predictions(fs.label, p, trained.loss_config)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- checkpoints
def save_model(trained: TrainedModel, path: str | os.PathLike) -> Path:
    """Write a checkpoint atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": "msa-fusion-model",
        "state_dict": trained.model.state_dict(),
        "dims": trained.dims,
        "modalities": trained.modalities,
        "model_config": dataclasses.asdict(trained.model_config),
        "train_config": dataclasses.asdict(trained.train_config),
        "loss_config": dataclasses.asdict(trained.loss_config),
        "scaler": trained.scaler.state(),
        "best_epoch": trained.best_epoch,
        "best_valid_r": trained.best_valid_r,
        "input_counts": trained.input_counts,
    }
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)
    return path


def load_model(path: str | os.PathLike) -> TrainedModel:
    """Read a checkpoint written by :func:`save_model`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: model checkpoint not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable model checkpoint ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != "msa-fusion-model":
        raise ValueError(f"{path}: not an msa fusion-model checkpoint")
    mcfg = ModelConfig(**blob["model_config"])
    model = FusionModel({m: blob["dims"][m] for m in blob["modalities"]}, mcfg)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return TrainedModel(
        model=model,
        scaler=Standardizer.from_state(blob["scaler"]),
        modalities=list(blob["modalities"]),
        model_config=mcfg,
        train_config=TrainConfig(**blob["train_config"]),
        loss_config=LossConfig(**blob["loss_config"]),
        best_epoch=int(blob["best_epoch"]),
        best_valid_r=float(blob["best_valid_r"]),
        input_counts=blob["input_counts"],
    )


# ----------------------------------------------------------------- many runs: subsets x seeds
@dataclass
class GridResult:
    """Everything a grid of runs produced, in long form."""

    runs: pd.DataFrame  # model, subset, seed, split, loss, mae, r, ..., n, best_epoch
    histories: pd.DataFrame  # subset, seed and the per-epoch history of each run
    predictions: pd.DataFrame  # model, subset, seed, split, segment_id, label, pred


def run_key(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seed: int,
    configs: Sequence[object],
) -> str:
    """A hash of everything a run depends on: data, modalities, seed, configs and this code."""
    h = hashlib.sha256()
    for name in ("models.py", "losses.py", "train.py", "evaluate.py"):
        h.update((Path(__file__).parent / name).read_bytes())
    h.update(
        json.dumps([list(modalities), seed, [dataclasses.asdict(c) for c in configs]]).encode()
    )
    for name, fs in splits.items():
        h.update(name.encode())
        for arr in (fs.segment_id.astype("U"), fs.label, *(fs.features[m] for m in modalities)):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:20]


def _one_run(
    splits: Mapping[str, FeatureSet],
    subset: str,
    modalities: Sequence[str],
    seed: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
    cache_file: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Train one configuration and score it once on every split; reuse or write ``cache_file``."""
    if cache_file is not None and cache_file.is_file():
        return pd.read_pickle(cache_file)
    result = _train_and_score(
        splits, subset, modalities, seed, model_config, train_config, loss_config
    )
    if cache_file is not None:  # atomically, so an interrupted grid resumes from whole runs
        with atomic_path(cache_file) as tmp:
            pd.to_pickle(result, tmp)
    return result


def _train_and_score(
    splits: Mapping[str, FeatureSet],
    subset: str,
    modalities: Sequence[str],
    seed: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
) -> dict[str, pd.DataFrame]:
    """Train one configuration and score it once on every split (test read once here)."""
    cfg = dataclasses.replace(train_config, seed=seed)
    trained, history = fit(
        model_config, cfg, splits["train"], splits["valid"], loss_config, modalities, False
    )
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
) -> GridResult:
    """Train every (subset, seed) on ``splits['train']``, select on 'valid', score every split.

    With ``n_jobs > 1`` runs go to that many worker processes (joblib), one torch thread each:
    this model's small matrices gain little from threads, much from running side by side.
    Results do not depend on ``n_jobs`` (each run seeds itself; one thread per run).
    With ``cache_dir``, each finished run is stored there under a hash of its data, settings and
    the training code (:func:`run_key`), so an interrupted grid resumes where it stopped.
    """
    for need in ("train", "valid"):
        if need not in splits:
            raise ValueError(f"run_grid needs a '{need}' split; got {list(splits)}")
    if n_jobs > 1 or train_config.num_threads is None:
        train_config = dataclasses.replace(train_config, num_threads=1)
    args = (model_config, train_config, loss_config)
    jobs = []
    for s, m in subsets.items():
        for seed in seeds:
            cache = None
            if cache_dir is not None:
                cache = Path(cache_dir) / f"run-{run_key(splits, m, seed, args)}.pkl"
            jobs.append((s, tuple(m), seed, cache))
    bar = tqdm(total=len(jobs), desc="runs", disable=not progress)
    parts: list[dict[str, pd.DataFrame]] = []
    if n_jobs > 1:
        from joblib import Parallel, delayed

        gen = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_one_run)(splits, s, m, seed, *args, cache) for s, m, seed, cache in jobs
        )
        for part in gen:
            parts.append(part)
            bar.update()
    else:
        for s, m, seed, cache in jobs:
            parts.append(_one_run(splits, s, m, seed, *args, cache))
            bar.update()
    bar.close()
    order = {s: i for i, s in enumerate(subsets)}

    def cat(key: str) -> pd.DataFrame:
        df = pd.concat([p[key] for p in parts], ignore_index=True)
        df["_o"] = df["subset"].map(order)
        return (
            df.sort_values(["_o", "seed"], kind="stable").drop(columns="_o").reset_index(drop=True)
        )

    return GridResult(cat("runs"), cat("histories"), cat("predictions"))


def fold_splits(
    fs: FeatureSet, holdout: float | None = None, seed: int = 0
) -> dict[str, FeatureSet]:
    """``{train, valid, test}`` from ``fs.split``; with ``holdout``, valid = whole videos held out of train.

    The hold-out is for corpora without a validation fold (the bc-LSTM features' own split).
    """
    from msa_lib.data.splits import holdout_videos

    train = fs.select("train")
    if holdout is None:
        return {"train": train, "valid": fs.select("valid"), "test": fs.select("test")}
    if (fs.split == "valid").any():
        raise ValueError(
            f"{fs.corpus}: already has a valid split; hold-out is for corpora without one"
        )
    keep, held = holdout_videos(train.video_id, holdout, seed)
    return {"train": train.take(keep), "valid": train.take(held), "test": fs.select("test")}


def time_epochs(
    n_train: int = 16331,
    n_valid: int = 1871,
    dims: Mapping[str, int] | None = None,
    epochs: int = 2,
    num_threads: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-epoch seconds of :func:`fit` (train pass + validation pass) on random MOSEI-sized input."""
    dims = dict(dims or {"visual": 713, "audio": 74, "text": 300})
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    z = rng.normal(size=n)
    fs = FeatureSet(
        segment_id=np.arange(n).astype(str),
        video_id=(np.arange(n) // 10).astype(str),
        split=np.where(np.arange(n) < n_train, "train", "valid"),
        label=np.clip(z, -3, 3),
        features={m: rng.normal(size=(n, d)) + z[:, None] * 0.1 for m, d in dims.items()},
        corpus="random-timing",
        source="synthetic",
    )
    cfg = TrainConfig(max_epochs=epochs, patience=epochs + 1, num_threads=num_threads, seed=seed)
    _, history = fit(ModelConfig(), cfg, fs.select("train"), fs.select("valid"), progress=False)
    return history[["epoch", "seconds"]].assign(
        n_train=n_train, n_valid=n_valid, num_threads=num_threads
    )


# ----------------------------------------------------------------- command line
CORPUS_CHOICES = ("mosi-bclstm", "mosei", "mosi")


def load_features(
    data_dir: str | None, corpus: str | None, features: str | None, holdout: float, seed: int
) -> dict[str, FeatureSet]:
    """Train/valid/test splits from a FeatureSet file or a corpus of the data folder."""
    if features:
        fs = FeatureSet.load(features)
    else:
        from msa_lib.data import open_data

        folder = open_data(data_dir)
        fs = folder.bclstm() if corpus == "mosi-bclstm" else folder.features(corpus)[0]
    if not (fs.split == "valid").any():  # e.g. the bc-LSTM split: hold out whole train videos
        return fold_splits(fs, holdout=holdout, seed=seed)
    return fold_splits(fs)


def _cli_train(args: argparse.Namespace) -> int:
    from msa_lib.cli import print_json

    splits = load_features(args.data_dir, args.corpus, args.features, args.holdout, args.seed)
    cfg = TrainConfig(seed=args.seed, max_epochs=args.max_epochs, num_threads=args.threads)
    trained, history = fit(
        ModelConfig(n_classes=args.classes),
        cfg,
        splits["train"],
        splits["valid"],
        LossConfig(kind=args.loss),
        args.modalities,
        progress=True,
    )
    path = save_model(trained, args.out)
    if args.history:
        history.to_csv(args.history, index=False)
    scores = evaluate_model(trained, {k: splits[k] for k in ("train", "valid")})
    print_json(
        {
            "checkpoint": path,
            "modalities": trained.modalities,
            "epochs": len(history),
            "best_epoch": trained.best_epoch,
            "input_counts": trained.input_counts,
            "scores": scores.set_index("split").to_dict("index"),
        }
    )
    return 0


def _cli_evaluate(args: argparse.Namespace) -> int:
    from msa_lib.cli import print_json
    from msa_lib.evaluate import metrics_with_ci

    trained = load_model(args.model)
    splits = load_features(args.data_dir, args.corpus, args.features, args.holdout, args.seed)
    fs = splits[args.split]
    pred = predict(trained, fs)
    ok = ~np.isnan(fs.label)
    out = metrics_with_ci(fs.label[ok], pred[ok], n_resamples=args.resamples)
    print_json({"checkpoint": args.model, "split": args.split, "n": int(ok.sum()), **out})
    return 0


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", default=None, help="data folder (default: $MSA_DATA_DIR or synthetic)"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--corpus", choices=CORPUS_CHOICES, default="mosi-bclstm")
    src.add_argument("--features", help="a FeatureSet file (.h5) instead of a corpus")
    p.add_argument(
        "--holdout",
        type=float,
        default=0.15,
        help="share of train videos held out when there is no valid fold",
    )
    p.add_argument("--seed", type=int, default=0, help="training seed and hold-out seed")


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add ``msa train`` and ``msa evaluate``."""
    p = sub.add_parser(
        "train", help="train the fusion model (paper's recipe) and save a checkpoint"
    )
    _data_args(p)
    p.add_argument("--modalities", nargs="+", default=None, help="default: every modality")
    p.add_argument("--max-epochs", type=int, default=TrainConfig.max_epochs)
    p.add_argument("--loss", choices=("correlation", "multitask", "mse"), default="correlation")
    p.add_argument("--classes", type=int, default=0, help="classification head size (multitask)")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--out", required=True, help="checkpoint file to write")
    p.add_argument("--history", default=None, help="CSV file for the per-epoch history")
    p.set_defaults(func=_cli_train)
    e = sub.add_parser("evaluate", help="score a checkpoint on one split, with bootstrap 95%% CIs")
    _data_args(e)
    e.add_argument("--model", required=True, help="checkpoint written by msa train")
    e.add_argument("--split", choices=("train", "valid", "test"), default="test")
    e.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    e.set_defaults(func=_cli_evaluate)
