"""How long a training epoch of the fusion model takes on a random input of a given size.

:func:`time_epochs` times :func:`~msa_lib.train.fit`; :func:`seed_epoch_seconds` sets separate
runs, the seeds trained together (:mod:`msa_lib.train.ensemble`) and the arithmetic floor (the
same GEMMs alone, and with Adam: :func:`floor_epoch`) side by side, per seed and epoch.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from msa_lib.config import ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.io.paths import benchmark_results_dir
from msa_lib.train.fusion import fit
from msa_lib.train.loop import torch_threads

MOSEI_DIMS = {"visual": 713, "audio": 74, "text": 300}  # OpenFace2, COVAREP, GloVe widths
# Training-cost targets (one thread, MOSEI-sized input): CPU seconds per seed-epoch, the ensemble
# over the GEMM + Adam floor measured in the same run, Table 1's grids ensemble over separate runs
SECONDS_PER_SEED_EPOCH_TARGET = 1.5
FLOOR_RATIO_TARGET = 1.15
TABLE1_RATIO_TARGET = 0.5


def random_featureset(
    n_train: int, n_valid: int, dims: Mapping[str, int], seed: int = 0
) -> FeatureSet:
    """Random features with a weak shared signal, ``n_train`` train and ``n_valid`` valid segments."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    z = rng.normal(size=n)
    return FeatureSet(
        segment_id=np.arange(n).astype(str),
        video_id=(np.arange(n) // 10).astype(str),
        split=np.where(np.arange(n) < n_train, "train", "valid"),
        label=np.clip(z, -3, 3),
        features={m: rng.normal(size=(n, d)) + z[:, None] * 0.1 for m, d in dims.items()},
        corpus="random-timing",
        source="synthetic",
    )


def time_epochs(
    n_train: int = 16331,
    n_valid: int = 1871,
    dims: Mapping[str, int] | None = None,
    epochs: int = 2,
    num_threads: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-epoch seconds of :func:`~msa_lib.train.fit` (train pass + validation pass), MOSEI-sized."""
    fs = random_featureset(n_train, n_valid, dict(dims or MOSEI_DIMS), seed)
    cfg = TrainConfig(max_epochs=epochs, patience=epochs + 1, num_threads=num_threads, seed=seed)
    _, history = fit(ModelConfig(), cfg, fs.select("train"), fs.select("valid"), progress=False)
    return history[["epoch", "seconds"]].assign(
        n_train=n_train, n_valid=n_valid, num_threads=num_threads
    )


# --- seconds per seed-epoch: separate runs, the ensemble, and the arithmetic floor ----------------


class Layer(NamedTuple):
    """One linear map of the model (see :func:`linear_layers`)."""

    rows: int
    n_in: int
    n_out: int
    grad_input: bool


def linear_layers(dims: Mapping[str, int], config: ModelConfig = ModelConfig()) -> list[Layer]:
    """The fusion model's linear maps as ``(rows per example, in, out, input needs a gradient)``.

    Encoders (3 per modality), the attention's in- and out-projections (one row per token), the
    MLP (2) and the regressor: what a training step multiplies, in the order it does.
    """
    h, e, t = config.hidden, config.token_dim, len(dims)
    layers = []
    for d in dims.values():
        layers += [Layer(1, d, h, False), Layer(1, h, h, True), Layer(1, h, e, True)]
    layers += [Layer(t, e, 3 * e, True), Layer(t, e, e, True)]
    layers += [Layer(1, t * e, h, True), Layer(1, h, e, True), Layer(1, e, 1, True)]
    return layers


def floor_parameters(layers: list[Layer], k: int, gen: torch.Generator) -> list[torch.Tensor]:
    """Random ``[k, ...]`` tensors shaped like every parameter: weights, biases, BatchNorm's."""
    t = sum(1 for ly in layers if not ly.grad_input)  # one first layer per modality
    normed = layers[: 3 * t] + layers[3 * t + 2 : 3 * t + 4]  # a BatchNorm after each of these
    return [
        *(torch.randn(k, ly.n_out, ly.n_in, generator=gen) for ly in layers),
        *(torch.randn(k, ly.n_out, generator=gen) for ly in layers),
        *(torch.randn(k, ly.n_out, generator=gen) for ly in normed for _ in "wb"),
    ]


def training_steps(n_train: int, batch_size: int = 32, min_batch: int | None = None) -> int:
    """Optimizer steps in an epoch of :func:`~msa_lib.train.loop.train_loop`.

    One per batch of ``batch_size`` rows; a last batch smaller than ``min_batch`` (None:
    ``TrainConfig().min_batch``) is skipped, as the loop skips it.
    """
    min_batch = TrainConfig().min_batch if min_batch is None else min_batch
    full, rest = divmod(n_train, batch_size)
    return full + (rest >= min_batch)


def floor_epoch(
    k: int,
    n_train: int = 16331,
    n_valid: int = 1871,
    dims: Mapping[str, int] | None = None,
    batch_size: int = 32,
    with_adam: bool = False,
    config: ModelConfig = ModelConfig(),
) -> dict[str, float]:
    """Wall and CPU seconds of one epoch's GEMMs for ``k`` members, nothing else (and Adam).

    ``steps``: the training batches of the epoch (:func:`training_steps`).

    Per training batch, every linear map forward (``baddbmm``) and backward (weight gradient, and
    input gradient where the layer below needs it); the validation forward over ``n_valid`` rows;
    with ``with_adam``, torch's fused Adam over all the members' parameters (BatchNorm's included)
    after each batch. Random data: the floor an implementation of the model cannot go below.
    """
    g = torch.Generator().manual_seed(0)
    layers = linear_layers(dict(dims or MOSEI_DIMS), config)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g)

    params = floor_parameters(layers, k, g)
    weights, biases = params[: len(layers)], params[len(layers) : 2 * len(layers)]
    xs = [rand(k, ly.rows * batch_size, ly.n_in) for ly in layers]
    gs = [rand(k, ly.rows * batch_size, ly.n_out) for ly in layers]
    xv = [rand(k, ly.rows * n_valid, ly.n_in) for ly in layers]
    opt = None
    if with_adam:
        for p in params:
            p.grad = torch.randn_like(p)
        opt = torch.optim.Adam(params, lr=8e-4, weight_decay=0.04, fused=True)
    steps = training_steps(n_train, batch_size)
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for _ in range(steps):
            for ly, w, b, x, gr in zip(layers, weights, biases, xs, gs, strict=True):
                torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
                torch.bmm(gr.transpose(1, 2), x)
                if ly.grad_input:
                    torch.bmm(gr, w)
            if opt is not None:
                opt.step()
        for w, b, x in zip(weights, biases, xv, strict=True):
            torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "steps": steps}


