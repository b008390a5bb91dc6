"""Extraction speed and memory, and its ratios to plain baselines measured side by side.

Runs on the real clips of ``$MSA_DATA_DIR/raw`` (MOSI clips and MOSEI segments cut from whole
videos) when present, else on generated clips (labelled ``generated`` in the output).

Throughput: visual frames/s, audio real-time factor, text segments/s, ``msa extract --workers
2``, peak memory against clip length. Written to ``book/results/extract_throughput.csv`` and
``benchmarks/results/extract_throughput.json``.

Ratios: each baseline (:mod:`msa_lib.perf.baselines`, tested to compute what the extractors
compute) runs in the same process on the same segments, interleaved with ours segment by segment
(the order alternating, :func:`msa_lib.perf.measure.side_by_side`), so that a machine's load hits
both alike:

- visual: the paper's protocol done plainly -- every frame of the first 100 decoded by PyAV and
  passed one by one to a fresh MediaPipe Tasks ``FaceLandmarker`` (VIDEO mode) per segment;
- audio: ``librosa.load(sr=22050, duration=3.0)`` done by hand and one librosa call per feature,
  each with its own STFT, as the paper's code does.

Targets: visual end-to-end per core >= 1.5x (the median of five interleaved repeats, their range
beside it); ``--workers 2`` corpus throughput >= 2.6x the baseline's (one process); audio
>= 1.0x; a cold one-clip ``msa extract`` (all four extractors, a fresh process) within 4 s wall,
and within 2 s plus the models' load time; ``msa --help`` within 0.5 s; peak memory flat in clip
length (longest / shortest <= 1.10). Every ratio goes to ``book/results/speed_ratios.csv`` (measure, ours, baseline,
baseline_name, ratio, target, met), the details (per segment, the machine as
:func:`msa_lib.perf.machine.machine_info` describes it) to ``benchmarks/results/extract_speed.json``.
Usage: ``python benchmarks/extract.py [--data-dir DIR] [--out CSV] [--skip-text]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from msa_lib.config import AudioConfig, TextConfig, VisualConfig  # noqa: E402
from msa_lib.data import FeatureSet, open_data  # noqa: E402
from msa_lib.extract.base import Segment  # noqa: E402
from msa_lib.extract.engines.media import probe  # noqa: E402
from msa_lib.extract.plan import plan_clips, plan_table  # noqa: E402
from msa_lib.extract.run.corpus import extract_corpus  # noqa: E402
from msa_lib.perf.baselines import baseline_audio, baseline_visual  # noqa: E402
from msa_lib.perf.machine import machine_info  # noqa: E402
from msa_lib.perf.measure import (  # noqa: E402
    cli_startup,
    cold_extract,
    core_scaling,
    landmark_models,
    peak_rss_mb,
    run_single,
    side_by_side,
)
from msa_lib.perf.speed import budget_row, ratio_row, upsert_ratios  # noqa: E402

TARGETS = {
    ("visual", "paper", 1): ("frames_per_s_per_core", 100.0),
    ("visual", "paper", 2): ("frames_per_s", 200.0),
    ("visual", "sampled", 1): ("x_real_time", 20.0),
    ("visual", "sampled", 2): ("x_real_time", 20.0),
    ("audio", "paper", 1): ("x_real_time", 100.0),
    ("audio", "whole", 1): ("x_real_time", 100.0),
    ("text", "minilm", 1): ("segments_per_s", 300.0),
}
STARTUP_BUDGET_S = 0.5  # msa --help: the CLI imports no heavy library to list its commands
COLD_BUDGET_S = 2.0  # a cold one-clip msa extract: at most this beyond the models' load time
COLD_WALL_S = 4.0  # ... and at most this in all, from the command to its files
FLAT_MEMORY = 1.10  # peak memory on the longest clip / on the shortest
# ours in the visual rows: the library's extractor with the LiteRT landmark route
OURS_VISUAL = VisualConfig(landmarker="litert")
VISUAL_REPEATS = 5  # the visual ratio is the median of this many interleaved repeats
VISUAL_TARGET = 1.5
VISUAL_BASELINE = "first 100 frames, fresh Tasks FaceLandmarker per segment, one process"


# --------------------------------------------------------------------------- segments
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
        segs.append(Segment(f"gen{i}", f"gen{i}", str(c.path), text=c.text))
    return segs, "generated"


def seconds_of(s: Segment) -> float:
    """The segment's duration in seconds."""
    if s.start is not None and s.end is not None:
        return min(s.end, probe(s.media).duration) - s.start
    return probe(s.media).duration


