"""Extraction cost: the speed benchmark's measurements read back, and a corpus's time from them.

``benchmarks/extract.py`` (``make bench``) writes ``book/results/speed_ratios.csv`` (ours against
plain baselines, measured side by side) and ``benchmarks/results/extract_speed.json`` (per
segment CPU seconds, the worker runs, the machine). The functions here turn them into tables:
the ratios against their targets, and the wall time of a whole corpus on one machine or N.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.io.paths import benchmark_results_dir
from msa_lib.perf.speed import read_ratios

SPEED_JSON = "extract_speed.json"
RATIOS_CSV = "speed_ratios.csv"
THROUGHPUT_CSV = "extract_throughput.csv"
# CMU-MOSEI (Zadeh et al. 2018): 23,259 labelled segments from 3,837 videos, about 65 hours
MOSEI_SEGMENTS = 23259
MOSEI_HOURS = 65.0


def load_speed(path: str | Path | None = None) -> dict | None:
    """The extraction benchmark's details (``extract_speed.json``), or None before any run."""
    path = Path(path) if path else benchmark_results_dir() / SPEED_JSON
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc


def load_ratios(results_dir: str | Path) -> pd.DataFrame | None:
    """``speed_ratios.csv`` (ours against each baseline, with its target), or None before a run."""
    path = Path(results_dir) / RATIOS_CSV
    return read_ratios(path) if path.is_file() else None


def segment_table(speed: dict) -> pd.DataFrame:
    """One row per benchmarked segment: its length, frames and CPU seconds per extractor."""
    return pd.DataFrame(speed["segments"])


def worker_table(speed: dict) -> pd.DataFrame:
    """Frames per second of ``msa extract`` by protocol and workers, pool start-up included."""
    rows = []
    for key, v in speed["corpus"].items():
        proto, workers = key.rsplit("-", 1)
        rows.append(
            {
                "protocol": proto,
                "workers": int(workers),
                "frames": v["frames"],
                "wall_s": v["wall_s"],
                "frames_per_s": v["frames"] / v["wall_s"],
            }
        )
    return pd.DataFrame(rows).sort_values(["protocol", "workers"], ignore_index=True)


def scaling(speed: dict, protocol: str = "paper") -> float:
    """Speed-up of 2 workers over 1 divided by 2 (1.0: perfect), as measured."""
    w = worker_table(speed).set_index(["protocol", "workers"])["frames_per_s"]
    return float(w[(protocol, 2)] / w[(protocol, 1)] / 2)


def per_segment_seconds(speed: dict, throughput: pd.DataFrame | None = None) -> dict[str, float]:
    """Mean CPU seconds per segment of each extractor, the paper's protocol (first 100 frames, 3 s).

    Visual and audio come from the benchmarked segments; text and GloVe from the throughput table
    (segments per second over all MOSI transcripts) when it has them.
    """
    seg = segment_table(speed)
    out = {
        "visual": float(seg["visual_ours_cpu_s"].mean()),
        "audio": float(seg["audio_ours_s"].mean()),
    }
    if throughput is not None:
        for name in ("text", "glove"):
            rate = throughput.loc[
                (throughput["extractor"] == name) & (throughput["metric"] == "segments_per_s"),
                "value",
            ]
            if len(rate):
                out[name] = 1.0 / float(rate.iloc[0])
    return out


def corpus_estimate(
    seconds_per_segment: float,
    n_segments: int = MOSEI_SEGMENTS,
    cores: int = 2,
    efficiency: float = 1.0,
    machines: tuple[int, ...] = (1, 4, 16, 64),
) -> pd.DataFrame:
    """CPU hours and wall hours of a corpus on N machines of ``cores`` workers each.

    Wall = CPU time / (machines x cores x efficiency): segments are independent, so the work
    divides; ``efficiency`` is the measured share of a perfect speed-up per added worker.
    """
    if seconds_per_segment <= 0 or n_segments < 1 or cores < 1 or not 0 < efficiency <= 1:
        raise ValueError(
            "corpus_estimate needs seconds_per_segment > 0, n_segments >= 1, cores >= 1 and "
            f"0 < efficiency <= 1; got {seconds_per_segment}, {n_segments}, {cores}, {efficiency}"
        )
    cpu_h = seconds_per_segment * n_segments / 3600
    m = np.asarray(machines)
    return pd.DataFrame(
        {
            "machines": m,
            "workers": m * cores,
            "cpu_hours": cpu_h,
            "wall_hours": cpu_h / (m * cores * efficiency),
        }
    )