def seed_epoch_seconds(
    k: int = 5,
    n_train: int = 16331,
    n_valid: int = 1871,
    dims: Mapping[str, int] | None = None,
    epochs: int = 2,
    separate_seeds: int = 2,
    repeats: int = 2,
    num_threads: int = 1,
) -> pd.DataFrame:
    """Seconds per seed-epoch on one input: separate runs, ``k`` seeds as one ensemble, the floor.

    - ``separate``: :func:`~msa_lib.train.fit`, ``separate_seeds`` seeds one after another;
    - ``ensemble``: :func:`~msa_lib.train.ensemble.fit_seeds` with ``k`` seeds;
    - ``gemm_floor`` / ``gemm_adam_floor``: :func:`floor_epoch` for ``k`` members.

    An epoch is a training pass and a validation pass. Each measure runs ``repeats`` times,
    interleaved with the others, so that load from other processes falls on all alike; the rows
    keep every repeat (``wall`` and ``cpu`` seconds per seed-epoch; for the runs, the first epoch,
    with its allocations, is left out of ``wall``).
    """
    from msa_lib.train.ensemble import fit_seeds

    fs = random_featureset(n_train, n_valid, dict(dims or MOSEI_DIMS))
    train, valid = fs.select("train"), fs.select("valid")
    cfg = TrainConfig(max_epochs=epochs, patience=epochs + 1, num_threads=num_threads)
    rows = []
    with torch_threads(num_threads):
        # warm-up, untimed: first-use imports (an optimizer's first construction imports
        # torch._dynamo: seconds) and allocations would otherwise count against the first measure
        small = random_featureset(64, 64, dict(dims or MOSEI_DIMS))
        one = replace(cfg, max_epochs=1, patience=2)
        fit(ModelConfig(), one, small.select("train"), small.select("valid"), progress=False)
        fit_seeds(
            ModelConfig(), one, small.select("train"), small.select("valid"), [0, 1], progress=False
        )
        for rep in range(repeats):
            for measure in ("separate", "ensemble", "gemm_floor", "gemm_adam_floor"):
                t0, c0 = time.perf_counter(), time.process_time()
                if measure == "separate":
                    hist = [
                        fit(ModelConfig(), replace(cfg, seed=s), train, valid, progress=False)[1]
                        for s in range(separate_seeds)
                    ]
                    n_seeds = separate_seeds
                elif measure == "ensemble":
                    runs = fit_seeds(ModelConfig(), cfg, train, valid, range(k), progress=False)
                    hist, n_seeds = [h for _, h in runs], k
                else:
                    sec = floor_epoch(k, n_train, n_valid, dims, with_adam="adam" in measure)
                    rows.append(
                        {"measure": measure, "repeat": rep, "members": k}
                        | {w: sec[w] / k for w in ("wall", "cpu")}
                    )
                    continue
                cpu = (time.process_time() - c0) / (n_seeds * epochs)
                steady = [h["seconds"].iloc[1:] if len(h) > 1 else h["seconds"] for h in hist]
                # an ensemble's history holds each member's share of the epoch already
                wall = float(np.mean([s.mean() for s in steady]))
                rows.append(
                    {"measure": measure, "repeat": rep, "members": n_seeds, "wall": wall}
                    | {"cpu": cpu, "wall_total": (time.perf_counter() - t0) / (n_seeds * epochs)}
                )
    return pd.DataFrame(rows).assign(n_train=n_train, n_valid=n_valid, num_threads=num_threads)


