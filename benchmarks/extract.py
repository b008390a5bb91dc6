"""Extraction speed and memory, and its ratios to plain baselines measured side by side.

Runs on the real clips of ``$MSA_DATA_DIR/raw`` (MOSI clips and MOSEI segments cut from whole
videos) when present, else on generated clips (labelled ``generated`` in the output).

Throughput (kept from the first version): visual frames/s, audio real-time factor, text
segments/s, ``msa extract --workers 2``, peak memory against clip length. Written to
``book/results/extract_throughput.csv`` and ``benchmarks/results/extract_throughput.json``.

Ratios: each baseline is written here and runs in the same process on the same segments,
interleaved with ours segment by segment (the order alternating), so that a machine's load hits
both alike:

- visual: the paper's protocol done plainly -- every frame of the first 100 decoded by PyAV and
  passed one by one to a fresh MediaPipe Tasks ``FaceLandmarker`` (VIDEO mode) per segment;
- audio: ``librosa.load(sr=22050, duration=3.0)`` done by hand (PyAV decodes the file's own rate,
  ``librosa.resample`` with soxr_hq, as ``librosa.load`` does where it can read the file; there is
  no FFmpeg program for its audioread fallback here) and one librosa call per feature, each with
  its own STFT, as the paper's code does.

Targets: visual end-to-end per core >= 1.4x; ``--workers 2`` corpus throughput >= 2.6x the
baseline's (one process); audio >= 1.0x; a cold one-clip ``msa extract`` within 2 s plus the
models' load time; ``msa --help`` within 0.5 s; peak memory flat in clip length (longest /
shortest <= 1.10). Every ratio goes to ``book/results/speed_ratios.csv`` (measure, ours, baseline,
baseline_name, ratio, target, met), the details (per segment, the machine) to
``benchmarks/results/extract_speed.json``.
Usage: ``python benchmarks/extract.py [--data-dir DIR] [--out CSV] [--skip-text]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
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
from msa_lib.data import open_data  # noqa: E402
from msa_lib.extract.base import Segment  # noqa: E402
from msa_lib.extract.engines.media import iter_frames, probe  # noqa: E402
from msa_lib.extract.plan import plan_clips, plan_table  # noqa: E402
from msa_lib.extract.run.corpus import extract_corpus  # noqa: E402
from msa_lib.perf.speed import ratio_row, upsert_ratios  # noqa: E402

TARGETS = {
    ("visual", "paper", 1): ("frames_per_s_per_core", 100.0),
    ("visual", "paper", 2): ("frames_per_s", 200.0),
    ("visual", "sampled", 1): ("x_real_time", 20.0),
    ("visual", "sampled", 2): ("x_real_time", 20.0),
    ("audio", "paper", 1): ("x_real_time", 100.0),
    ("audio", "whole", 1): ("x_real_time", 100.0),
    ("text", "minilm", 1): ("segments_per_s", 300.0),
}
MAX_FRAMES = 100  # the paper's protocol: the first 100 frames of a segment
AUDIO_SECONDS = 3.0  # the paper's librosa.load(duration=3.0)
STARTUP_BUDGET_S = 0.5  # msa --help: the CLI imports no heavy library to list its commands
COLD_BUDGET_S = 2.0  # a cold one-clip msa extract: at most this beyond the models' load time
FLAT_MEMORY = 1.10  # peak memory on the longest clip / on the shortest


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


def run_single(segs: list[Segment], fn, per_segment: list | None = None) -> tuple:
    """Wall and CPU seconds of ``fn`` over all segments (after one warm-up call).

    ``per_segment``, when given, receives each segment's CPU seconds.
    """
    fn(segs[0])
    c0, t0 = time.process_time(), time.perf_counter()
    out = []
    for s in segs:
        c1 = time.process_time()
        out.append(fn(s))
        if per_segment is not None:
            per_segment.append(time.process_time() - c1)
    return time.perf_counter() - t0, time.process_time() - c0, out


def timed(fn, *args) -> tuple[float, float, object]:
    """Wall and CPU seconds of one call, and its result."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, time.process_time() - c0, out


