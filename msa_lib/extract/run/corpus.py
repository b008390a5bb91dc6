"""Running extractors over a plan: the process pool, the cache, the output files and the report.

Each segment's result is cached on disk as soon as it is computed, so a rerun after a crash or
Ctrl-C skips finished segments. Media extractors run per segment in a process pool (``workers``;
the workers die with their parent) or, with ``backend="ray"``, on Ray actors
(:mod:`msa_lib.extract.run.ray`: a local instance or a cluster); both fill the same cache, so
a run can stop under one and resume under the other. Text extractors run in batches in this
process. A failure in one segment is written to ``errors.jsonl`` (strict JSON) and becomes an
all-NaN row with the ``failed`` flag; it never stops the run. Each extractor writes
``<out>/<name>.h5`` with its own modality, and the run ends with the merged set
``<out>/features.h5``. An existing output file is never replaced by one with fewer good (non-NaN)
rows unless ``overwrite`` is given.

Two runs at once: a run holds its output folder's lock (:mod:`msa_lib.io.lock`) while it works;
a second run into the same folder waits for the first to end (``msa extract`` refuses it
instead, naming the first), then finds the first run's results in the cache. Runs into other
folders may share one cache folder (``cache_dir``): its entries are content-keyed and renamed
into place whole (:mod:`msa_lib.extract.cache`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from msa_lib.config import RayConfig
from msa_lib.data.featureset import FeatureSet, ModalityMeta
from msa_lib.extract.base import ExtractError, Extractor, Outcome, Segment, build, names
from msa_lib.extract.cache import Cache
from msa_lib.extract.plan import check_unique
from msa_lib.extract.run.local import _pool_pass
from msa_lib.extract.run.ray import ray_pass, require_ray
from msa_lib.extract.run.worker import available_cores, resolve_workers
from msa_lib.io.atomic import atomic_path
from msa_lib.io.jsonio import dumps
from msa_lib.io.lock import folder_lock

log = logging.getLogger(__name__)

MERGED_FILE = "features.h5"
ERRORS_FILE = "errors.jsonl"
BACKENDS = ("local", "ray")


# --------------------------------------------------------------------------- workers


# --------------------------------------------------------------------------- FeatureSets
def assemble(
    ex: Extractor,
    segs: Sequence[Segment],
    outcomes: Mapping[str, Outcome],
    dim: int,
    meta: ModalityMeta,
    corpus: str,
    source: str,
) -> FeatureSet:
    """One extractor's FeatureSet in plan order; failed segments are NaN rows flagged ``failed``."""
    x = np.full((len(segs), dim), np.nan, np.float32)
    flag_names = sorted({k for o in outcomes.values() for k in o.flags})
    flags = {k: np.zeros(len(segs), np.int32) for k in flag_names}
    failed = np.zeros(len(segs), bool)
    for i, s in enumerate(segs):
        o = outcomes[s.segment_id]
        if o.vector is None:
            failed[i] = True
            continue
        v = np.asarray(o.vector, np.float32)
        x[i] = v if np.isfinite(v).all() else np.nan  # partial NaN never leaves an extractor
        for k, val in o.flags.items():
            flags[k][i] = int(val)
    out_flags: dict[str, np.ndarray] = {"failed": failed}
    for k, v in flags.items():
        out_flags[k] = v if k.startswith("n_") else v.astype(bool)  # counts vs yes/no flags
    return FeatureSet(
        segment_id=[s.segment_id for s in segs],
        video_id=[s.video_id for s in segs],
        split=[s.split for s in segs],
        label=[s.label for s in segs],
        features={ex.modality: x},
        meta={ex.modality: meta},
        corpus=corpus,
        source=source,
        flags=out_flags,
    )


