"""How the extraction benchmark measures: timed calls, ours and a baseline interleaved, fresh processes.

- :func:`timed`, :func:`run_single`, :func:`side_by_side`: wall and CPU seconds in this process,
  ours and a baseline alternating segment by segment so that a machine's load hits both alike;
- :func:`landmark_models`: the Tasks landmarker and the LiteRT route on the same decoded frames,
  their ms per frame and how far apart their landmarks are (:func:`landmark_gap`);
- :func:`cold_extract`, :func:`cli_startup`, :func:`peak_rss_mb`, :func:`core_scaling`: what
  only a fresh process shows (imports, model loading, peak memory, the cores' real parallelism).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from msa_lib.config import VisualConfig
from msa_lib.extract.base import Segment

# which models each extractor loads, and how a fresh process loads one (timed by cold_extract)
MODEL_LOADS = {
    "text": (
        "from msa_lib.config import TextConfig\n"
        "from msa_lib.extract.features.text import TextEncoder\n"
        "TextEncoder(TextConfig()).encode(['warm'])\n"
    ),
    "glove": "from msa_lib.extract.features.glove import Glove\nGlove().encode(['warm'])\n",
    "landmarker": (
        "from msa_lib.config import VisualConfig\n"
        "from msa_lib.extract.engines.landmarks import make_landmarker\n"
        "make_landmarker(VisualConfig()).close()\n"
    ),
}
EXTRACTOR_MODELS = {"text": "text", "glove": "glove", "visual": "landmarker", "audio": None}


# --------------------------------------------------------------------------- in this process
def timed(fn: Callable, *args) -> tuple[float, float, object]:
    """Wall and CPU seconds of one call, and its result."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, time.process_time() - c0, out


