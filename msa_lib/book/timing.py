"""How long each chapter took to execute, on what machine, and how busy it kept the machine.

``msa book`` times every chapter it executes: wall seconds, and the CPU seconds of the processes
that executed it (:class:`DescendantsCpu`: its kernel and the kernel's worker processes). Their
ratio is the cores the chapter kept busy: a chapter at 1.0 of 2 cores leaves one core idle (room
for another chapter beside it), one at 2.0 leaves none. :func:`record_times` merges the rows into
``book/results/book_timing.csv`` (one row per chapter, replaced when that chapter runs again, so
``msa book --only`` updates its own row) and the machine into ``book/results/book_machine.json``;
:func:`write_timing_page` renders both as ``book/_build_times.md``, which the book's last page
(``book/build_times.md``) includes.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from msa_lib.book.format import chapter_link, source_word
from msa_lib.io.atomic import atomic_path
from msa_lib.perf.machine import cores, machine_info, machine_phrase

TIMES_CSV = "book_timing.csv"  # in book/results
MACHINE_JSON = "book_machine.json"  # in book/results
PAGE_FILE = "_build_times.md"  # in book/, included by build_times.md


@dataclass(frozen=True)
class ChapterTime:
    """One chapter's execution: wall and CPU seconds, its data, its run and when it ran."""

    chapter: str
    seconds: float
    cpu_seconds: float  # of the chapter's own processes (DescendantsCpu)
    data: str  # "real" or "synthetic"
    started: str  # ISO time, UTC
    finished: str  # ISO time, UTC
    run: str = ""  # the start time of the msa book run that executed it (ISO, UTC)
    jobs: int = 1  # chapters that run executed at once

    @property
    def cores_busy(self) -> float:
        """CPU seconds per wall second: how many cores the chapter's processes kept busy."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0


class DescendantsCpu:
    """CPU seconds of this process's descendants while the block runs (a chapter's kernel and
    its worker processes), sampled in a thread.

    psutil reads every descendant's CPU times each ``interval`` seconds; a process counts with
    the last times seen for it (keyed by process id and start time), so the work of a process
    that ends between two samples is missed for at most ``interval`` seconds. Usage:
    ``with DescendantsCpu() as cpu: ...``, then ``cpu.seconds``.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._last: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="msa-cpu-clock", daemon=True)

    def sample(self) -> None:
        """Read the CPU times of every descendant now."""
        import psutil

        for proc in psutil.Process().children(recursive=True):
            try:
                with proc.oneshot():
                    t = proc.cpu_times()
                    self._last[(proc.pid, proc.create_time())] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> DescendantsCpu:
        self.sample()
        self._start = sum(self._last.values())  # descendants already running: their past work
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def seconds(self) -> float:
        """CPU seconds the descendants spent during the block."""
        return sum(self._last.values()) - self._start


