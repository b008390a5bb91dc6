"""``msa predict`` speed: one ~3-s clip scored end to end, cold (models loading) and warm.

The clip is generated (3.0 s of espeak-ng speech over the scikit-image face; a tone where
espeak-ng is absent); the real MOSI clips of ``$MSA_DATA_DIR/raw/mosi`` are timed too when present.
Bundles: the one given with ``--model`` (default: ``book/results/model`` when it exists), plus two
stand-ins built here whose weights only serve the timing: a text-only bundle (a MiniLM regressor,
as the real data gives) and a fusion bundle (visual + audio + text, as the synthetic data gives),
so both paths are timed. Targets: under 5 s warm on 2 cores; ``msa predict CLIP`` in a fresh
process (the fusion stand-in on the generated clip: every model loads) at most 6 s wall, the
median of three, a row of ``book/results/speed_ratios.csv``. The CPU seconds of each call (all
threads) are recorded beside the wall time: on a shared machine the wall time also counts
other processes' turns, and the load average at the end is written too. Writes
``benchmarks/results/predict.json``. Usage: ``python benchmarks/predict.py [--model DIR] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from msa_lib.config import AsrConfig  # noqa: E402
from msa_lib.extract.run.worker import available_cores  # noqa: E402
from msa_lib.perf.speed import budget_row, upsert_ratios  # noqa: E402
from msa_lib.predict.bundle import build_model_bundle, default_bundle_dir  # noqa: E402
from msa_lib.predict.predictor import Predictor  # noqa: E402

TARGET_WARM_S = 5.0
COLD_TARGET_S = 6.0  # msa predict CLIP in a fresh process, wall seconds
COLD_REPEATS = 3  # fresh processes timed; the median is reported
CLI = "import sys; from msa_lib.cli import run; run(sys.argv[1:])"


def stand_in_bundles(work: Path) -> dict[str, Path]:
    """A text-only and a fusion bundle with quickly trained weights (for timing only)."""
    from msa_lib.config import ModelConfig, SynthConfig, TextFineTuneConfig, TrainConfig
    from msa_lib.data import DataFolder
    from msa_lib.data.synthetic import generate
    from msa_lib.extract.base import default_settings
    from msa_lib.train.fusion import fit
    from msa_lib.train.text import fine_tune_text

    texts = ["i loved it", "a wonderful film", "i hated it", "an awful film"]
    y = [2.5, 2.5, -2.5, -2.5]
    text = fine_tune_text(texts, y, texts, y, TextFineTuneConfig(epochs=1), trained_on="timing")
    folder = DataFolder.open(generate(work / "synthetic", SynthConfig(mosi_segments=200)))
    fs, _ = folder.features("mosi")
    tr, va = (fs.take([i for i, s in enumerate(fs.split) if s == k]) for k in ("train", "valid"))
    fusion, _ = fit(ModelConfig(), TrainConfig(max_epochs=2, batch_size=8), tr, va, progress=False)
    prov = {"trained_on": "stand-in weights for timing", "data_source": "synthetic"}
    return {
        "text-only (stand-in)": build_model_bundle(
            work / "text", text_model=text, text_provenance=prov
        ),
        "fusion (stand-in)": build_model_bundle(
            work / "fusion",
            fusion_model=fusion,
            fusion_provenance=prov,
            extractor_settings=default_settings(),
        ),
    }


def bench_clips(work: Path, data_dir: str | None) -> dict[str, Path]:
    """The generated 3-s clip, and the real MOSI clips when the data folder has them."""
    from msa_lib.data.layout import media_files, raw_dir
    from msa_lib.extract.generate import make_clip

    clips = {
        "generated 3.0 s": make_clip(work / "three.mp4", "i really loved this movie", 3.0).path
    }
    root = data_dir or os.environ.get("MSA_DATA_DIR")
    if root:
        for p in media_files(raw_dir(root, "mosi")):
            clips[f"MOSI {p.stem}"] = p
    return clips


def cli_seconds(clip: Path, bundle: Path) -> float:
    """Wall seconds of one ``msa predict`` in a fresh process (start-up and loading included)."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", CLI, "predict", str(clip), "--model", str(bundle)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Time every bundle on every clip and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="a bundle to time as well")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "predict.json"))
    ap.add_argument("--ratios", default=str(ROOT / "book" / "results" / "speed_ratios.csv"))
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="msa-bench-predict-"))
    bundles = stand_in_bundles(work)
    given = Path(args.model) if args.model else default_bundle_dir()
    if (given / "manifest.json").is_file():
        bundles = {f"{given}": given, **bundles}
    clips = bench_clips(work, args.data_dir)
    threads = min(available_cores(), 4)
    rows = []
    for bname, bdir in bundles.items():
        t0 = time.perf_counter()
        pred = Predictor(bdir, AsrConfig(cpu_threads=threads))
        load_s = time.perf_counter() - t0
        for cname, clip in clips.items():
            t0 = time.perf_counter()
            first = pred.predict(clip)
            cold = time.perf_counter() - t0
            runs, cpu = [], []
            for _ in range(args.repeats):
                c0 = time.process_time()
                p = pred.predict(clip)
                cpu.append(time.process_time() - c0)
                runs.append(p.seconds)
            warm = statistics.median(r["total"] for r in runs)
            row = {
                "bundle": bname,
                "clip": cname,
                "clip_s": round(p.duration, 2),
                "model": p.model,
                "used": "+".join(m for m, s in p.modalities.items() if s.used),
                "bundle_load_s": round(load_s, 2),
                "first_call_s": round(cold, 2),
                "warm_s": round(warm, 2),
                "warm_cpu_s": round(statistics.median(cpu), 2),
                "warm_transcript_s": round(statistics.median(r["transcript"] for r in runs), 2),
                "warm_features_s": round(statistics.median(r["features"] for r in runs), 2),
                "warm_model_s": round(statistics.median(r["model"] for r in runs), 2),
                "target_warm_s": TARGET_WARM_S,
                "met": bool(warm < TARGET_WARM_S),
                "score": round(first.score, 3),
                "transcript": p.transcript,
            }
            rows.append(row)
            print(
                f"{bname:24s} {cname:22s} {row['clip_s']:5.1f} s clip: warm {warm:5.2f} s "
                f"(asr {row['warm_transcript_s']:.2f}, features {row['warm_features_s']:.2f}, "
                f"model {row['warm_model_s']:.2f}; CPU {row['warm_cpu_s']:.2f} s); "
                f"first call {cold:.2f} s",
                flush=True,
            )
    gen = clips["generated 3.0 s"]
    fresh = [cli_seconds(gen, bundles["fusion (stand-in)"]) for _ in range(COLD_REPEATS)]
    cold_cli = statistics.median(fresh)
    print(
        f"msa predict in a fresh process (fusion stand-in, generated clip): {cold_cli:.2f} s "
        f"(median of {COLD_REPEATS}: {', '.join(f'{t:.2f}' for t in fresh)})"
    )
    warm_fusion = next(
        r["warm_s"]
        for r in rows
        if r["bundle"] == "fusion (stand-in)" and r["clip"] == "generated 3.0 s"
    )
    upsert_ratios(
        [
            budget_row(
                "cold msa predict, one clip: wall seconds",
                cold_cli,
                warm_fusion,
                "the same clip scored warm, its models loaded (a fusion bundle: Whisper, the "
                "text encoder, the landmarker, librosa)",
                COLD_TARGET_S,
            )
        ],
        Path(args.ratios),
    )
    out = {
        "rows": rows,
        "cli_fresh_process_s": round(cold_cli, 2),
        "cli_fresh_process_runs_s": [round(t, 2) for t in fresh],
        "asr_threads": threads,
        "cpus": os.cpu_count(),
        "cores_available": available_cores(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "machine": platform.processor() or platform.machine(),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
