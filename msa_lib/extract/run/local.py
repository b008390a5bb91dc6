"""The local backend: per-segment extractors in a pool of worker processes (spawned, one thread each)."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Sequence

from threadpoolctl import threadpool_limits

from msa_lib.extract.base import Extractor, Outcome, Segment
from msa_lib.extract.run.worker import _worker_init, run_segment


def _pool_pass(
    todo: list[Segment],
    extractors: Sequence[Extractor],
    workers: int,
    progress: bool,
    on_done,
    own_process: bool = False,
) -> None:
    """Run per-segment extractors over ``todo``, calling ``on_done(seg, outcomes)`` as each ends.

    One worker, or one segment, runs in this process unless ``own_process``: then in a worker
    process even so, which leaves this process free for other work meanwhile."""
    from tqdm.auto import tqdm

    label = "/".join(ex.name for ex in extractors)
    bar = tqdm(total=len(todo), desc=label, unit="seg", disable=not progress)
    try:
        if not own_process and (workers <= 1 or len(todo) <= 1):
            with threadpool_limits(limits=1):  # as a worker computes them (see one_thread)
                for seg in todo:
                    on_done(seg, run_segment(seg, extractors))
                    bar.update()
            return
        if min(workers, len(todo)) > 1:  # several workers start at once
            for ex in extractors:
                ex.before_workers()
        ctx = multiprocessing.get_context("spawn")  # MediaPipe and torch are not fork-safe
        with cf.ProcessPoolExecutor(
            max(1, min(workers, len(todo))),
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(os.getpid(),),
        ) as pool:
            futures = {pool.submit(run_segment, s, extractors): s for s in todo}
            try:
                for fut in cf.as_completed(futures):
                    seg = futures[fut]
                    try:
                        outcomes = fut.result()
                    except Exception as exc:  # a worker died (e.g. out of memory)
                        outcomes = {
                            ex.name: Outcome(None, error=f"worker failed: {exc!r}")
                            for ex in extractors
                        }
                    on_done(seg, outcomes)
                    bar.update()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        bar.close()