# --------------------------------------------------------------------------- one run's results
class Bench:
    """What one run collects: throughput rows, ratio rows and the details for the JSON."""

    def __init__(self, segs: list[Segment], data: str, work: Path) -> None:
        self.segs, self.data, self.work = segs, data, work
        self.lengths = [seconds_of(s) for s in segs]
        self.total_s = sum(self.lengths)
        self.rows: list[dict] = []
        self.ratios: list[dict] = []
        self.details: dict = {
            "data": data,
            "machine": machine_info(),
            "segments": [],
            "sections_s": {},
        }
        self.started = self.clock = time.perf_counter()

    def add(self, extractor, setting, workers, metric, value, unit, n, note="") -> None:
        """One throughput row, against its target where ``TARGETS`` has one."""
        target = TARGETS.get((extractor, setting, workers))
        t = target[1] if target and target[0] == metric else None
        self.rows.append(
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

    def ratio(self, *args, **kw) -> None:
        """One ratio row of ours against a baseline (:func:`ratio_row`)."""
        r = ratio_row(*args, **kw)
        self.ratios.append(r)
        print(
            f"ratio   {r['measure']:34s} ours {r['ours']:9.3f} base {r['baseline']:9.3f} "
            f"-> {r['ratio']:.2f}x (target {r['target']}: {'met' if r['met'] else 'NOT met'})",
            flush=True,
        )

    def budget(self, measure: str, ours: float, baseline: float, name: str, limit: float) -> None:
        """One row of seconds against a budget (:func:`budget_row`)."""
        self.ratios.append(budget_row(measure, ours, baseline, name, limit))

    def section(self, name: str) -> None:
        """Record the seconds since the last section ended."""
        now = time.perf_counter()
        self.details["sections_s"][name] = round(now - self.clock, 1)
        self.clock = now


# --------------------------------------------------------------------------- the measurements
def ours_visual(seg: Segment) -> int:
    """Our visual path on the first 100 frames: ``extract_visual`` by LiteRT; frames read."""
    from msa_lib.extract.features.visual import extract_visual

    return extract_visual(seg.media, seg.start, seg.end, OURS_VISUAL).n_frames


def visual_side_by_side(b: Bench) -> None:
    """Ours against the plain Tasks loop, per CPU-second; the landmark models alone."""
    segs = b.segs
    ours_visual(segs[0]), baseline_visual(segs[0])  # warm-up: imports, first graph
    repeats = []
    for r in range(VISUAL_REPEATS):  # each repeat interleaved, every other one baseline first
        vis = side_by_side(segs, ours_visual, lambda s: len(baseline_visual(s)), int, r % 2 == 1)
        if vis["ours_n"] != vis["base_n"]:
            raise RuntimeError(
                f"ours and the baseline read different frames: {vis['ours_n']} / {vis['base_n']}"
            )
        repeats.append(vis)
    frames = sum(repeats[0]["ours_n"])
    ours_core = [frames / sum(v["ours_cpu"]) for v in repeats]
    base_core = [frames / sum(v["base_cpu"]) for v in repeats]
    per_repeat = [o / p for o, p in zip(ours_core, base_core)]
    b.ratio(
        "visual frames per CPU-second",
        float(np.median(ours_core)),
        float(np.median(base_core)),
        VISUAL_BASELINE,
        VISUAL_TARGET,
        repeats=per_repeat,
    )
    # the wall-clock figures below (the corpus ratio) use every repeat's baseline
    vis = {k: [x for v in repeats for x in v[k]] for k in repeats[0]}
    b.details["visual"] = {
        "ours_scope": "extract_visual, LiteRT landmarker",
        "frames": frames,
        "repeats": VISUAL_REPEATS,
        "ratio_per_repeat": [round(r, 4) for r in per_repeat],
    } | {k: [round(v, 5) for v in vals] for k, vals in vis.items()}
    lm = landmark_models(segs)
    b.ratio(
        "landmark model frames per CPU-second",
        1000 / lm["litert"],
        1000 / lm["tasks"],
        "the Tasks landmarker on the same decoded frames (ours: the LiteRT route)",
        1.4,
    )
    b.details["landmark_models_ms"] = lm
    b.section("visual side by side")


def visual_library(b: Bench) -> dict:
    """The visual extractor in one process, both frame protocols; CPU seconds per segment."""
    from msa_lib.extract.features.visual import extract_visual

    library: dict = {}
    for proto in ("paper", "sampled"):
        cfg = VisualConfig() if proto == "paper" else VisualConfig(protocol="sampled")
        library[proto] = []
        wall, cpu, res = run_single(
            b.segs, lambda s, c=cfg: extract_visual(s.media, s.start, s.end, c), library[proto]
        )
        n = sum(r.n_frames for r in res)
        library[proto + "_frames"] = [r.n_frames for r in res]
        b.add("visual", proto, 1, "frames_per_s", n / wall, "frames/s", n)
        b.add("visual", proto, 1, "frames_per_s_per_core", n / cpu, "frames per CPU-s", n)
        b.add("visual", proto, 1, "x_real_time", b.total_s / wall, "media s / wall s", len(b.segs))
    b.section("visual library")
    return library


def visual_corpus(b: Bench) -> None:
    """``msa extract`` by the corpus runner, 1 and 2 workers, pool start-up included."""
    corpus = {}
    for proto, workers in (("paper", 1), ("paper", 2), ("sampled", 2)):
        cfg = (
            OURS_VISUAL
            if proto == "paper"
            else dataclasses.replace(OURS_VISUAL, protocol="sampled")
        )
        t0 = time.perf_counter()
        rep = extract_corpus(
            b.segs,
            b.work / f"corpus-{proto}-{workers}",
            ["visual"],
            {"visual": cfg},
            workers=workers,
            progress=False,
        )
        wall = time.perf_counter() - t0
        n = int(FeatureSet.load(rep.extractors["visual"]["file"]).flags["n_frames"].sum())
        corpus[(proto, workers)] = {"wall_s": wall, "frames": n}
        note = f"msa extract --workers {workers}, start-up included"
        b.add("visual", proto, workers, "frames_per_s", n / wall, "frames/s", n, note)
        b.add("visual", proto, workers, "x_real_time", b.total_s / wall, "media s / wall s",
              len(b.segs), note)  # fmt: skip
    vis = b.details["visual"]
    base_fps = sum(vis["base_n"]) / sum(vis["base_wall"])
    c2 = corpus[("paper", 2)]
    b.ratio(
        "visual corpus frames/s, --workers 2",
        c2["frames"] / c2["wall_s"],
        base_fps,
        VISUAL_BASELINE + " (wall clock)",
        2.6,
    )
    b.details["corpus"] = {f"{p}-{w}": v for (p, w), v in corpus.items()}
    b.details["core_scaling"] = core_scaling()
    print(f"cores   two processes give {b.details['core_scaling']['scaling']:.2f}x one", flush=True)
    b.details["visual_landmarker_in_corpus"] = OURS_VISUAL.landmarker
    b.details["library_landmarker"] = VisualConfig().landmarker
    b.section("corpus")


def audio(b: Bench) -> None:
    """Ours against the per-feature librosa recipe, side by side; the real-time factors."""
    from msa_lib.extract.features.audio import extract_audio

    segs, acfg = b.segs, AudioConfig()
    extract_audio(segs[0].media, segs[0].start, segs[0].end, acfg), baseline_audio(segs[0])
    aud = side_by_side(
        segs, lambda s: extract_audio(s.media, s.start, s.end, acfg), baseline_audio, lambda r: 1
    )
    b.ratio(
        "audio segments per second",
        len(segs) / sum(aud["ours_wall"]),
        len(segs) / sum(aud["base_wall"]),
        "librosa.load(sr=22050, duration=3) + one librosa call per feature",
        1.0,
    )
    b.details["audio"] = {k: [round(v, 5) for v in vals] for k, vals in aud.items()}
    for setting, cfg in (("paper", acfg), ("whole", dataclasses.replace(acfg, duration=None))):
        wall, _, res = run_single(segs, lambda s, c=cfg: extract_audio(s.media, s.start, s.end, c))
        audio_s = sum(r.n_samples for r in res) / cfg.sample_rate
        b.add("audio", setting, 1, "x_real_time", audio_s / wall, "audio s / wall s", len(segs),
              "decoding included")  # fmt: skip
    b.section("audio")


def text(b: Bench, data_dir: str | None) -> None:
    """The text encoder and GloVe over every MOSI transcript."""
    from msa_lib.extract.features.glove import Glove
    from msa_lib.extract.features.text import TextEncoder

    folder = open_data(data_dir)
    texts = folder.segments("mosi")["text"].tolist()
    enc = TextEncoder(TextConfig())
    enc.encode(texts[:64])
    t0 = time.perf_counter()
    enc.encode(texts)
    b.add("text", "minilm", 1, "segments_per_s", len(texts) / (time.perf_counter() - t0),
          "segments/s", len(texts), f"all MOSI transcripts ({folder.source})")  # fmt: skip
    glove = Glove()
    t0 = time.perf_counter()
    glove.encode(texts)
    b.add("glove", "50d", 1, "segments_per_s", len(texts) / (time.perf_counter() - t0),
          "segments/s", len(texts))  # fmt: skip
    b.section("text")


def cold_start(b: Bench) -> None:
    """A cold one-clip ``msa extract`` beyond its models' load, and ``msa --help``."""
    shortest = min(range(len(b.segs)), key=lambda i: b.lengths[i])
    clip = next((s for s in b.segs if s.start is None), b.segs[shortest])  # a whole clip
    cold = cold_extract(clip, b.work)
    b.budget(
        "cold msa extract, one clip: seconds beyond model load",
        cold["wall_s"] - cold["model_s"],
        cold["model_s"],
        "the models' load time (text encoder, GloVe, landmarker)",
        COLD_BUDGET_S,
    )
    b.budget(
        "cold msa extract, one clip, four extractors: wall seconds",
        cold["wall_s"],
        cold["model_s"],
        "the models' load time, one after another in a fresh process",
        COLD_WALL_S,
    )
    print(f"cold    msa extract {cold['wall_s']:.2f} s, models {cold['model_s']:.2f} s", flush=True)
    b.details["cold_extract"] = cold
    startup = cli_startup()
    b.budget(
        "msa --help start-up: seconds",
        startup["help_s"],
        startup["python_s"],
        "a bare Python interpreter start (python -c pass)",
        STARTUP_BUDGET_S,
    )
    print(f"startup msa --help {startup['help_s']:.2f} s, python {startup['python_s']:.2f} s")
    b.details["cli_startup"] = startup
    b.section("cold extract")


def memory(b: Bench) -> None:
    """Peak memory against clip length (fresh processes; whole-segment settings)."""
    short = b.segs[min(range(len(b.segs)), key=lambda i: b.lengths[i])]
    long_media = max((s.media for s in b.segs), key=lambda m: probe(m).duration)
    long_len, short_len = probe(long_media).duration, probe(short.media).duration
    for extractor, call in (
        ("visual", "extract_visual({media}, cfg=VisualConfig(protocol='sampled'))"),
        ("audio", "extract_audio({media}, cfg=AudioConfig(duration=None))"),
    ):
        peak_short, peak_long = peak_rss_mb(call, short.media, long_media)
        note = f"5 frames/s / all audio of the whole file; after a warm-up on {short_len:.1f} s"
        b.add(extractor, "memory", 1, f"peak_rss_mb_{short_len:.0f}s", peak_short, "MB", 1, note)
        b.add(extractor, "memory", 1, f"peak_rss_mb_{long_len:.0f}s", peak_long, "MB", 1, note)
        b.add(extractor, "memory", 1, "peak_growth_long_vs_short", peak_long - peak_short, "MB", 1,
              f"{long_len:.0f} s file against {short_len:.1f} s clip")  # fmt: skip
        b.ratio(
            f"{extractor} peak memory, longest file / shortest clip",
            peak_long,
            peak_short,
            f"MB: the same extractor on a {short_len:.1f} s clip (ours: a {long_len:.0f} s file)",
            FLAT_MEMORY,
            higher_is_better=False,
        )
    b.section("memory")


def per_segment(b: Bench, library: dict) -> None:
    """One record per segment, for the chapter's cost-per-segment and clip-length figures."""
    vis, aud = b.details["visual"], b.details["audio"]
    for i, s in enumerate(b.segs):
        b.details["segments"].append(
            {
                "segment": s.segment_id,
                "seconds": round(b.lengths[i], 3),
                "frames": vis["ours_n"][i],
                "visual_ours_cpu_s": vis["ours_cpu"][i],
                "visual_baseline_cpu_s": vis["base_cpu"][i],
                "visual_library_cpu_s": round(library["paper"][i], 5),
                "visual_sampled_cpu_s": round(library["sampled"][i], 5),
                "sampled_frames": library["sampled_frames"][i],
                "audio_ours_s": aud["ours_wall"][i],
                "audio_baseline_s": aud["base_wall"][i],
            }
        )


def write(b: Bench, out: Path, ratios: Path, details: Path) -> None:
    """The throughput CSV and JSON, the ratio rows (merged by measure) and the details JSON."""
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    machine = b.details["machine"]
    df = pd.DataFrame(b.rows).assign(
        data=b.data, cpus=machine["cpu_count"], machine=machine["machine"], date=stamp
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    js = ROOT / "benchmarks" / "results" / "extract_throughput.json"
    js.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps(df.to_dict(orient="records"), indent=1, default=str))
    upsert_ratios(b.ratios, ratios)
    b.details |= {
        "date": stamp,
        "ratios": b.ratios,
        "run_s": round(time.perf_counter() - b.started, 1),
    }
    details.parent.mkdir(parents=True, exist_ok=True)
    details.write_text(json.dumps(b.details, indent=1, default=str))
    print(f"wrote {out}, {ratios}, {details} in {b.details['run_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and write the CSVs and JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(ROOT / "book" / "results" / "extract_throughput.csv"))
    ap.add_argument("--ratios", default=str(ROOT / "book" / "results" / "speed_ratios.csv"))
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "extract_speed.json"))
    ap.add_argument("--skip-text", action="store_true", help="leave out the text encoders")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="msa-bench-"))
    segs, data = bench_segments(args.data_dir, work)
    b = Bench(segs, data, work)
    print(f"{len(segs)} segments, {b.total_s:.1f} s of media ({data})", flush=True)
    visual_side_by_side(b)
    library = visual_library(b)
    visual_corpus(b)
    audio(b)
    if not args.skip_text:
        text(b, args.data_dir)
    cold_start(b)
    memory(b)
    per_segment(b, library)
    write(b, Path(args.out), Path(args.ratios), Path(args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
