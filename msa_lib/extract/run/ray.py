"""The per-segment extractors on Ray: a local instance, or an existing cluster (``--backend ray``).

Same contract as the local process pool (:func:`msa_lib.extract.runner._pool_pass`): each segment
of ``todo`` runs :func:`msa_lib.extract.runner.run_segment` under every per-segment extractor and
``on_done(seg, outcomes)`` is called in this process as each result arrives, so the runner writes
it into the same per-segment cache as the local backend: a run moves between backends and resumes
where the other stopped. Each worker is a Ray actor (one CPU) that receives the extractors once and
keeps them, with whatever models they load, for every segment it runs; an actor holds at most
``in_flight`` segments, so the work balances itself across actors of unequal speed.

An actor that dies (out of memory, a crash in a native library) fails only the segment it was
running, reported like a dead pool worker's (``worker failed: ...``); the segments queued behind
it go to a fresh actor. On a cluster, every node needs the project installed (same version) and
the media at the same paths (a shared file system); results come back to this machine's cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from msa_lib.config import RayConfig
from msa_lib.extract.base import ExtractError, Extractor, Outcome, Segment

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e .[ray]"
AUTH_LOGGER = "ray._private.authentication"  # warns at every start of a local instance


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ExtractError(
            f"the ray backend needs Ray, which is not installed: {INSTALL_HINT}"
        ) from None
    return ray


@contextlib.contextmanager
def quiet_logger(name: str, level: int = logging.ERROR) -> Iterator[None]:
    """A logger's records below ``level`` dropped for the block."""
    logger = logging.getLogger(name)
    saved = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(saved)


@contextlib.contextmanager
def ray_session(workers: int, cfg: RayConfig) -> Iterator[Any]:
    """Ray connected for the block: the caller's session if one is open, else a new one, closed after.

    Without an address, a new local instance with ``workers`` CPUs (never a cluster that happens
    to run on this machine); with one, the cluster at that address, which is left running.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    common = {"include_dashboard": False, "logging_level": logging.WARNING}
    try:
        if cfg.address is None:
            with quiet_logger(AUTH_LOGGER):  # "token authentication is enabled" (it is)
                ray.init(
                    address="local",
                    num_cpus=workers,
                    num_gpus=0,
                    object_store_memory=cfg.object_store_mb * 1024**2,
                    _temp_dir=cfg.temp_dir,
                    **common,
                )
        else:
            ray.init(address=cfg.address, **common)
    except ConnectionError as exc:
        raise ExtractError(
            f"cannot connect to the Ray cluster at {cfg.address}: {exc}{auth_hint()}"
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()  # stops a local instance; only disconnects from a cluster


def auth_hint() -> str:
    """What to try when a cluster refuses this process: token authentication, unless it is on."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return ""
    return (
        "; if the cluster uses token authentication (Ray's default when the head node has a "
        "token), set RAY_AUTH_MODE=token here and give the head's token (`ray get-auth-token`) "
        "in RAY_AUTH_TOKEN or ~/.ray/auth_token"
    )


def cluster_cpus(ray: Any) -> int:
    """The CPUs of the Ray cluster this process is connected to (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class SegmentWorker:
    """A Ray actor's state: the extractors, received once, reused for every segment it runs."""

    def __init__(self, extractors: Sequence[Extractor]) -> None:
        from msa_lib.extract.run.worker import one_thread

        one_thread()  # as a pool worker: the same features bit for bit
        self.extractors = list(extractors)

    def run(self, seg: Segment) -> dict[str, Outcome]:
        """The outcomes of one segment: the local backend's per-segment work, unchanged."""
        from msa_lib.extract.run.worker import run_segment

        return run_segment(seg, self.extractors)


def failed(extractors: Sequence[Extractor], exc: BaseException) -> dict[str, Outcome]:
    """Every extractor's outcome for a segment whose worker failed."""
    return {
        ex.name: Outcome(None, error=f"worker failed: {describe_ray(exc)}") for ex in extractors
    }


