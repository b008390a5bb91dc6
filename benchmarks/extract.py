"""Extraction throughput and memory: visual frames/s, audio real-time factor, text segments/s.

Runs on the real clips of ``$MSA_DATA_DIR/raw`` (MOSI clips and MOSEI segments cut from whole
videos) when present, else on generated clips (labelled ``generated`` in the output). Writes
``book/results/extract_throughput.csv`` (and ``benchmarks/results/extract_throughput.json``).
Usage: ``python benchmarks/extract.py [--data-dir DIR] [--out CSV]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from msa_lib.config import AudioConfig, TextConfig, VisualConfig  # noqa: E402
from msa_lib.data import open_data  # noqa: E402
from msa_lib.extract.base import Segment  # noqa: E402
from msa_lib.extract.media import probe  # noqa: E402
from msa_lib.extract.plan import plan_clips, plan_table  # noqa: E402
from msa_lib.extract.runner import extract_corpus  # noqa: E402

TARGETS = {
    ("visual", "paper", 1): ("frames_per_s_per_core", 100.0),
    ("visual", "paper", 2): ("frames_per_s", 200.0),
    ("visual", "sampled", 1): ("x_real_time", 20.0),
    ("visual", "sampled", 2): ("x_real_time", 20.0),
    ("audio", "paper", 1): ("x_real_time", 100.0),
    ("audio", "whole", 1): ("x_real_time", 100.0),
    ("text", "minilm", 1): ("segments_per_s", 300.0),
}


def bench_segments(data_dir: str | None, work: Path) -> tuple[list[Segment], str]:
    """Real MOSI clips plus MOSEI segments cut from whole videos, else generated clips."""
    folder = open_data(data_dir)
    segs: list[Segment] = []
    mosi = folder.raw_clips("mosi")
    if mosi:
        segs += plan_clips(mosi, folder.segments("mosi"))
    media = folder.raw_dir("mosei")
    if folder.has("mosei") and media.is_dir():
        segs += [s for s in plan_table(folder.segments("mosei"), media) if s.media]
    if segs:
        return segs, "real"
    from msa_lib.extract.generate import make_clip

    for i in range(4):
        c = make_clip(
            work / f"gen{i}.mp4",
            f"generated clip number {i} for the benchmark",
            seconds=6.0,
            seed=i,
        )
        segs.append(Segment(f"gen{i}", f"gen{i}", str(c.path)))
    return segs, "generated"


def seconds_of(s: Segment) -> float:
    """The segment's duration in seconds."""
    if s.start is not None and s.end is not None:
        return min(s.end, probe(s.media).duration) - s.start
    return probe(s.media).duration


def run_single(segs: list[Segment], fn) -> tuple[float, float, list]:
    """Wall and CPU seconds of ``fn`` over all segments (after one warm-up call)."""
    fn(segs[0])
    c0, t0 = time.process_time(), time.perf_counter()
    out = [fn(s) for s in segs]
    return time.perf_counter() - t0, time.process_time() - c0, out