# --------------------------------------------------------------------------- baselines
def baseline_visual(seg: Segment, model: str) -> int:
    """The paper's protocol, plainly: the first 100 frames, a fresh Tasks landmarker; frames read."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from msa_lib.extract.engines.landmarks import quiet_native_stderr

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=1,
    )
    start = seg.start or 0.0
    n = 0
    with quiet_native_stderr():
        landmarker = vision.FaceLandmarker.create_from_options(options)
    try:
        with av.open(seg.media) as c:
            stream = c.streams.video[0]
            if start > 0.5:
                c.seek(int(start * av.time_base), backward=True)
            for frame in c.decode(stream):
                t = float(frame.time or 0.0)
                if t + 1e-3 < start:
                    continue
                if seg.end is not None and t >= seg.end:
                    break
                # MediaPipe reads the buffer as contiguous: rows padded to the line alignment
                # (a width of 486, say) must be copied, or it sees no face
                rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                with quiet_native_stderr() if n == 0 else _nothing():
                    result = landmarker.detect_for_video(image, int((t - start) * 1000))
                if result.face_landmarks:  # the landmarks as an array, as the paper's code has them
                    np.array([[p.x, p.y, p.z] for p in result.face_landmarks[0]], np.float32)
                n += 1
                if n >= MAX_FRAMES:
                    break
    finally:
        landmarker.close()
    return n


class _nothing:
    """A context that does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def baseline_audio(seg: Segment) -> np.ndarray:
    """librosa.load(sr=22050, duration=3.0) by hand, then one librosa call per feature (29)."""
    import av
    import librosa

    start = seg.start or 0.0
    chunks, native, first, n = [], 0, None, 0
    with av.open(seg.media) as c:
        stream = c.streams.audio[0]
        to_float = av.AudioResampler(format="fltp")  # planar float at the file's own rate
        if start > 0.5:
            c.seek(int(start * av.time_base), backward=True)
        for frame in c.decode(stream):
            first = float(frame.time or 0.0) if first is None else first
            native = frame.sample_rate
            for out in to_float.resample(frame):
                chunks.append(out.to_ndarray().mean(axis=0))
                n += len(chunks[-1])
            if first + n / native > start + AUDIO_SECONDS:
                break
    y = np.concatenate(chunks)
    i0 = max(0, int(round((start - first) * native)))
    y = y[i0 : i0 + int(AUDIO_SECONDS * native)]
    sr = 22050
    y = librosa.resample(y, orig_sr=native, target_sr=sr, res_type="soxr_hq")
    feats = [
        librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13).mean(axis=1),
        librosa.feature.chroma_stft(y=y, sr=sr).mean(axis=1),
        [librosa.feature.spectral_centroid(y=y, sr=sr).mean()],
        [librosa.feature.spectral_rolloff(y=y, sr=sr).mean()],
        [librosa.feature.zero_crossing_rate(y).mean()],
        np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0]),
    ]
    return np.concatenate([np.asarray(f, np.float64).ravel() for f in feats])


# --------------------------------------------------------------------------- ours
def landmarker_field() -> bool:
    """Whether VisualConfig chooses the landmark route (then extract_visual takes it)."""
    return "landmarker" in {f.name for f in dataclasses.fields(VisualConfig)}


def fast_visual_config(**kw) -> VisualConfig:
    """The visual settings with the LiteRT landmark route where VisualConfig offers the choice."""
    return VisualConfig(landmarker="litert", **kw) if landmarker_field() else VisualConfig(**kw)


def ours_visual(seg: Segment) -> int:
    """Our visual path on the first 100 frames; frames read.

    ``extract_visual`` with the LiteRT landmarker where VisualConfig offers it; otherwise the same
    scope as the baseline: msa_lib's decoding and the process's reused LiteRT landmarker.
    """
    if landmarker_field():
        from msa_lib.extract.features.visual import extract_visual

        return extract_visual(seg.media, seg.start, seg.end, fast_visual_config()).n_frames
    from msa_lib.extract.engines.landmarks import get_landmarker

    lmk = get_landmarker(VisualConfig(), "litert")
    start = seg.start or 0.0
    n = 0
    for fr in iter_frames(seg.media, start, seg.end, MAX_FRAMES):
        lmk.detect(fr.rgb, (fr.time - start) * 1000)
        n += 1
    return n


