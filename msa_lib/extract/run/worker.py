"""What a worker does, in any backend: one segment through every extractor, on one BLAS thread.

Shared by the local process pool (:mod:`~msa_lib.extract.run.local`) and the Ray actors
(:mod:`~msa_lib.extract.run.ray`), so both give the same features bit for bit; and the one
worker-count rule (``--workers 0``: one per core).
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence

from threadpoolctl import threadpool_limits

from msa_lib.extract.base import ExtractError, Extractor, Outcome, Segment

log = logging.getLogger(__name__)


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_cpus(value: int, flag: str = "--workers", zero: str = "one per core") -> int:
    """``value`` of a CPU-count option if >= 0, else an error naming ``flag`` and what 0 means.

    The one check of ``msa extract --workers`` (local and Ray) and ``msa predict --threads``.
    """
    if value < 0:
        raise ExtractError(f"{flag} must be >= 0 (0: {zero}), got {value}")
    return value


def resolve_workers(workers: int) -> int:
    """Worker processes for ``--workers``: 0 means one per core; more than the cores is capped."""
    cores = available_cores()
    if check_cpus(workers) == 0:
        return cores
    if workers > cores:
        log.warning("--workers %d is more than the %d cores here; using %d", workers, cores, cores)
        return cores
    return workers


def _watch_parent(parent: int) -> None:
    """Exit as soon as the parent process is gone (this process was re-parented)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int) -> None:
    """Make this process end when ``parent`` does, even when the parent is killed with SIGKILL.

    On Linux the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``); a
    thread watching the parent's pid is the portable fallback.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def one_thread() -> None:
    """One BLAS/OpenMP thread in this process, for the libraries loaded and those loaded later.

    The workers are the parallelism: more threads per worker oversubscribe the cores. It also
    makes a segment's features the same bit for bit whichever worker computes them (a pool
    worker, a Ray actor, or the calling process): BLAS sums in another order with more threads.
    """
    os.environ["OMP_NUM_THREADS"] = "1"
    threadpool_limits(limits=1)


def _worker_init(parent: int) -> None:
    """One BLAS/OpenMP thread per worker; die with the parent; exit without the last collections.

    At exit the objects alive are frozen (:func:`gc.freeze`), so the interpreter's final garbage
    collections skip them: with MediaPipe and librosa loaded a worker then ends about half a second
    sooner, a second its pool's shutdown waits for; the operating system frees its memory at once.
    """
    one_thread()
    logging.basicConfig(level=logging.WARNING)
    die_with_parent(parent)
    atexit.register(gc.freeze)


def describe(exc: BaseException) -> str:
    """An exception as one line: its message for expected errors, else its repr."""
    if isinstance(exc, (ValueError, OSError)):
        return str(exc)
    log.debug("%s", traceback.format_exc())
    return repr(exc)


def run_segment(seg: Segment, extractors: Sequence[Extractor]) -> dict[str, Outcome]:
    """The outcomes of one segment under several per-segment extractors; errors are described."""
    results = {}
    for ex in extractors:
        t0 = time.perf_counter()
        try:
            out = ex.run(seg)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one bad segment never stops a corpus run
            out = Outcome(None, error=describe(exc))
        out.seconds = time.perf_counter() - t0
        results[ex.name] = out
    return results