def peak_rss_mb(call: str, warm_media: str, media: str) -> tuple[float, float]:
    """Peak resident memory (MB) of a fresh process after a warm-up call, and after ``call``.

    ``call`` is a Python expression with ``{media}`` in it; the warm-up runs it on ``warm_media``
    so that imports and model loading are counted in the first figure, not the difference.
    """
    code = (
        "import resource\n"
        "from msa_lib.extract.visual import extract_visual\n"
        "from msa_lib.extract.audio import extract_audio\n"
        "from msa_lib.config import VisualConfig, AudioConfig\n"
        f"{call.format(media=repr(warm_media))}\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        f"{call.format(media=repr(media))}\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    return int(out[-2]) / 1024, int(out[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and write the CSV."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(ROOT / "book" / "results" / "extract_throughput.csv"))
    args = ap.parse_args(argv)
    from msa_lib.extract.audio import extract_audio
    from msa_lib.extract.visual import extract_visual

    rows = []
    work = Path(tempfile.mkdtemp(prefix="msa-bench-"))
    segs, data = bench_segments(args.data_dir, work)
    total_s = sum(seconds_of(s) for s in segs)
    print(f"{len(segs)} segments, {total_s:.1f} s of media ({data})", flush=True)

    def add(extractor, setting, workers, metric, value, unit, n, note=""):
        target = TARGETS.get((extractor, setting, workers))
        t = target[1] if target and target[0] == metric else None
        rows.append(
            {
                "extractor": extractor,
                "setting": setting,
                "workers": workers,
                "metric": metric,
                "value": round(value, 2),
                "unit": unit,
                "target": t,
                "met": None if t is None else bool(value >= t),
                "n_items": n,
                "note": note,
            }
        )
        print(
            f"{extractor:7s} {setting:8s} w={workers} {metric:22s} {value:10.2f} {unit}"
            + (f" (target {t})" if t else ""),
            flush=True,
        )

    # visual, one process
    for proto in ("paper", "sampled"):
        cfg = VisualConfig(protocol=proto)
        wall, cpu, res = run_single(
            segs, lambda s, c=cfg: extract_visual(s.media, s.start, s.end, c)
        )
        frames = sum(r.n_frames for r in res)
        add("visual", proto, 1, "frames_per_s", frames / wall, "frames/s", frames)
        add("visual", proto, 1, "frames_per_s_per_core", frames / cpu, "frames per CPU-s", frames)
        add("visual", proto, 1, "x_real_time", total_s / wall, "media s / wall s", len(segs))
    # visual and audio through the corpus runner with 2 workers (pool start-up included)
    for proto in ("paper", "sampled"):
        cfg = {"visual": VisualConfig(protocol=proto)}
        t0 = time.perf_counter()
        rep = extract_corpus(
            segs, work / f"corpus-{proto}", ["visual"], cfg, workers=2, progress=False
        )
        wall = time.perf_counter() - t0
        from msa_lib.data import FeatureSet

        frames = int(FeatureSet.load(rep.extractors["visual"]["file"]).flags["n_frames"].sum())
        add(
            "visual",
            proto,
            2,
            "frames_per_s",
            frames / wall,
            "frames/s",
            frames,
            "msa extract --workers 2, start-up included",
        )
        add(
            "visual",
            proto,
            2,
            "x_real_time",
            total_s / wall,
            "media s / wall s",
            len(segs),
            "msa extract --workers 2",
        )
    # audio
    for setting, cfg in (("paper", AudioConfig()), ("whole", AudioConfig(duration=None))):
        wall, cpu, res = run_single(
            segs, lambda s, c=cfg: extract_audio(s.media, s.start, s.end, c)
        )
        audio_s = sum(r.n_samples for r in res) / cfg.sample_rate
        add(
            "audio",
            setting,
            1,
            "x_real_time",
            audio_s / wall,
            "audio s / wall s",
            len(segs),
            "decoding included",
        )
    # text
    folder = open_data(args.data_dir)
    texts = folder.segments("mosi")["text"].tolist()
    from msa_lib.extract.glove import Glove
    from msa_lib.extract.text import TextEncoder

    enc = TextEncoder(TextConfig())
    enc.encode(texts[:64])
    t0 = time.perf_counter()
    enc.encode(texts)
    add(
        "text",
        "minilm",
        1,
        "segments_per_s",
        len(texts) / (time.perf_counter() - t0),
        "segments/s",
        len(texts),
        f"all MOSI transcripts ({folder.source})",
    )
    glove = Glove()
    t0 = time.perf_counter()
    glove.encode(texts)
    add(
        "glove",
        "50d",
        1,
        "segments_per_s",
        len(texts) / (time.perf_counter() - t0),
        "segments/s",
        len(texts),
    )
    # peak memory against clip length (fresh processes; whole-segment settings)
    by_len = sorted(segs, key=seconds_of)
    short, long_ = by_len[0], by_len[-1]
    long_media = long_.media
    long_len = probe(long_media).duration
    for extractor, call in (
        ("visual", "extract_visual({media}, cfg=VisualConfig(protocol='sampled', sample_fps=30))"),
        ("audio", "extract_audio({media}, cfg=AudioConfig(duration=None))"),
    ):
        warm, peak_short = peak_rss_mb(call, short.media, short.media)
        _, peak_long = peak_rss_mb(call, short.media, long_media)
        note = f"every frame / all audio of the whole file; after a warm-up on {seconds_of(short):.1f} s"
        add(
            extractor,
            "memory",
            1,
            f"peak_rss_mb_{seconds_of(short):.0f}s",
            peak_short,
            "MB",
            1,
            note,
        )
        add(extractor, "memory", 1, f"peak_rss_mb_{long_len:.0f}s", peak_long, "MB", 1, note)
        add(
            extractor,
            "memory",
            1,
            "peak_growth_long_vs_short",
            peak_long - peak_short,
            "MB",
            1,
            f"{long_len:.0f} s file against {seconds_of(short):.1f} s clip",
        )
    df = pd.DataFrame(rows).assign(
        data=data,
        cpus=os.cpu_count(),
        machine=platform.processor() or platform.machine(),
        date=dt.datetime.now().isoformat(timespec="seconds"),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    js = ROOT / "benchmarks" / "results" / "extract_throughput.json"
    js.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps(df.to_dict(orient="records"), indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