def side_by_side(segs: list[Segment], ours, base, count) -> dict:
    """Ours and the baseline on every segment, interleaved (order alternating); times and counts."""
    res = {k: [] for k in ("ours_wall", "ours_cpu", "base_wall", "base_cpu", "ours_n", "base_n")}
    for i, seg in enumerate(segs):
        pair = [("ours", ours), ("base", base)]
        for name, fn in pair if i % 2 == 0 else pair[::-1]:
            wall, cpu, out = timed(fn, seg)
            res[f"{name}_wall"].append(wall)
            res[f"{name}_cpu"].append(cpu)
            res[f"{name}_n"].append(count(out))
    return res


def landmark_models(segs: list[Segment], n_frames: int = 200) -> dict:
    """ms per frame of the Tasks call and of the LiteRT route on the same decoded frames."""
    from msa_lib.extract.engines.landmarks import get_landmarker

    frames = []
    for seg in segs:
        start = seg.start or 0.0
        frames += [(f.time - start, f.rgb) for f in iter_frames(seg.media, start, seg.end, 100)]
        if len(frames) >= n_frames:
            break
    out = {}
    for kind in ("tasks", "litert", "tasks", "litert"):  # twice each, alternating
        lmk = get_landmarker(VisualConfig(), kind)
        lmk.detect(frames[0][1], 0)
        lmk.reset()
        c0 = time.process_time()
        for t, rgb in frames:
            lmk.detect(rgb, t * 1000)
        out.setdefault(kind, []).append((time.process_time() - c0) / len(frames) * 1000)
    return {k: float(np.min(v)) for k, v in out.items()} | {"frames": len(frames)}