def run_single(
    segs: Sequence[Segment], fn: Callable, per_segment: list | None = None
) -> tuple[float, float, list]:
    """Wall and CPU seconds of ``fn`` over all segments (after one warm-up call), and its results.

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


def side_by_side(
    segs: Sequence[Segment], ours: Callable, base: Callable, count: Callable, flip: bool = False
) -> dict[str, list]:
    """Ours and the baseline on every segment, interleaved (order alternating); times and counts.

    Per segment: ``ours_wall``, ``ours_cpu``, ``base_wall``, ``base_cpu`` and ``ours_n``,
    ``base_n`` (``count`` of each result). Ours runs first on even segments, the baseline first
    on odd ones; ``flip`` swaps that (a repeat that starts with the baseline).
    """
    res: dict[str, list] = {
        k: [] for k in ("ours_wall", "ours_cpu", "base_wall", "base_cpu", "ours_n", "base_n")
    }
    for i, seg in enumerate(segs):
        pair = [("ours", ours), ("base", base)]
        for name, fn in pair if (i % 2 == 0) != flip else pair[::-1]:
            wall, cpu, out = timed(fn, seg)
            res[f"{name}_wall"].append(wall)
            res[f"{name}_cpu"].append(cpu)
            res[f"{name}_n"].append(count(out))
    return res


def landmark_gap(
    ref: Sequence[np.ndarray | None],
    other: Sequence[np.ndarray | None],
    sizes: Sequence[tuple[int, int]],
) -> dict[str, float]:
    """How far ``other``'s landmarks are from ``ref``'s, frame by frame (None: no face).

    Per frame where both found a face: the 3-D distance of each landmark in pixels (x * width,
    y * height, z * width) over the inter-ocular distance (33-263) of ``ref``; ``mean`` over
    landmarks and those frames, ``max`` the largest frame mean, and ``face_disagreements`` the
    frames where one found a face and the other none. ``sizes`` are the frames' (width, height).
    """
    if not len(ref) == len(other) == len(sizes):
        raise ValueError(
            f"landmark_gap needs as many frames of each and sizes: {len(ref)}, {len(other)}, "
            f"{len(sizes)}"
        )
    per_frame, disagree = [], 0
    for r, o, (w, h) in zip(ref, other, sizes, strict=True):
        if (r is None) != (o is None):
            disagree += 1
        if r is None or o is None:
            continue
        px = np.array([w, h, w], np.float64)
        iod = np.linalg.norm((r[33, :2] - r[263, :2]) * px[:2])
        per_frame.append(float(np.mean(np.linalg.norm((r - o) * px, axis=1)) / iod))
    return {
        "mean": float(np.mean(per_frame)) if per_frame else float("nan"),
        "max": float(np.max(per_frame)) if per_frame else float("nan"),
        "frames": len(per_frame),
        "face_disagreements": disagree,
    }


def landmark_models(segs: Sequence[Segment], n_frames: int = 200) -> dict:
    """ms per frame of the Tasks call and of the LiteRT route on the same decoded frames.

    The first 100 frames of each segment, segments in order until ``n_frames`` are reached, go
    through each route twice, the routes alternating; each route is reset at every segment, as
    the extractor resets it (untimed), and the least CPU ms per frame of each is kept. ``gap``:
    how far the LiteRT route's landmarks are from Tasks' on those frames (:func:`landmark_gap`).
    """
    from msa_lib.extract.engines.landmarks import get_landmarker
    from msa_lib.extract.engines.media import iter_frames

    parts: list[list[tuple[float, np.ndarray]]] = []
    for seg in segs:
        start = seg.start or 0.0
        parts.append([(f.time - start, f.rgb) for f in iter_frames(seg.media, start, seg.end, 100)])
        if sum(map(len, parts)) >= n_frames:
            break
    n = sum(map(len, parts))
    ms: dict[str, list[float]] = {}
    found: dict[str, list] = {}
    for kind in ("tasks", "litert", "tasks", "litert"):  # twice each, alternating
        lmk = get_landmarker(VisualConfig(), kind)
        lmk.detect(parts[0][0][1], 0)  # warm-up
        cpu, got = 0.0, []
        for frames in parts:
            lmk.reset()
            c0 = time.process_time()
            got += [lmk.detect(rgb, t * 1000) for t, rgb in frames]
            cpu += time.process_time() - c0
        ms.setdefault(kind, []).append(cpu / n * 1000)
        found.setdefault(kind, got)
    sizes = [(rgb.shape[1], rgb.shape[0]) for frames in parts for _, rgb in frames]
    return {k: float(np.min(v)) for k, v in ms.items()} | {
        "frames": n,
        "gap": landmark_gap(found["tasks"], found["litert"], sizes),
    }


# --------------------------------------------------------------------------- fresh processes
def python_code(code: str, **kw) -> subprocess.CompletedProcess:
    """``code`` run by this interpreter in a fresh process that imports this ``msa_lib``.

    Output captured as text; a failure raises ``CalledProcessError`` unless ``check=False``.
    """
    import msa_lib

    here = str(Path(msa_lib.__file__).resolve().parents[1])
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    }
    kw = {"capture_output": True, "text": True, "check": True, "env": env} | kw
    return subprocess.run([sys.executable, "-c", code], **kw)


def model_load_seconds(models: Sequence[str]) -> dict[str, float]:
    """Wall seconds of loading each of ``models`` (keys of ``MODEL_LOADS``) in one fresh process.

    The models load one after another, each timed from its imports to its first use.
    """
    unknown = sorted(set(models) - set(MODEL_LOADS))
    if unknown:
        raise ValueError(f"unknown models {unknown} (known: {sorted(MODEL_LOADS)})")
    code = "import json, time\nt = {}\n"
    for name in models:
        code += (
            f"t0 = time.perf_counter()\n{MODEL_LOADS[name]}t[{name!r}] = time.perf_counter() - t0\n"
        )
    code += "print(json.dumps(t))\n"
    return json.loads(python_code(code).stdout.strip().splitlines()[-1])


def import_seconds(module: str) -> float:
    """Wall seconds of importing ``module`` in a fresh process (after the interpreter's start)."""
    code = (
        f"import time; t0 = time.perf_counter(); import {module}; print(time.perf_counter() - t0)"
    )
    return float(python_code(code).stdout.split()[-1])


def cold_extract(
    seg: Segment, work: str | os.PathLike, extractors: Sequence[str] | None = None
) -> dict:
    """Wall seconds of ``msa extract`` on one clip in a fresh process, and of loading its models.

    The clip (``seg.media`` copied, with its transcript beside it) goes through ``msa extract``
    with ``extractors`` (None: all); then a fresh process times loading the models those
    extractors use (:func:`model_load_seconds`), and another importing the librosa modules the
    audio features run on (numba and scipy.signal with them): not a model load, and reported
    beside it. With a second core ``msa extract`` loads the text models while a worker process
    extracts the clip's audio and visual features, so these times overlap in its wall time.
    ``out`` is the folder ``msa extract`` wrote.
    """
    from msa_lib.extract.base import names as extractor_names

    work = Path(work)
    clip_dir = work / "cold"
    clip_dir.mkdir(parents=True, exist_ok=True)
    clip = clip_dir / f"clip{Path(seg.media).suffix}"
    shutil.copy(seg.media, clip)
    clip.with_suffix(".txt").write_text(seg.text or "a clip for the cold start")
    names = list(extractors) if extractors is not None else extractor_names()
    out = work / "cold-out"
    args = ["extract", str(clip), "--out", str(out), "--extractors", *names]
    run = f"from msa_lib.cli import run; run({args!r})"  # the console script's entry point
    t0 = time.perf_counter()
    proc = python_code(run, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"msa extract failed on {clip}: {proc.stderr.strip()[-500:]}")
    models = [m for m in MODEL_LOADS if m in {EXTRACTOR_MODELS.get(n) for n in names}]
    loads = model_load_seconds(models) if models else {}
    imports = {"audio libraries": import_seconds("librosa.feature.rhythm")}
    return {
        "wall_s": wall,
        "model_s": sum(loads.values()),
        "models": loads,
        "imports": imports,
        "extractors": names,
        "out": str(out),
    }


def cli_startup(repeats: int = 5) -> dict[str, float]:
    """Least wall seconds of ``msa --help`` in a fresh process, and of a bare interpreter."""

    def least(code: str) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            python_code(code)
            times.append(time.perf_counter() - t0)
        return min(times)

    help_code = "import sys; from msa_lib.cli import run; sys.argv = ['msa', '--help']; run()"
    return {"help_s": least(help_code), "python_s": least("pass")}


EXTRACTOR_IMPORTS = (
    "from msa_lib.extract.features.visual import extract_visual\n"
    "from msa_lib.extract.features.audio import extract_audio\n"
    "from msa_lib.config import VisualConfig, AudioConfig\n"
)


# a process's own peak resident memory in MB: the kernel's high-water mark of its memory map
# (VmHWM). Linux's ru_maxrss is no good here: a child started by fork and exec keeps its
# parent's peak in it, so a small process started by a large one reads the large one's peak.
PEAK_MB = (
    "def _peak_mb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            for line in f:\n"
    "                if line.startswith('VmHWM:'):\n"
    "                    return int(line.split()[1]) / 1024\n"
    "    except OSError:\n"
    "        pass\n"
    "    import resource\n"
    "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
)


def peak_rss_mb(
    call: str, warm: object, arg: object, setup: str = EXTRACTOR_IMPORTS
) -> tuple[float, float]:
    """Peak resident memory (MB) of a fresh process after a warm-up call, and after ``call``.

    ``call`` is a Python expression with ``{media}`` in it, filled with ``repr`` of ``warm`` for
    the warm-up and of ``arg`` for the measured call, after ``setup``; the warm-up counts
    imports and model loading in the first figure, not in the difference. The peak is the
    process's own (``VmHWM``; ``ru_maxrss`` where ``/proc`` is absent).
    """
    code = (
        f"{PEAK_MB}{setup}"
        f"{call.format(media=repr(warm))}\n"
        "print(_peak_mb())\n"
        f"{call.format(media=repr(arg))}\n"
        "print(_peak_mb())\n"
    )
    out = python_code(code).stdout.split()
    return float(out[-2]), float(out[-1])


def core_scaling(n: int = 10_000_000) -> dict[str, float]:
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
