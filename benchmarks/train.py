"""Training cost of the paper's fusion model per seed and epoch: separate runs, the ensemble, the floor.

Input: a random MOSEI-sized set (16,331 training and 1,871 validation segments, 713 + 74 + 300
features: OpenFace2, COVAREP and GloVe widths), batch 32, the paper's model and recipe, one torch
thread. One epoch is one training pass and one validation pass. Measured side by side, in one
run, interleaved (:func:`msa_lib.train.timing.seed_epoch_seconds`):

- ``separate``: :func:`msa_lib.train.fit`, one seed after another;
- ``ensemble``: :func:`msa_lib.train.fit_seeds`, the seeds of one configuration trained together
  (statistically equivalent runs, each member its own dropout masks);
- ``gemm_floor``: the same GEMMs alone (every linear map forward and backward, the validation
  forward), nothing else; ``gemm_adam_floor``: the same with torch's fused Adam after each batch.

Targets (:mod:`msa_lib.perf.timing`): at most 1.5 s per seed-epoch on one thread, at most 1.15x
the GEMM + Adam floor, Table 1's grids at least 2x faster than separate runs.
``--compile MODE`` (default: ``default``) times a lone model's training step through
``torch.compile`` against eager. ``--table1`` also times chapter 5's Table-1 fusion grids (both
data sources) with the ensemble and with separate runs (slow: minutes). Writes ``benchmarks/results/train.json`` and upserts its
rows into ``book/results/speed_ratios.csv``. Run by ``make bench``, never by the tests.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import torch

from msa_lib.models.fusion import FusionModel, count_parameters
from msa_lib.perf.machine import machine_info
from msa_lib.perf.speed import ratio_row, upsert_ratios
from msa_lib.perf.timing import (
    FLOOR_RATIO_TARGET,
    MOSEI_DIMS,
    SECONDS_PER_SEED_EPOCH_TARGET,
    TABLE1_RATIO_TARGET,
    compile_step_seconds,
    seed_epoch_seconds,
    summarise_seed_epochs,
)

ROOT = Path(__file__).resolve().parents[1]


def table1_seconds(n_jobs: int) -> dict:
    """Chapter 5's Table-1 fusion grids, with and without the ensemble: seconds and differences.

    Wall seconds of each way (CPU seconds too with one job), and per Table-1 row whether the two
    ways' seed-mean test r agree within a bootstrap interval (:func:`equivalence`).
    """
    from msa_lib.config import LossConfig, ModelConfig, TrainConfig
    from msa_lib.data import open_data, open_synthetic
    from msa_lib.data.splits import fold_splits
    from msa_lib.train import SUBSETS, run_grid

    folder = open_data(None)
    grids = {
        "the synthetic MOSEI-shaped corpus": fold_splits(open_synthetic().features("mosei")[0])
    }
    if folder.source == "real" and folder.has_bclstm:  # as chapter 5 splits them
        grids["real MOSI bc-LSTM features"] = fold_splits(folder.bclstm(), holdout=0.15, seed=0)
    out: dict = {"sources": sorted(grids)}
    results = {}
    for ensemble in (False, True):
        t0, c0 = time.perf_counter(), time.process_time()
        results[ensemble] = [
            run_grid(
                splits,
                SUBSETS,
                [0, 1, 2, 3, 4],
                ModelConfig(),
                TrainConfig(max_epochs=100),
                LossConfig(),
                n_jobs=n_jobs,
                progress=False,
                ensemble=ensemble,
            )
            for splits in grids.values()
        ]
        key = "ensemble" if ensemble else "separate"
        out[f"{key}_wall"] = time.perf_counter() - t0
        out[f"{key}_cpu"] = time.process_time() - c0 if n_jobs == 1 else float("nan")
        print(f"Table 1 grids, {key}: {out[f'{key}_wall']:.0f} s", flush=True)
    out["equivalence"] = equivalence(results[True], results[False], list(grids))
    out["score_rows"] = sum(len(g.runs) for g in results[True])  # run x split
    return out


def equivalence(ensemble: list, separate: list, sources: list[str]) -> list[dict]:
    """Per source and Table-1 row: seed-mean test r of the ensemble less that of separate runs,
    with a two-level bootstrap interval (:func:`msa_lib.train.grid.r_difference`) at a confidence
    corrected for the rows compared (Bonferroni)."""
    from msa_lib.train.grid import r_difference

    rows = []
    n_rows = sum(g.runs["subset"].nunique() for g in ensemble)
    for source, ens, sep in zip(sources, ensemble, separate, strict=True):
        for subset in ens.runs["subset"].unique():
            diff, lo, hi = r_difference(ens, sep, subset, confidence=1 - 0.05 / n_rows)
            rows.append(
                {"source": source, "subset": subset, "r_difference": diff, "low": lo, "high": hi}
                | {"equivalent": bool(lo <= 0 <= hi)}
            )
    return rows


def ratio_rows(summary: dict, table1: dict | None) -> list[dict]:
    """The rows this benchmark owns in ``speed_ratios.csv`` (CPU seconds per seed-epoch)."""
    ens, sep = summary["ensemble"]["cpu"], summary["separate"]["cpu"]
    floor = summary["gemm_adam_floor"]["cpu"]
    k = summary["ensemble"]["members"]
    rows = [
        ratio_row(
            f"training, {k} seeds as one ensemble: CPU s per seed-epoch, 1 thread",
            ens,
            sep,
            "separate runs (fit per seed)",
            TABLE1_RATIO_TARGET,
            higher_is_better=False,
        ),
        ratio_row(
            f"training, {k} seeds as one ensemble: against the arithmetic floor",
            ens,
            floor,
            "the same GEMMs + fused Adam alone",
            FLOOR_RATIO_TARGET,
            higher_is_better=False,
        ),
        ratio_row(
            f"training, {k} seeds as one ensemble: against {SECONDS_PER_SEED_EPOCH_TARGET:g} s per seed-epoch",
            ens,
            SECONDS_PER_SEED_EPOCH_TARGET,
            f"a fixed {SECONDS_PER_SEED_EPOCH_TARGET:g} s per seed-epoch",
            1.0,
            higher_is_better=False,
        ),
    ]
    if table1:
        rows.append(
            ratio_row(
                "chapter 5 Table-1 fusion grids: wall s, seeds as ensembles",
                table1["ensemble_wall"],
                table1["separate_wall"],
                "separate runs (fit per seed)",
                TABLE1_RATIO_TARGET,
                higher_is_better=False,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure, print, and write the JSON and the ratio rows."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=5, help="seeds trained together")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per timed run (>= 2)")
    ap.add_argument("--separate-seeds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="interleaved repeats of every measure")
    ap.add_argument("--n-train", type=int, default=16331)
    ap.add_argument("--n-valid", type=int, default=1871)
    ap.add_argument("--table1", action="store_true", help="also time chapter 5's Table-1 grids")
    ap.add_argument("--table1-jobs", type=int, default=2)
    ap.add_argument(
        "--compile",
        default="default",
        help="torch.compile mode to time against eager on a lone model ('' to skip)",
    )
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train.json"))
    ap.add_argument("--ratios", default=str(ROOT / "book" / "results" / "speed_ratios.csv"))
    args = ap.parse_args(argv)
    logging.getLogger("msa_lib").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    started, before = time.perf_counter(), machine_info()
    rows = seed_epoch_seconds(
        k=args.members,
        n_train=args.n_train,
        n_valid=args.n_valid,
        epochs=args.epochs,
        separate_seeds=args.separate_seeds,
        repeats=args.repeats,
        num_threads=1,
    )
    summary = summarise_seed_epochs(rows)
    for measure, s in summary.items():
        print(
            f"{measure:16s} {s['cpu']:.3f} CPU s, {s['wall']:.3f} wall s per seed-epoch", flush=True
        )
    compiled = compile_step_seconds(args.compile) if args.compile else None
    if compiled:
        print(
            f"torch.compile ({compiled['mode']}): {compiled['compile_wall_s']:.0f} s to compile, "
            f"{compiled['compiled_step_ms']:.2f} ms per step against {compiled['eager_step_ms']:.2f} "
            "eager",
            flush=True,
        )
    table1 = table1_seconds(args.table1_jobs) if args.table1 else None
    ratios = ratio_rows(summary, table1)
    result = {
        "benchmark": "fusion model training, seconds per seed-epoch, MOSEI-sized input",
        "n_train": args.n_train,
        "n_valid": args.n_valid,
        "dims": MOSEI_DIMS,
        "batch_size": 32,
        "parameters": count_parameters(FusionModel(MOSEI_DIMS)),
        "members": args.members,
        "num_threads": 1,
        "summary": summary,
        "rows": rows.to_dict("records"),
        "table1": table1,
        "compile": compiled,
        "targets": {
            "seconds_per_seed_epoch": SECONDS_PER_SEED_EPOCH_TARGET,
            "ensemble_over_floor": FLOOR_RATIO_TARGET,
            "table1_ratio": TABLE1_RATIO_TARGET,
        },
        "ratios": ratios,
        "machine": machine_info() | {"load_average_before": before.get("load_average")},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "run_s": round(time.perf_counter() - started, 1),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    upsert_ratios(ratios, args.ratios)
    print(f"wrote {out} and {len(ratios)} rows of {args.ratios} in {result['run_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
