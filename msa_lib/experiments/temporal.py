"""Temporal alignment (§3.5) and a sequence model over the aligned frames, beside the averaged model.

**Alignment** (§3.5). Each segment's frames of every modality become ``steps`` (30) aligned steps:

- audio frames: adaptive average pooling to the visual frame count, which the paper fixes at 30;
  the visual frames are brought to that count the same way (unchanged when there are exactly 30);
- text token states: linear interpolation to the same count.

Pooling is ``torch.nn.functional.adaptive_avg_pool1d`` (step ``i`` averages input frames
``floor(i T / steps)`` to ``ceil((i + 1) T / steps)``; with fewer frames than steps, frames repeat),
interpolation ``torch.nn.functional.interpolate`` (linear, ``align_corners=True``: the first and last
steps are the first and last frames). Defects follow the averaged features' rules
(:mod:`msa_lib.data.csd`): a frame with no finite value is dropped, another non-finite value takes
its column's finite mean over the segment, and a segment without a usable frame is a missing
modality (a NaN row).

Aligned sequences are stored as a :class:`~msa_lib.data.featureset.FeatureSet` whose rows are
the ``steps x width`` frames flattened, so splits, missing rows and the training-split standardiser
are the ones every other model uses; ``meta[m].params`` records ``steps`` and the frame ``width``.

**Model**: each modality's frames are projected (Linear, ReLU, Dropout) and concatenated per step; a
BiLSTM (or a small transformer encoder with learned positions) reads the 30 steps; attention pooling
(a learned score per step, softmax over steps) gives one vector, and an MLP the sentiment score.
It is trained by the generic loop (:func:`msa_lib.train.loop.train_loop`) with the fusion model's
recipe and loss, selected on validation r; the **averaged model** is the paper's fusion model on
the time-averaged features of the same segments and splits (:func:`msa_lib.train.grid.run_grid`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from msa_lib.config import LossConfig, ModelConfig, TemporalConfig, TrainConfig
from msa_lib.data.csd import csd_dim, open_csd, read_entry
from msa_lib.data.featureset import FeatureSet, ModalityMeta
from msa_lib.evaluate import metrics, seed_mean_ci, seed_mean_cis
from msa_lib.io.atomic import atomic_path
from msa_lib.losses import compute_loss
from msa_lib.models.fusion import FusionOutput
from msa_lib.train.codehash import code_fingerprint
from msa_lib.train.fusion import input_tensor, score_predictions, split_inputs
from msa_lib.train.grid import run_grid, run_key
from msa_lib.train.inputs import (
    Standardizer,
    TrainInputError,
    check_featureset,
    require_varied_labels,
    usable_rows,
)
from msa_lib.train.loop import predict_batches, train_loop

log = logging.getLogger(__name__)

ALIGN = {"visual": "pool", "audio": "pool", "text": "interpolate"}  # §3.5




# ----------------------------------------------------------------- alignment
def adaptive_pool(frames: np.ndarray, steps: int) -> np.ndarray:
    """``[T, d]`` frames averaged into ``[steps, d]`` by adaptive average pooling."""
    x = torch.as_tensor(np.asarray(frames, np.float32)).T.unsqueeze(0)  # [1, d, T]
    return F.adaptive_avg_pool1d(x, steps)[0].T.numpy()


def linear_resample(frames: np.ndarray, steps: int) -> np.ndarray:
    """``[T, d]`` frames linearly interpolated to ``[steps, d]`` (first and last frames kept)."""
    x = np.asarray(frames, np.float32)
    if len(x) == 1:
        return np.repeat(x, steps, axis=0)
    t = torch.as_tensor(x).T.unsqueeze(0)
    return F.interpolate(t, size=steps, mode="linear", align_corners=True)[0].T.numpy()


def clean_frames(frames: np.ndarray) -> np.ndarray:
    """Frames without defects: all-non-finite frames dropped, other gaps filled by the column mean."""
    x = np.asarray(frames, np.float64)
    x = x[np.isfinite(x).any(axis=1)] if len(x) else x
    finite = np.isfinite(x)
    if finite.all():
        return x.astype(np.float32)
    counts = finite.sum(axis=0)
    means = np.divide(
        np.where(finite, x, 0).sum(axis=0), counts, out=np.zeros(x.shape[1]), where=counts > 0
    )
    return np.where(finite, x, means).astype(np.float32)


def align(frames: np.ndarray, steps: int, method: str) -> np.ndarray | None:
    """One modality's frames of one segment at ``steps`` steps, or None with no usable frame."""
    x = clean_frames(frames)
    if len(x) == 0:
        return None
    if method == "pool":
        return adaptive_pool(x, steps)
    if method == "interpolate":
        return linear_resample(x, steps)
    raise ValueError(f"unknown alignment '{method}' (known: pool, interpolate)")