def finished_now() -> str:
    """The current UTC time, to the second, in ISO format."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def record_times(results: Path, times: Sequence[ChapterTime]) -> pd.DataFrame:
    """Merge ``times`` into ``results/book_timing.csv`` (a chapter's new row replaces its old one)
    and write this machine to ``results/book_machine.json``; returns the merged table."""
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    path = results / TIMES_CSV
    new = pd.DataFrame([asdict(t) | {"cores_busy": round(t.cores_busy, 3)} for t in times])
    if path.is_file():
        old = pd.read_csv(path)
        new = pd.concat([old[~old["chapter"].isin(new["chapter"])], new], ignore_index=True)
    with atomic_path(path, suffix=".csv") as tmp:
        new.to_csv(tmp, index=False)
    with atomic_path(results / MACHINE_JSON, suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(machine_info(), indent=1))
    return new


def timing_table(times: Sequence[ChapterTime], wall: float | None = None, jobs: int = 1) -> str:
    """The chapters' times as plain text for the terminal, slowest first: the run's ``wall``
    seconds (default: the chapters' sum), the chapters' own times and the cores each kept busy."""
    total = sum(t.seconds for t in times)
    wall = total if wall is None else wall
    width = max([len(t.chapter) for t in times] + [len("chapter")])
    head = f"[book] {len(times)} chapters executed in {wall:.1f} s"
    if jobs > 1:
        head += f", up to {jobs} at a time (their own times add up to {total:.1f} s)"
    lines = [head, f"[book]   {'chapter':<{width}}  {'wall':>9}  {'share':>6}  {'cores busy':>10}"]
    for t in sorted(times, key=lambda t: -t.seconds):
        share = t.seconds / total if total > 0 else 0.0
        lines.append(
            f"[book]   {t.chapter:<{width}}  {t.seconds:7.1f} s  {share:6.1%}  {t.cores_busy:10.2f}"
        )
    return "\n".join(lines)


def run_summary(table: pd.DataFrame) -> dict | None:
    """The latest run of ``table`` (rows sharing its ``run``): chapters, jobs, wall seconds from
    its first start to its last end, and its chapters' CPU seconds; None without run times."""
    if table.empty or "run" not in table or table["run"].isna().all():
        return None
    rows = table[table["run"] == table["run"].dropna().max()]
    start = pd.to_datetime(rows["started"]).min()
    end = pd.to_datetime(rows["finished"]).max()
    return {
        "chapters": len(rows),
        "jobs": int(rows["jobs"].max()),
        "wall": (end - start).total_seconds(),
        "chapter_seconds": float(rows["seconds"].sum()),
        "cpu_seconds": float(rows["cpu_seconds"].sum()),
    }


def timing_markdown(
    table: pd.DataFrame, machine: dict | None, chapters: Sequence[str], built: Callable[[str], bool]
) -> str:
    """The build-times page's body: the table in reading order (``chapters``: the toc's), its
    total, the last run's wall time and the machine; a chapter links to its page where ``built``."""
    if table.empty:
        return "No chapter has been executed in this build folder yet: `make book` times them.\n"
    order = {name: i for i, name in enumerate(chapters)}
    table = table.sort_values("chapter", key=lambda c: c.map(order).fillna(len(order)))
    total = float(table["seconds"].sum())
    n_cores = cores(machine) if machine else None
    lines = [
        "| chapter | data | wall (s) | share | cores busy | finished (UTC) |",
        "|:--|:--|--:|--:|--:|:--|",
    ]
    for row in table.itertuples():
        name = chapter_link(row.chapter, built)
        lines.append(
            f"| {name} | {source_word(row.data)} "
            f"| {row.seconds:.0f} | {row.seconds / total:.0%} | {row.cores_busy:.2f} "
            f"| {str(row.finished).replace('T', ' ').split('+')[0]} |"
        )
    busy = float(table["cpu_seconds"].sum()) / total if total > 0 else 0.0
    lines.append(f"| **all chapters** | | **{total:.0f}** | 100% | {busy:.2f} | |")
    slowest = table.sort_values("seconds").iloc[-1]
    text = [
        "\n".join(lines),
        "",
        f"The chapters' times add up to {total / 60:.1f} minutes; the slowest, "
        f"{chapter_link(slowest.chapter, built)}, took {slowest.seconds / 60:.1f} minutes "
        f"({slowest.seconds / total:.0%}). *Cores busy* is the CPU time of the processes that "
        "executed a chapter (its kernel and the kernel's worker processes) per second of its "
        "wall time.",
    ]
    run = run_summary(table)
    if run and run["wall"] > 0:
        of = f" of the machine's {n_cores}" if n_cores else ""
        at_once = (
            "one chapter at a time"
            if run["jobs"] == 1
            else f"up to {run['jobs']} chapters at a time"
        )
        text += [
            "",
            f"The last `msa book` run executed {run['chapters']} chapter"
            f"{'s' if run['chapters'] != 1 else ''}, {at_once}, in {run['wall'] / 60:.1f} "
            f"minutes from its first start to its last end (their own times add up to "
            f"{run['chapter_seconds'] / 60:.1f}); its chapters kept "
            f"{run['cpu_seconds'] / run['wall']:.2f}{of} cores busy on average. The rendering "
            "of the HTML that follows is not timed here.",
        ]
    if machine:
        versions = ", ".join(
            f"{k} {machine[k]}" for k in ("python", "torch") if machine.get(k) is not None
        )
        text += [
            "",
            f"Machine: {machine_phrase(machine)}, {machine.get('platform', 'platform unknown')}"
            + (f"; {versions}" if versions else "")
            + ".",
        ]
    return "\n".join(text) + "\n"


def write_timing_page(book: Path, chapters: Sequence[str]) -> Path:
    """Write ``book/_build_times.md`` from ``book/results``' timing table and machine record;
    ``chapters``: the toc's order. A chapter links to its page where this build executed it."""
    book = Path(book)
    results = book / "results"
    path = results / TIMES_CSV
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    machine_file = results / MACHINE_JSON
    machine = json.loads(machine_file.read_text()) if machine_file.is_file() else None
    out = book / PAGE_FILE
    out.write_text(
        timing_markdown(table, machine, chapters, lambda doc: (book / f"{doc}.ipynb").is_file()),
        encoding="utf-8",
    )
    return out
