"""How long each chapter took to execute, on what machine, and how busy it kept the machine.

``msa book`` times every chapter it executes: wall seconds, and the CPU seconds the whole machine
spent meanwhile (:func:`machine_busy_seconds`: every core, every process, so a chapter's worker
processes count). Their ratio is the cores the chapter kept busy: on an otherwise quiet machine,
a chapter at 1.0 of 2 cores leaves one core idle (room for another chapter beside it), one at 2.0
leaves none. :func:`record_times` merges the rows into ``book/results/book_timing.csv`` (one row
per chapter, replaced when that chapter runs again, so ``msa book --only`` updates its own row)
and the machine into ``book/results/book_machine.json``; :func:`write_timing_page` renders both
as ``book/_build_times.md``, which the book's last page (``book/build_times.md``) includes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from msa_lib.book.findings import chapter_link
from msa_lib.perf.machine import cores, machine_info, machine_phrase

TIMES_CSV = "book_timing.csv"  # in book/results
MACHINE_JSON = "book_machine.json"  # in book/results
PAGE_FILE = "_build_times.md"  # in book/, included by build_times.md


@dataclass(frozen=True)
class ChapterTime:
    """One chapter's execution: wall and machine CPU seconds, its data, when it finished."""

    chapter: str
    seconds: float
    cpu_seconds: float
    data: str  # "real" or "synthetic"
    finished: str  # ISO time, UTC

    @property
    def cores_busy(self) -> float:
        """CPU seconds per wall second: how many cores the machine kept busy meanwhile."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0


def machine_busy_seconds() -> float:
    """CPU seconds this machine has spent busy since boot, over all cores and processes.

    psutil's system-wide ``cpu_times`` less idle and I/O wait (``iowait``: a core waiting for the
    disk is not working). Differences of two readings time a stretch of work, child and
    grandchild processes included, which a process's own ``rusage`` misses for workers that
    outlive their parent's wait."""
    import psutil

    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


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
    new.to_csv(path, index=False)
    (results / MACHINE_JSON).write_text(json.dumps(machine_info(), indent=1))
    return new


def timing_table(times: Sequence[ChapterTime]) -> str:
    """The chapters' times as plain text for the terminal, slowest first, with the total."""
    total = sum(t.seconds for t in times)
    width = max([len(t.chapter) for t in times] + [len("chapter")])
    lines = [
        f"[book] {len(times)} chapters executed in {total:.1f} s",
        f"[book]   {'chapter':<{width}}  {'wall':>9}  {'share':>6}  {'cores busy':>10}",
    ]
    for t in sorted(times, key=lambda t: -t.seconds):
        share = t.seconds / total if total > 0 else 0.0
        lines.append(
            f"[book]   {t.chapter:<{width}}  {t.seconds:7.1f} s  {share:6.1%}  {t.cores_busy:10.2f}"
        )
    return "\n".join(lines)


def timing_markdown(
    table: pd.DataFrame, machine: dict | None, chapters: Sequence[str], built: Callable[[str], bool]
) -> str:
    """The build-times page's body: the table in reading order (``chapters``: the toc's), its
    total and the machine; a chapter links to its page where ``built``."""
    if table.empty:
        return "No chapter has been executed in this build folder yet: `make book` times them.\n"
    order = {name: i for i, name in enumerate(chapters)}
    table = table.sort_values("chapter", key=lambda c: c.map(order).fillna(len(order)))
    total = float(table["seconds"].sum())
    n_cores = cores(machine) if machine else None
    busy = float(table["cpu_seconds"].sum()) / total if total > 0 else 0.0
    lines = [
        "| chapter | data | wall (s) | share | cores busy | finished (UTC) |",
        "|:--|:--|--:|--:|--:|:--|",
    ]
    for row in table.itertuples():
        name = chapter_link(row.chapter, built)
        lines.append(
            f"| {name} | {'SYNTHETIC' if row.data == 'synthetic' else 'real'} "
            f"| {row.seconds:.0f} | {row.seconds / total:.0%} | {row.cores_busy:.2f} "
            f"| {str(row.finished).replace('T', ' ').split('+')[0]} |"
        )
    lines.append(f"| **all chapters** | | **{total:.0f}** | 100% | {busy:.2f} | |")
    slowest = table.sort_values("seconds").iloc[-1]
    idle = f" of its {n_cores}" if n_cores else ""
    text = [
        "\n".join(lines),
        "",
        f"Executing the chapters took {total / 60:.1f} minutes of wall time; the slowest, "
        f"{chapter_link(slowest.chapter, built)}, took {slowest.seconds / 60:.1f} "
        f"minutes ({slowest.seconds / total:.0%}). Over the whole run the machine kept {busy:.2f}"
        f"{idle} cores busy. *Cores busy* is the CPU time the whole machine spent while a "
        "chapter ran (worker processes included) per second of wall time; the rendering of the "
        "HTML itself is not timed here.",
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