class Dispatcher:
    """Segments fed to a fixed number of actors, at most ``in_flight`` each, results as they end."""

    def __init__(
        self,
        ray: Any,
        extractors: Sequence[Extractor],
        n_actors: int,
        todo: Sequence[Segment],
        cfg: RayConfig,
    ) -> None:
        self.ray = ray
        self.extractors = list(extractors)
        self.actor_cls = ray.remote(num_cpus=1)(SegmentWorker)
        self.shared = ray.put(self.extractors)  # sent once, whatever the number of actors
        self.actors = [self.actor_cls.remote(self.shared) for _ in range(n_actors)]
        self.queue: deque[Segment] = deque(todo)
        self.in_flight = cfg.in_flight
        self.max_deaths = cfg.max_deaths
        self.pending: dict[Any, tuple[Segment, int, int]] = {}  # ref -> segment, actor, order
        self.order = 0
        self.deaths = 0  # actors dead in a row, with no segment finished in between

    def feed(self, slot: int) -> None:
        """Queue segments on actor ``slot`` up to ``in_flight``."""
        while self.queue and sum(v[1] == slot for v in self.pending.values()) < self.in_flight:
            seg = self.queue.popleft()
            self.pending[self.actors[slot].run.remote(seg)] = (seg, slot, self.order)
            self.order += 1

    def next_results(self) -> list[tuple[Segment, dict[str, Outcome]]]:
        """Wait for the next segment to end; its result (and those settled with it), fed again."""
        ray = self.ray
        [ref], _ = ray.wait(list(self.pending), num_returns=1)
        seg, slot, _ = self.pending[ref]
        try:
            outcomes = ray.get(ref)
        except ray.exceptions.RayActorError:
            done = self.actor_died(slot)
        except ray.exceptions.RayError as exc:  # the task failed, its actor lives
            del self.pending[ref]
            done = [(seg, failed(self.extractors, exc))]
        else:
            del self.pending[ref]
            self.deaths = 0
            done = [(seg, outcomes)]
        self.feed(slot)
        return done

    def actor_died(self, slot: int) -> list[tuple[Segment, dict[str, Outcome]]]:
        """Settle a dead actor's segments and start another actor in its place.

        It ran them in order: those that finished count, the oldest unfinished one killed it and
        fails, the ones queued behind it go back to the front of the queue.
        """
        ray = self.ray
        mine = sorted(
            ((r, v) for r, v in self.pending.items() if v[1] == slot), key=lambda rv: rv[1][2]
        )
        done, requeue, cause = [], [], None
        for ref, (seg, _, _) in mine:
            del self.pending[ref]
            if cause is not None:
                requeue.append(seg)
                continue
            try:
                done.append((seg, ray.get(ref, timeout=60)))
            except ray.exceptions.RayError as exc:
                cause = exc
                log.warning("%s: a Ray worker died (%s); starting another", seg.segment_id, exc)
                done.append((seg, failed(self.extractors, exc)))
        self.queue.extendleft(reversed(requeue))
        self.deaths += 1
        if self.deaths > self.max_deaths:  # a broken node (e.g. without the project), not a clip
            raise ExtractError(
                f"{self.deaths} Ray workers died in a row, the last with: {describe_ray(cause)}; "
                "finished segments are cached: fix the workers and rerun"
            )
        self.actors[slot] = self.actor_cls.remote(self.shared)
        return done

    def close(self) -> None:
        """End every actor (their CPUs go back to the cluster)."""
        for a in self.actors:
            self.ray.kill(a)


def describe_ray(exc: BaseException | None) -> str:
    """The first line of a Ray error."""
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0] if text else repr(exc)


def ray_pass(
    todo: list[Segment],
    extractors: Sequence[Extractor],
    workers: int,
    progress: bool,
    on_done: Callable[[Segment, dict[str, Outcome]], None],
    config: RayConfig | None = None,
) -> None:
    """Run per-segment extractors over ``todo`` on Ray actors, calling ``on_done`` as each ends.

    ``workers`` is the number of actors (one CPU each) and a new local instance's CPUs; 0 means
    one per CPU: of this machine for a new local instance, else of the cluster joined.
    """
    from tqdm.auto import tqdm

    from msa_lib.extract.run.worker import check_cpus

    cfg = config or RayConfig()
    check_cpus(workers, zero="one per CPU")
    if not todo:
        return
    if cfg.address is None and workers == 0:
        from msa_lib.extract.run.worker import available_cores

        local_cpus = available_cores()
    else:
        local_cpus = max(workers, 1)
    label = "/".join(ex.name for ex in extractors)
    for ex in extractors:  # actors start together
        ex.before_workers()
    with ray_session(local_cpus, cfg) as ray:
        n_actors = min(workers or cluster_cpus(ray), len(todo))
        work = Dispatcher(ray, extractors, n_actors, todo, cfg)
        bar = tqdm(total=len(todo), desc=f"{label} (ray)", unit="seg", disable=not progress)
        try:
            for slot in range(n_actors):
                work.feed(slot)
            while work.pending:
                for seg, outcomes in work.next_results():
                    on_done(seg, outcomes)
                    bar.update()
        finally:
            bar.close()
            work.close()