def summarise_seed_epochs(rows: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per measure, the least disturbed repeat: the minimum CPU and wall seconds per seed-epoch."""
    out = {}
    for measure, g in rows.groupby("measure", sort=False):
        out[str(measure)] = {
            "cpu": float(g["cpu"].min()),
            "wall": float(g["wall"].min()),
            "members": int(g["members"].iloc[0]),
            "repeats": len(g),
        }
    return out


TRAIN_JSON = "train.json"


def load_training_benchmark(path: str | Path | None = None) -> dict | None:
    """``benchmarks/results/train.json`` as ``benchmarks/train.py`` wrote it, or None before a run."""
    path = Path(path) if path else benchmark_results_dir() / TRAIN_JSON
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if "summary" not in result:
        raise ValueError(f"{path}: no 'summary' (written by an older benchmarks/train.py?)")
    return result


def training_cost_table(summary: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """One row per measure: seconds per seed-epoch (CPU, wall) and multiples of the floor."""
    names = {
        "separate": "separate runs (fit per seed)",
        "ensemble": "seeds as one ensemble (fit_seeds)",
        "gemm_floor": "floor: the same GEMMs alone",
        "gemm_adam_floor": "floor: the same GEMMs + fused Adam",
    }
    floor = summary["gemm_adam_floor"]["cpu"]
    sep = summary["separate"]["cpu"]
    rows = []
    for key, label in names.items():
        s = summary[key]
        rows.append(
            {
                "measure": label,
                "members": s["members"],
                "CPU s": s["cpu"],
                "wall s": s["wall"],
                "x floor": s["cpu"] / floor,
                "x separate": s["cpu"] / sep,
            }
        )
    return pd.DataFrame(rows)


def _timed_steps(forward, opt, x: Mapping[str, torch.Tensor], y: torch.Tensor, steps: int) -> float:  # noqa: ANN001
    """Best of five windows: CPU seconds per training step over ``steps`` steps of 4 batches."""
    from msa_lib.losses import compute_loss

    batch = len(y) // 4

    def step(i: int) -> None:
        rows = slice((i % 4) * batch, (i % 4 + 1) * batch)
        loss = compute_loss(forward({m: v[rows] for m, v in x.items()}), y[rows])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(5):
        step(i)
    best = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        for i in range(steps):
            step(i)
        best = min(best, (time.process_time() - c0) / steps)
    return best


def compile_step_seconds(
    mode: str = "default",
    steps: int = 30,
    dims: Mapping[str, int] | None = None,
    batch_size: int = 32,
    num_threads: int = 1,
) -> dict[str, float | str]:
    """A lone model's training step, eager and through ``torch.compile``: CPU ms, compile time.

    The same random batches, loss and fused Adam either way, the best of five windows of
    ``steps`` steps kept for each. ``compile_wall_s`` is the compiled run's wall time less the
    eager run's (the same steps): tracing and code generation from a cold on-disk cache, its
    worker processes included.
    """
    dims = dict(dims or MOSEI_DIMS)
    g = torch.Generator().manual_seed(0)
    x = {m: torch.randn(4 * batch_size, d, generator=g) for m, d in dims.items()}
    y = torch.randn(4 * batch_size, generator=g)
    out: dict[str, float | str] = {"mode": mode, "steps": steps}
    # a cold compile: inductor's on-disk cache in a fresh folder, as on a first run
    cache_before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    with torch_threads(num_threads), tempfile.TemporaryDirectory(prefix="msa-inductor-") as tmp:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tmp
        try:
            _eager_and_compiled(out, mode, dims, x, y, steps)
        finally:
            if cache_before is None:
                os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
            else:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache_before
    out["compile_wall_s"] = out["compiled_total_wall_s"] - out["eager_total_wall_s"]
    return out


def _eager_and_compiled(
    out: dict,
    mode: str,
    dims: Mapping[str, int],
    x: Mapping[str, torch.Tensor],
    y: torch.Tensor,
    steps: int,
) -> None:
    """Fill ``out`` with eager and compiled step times (see :func:`compile_step_seconds`)."""
    from msa_lib.models.fusion import FusionModel
    from msa_lib.train.loop import adam

    for name in ("eager", "compiled"):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = FusionModel(dims).train()
        forward = torch.compile(model, mode=mode) if name == "compiled" else model
        t0 = time.perf_counter()
        out[f"{name}_step_ms"] = (
            _timed_steps(forward, adam(model, TrainConfig()), x, y, steps) * 1e3
        )
        out[f"{name}_total_wall_s"] = time.perf_counter() - t0