# ----------------------------------------------------------------- .csd sequences
def segment_frames(path: str | Path, segments: pd.DataFrame) -> list[np.ndarray]:
    """Each segment's frames ``[T, d]`` in one .csd file (``T`` may be 0).

    The selection is :func:`msa_lib.data.csd.average_segments`' rule: the segment's own entry when
    the file has one, else its video's frames whose intervals overlap ``[start, end]``.
    """
    seq = open_csd(path)
    dim, keys, spath = csd_dim(seq, str(path)), set(seq.data.keys()), str(path)
    out = [np.zeros((0, dim), np.float32)] * len(segments)
    by_video = segments.groupby(segments["video_id"].astype(str), sort=False).indices
    for vid, rows in by_video.items():
        video = read_entry(seq, vid, spath) if vid in keys else None
        for i in rows:
            sid = str(segments["segment_id"].iat[i])
            if sid in keys:
                out[i] = read_entry(seq, sid, spath)[0]
            elif video is not None:
                feats, ivals = video
                start, end = float(segments["start"].iat[i]), float(segments["end"].iat[i])
                out[i] = feats[(ivals[:, 0] < end) & (ivals[:, 1] > start)]
    return out


def aligned_features(
    folder,
    corpus: str = "mosi",
    modalities: Sequence[str] = ("visual", "audio", "text"),
    config: TemporalConfig = TemporalConfig(),
) -> tuple[FeatureSet, pd.DataFrame]:
    """The corpus's .csd sequences aligned to ``config.steps`` (flattened rows) and frame counts.

    The rows are the segments :meth:`~msa_lib.data.folder.DataFolder.features` averages (the
    same order), so the averaged model and the temporal model see the same segments. The frame
    table gives, per modality, the median, min and max frames per segment before alignment.
    """
    files, seg = folder.csd_segments(corpus, modalities)
    feats, meta, counts = {}, {}, []
    for m in modalities:
        frames = segment_frames(files[m], seg)
        width = frames[0].shape[1]
        x = np.full((len(seg), config.steps * width), np.nan, np.float32)
        for i, f in enumerate(frames):
            a = align(f, config.steps, ALIGN[m])
            if a is not None:
                x[i] = a.ravel()
        n = np.array([len(f) for f in frames])
        counts.append(
            {
                "modality": m,
                "alignment": ALIGN[m],
                "frames median": float(np.median(n)),
                "frames min": int(n.min()),
                "frames max": int(n.max()),
                "missing": int(np.isnan(x).all(axis=1).sum()),
            }
        )
        feats[m] = x
        meta[m] = ModalityMeta(
            extractor=files[m].stem,
            version="csd",
            params={"steps": config.steps, "width": width, "alignment": ALIGN[m]},
        )
    fs = folder.feature_set(corpus, seg, feats, meta, f"{folder.root} ({corpus}, aligned)")
    return fs, pd.DataFrame(counts)


def frame_width(fs: FeatureSet, modality: str, steps: int) -> int:
    """Width of one frame of an aligned (flattened) modality; an error if it does not divide."""
    total = fs.dims[modality]
    if total % steps:
        raise TrainInputError(
            f"{fs.corpus or 'FeatureSet'}: modality '{modality}' has {total} columns, not a "
            f"multiple of {steps} steps; is it an aligned sequence set?"
        )
    return total // steps