def featureset_from_vectors(
    table: pd.DataFrame,
    vectors: np.ndarray,
    modality: str,
    meta: ModalityMeta,
    corpus: str,
    source: str,
    flags: dict[str, np.ndarray] | None = None,
) -> FeatureSet:
    """A FeatureSet from a segments table (ids, video ids, labels, splits) and vectors per row."""
    return FeatureSet(
        segment_id=table["segment_id"].to_numpy(),
        video_id=table["video_id"].to_numpy(),
        split=table["split"].to_numpy(),
        label=table["label"].to_numpy(),
        features={modality: vectors},
        meta={modality: meta},
        corpus=corpus,
        source=source,
        flags=flags or {},
    ).validate(f"{corpus} {modality}")


def good_rows(fs: FeatureSet) -> int:
    """Rows with values (not all NaN), summed over the set's modalities."""
    return int(sum((~fs.missing(m)).sum() for m in fs.modalities))


def save_guarded(fs: FeatureSet, path: Path, overwrite: bool = False) -> tuple[FeatureSet, bool]:
    """Write ``fs`` to ``path`` unless that would replace a file holding more good rows.

    Returns the set now in the file and whether it is the existing one (kept). Without
    ``overwrite``, a file with more good rows is kept and one warning names it and both counts.
    """
    if path.is_file() and not overwrite:
        try:
            old = FeatureSet.load(path)
        except Exception as exc:  # a damaged old file is replaced, and said so
            log.warning("%s: existing file unreadable (%s); replacing it", path, exc)
        else:
            new_good, old_good = good_rows(fs), good_rows(old)
            if new_good < old_good:
                log.warning(
                    "%s: kept the existing file (%d good rows): the new result has only %d good "
                    "rows; rerun with --overwrite to replace it",
                    path,
                    old_good,
                    new_good,
                )
                return old, True
    fs.save(path)
    return fs, False


def merge_sets(sets: Sequence[FeatureSet]) -> FeatureSet:
    """One multi-modality set from single-modality ones; flags become ``<modality>.<flag>``."""
    renamed = []
    for fs in sets:
        prefix = "+".join(fs.modalities)
        flags = {f"{prefix}.{k}": v for k, v in fs.flags.items()}
        renamed.append(
            FeatureSet(
                fs.segment_id,
                fs.video_id,
                fs.split,
                fs.label,
                fs.features,
                dict(fs.meta),
                fs.corpus,
                fs.source,
                flags,
            )
        )
    return FeatureSet.merge(*renamed, how="outer")


# --------------------------------------------------------------------------- the run
@dataclass
class RunReport:
    """What a corpus run produced, extractor by extractor."""

    out_dir: Path
    extractors: dict[str, dict] = field(default_factory=dict)
    errors_log: Path | None = None
    n_skipped: dict[str, int] = field(default_factory=dict)
    merged: Path | None = None
    seconds: float = 0.0

    @property
    def all_failed(self) -> list[str]:
        """Extractors for which every segment they ran on failed."""
        return [
            n
            for n, e in self.extractors.items()
            if e["n_segments"] and e["n_failed"] == e["n_segments"]
        ]

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "out": str(self.out_dir),
            "extractors": self.extractors,
            "all_failed": self.all_failed,
            "merged": str(self.merged) if self.merged else None,
            "errors_log": str(self.errors_log) if self.errors_log else None,
            "skipped": self.n_skipped,
            "seconds": round(self.seconds, 2),
        }