# --------------------------------------------------------------------------- cold start, memory
def cold_extract(seg: Segment, work: Path) -> dict:
    """Wall seconds of ``msa extract`` on one clip in a fresh process, and of loading its models."""
    clip_dir = work / "cold"
    clip_dir.mkdir(exist_ok=True)
    clip = clip_dir / "clip.mp4"
    shutil.copy(seg.media, clip)
    clip.with_suffix(".txt").write_text(seg.text or "a clip for the cold start")
    run = (
        "import sys; from msa_lib.cli import main; "
        f"sys.exit(main(['extract', {str(clip)!r}, '--out', {str(work / 'cold-out')!r}]))"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"msa extract failed on {clip}: {proc.stderr.strip()[-500:]}")
    models = (
        "import time, json\n"
        "t = {}\n"
        "t0 = time.perf_counter()\n"
        "from msa_lib.config import TextConfig, VisualConfig\n"
        "from msa_lib.extract.features.text import TextEncoder\n"
        "TextEncoder(TextConfig()).encode(['warm'])\n"
        "t['text'] = time.perf_counter() - t0; t0 = time.perf_counter()\n"
        "from msa_lib.extract.features.glove import Glove\n"
        "Glove().encode(['warm'])\n"
        "t['glove'] = time.perf_counter() - t0; t0 = time.perf_counter()\n"
        "from msa_lib.extract.engines.landmarks import make_landmarker\n"
        "make_landmarker(VisualConfig()).close()\n"
        "t['landmarker'] = time.perf_counter() - t0\n"
        "print(json.dumps(t))\n"
    )
    loads = json.loads(
        subprocess.run(
            [sys.executable, "-c", models], capture_output=True, text=True, check=True, cwd=ROOT
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    # the audio extractor's imports (librosa, and scipy.signal with it) are not a model load: they
    # stay in the time beyond the models and are reported beside it, timed in a fresh process
    librosa = (
        "import time; t0 = time.perf_counter(); import msa_lib.extract.features.audio; "
        "print(time.perf_counter() - t0)"
    )
    imports = {
        "audio extractor": float(
            subprocess.run(
                [sys.executable, "-c", librosa], capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
    }
    return {"wall_s": wall, "model_s": sum(loads.values()), "models": loads, "imports": imports}


def cli_startup(repeats: int = 5) -> dict:
    """Least wall seconds of ``msa --help`` in a fresh process, and of a bare interpreter."""

    def least(code: str) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT)
            times.append(time.perf_counter() - t0)
        return min(times)

    help_code = "import sys; from msa_lib.cli import main; sys.argv = ['msa', '--help']; main()"
    return {"help_s": least(help_code), "python_s": least("pass")}


def peak_rss_mb(call: str, warm_media: str, media: str) -> tuple[float, float]:
    """Peak resident memory (MB) of a fresh process after a warm-up call, and after ``call``.

    ``call`` is a Python expression with ``{media}`` in it; the warm-up runs it on ``warm_media``
    so that imports and model loading are counted in the first figure, not the difference.
    """
    code = (
        "import resource\n"
        "from msa_lib.extract.features.visual import extract_visual\n"
        "from msa_lib.extract.features.audio import extract_audio\n"
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


# --------------------------------------------------------------------------- outputs
def core_scaling(n: int = 10_000_000) -> dict:
    """Throughput of two processes running a fixed pure-CPU loop at once, against one alone.

    What ``--workers 2`` can gain over one process is bounded by this: 2.0 on two free cores,
    less when the cores are shared with other work or are hardware threads of one core.
    """
    code = f"s = 0\nfor i in range({n}):\n    s += i * i\n"

    def wall(k: int) -> float:
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(k)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - t0

    one = min(wall(1) for _ in range(2))
    two = min(wall(2) for _ in range(2))
    return {"one_s": one, "two_s": two, "scaling": 2 * one / two}


def machine() -> dict:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and write the CSVs and JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(ROOT / "book" / "results" / "extract_throughput.csv"))
    ap.add_argument("--ratios", default=str(ROOT / "book" / "results" / "speed_ratios.csv"))
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "extract_speed.json"))
    ap.add_argument("--skip-text", action="store_true", help="leave out the text encoders")
    args = ap.parse_args(argv)
    from msa_lib.extract.engines.landmarks import face_model_path
    from msa_lib.extract.features.audio import extract_audio
    from msa_lib.extract.features.visual import extract_visual

    t_start = time.perf_counter()
    rows, ratios = [], []
    work = Path(tempfile.mkdtemp(prefix="msa-bench-"))
    segs, data = bench_segments(args.data_dir, work)
    lengths = [seconds_of(s) for s in segs]
    total_s = sum(lengths)
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

    def ratio(*a, **kw):
        r = ratio_row(*a, **kw)
        ratios.append(r)
        print(
            f"ratio   {r['measure']:34s} ours {r['ours']:9.3f} base {r['baseline']:9.3f} "
            f"-> {r['ratio']:.2f}x (target {r['target']}: {'met' if r['met'] else 'NOT met'})",
            flush=True,
        )

    details: dict = {"data": data, "machine": machine(), "segments": [], "sections_s": {}}
    clock = [time.perf_counter()]

    def section(name: str) -> None:
        now = time.perf_counter()
        details["sections_s"][name] = round(now - clock[0], 1)
        clock[0] = now

    # ---- visual, side by side with the paper's protocol done plainly (one process)
    model = str(face_model_path())
    ours_visual(segs[0]), baseline_visual(segs[0], model)  # warm-up: imports, first graph
    vis = side_by_side(segs, ours_visual, lambda s: baseline_visual(s, model), int)
    frames = sum(vis["ours_n"])
    assert frames == sum(vis["base_n"]), "ours and the baseline read different frames"
    ours_core, base_core = frames / sum(vis["ours_cpu"]), frames / sum(vis["base_cpu"])
    base_fps = frames / sum(vis["base_wall"])
    scope = (
        "extract_visual, LiteRT landmarker"
        if landmarker_field()
        else "decode + landmarks (iter_frames, reused LiteRT landmarker)"
    )
    base_name = "first 100 frames, fresh Tasks FaceLandmarker per segment, one process"
    ratio("visual frames per CPU-second", ours_core, base_core, base_name, 1.4)
    details["visual"] = {"ours_scope": scope, "frames": frames} | {
        k: [round(v, 5) for v in vals] for k, vals in vis.items()
    }
    lm = landmark_models(segs)
    ratio(
        "landmark model frames per CPU-second",
        1000 / lm["litert"],
        1000 / lm["tasks"],
        "the Tasks landmarker on the same decoded frames (ours: the LiteRT route)",
        1.4,
    )
    details["landmark_models_ms"] = lm

    section("visual side by side")
    # ---- visual through the library, one process (the first version's rows)
    library = {}
    for proto in ("paper", "sampled"):
        cfg = VisualConfig() if proto == "paper" else VisualConfig(protocol="sampled")
        library[proto] = []
        wall, cpu, res = run_single(
            segs, lambda s, c=cfg: extract_visual(s.media, s.start, s.end, c), library[proto]
        )
        n = sum(r.n_frames for r in res)
        library[proto + "_frames"] = [r.n_frames for r in res]
        add("visual", proto, 1, "frames_per_s", n / wall, "frames/s", n)
        add("visual", proto, 1, "frames_per_s_per_core", n / cpu, "frames per CPU-s", n)
        add("visual", proto, 1, "x_real_time", total_s / wall, "media s / wall s", len(segs))
    section("visual library")
    # ---- the corpus runner, 1 and 2 workers (pool start-up included)
    from msa_lib.data import FeatureSet

    corpus = {}
    for proto, workers in (("paper", 1), ("paper", 2), ("sampled", 2)):
        cfg = fast_visual_config(**({} if proto == "paper" else {"protocol": "sampled"}))
        t0 = time.perf_counter()
        rep = extract_corpus(
            segs,
            work / f"corpus-{proto}-{workers}",
            ["visual"],
            {"visual": cfg},
            workers=workers,
            progress=False,
        )
        wall = time.perf_counter() - t0
        n = int(FeatureSet.load(rep.extractors["visual"]["file"]).flags["n_frames"].sum())
        corpus[(proto, workers)] = {"wall_s": wall, "frames": n}
        note = f"msa extract --workers {workers}, start-up included"
        add("visual", proto, workers, "frames_per_s", n / wall, "frames/s", n, note)
        add("visual", proto, workers, "x_real_time", total_s / wall, "media s / wall s",
            len(segs), note)  # fmt: skip
    c2 = corpus[("paper", 2)]
    ratio(
        "visual corpus frames/s, --workers 2",
        c2["frames"] / c2["wall_s"],
        base_fps,
        base_name + " (wall clock)",
        2.6,
    )
    details["corpus"] = {f"{p}-{w}": v for (p, w), v in corpus.items()}
    details["core_scaling"] = core_scaling()
    print(f"cores   two processes give {details['core_scaling']['scaling']:.2f}x one", flush=True)
    details["visual_landmarker_in_corpus"] = "litert" if landmarker_field() else "tasks"
    details["library_landmarker"] = getattr(VisualConfig(), "landmarker", "tasks")

    section("corpus")
    # ---- audio, side by side with the per-feature librosa loop
    acfg = AudioConfig()
    extract_audio(segs[0].media, segs[0].start, segs[0].end, acfg), baseline_audio(segs[0])
    aud = side_by_side(
        segs,
        lambda s: extract_audio(s.media, s.start, s.end, acfg),
        baseline_audio,
        lambda r: 1,
    )
    ratio(
        "audio segments per second",
        len(segs) / sum(aud["ours_wall"]),
        len(segs) / sum(aud["base_wall"]),
        "librosa.load(sr=22050, duration=3) + one librosa call per feature",
        1.0,
    )
    details["audio"] = {k: [round(v, 5) for v in vals] for k, vals in aud.items()}
    for setting, cfg in (("paper", acfg), ("whole", dataclasses.replace(acfg, duration=None))):
        wall, cpu, res = run_single(
            segs, lambda s, c=cfg: extract_audio(s.media, s.start, s.end, c)
        )
        audio_s = sum(r.n_samples for r in res) / cfg.sample_rate
        add("audio", setting, 1, "x_real_time", audio_s / wall, "audio s / wall s", len(segs),
            "decoding included")  # fmt: skip

    section("audio")
    # ---- text
    folder = open_data(args.data_dir)
    if not args.skip_text:
        texts = folder.segments("mosi")["text"].tolist()
        from msa_lib.extract.features.glove import Glove
        from msa_lib.extract.features.text import TextEncoder

        enc = TextEncoder(TextConfig())
        enc.encode(texts[:64])
        t0 = time.perf_counter()
        enc.encode(texts)
        add("text", "minilm", 1, "segments_per_s", len(texts) / (time.perf_counter() - t0),
            "segments/s", len(texts), f"all MOSI transcripts ({folder.source})")  # fmt: skip
        glove = Glove()
        t0 = time.perf_counter()
        glove.encode(texts)
        add("glove", "50d", 1, "segments_per_s", len(texts) / (time.perf_counter() - t0),
            "segments/s", len(texts))  # fmt: skip

    section("text")
    # ---- cold one-clip msa extract
    shortest = min(range(len(segs)), key=lambda i: lengths[i])
    clip = next((s for s in segs if s.start is None), segs[shortest])  # a whole clip
    cold = cold_extract(clip, work)
    ratios.append(
        {
            "measure": "cold msa extract, one clip: seconds beyond model load",
            "ours": round(cold["wall_s"] - cold["model_s"], 3),
            "baseline": round(cold["model_s"], 3),
            "baseline_name": "the models' load time (text encoder, GloVe, landmarker)",
            "ratio": float("nan"),
            "target": f"<= {COLD_BUDGET_S:g} s",
            "met": bool(cold["wall_s"] - cold["model_s"] <= COLD_BUDGET_S),
        }
    )
    print(f"cold    msa extract {cold['wall_s']:.2f} s, models {cold['model_s']:.2f} s", flush=True)
    details["cold_extract"] = cold

    startup = cli_startup()
    ratios.append(
        {
            "measure": "msa --help start-up: seconds",
            "ours": round(startup["help_s"], 3),
            "baseline": round(startup["python_s"], 3),
            "baseline_name": "a bare Python interpreter start (python -c pass)",
            "ratio": float("nan"),
            "target": f"<= {STARTUP_BUDGET_S:g} s",
            "met": bool(startup["help_s"] <= STARTUP_BUDGET_S),
        }
    )
    print(f"startup msa --help {startup['help_s']:.2f} s, python {startup['python_s']:.2f} s")
    details["cli_startup"] = startup

    section("cold extract")
    # ---- peak memory against clip length (fresh processes; whole-segment settings)
    by_len = sorted(range(len(segs)), key=lambda i: lengths[i])
    short = segs[by_len[0]]
    long_media = max((s.media for s in segs), key=lambda m: probe(m).duration)
    long_len = probe(long_media).duration
    for extractor, call in (
        ("visual", "extract_visual({media}, cfg=VisualConfig(protocol='sampled'))"),
        ("audio", "extract_audio({media}, cfg=AudioConfig(duration=None))"),
    ):
        peak_short, peak_long = peak_rss_mb(call, short.media, long_media)
        short_len = probe(short.media).duration
        note = f"5 frames/s / all audio of the whole file; after a warm-up on {short_len:.1f} s"
        add(extractor, "memory", 1, f"peak_rss_mb_{short_len:.0f}s", peak_short, "MB", 1, note)
        add(extractor, "memory", 1, f"peak_rss_mb_{long_len:.0f}s", peak_long, "MB", 1, note)
        add(extractor, "memory", 1, "peak_growth_long_vs_short", peak_long - peak_short, "MB", 1,
            f"{long_len:.0f} s file against {short_len:.1f} s clip")  # fmt: skip
        ratio(
            f"{extractor} peak memory, longest file / shortest clip",
            peak_long,
            peak_short,
            f"MB: the same extractor on a {short_len:.1f} s clip (ours: a {long_len:.0f} s file)",
            FLAT_MEMORY,
            higher_is_better=False,
        )

    section("memory")
    # ---- per segment (for the chapter's cost-per-segment and clip-length figures)
    for i, s in enumerate(segs):
        details["segments"].append(
            {
                "segment": s.segment_id,
                "seconds": round(lengths[i], 3),
                "frames": vis["ours_n"][i],
                "visual_ours_cpu_s": round(vis["ours_cpu"][i], 5),
                "visual_baseline_cpu_s": round(vis["base_cpu"][i], 5),
                "visual_library_cpu_s": round(library["paper"][i], 5),
                "visual_sampled_cpu_s": round(library["sampled"][i], 5),
                "sampled_frames": library["sampled_frames"][i],
                "audio_ours_s": round(aud["ours_wall"][i], 5),
                "audio_baseline_s": round(aud["base_wall"][i], 5),
            }
        )

    stamp = dt.datetime.now().isoformat(timespec="seconds")
    df = pd.DataFrame(rows).assign(
        data=data,
        cpus=os.cpu_count(),
        machine=platform.processor() or platform.machine(),
        date=stamp,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    js = ROOT / "benchmarks" / "results" / "extract_throughput.json"
    js.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps(df.to_dict(orient="records"), indent=1, default=str))
    upsert_ratios(ratios, Path(args.ratios))
    details |= {"date": stamp, "ratios": ratios, "run_s": round(time.perf_counter() - t_start, 1)}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(details, indent=1, default=str))
    print(f"wrote {out}, {args.ratios}, {args.json} in {details['run_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
