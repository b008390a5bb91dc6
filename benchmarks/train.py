"""Training speed of the paper's fusion model on a MOSEI-sized input, written as JSON.

Input: 16,331 training and 1,871 validation segments (MOSEI's official folds), 713 + 74 + 300
features (OpenFace2, COVAREP, GloVe widths); batch 32, the paper's model and recipe. One epoch is
one training pass and one validation pass. Target: <= 1 s per epoch on 2 CPU cores.
Run by ``make bench`` (never by the tests); results in ``benchmarks/results/train.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from msa_lib.models import FusionModel, count_parameters
from msa_lib.train import time_epochs
from msa_lib.train.timing import MOSEI_DIMS

TARGET_SECONDS = 1.0
DIMS = MOSEI_DIMS  # OpenFace2, COVAREP, GloVe widths


def main(argv: list[str] | None = None) -> int:
    """Time a few epochs with 1 and 2 torch threads; print and save the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "train.json"))
    args = ap.parse_args(argv)
    rows = []
    for threads in args.threads:
        t0 = time.perf_counter()
        h = time_epochs(
            n_train=16331, n_valid=1871, dims=DIMS, epochs=args.epochs, num_threads=threads
        )
        # the first epoch includes warm-up (allocations, kernels); report the later ones
        steady = h["seconds"].iloc[1:] if len(h) > 1 else h["seconds"]
        rows.append(
            {
                "num_threads": threads,
                "seconds_per_epoch": float(steady.mean()),
                "seconds_per_epoch_all": h["seconds"].round(4).tolist(),
                "wall_seconds": time.perf_counter() - t0,
            }
        )
        print(f"threads={threads}: {rows[-1]['seconds_per_epoch']:.3f} s/epoch", flush=True)
    best = min(r["seconds_per_epoch"] for r in rows)
    result = {
        "benchmark": "fusion model training epoch, MOSEI-sized input",
        "n_train": 16331,
        "n_valid": 1871,
        "dims": DIMS,
        "batch_size": 32,
        "parameters": count_parameters(FusionModel(DIMS)),
        "runs": rows,
        "best_seconds_per_epoch": best,
        "target_seconds_per_epoch": TARGET_SECONDS,
        "meets_target": best <= TARGET_SECONDS,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