def _write_errors(path: Path, errors: Iterable[dict]) -> None:
    """One strict-JSON object per line."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for e in errors:
            f.write(dumps(e, indent=None) + "\n")


def extract_corpus(
    segments: Sequence[Segment],
    out_dir: str | os.PathLike,
    extractors: Iterable[str] | None = None,
    settings: Mapping[str, Any] | None = None,
    workers: int = 1,
    progress: bool = True,
    corpus: str = "",
    source: str = "real",
    cache_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    merge: bool = True,
    backend: str = "local",
    ray_config: RayConfig | None = None,
    load_ahead: bool = False,
) -> RunReport:
    """Extract every requested feature of ``segments``; write ``<out_dir>/<extractor>.h5``.

    ``settings`` maps config sections (audio, visual, text) to config objects; absent sections
    take the paper's defaults. An extractor runs on the segments that have what it needs (the
    others are counted as skipped). Results are cached per segment in ``cache_dir`` (default
    ``<out_dir>/cache``) so an interrupted run resumes where it stopped. With ``merge``, the
    extractors' sets are also merged by segment id into ``<out_dir>/features.h5``.
    ``backend`` runs the per-segment extractors in a local process pool ("local") or on Ray
    ("ray", settings in ``ray_config``: a new local instance with ``workers`` CPUs, or a cluster).
    With ``load_ahead`` and a second core, the per-segment extractors run in worker processes
    even when one worker or one segment would run them here, so that this process loads the
    batched extractors' models meanwhile (a cold run on a few clips: ``msa extract`` sets it).
    The features are the same either way.
    """
    t_start = time.perf_counter()
    exs = build(list(extractors) if extractors is not None else names(), settings)
    check_unique(segments)
    if backend not in BACKENDS:
        raise ExtractError(f"unknown backend '{backend}'; known: {list(BACKENDS)}")
    ray_config = ray_config or RayConfig()
    if backend == "ray":
        require_ray()  # absent: one line saying how to install it, before any work
    if backend == "local" or ray_config.address is None:
        workers = resolve_workers(workers)  # a cluster's size is not this machine's
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir, wait=True):  # a run into the same folder: wait, then reuse its cache
        return _run(
            exs,
            segments,
            out_dir,
            Path(cache_dir) if cache_dir else out_dir / "cache",
            workers,
            progress,
            corpus,
            source,
            overwrite,
            merge,
            backend,
            ray_config,
            t_start,
            load_ahead,
        )


def preload_thread(extractors: Sequence[Extractor]) -> threading.Thread:
    """A started daemon thread that calls each extractor's :meth:`~Extractor.prepare`.

    A failure is logged at debug level and otherwise ignored: the extractor raises it again, in
    context, when it runs."""

    def prepare_all() -> None:
        for ex in extractors:
            try:
                ex.prepare()
            except Exception as exc:  # noqa: BLE001 - raised again by run_batch
                log.debug("%s: loading ahead failed (%r); it loads when it runs", ex.name, exc)

    thread = threading.Thread(target=prepare_all, name="msa-preload", daemon=True)
    thread.start()
    return thread


def _run(
    exs: list[Extractor],
    segments: Sequence[Segment],
    out_dir: Path,
    cache_root: Path,
    workers: int,
    progress: bool,
    corpus: str,
    source: str,
    overwrite: bool,
    merge: bool,
    backend: str,
    ray_config: RayConfig,
    t_start: float,
    load_ahead: bool = False,
) -> RunReport:
    """The body of :func:`extract_corpus`, under the output folder's lock."""
    report = RunReport(out_dir=out_dir)
    errors: list[dict] = []
    warned: set[str] = set()

    applicable = {}
    for ex in exs:
        applicable[ex.name] = [s for s in segments if ex.applies(s)]
        report.n_skipped[ex.name] = len(segments) - len(applicable[ex.name])
        if report.n_skipped[ex.name]:
            log.warning(
                "%s: %d of %d segments skipped (no %s)",
                ex.name,
                report.n_skipped[ex.name],
                len(segments),
                "media file" if ex.needs == "media" else "transcript",
            )
    exs = [ex for ex in exs if applicable[ex.name]]
    caches = {ex.name: Cache(cache_root, ex) for ex in exs}
    outcomes: dict[str, dict[str, Outcome]] = {ex.name: {} for ex in exs}
    for ex in exs:
        for s in applicable[ex.name]:
            hit = caches[ex.name].get(s)
            if hit is not None:
                outcomes[ex.name][s.segment_id] = hit

    def record(name: str, seg: Segment, o: Outcome) -> None:
        outcomes[name][seg.segment_id] = o
        caches[name].put(seg, o)

    # per-segment extractors (audio, visual): one pool pass over the segments any still needs
    pooled = [ex for ex in exs if not ex.batched]
    todo = [
        s
        for s in segments
        if any(ex.applies(s) and s.segment_id not in outcomes[ex.name] for ex in pooled)
    ]
    batched_todo = [
        ex
        for ex in exs
        if ex.batched and any(s.segment_id not in outcomes[ex.name] for s in applicable[ex.name])
    ]
    # while worker processes (or Ray) run the media extractors, this process loads the batched
    # extractors' models in a thread instead of waiting; not while the media extractors run in
    # this process: transformers' loading patches torch for the whole process meanwhile, which
    # an extractor built on torch could not share
    # asked to load ahead: a worker process runs even one segment, if a second core can load
    ahead = (
        load_ahead and backend == "local" and bool(todo and batched_todo) and available_cores() > 1
    )
    elsewhere = backend == "ray" or (workers > 1 and len(todo) > 1) or ahead
    preload = preload_thread(batched_todo) if todo and batched_todo and elsewhere else None
    if todo:
        log.info("%d segments to extract (%s)", len(todo), ", ".join(ex.name for ex in pooled))

        def on_done(seg: Segment, res: dict[str, Outcome]) -> None:
            for name, o in res.items():
                if seg.segment_id not in outcomes[name]:
                    record(name, seg, o)

        try:
            if backend == "ray":
                ray_pass(todo, pooled, workers, progress, on_done, ray_config)
            else:
                _pool_pass(todo, pooled, workers, progress, on_done, own_process=ahead)
        except KeyboardInterrupt:
            done = sum(len(v) for v in outcomes.values())
            log.warning(
                "interrupted: %d results are cached in %s; rerun the same command to resume",
                done,
                cache_root,
            )
            raise

    if preload is not None:
        preload.join()
    written: list[FeatureSet] = []
    for ex in exs:
        segs = applicable[ex.name]
        if ex.batched:
            todo_b = [s for s in segs if s.segment_id not in outcomes[ex.name]]
            if todo_b:
                for s, o in zip(todo_b, ex.run_batch(todo_b, progress=progress)):
                    record(ex.name, s, o)
        outs = outcomes[ex.name]
        for s in segs:
            o = outs[s.segment_id]
            for w in o.warnings:
                if w not in warned:
                    warned.add(w)
                    log.warning("%s", w)
            if o.error is not None:
                errors.append(
                    {
                        "segment_id": s.segment_id,
                        "extractor": ex.name,
                        "media": s.media,
                        "start": s.start,
                        "end": s.end,
                        "error": o.error,
                    }
                )
        vec = next((o.vector for o in outs.values() if o.vector is not None), None)
        dim = len(vec) if vec is not None else ex.dim()
        fs = assemble(ex, segs, outs, dim, ex.metadata(), corpus, source)
        path = out_dir / f"{ex.name}.h5"
        kept_fs, kept = save_guarded(fs, path, overwrite)
        written.append(kept_fs)
        info = {
            "modality": ex.modality,
            "dim": dim,
            "n_segments": len(fs),
            "n_good_rows": good_rows(fs),
            "n_nan_rows": int(fs.missing(ex.modality).sum()),
            "n_failed": int(fs.flags["failed"].sum()),
            "n_cached": sum(outs[s.segment_id].cached for s in segs),
            "file": str(path),
            "kept_existing": kept,
        }
        if "truncated" in fs.flags:
            info["n_truncated"] = int(fs.flags["truncated"].sum())
        report.extractors[ex.name] = info
    report.errors_log = out_dir / ERRORS_FILE
    _write_errors(report.errors_log, errors)
    for e in errors:
        log.warning("%s [%s]: %s", e["segment_id"], e["extractor"], e["error"])
    for name in report.all_failed:
        log.error(
            "%s: every one of its %d segments failed", name, report.extractors[name]["n_segments"]
        )
    if merge and written:
        merged, _ = save_guarded(merge_sets(written), out_dir / MERGED_FILE, overwrite)
        report.merged = out_dir / MERGED_FILE
    report.seconds = time.perf_counter() - t_start
    return report