def time_average(fs: FeatureSet, steps: int) -> FeatureSet:
    """An aligned set averaged over its steps: one ``[n, width]`` vector per modality."""
    feats = {
        m: x.reshape(len(fs), steps, frame_width(fs, m, steps)).mean(axis=1)
        for m, x in fs.features.items()
    }
    return dataclasses.replace(
        fs, features=feats, meta={m: ModalityMeta("time average") for m in feats}
    )


# ----------------------------------------------------------------- the sequence model
class TemporalModel(nn.Module):
    """Per-modality frame projection -> BiLSTM (or transformer) over steps -> attention pooling -> MLP."""

    def __init__(
        self, widths: Mapping[str, int], steps: int, config: TemporalConfig = TemporalConfig()
    ) -> None:
        super().__init__()
        if not widths:
            raise ValueError("TemporalModel needs at least one modality")
        self.widths, self.steps, self.config = {m: int(d) for m, d in widths.items()}, steps, config
        self.project = nn.ModuleDict(
            {
                m: nn.Sequential(
                    nn.Linear(d, config.projection), nn.ReLU(), nn.Dropout(config.dropout)
                )
                for m, d in widths.items()
            }
        )
        width, out = len(widths) * config.projection, 2 * config.hidden
        if config.architecture == "bilstm":
            self.sequence = nn.LSTM(width, config.hidden, batch_first=True, bidirectional=True)
            self.position = None
            self.encode_in = None
        else:
            self.encode_in = nn.Linear(width, out)
            self.position = nn.Parameter(torch.zeros(steps, out))
            layer = nn.TransformerEncoderLayer(
                out, config.heads, 2 * out, config.dropout, batch_first=True
            )
            self.sequence = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.score_step = nn.Linear(out, 1)  # attention pooling: one score per step
        self.head = nn.Sequential(
            nn.Linear(out, config.hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, 1),
        )

    def frames(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The projected, concatenated frames ``[batch, steps, n_modalities * projection]``."""
        parts = []
        for m, d in self.widths.items():
            if m not in inputs:
                raise KeyError(f"model expects modalities {list(self.widths)}; missing '{m}'")
            x = inputs[m]
            if x.ndim != 2 or x.shape[1] != self.steps * d:
                raise ValueError(
                    f"modality '{m}': expected input [batch, {self.steps} x {d}], got {tuple(x.shape)}"
                )
            parts.append(self.project[m](x.reshape(len(x), self.steps, d)))
        return torch.cat(parts, dim=-1)

    def attention(self, inputs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Sequence states ``[batch, steps, 2 * hidden]`` and pooling weights ``[batch, steps]``."""
        x = self.frames(inputs)
        if self.encode_in is not None:
            h = self.sequence(self.encode_in(x) + self.position)
        else:
            h, _ = self.sequence(x)
        return h, torch.softmax(self.score_step(h).squeeze(-1), dim=1)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> FusionOutput:
        """Score ``[batch]`` (no classification head)."""
        h, w = self.attention(inputs)
        pooled = (w.unsqueeze(-1) * h).sum(dim=1)
        return FusionOutput(self.head(pooled).squeeze(-1), None)


@dataclass
class TrainedTemporal:
    """A fitted temporal model with its scaler and settings."""

    model: TemporalModel
    scaler: Standardizer
    modalities: list[str]
    config: TemporalConfig
    best_epoch: int
    best_valid_r: float

    def predict(self, fs: FeatureSet) -> np.ndarray:
        """Scores for every segment of ``fs`` (a missing modality gets the training mean)."""
        check_featureset(
            fs, self.modalities, "predict", {m: self.scaler.mean[m].size for m in self.modalities}
        )
        x, cols = input_tensor(self.scaler, fs, self.modalities)
        out = predict_batches(self.model, x, lambda m, xb: m(split_inputs(xb, cols)))
        return out.score.numpy().astype(np.float64)


def fit_temporal(
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    modalities: Sequence[str],
    config: TemporalConfig = TemporalConfig(),
    train_config: TrainConfig = TrainConfig(),
    loss_config: LossConfig = LossConfig(),
    progress: bool = False,
) -> tuple[TrainedTemporal, pd.DataFrame]:
    """Train on aligned ``train_fs``, select on ``valid_fs`` r (the fusion model's recipe and rules)."""
    mods = list(modalities)
    if loss_config.kind == "multitask":
        raise TrainInputError(
            "the temporal model has no classification head for the multi-task loss"
        )
    check_featureset(train_fs, mods, "train")
    check_featureset(valid_fs, mods, "valid", train_fs.dims)
    widths = {m: frame_width(train_fs, m, config.steps) for m in mods}
    train_fs = train_fs.take(usable_rows(train_fs, mods, train_config.missing)[0])
    valid_fs = valid_fs.take(usable_rows(valid_fs, mods, train_config.missing)[0])
    require_varied_labels(train_fs, "train")
    require_varied_labels(valid_fs, "valid")
    scaler = Standardizer.fit(train_fs, mods)
    x_tr, cols = input_tensor(scaler, train_fs, mods)
    x_va, _ = input_tensor(scaler, valid_fs, mods)
    y_tr = torch.from_numpy(train_fs.label.astype(np.float32))
    y_va = valid_fs.label.astype(np.float64)

    def batch_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        xb, yb = batch
        return compute_loss(model(split_inputs(xb, cols)), yb, loss_config)

    def validate(model: nn.Module) -> tuple[float, dict[str, float]]:
        out = predict_batches(model, x_va, lambda m, xb: m(split_inputs(xb, cols)))
        m = metrics(y_va, out.score.numpy())
        return (m["r"] if np.isfinite(m["r"]) else 0.0), {"valid_mae": m["mae"], "valid_r": m["r"]}

    result = train_loop(
        lambda: TemporalModel(widths, config.steps, config),
        (x_tr, y_tr),
        batch_loss,
        validate,
        train_config,
        progress=progress,
        desc="temporal",
    )
    trained = TrainedTemporal(
        result.model, scaler, mods, config, result.best_epoch, float(result.best_logged["valid_r"])
    )
    return trained, result.history


# ----------------------------------------------------------------- temporal against averaged
def _temporal_run(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    seed: int,
    config: TemporalConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
    cache_file: Path | None,
) -> dict[str, pd.DataFrame]:
    """One seed of the temporal model, scored once on every split; reuse or write ``cache_file``."""
    if cache_file is not None and cache_file.is_file():
        return pd.read_pickle(cache_file)
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
    out = {
        "runs": pd.DataFrame(runs).assign(
            **meta,
            best_epoch=trained.best_epoch,
            epochs=len(history),
            sec_per_epoch=history.seconds.mean(),
        ),
        "predictions": pd.concat(preds, ignore_index=True).assign(**meta),
    }
    if cache_file is not None:
        with atomic_path(cache_file) as tmp:
            pd.to_pickle(out, tmp)
    return out


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
    ``cache_dir``, each finished seed is kept under a key of the data, settings and code.
    """
    for need in ("train", "valid"):
        if need not in splits:
            raise ValueError(f"run_temporal needs a '{need}' split; got {list(splits)}")
    train_config = dataclasses.replace(train_config, num_threads=1)
    code = code_fingerprint(__name__) if cache_dir is not None else ""
    jobs = []
    for seed in seeds:
        cache = None
        if cache_dir is not None:
            key = run_key(splits, modalities, seed, (config, train_config, loss_config), code)
            cache = Path(cache_dir) / f"temporal-{key}.pkl"
        jobs.append((seed, cache))
    args = (config, train_config, loss_config)
    if n_jobs > 1:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(
            delayed(_temporal_run)(splits, modalities, s, *args, c) for s, c in jobs
        )
    else:
        parts = [_temporal_run(splits, modalities, s, *args, c) for s, c in jobs]
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
        effect[key], effect[f"{key}_lo"], effect[f"{key}_hi"] = seed_mean_ci(
            y, preds["temporal"], metric, preds["averaged"], n_resamples=n_resamples
        )
    return pd.DataFrame(rows), effect
