"""Build the book: run every chapter (``notebooks/NN_*.py``) with papermill, then Jupyter Book.

``book/_toc.yml`` is the one list of chapters, their sections and their order: a chapter with
``sections:`` is an opening page and one notebook per section (Jupyter Book numbers them 8.1, 8.2,
...), each of which ``msa book --only`` can run alone. Each jupytext source is converted to a
notebook, executed by papermill into ``book/<name>.ipynb`` (kept even when a cell fails, so the
error is visible in context), and Jupyter Book 1.x renders ``book/_build/html`` with
warnings as errors. The HTML reads offline: MathJax is copied into the build from the installed
``django-static-mathjax`` wheel (MathJax 3's own files), and nothing is loaded from a CDN.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from msa_lib.book.timing import (
    ChapterTime,
    DescendantsCpu,
    finished_now,
    record_times,
    timing_table,
    write_timing_page,
)
from msa_lib.io.paths import package_dirs, repo_root

log = logging.getLogger(__name__)


def toc_chapters(toc: Path) -> list[str]:
    """File names (without extension) listed in a Jupyter Book ``_toc.yml``, in reading order:
    each chapter followed by its ``sections``."""
    data = yaml.safe_load(toc.read_text())
    names: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                names.append(str(node["file"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in data.items() if k != "root"})
    return names


def chapter_sources(root: Path) -> list[Path]:
    """The chapter sources in ``_toc.yml`` order; a source missing from the toc is an error."""
    toc = root / "book" / "_toc.yml"
    chapters = [c for c in toc_chapters(toc) if (root / "notebooks" / f"{c}.py").is_file()]
    on_disk = sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.py"))
    orphans = sorted(set(on_disk) - set(chapters))
    if orphans:
        raise ValueError(f"{toc}: notebooks {orphans} exist but are not listed; add them")
    return [root / "notebooks" / f"{c}.py" for c in chapters]


def select_sources(sources: list[Path], only: list[str] | None) -> list[Path]:
    """The sources named in ``only`` (chapters or sections, by file name), in toc order; all of
    them when ``only`` is empty. An unknown name is an error listing the known ones."""
    if not only:
        return sources
    unknown = sorted(set(only) - {s.stem for s in sources})
    if unknown:
        raise ValueError(f"unknown chapter(s) {unknown}; known: {[s.stem for s in sources]}")
    return [s for s in sources if s.stem in only]


def execute_chapter(source: Path, out_dir: Path, parameters: dict) -> Path:
    """Convert a jupytext source and execute it with papermill; returns the executed notebook
    (:func:`execute_timed` times it)."""
    import jupytext
    import nbformat
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / f".{source.stem}.input.ipynb"
    nbformat.write(jupytext.read(source), raw)
    out = out_dir / f"{source.stem}.ipynb"
    try:
        papermill.execute_notebook(
            str(raw),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
        )
    finally:
        raw.unlink(missing_ok=True)
        if out.is_file():
            hide_injected_parameters(out)
    return out


def hide_injected_parameters(notebook: Path) -> None:
    """Tag papermill's ``injected-parameters`` cell ``hide-input``, like the parameters cell."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    changed = False
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
            changed = True
    if changed:
        nbformat.write(nb, notebook)


MATHJAX_DIST = "django-static-mathjax"


def vendor_mathjax(book: Path) -> Path:
    """Copy MathJax 3 (es5 build) from the installed wheel into ``book/_vendor/mathjax``.

    Offline: the wheel is installed with the environment (requirements.txt); a missing one is a
    clear error, never a CDN fallback. Copies again only when the installed version changed."""
    import importlib.metadata

    try:
        version = importlib.metadata.version(MATHJAX_DIST)
        folders = package_dirs("mathjax")
    except importlib.metadata.PackageNotFoundError:
        folders = []
    if not folders:
        raise RuntimeError(
            f"MathJax is not installed: the book serves it from the {MATHJAX_DIST} package "
            f"(`make install`, or `pip install {MATHJAX_DIST}`)"
        )
    src = folders[0] / "static" / "mathjax" / "es5"
    if not (src / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"{src}: no tex-mml-chtml.js in the installed {MATHJAX_DIST}")
    dest = book / "_vendor" / "mathjax"
    stamp = dest / ".version"
    if not (stamp.is_file() and stamp.read_text() == version):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        stamp.write_text(version)
    return dest


def kept_entries(entries: list, missing: set[str]) -> list:
    """A toc's entries less the files in ``missing``: a chapter not executed gives its place to
    its executed sections (promoted one level), and a ``sections`` list left empty is dropped."""
    out: list = []
    for entry in entries:
        if not isinstance(entry, dict):
            out.append(entry)
            continue
        sections = kept_entries(entry.get("sections", []), missing)
        if entry.get("file") in missing:
            out += sections
            continue
        entry = {k: v for k, v in entry.items() if k != "sections"}
        if sections:
            entry["sections"] = sections
        out.append(entry)
    return out


def built_toc(root: Path) -> tuple[Path, list[str]]:
    """The toc to build: ``book/_toc.yml`` less chapters and sections not executed yet (no
    ``book/<name>.ipynb``); the executed sections of a chapter not executed take its place.

    A page written in Markdown (``book/<name>.md``, no notebook) is always kept. Returns the toc
    file and the files left out; with none left out it is ``book/_toc.yml``."""
    book = root / "book"
    toc = book / "_toc.yml"
    missing = [
        c
        for c in toc_chapters(toc)
        if not (book / f"{c}.ipynb").is_file() and not (book / f"{c}.md").is_file()
    ]
    if not missing:
        return toc, []
    data = yaml.safe_load(toc.read_text())
    for holder in [data, *data.get("parts", [])]:
        if "chapters" in holder:
            holder["chapters"] = kept_entries(holder["chapters"], set(missing))
            if not holder["chapters"]:
                holder.pop("chapters")
    partial = book / "_build" / "_toc.partial.yml"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text(yaml.safe_dump(data, sort_keys=False))
    return partial, missing


def build_html(root: Path) -> Path:
    """Render the executed notebooks with Jupyter Book 1.x, warnings as errors."""
    from msa_lib.book.findings import write_findings  # the studies' modules: imported here only

    vendor_mathjax(root / "book")
    write_findings(root / "book")  # the introduction's findings, from this build's results
    write_timing_page(root / "book", toc_chapters(root / "book" / "_toc.yml"))  # the last page
    toc, missing = built_toc(root)
    if missing:
        print(f"[book] not executed, left out of the HTML: {', '.join(missing)}", flush=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(jb if jb.exists() else "jupyter-book"),
        "build",
        str(root / "book"),
        "--config",
        str(root / "_config.yml"),
        "--toc",
        str(toc),
        "--path-output",
        str(root / "book"),
        "-W",
        "-n",
        "--keep-going",
    ]
    subprocess.run(cmd, check=True, cwd=root)
    return root / "book" / "_build" / "html"


def chapter_after(source: Path) -> list[str]:
    """The chapters whose results ``source`` reads, from its header's ``msa: after:`` list
    (jupytext keeps it in the notebook's metadata): with ``--jobs``, it starts after them."""
    import jupytext

    after = jupytext.read(source).metadata.get("msa", {}).get("after", [])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise ValueError(f"{source}: 'msa: after:' must be a list of chapter names, got {after!r}")
    return after


def execute_timed(
    source: Path, out_dir: Path, parameters: dict, data: str, run_id: str, jobs: int
) -> tuple[ChapterTime, Path | None, str | None]:
    """:func:`execute_chapter` with its time and its processes' CPU time; an error is returned
    as text (with the time it took), for a worker process to hand back."""
    started = finished_now()
    t0 = time.perf_counter()
    error = out = None
    with DescendantsCpu() as cpu:
        try:
            out = execute_chapter(source, out_dir, parameters)
        except Exception as exc:  # noqa: BLE001 - handed back to the run, which raises it
            error = error_text(exc)
    seconds = time.perf_counter() - t0
    timed = ChapterTime(
        source.stem,
        round(seconds, 1),
        round(cpu.seconds, 1),
        data,
        started,
        finished_now(),
        run_id,
        jobs,
    )
    return timed, out, error


def error_text(exc: Exception) -> str:
    """One line for a chapter's failure: the cell's error as papermill reports it, with the
    cell's number, or the exception's type and first line."""
    if hasattr(exc, "ename"):  # papermill's PapermillExecutionError
        return f"{exc.ename}: {exc.evalue} (cell [{getattr(exc, 'exec_count', '?')}])"
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class ChapterError(RuntimeError):
    """A chapter failed (its executed notebook, kept, shows the cell)."""


def execute_chapters(
    sources: list[Path], root: Path, parameters: dict, data: str, jobs: int = 1
) -> list[ChapterTime]:
    """Execute ``sources``, up to ``jobs`` at once (one process each), a chapter after those its
    header names (:func:`chapter_after`); each chapter's time is recorded as it ends.

    With one job the chapters run in this process, in order, and a failure raises at once. With
    more, a failure starts no other chapter, lets those running end (their results are kept),
    and then raises :class:`ChapterError` naming every chapter that failed or did not start.
    """
    out_dir, results = root / "book", root / "book" / "results"
    run_id = finished_now()
    names = {s.stem for s in sources}
    after = {s.stem: [a for a in chapter_after(s) if a in names] for s in sources}
    timings: list[ChapterTime] = []

    def finish(timed: ChapterTime, out: Path | None, error: str | None) -> None:
        timings.append(timed)
        record_times(results, [timed])  # kept if a later chapter fails
        if error is not None:
            print(
                f"[book] {timed.chapter}: FAILED after {timed.seconds:.1f} s: {error}", flush=True
            )
        elif out is not None:
            print(
                f"[book] {timed.chapter}: {timed.seconds:.1f} s -> {out.relative_to(root)}",
                flush=True,
            )

    if jobs <= 1:
        for src in sources:
            print(f"[book] running {src.name} ...", flush=True)
            timed, out, error = execute_timed(src, out_dir, parameters, data, run_id, 1)
            finish(timed, out, error)
            if error is not None:
                raise ChapterError(f"chapter {src.stem} failed: {error}")
        return timings

    import concurrent.futures as cf
    import multiprocessing

    pending, running, failed = list(sources), {}, []
    done: set[str] = set()
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        while running or (pending and not failed):
            ready = [s for s in pending if all(a in done for a in after[s.stem])]
            for src in ready[: jobs - len(running)] if not failed else []:
                pending.remove(src)
                print(f"[book] running {src.name} ...", flush=True)
                job = pool.submit(execute_timed, src, out_dir, parameters, data, run_id, jobs)
                running[job] = src
            if not running:  # nothing runs and nothing is ready: a dependency failed
                break
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for job in finished:
                src = running.pop(job)
                timed, out, error = job.result()
                finish(timed, out, error)
                if error is None:
                    done.add(src.stem)
                else:
                    failed.append(f"{src.stem} ({error})")
    if failed or pending:
        raise ChapterError(
            "chapter(s) failed: "
            + "; ".join(failed)
            + (f"; not run: {', '.join(s.stem for s in pending)}" if pending else "")
        )
    return timings


def run(
    data_dir: str | None = None,
    only: list[str] | None = None,
    html: bool = True,
    root: Path | None = None,
    jobs: int = 1,
) -> int:
    """Execute the chapters (all, or those named in ``only``) and build the HTML book.

    ``jobs`` chapters run at once (:func:`execute_chapters`; every chapter's numbers are the
    same either way). One run at a time per chapter: before any work the run takes the lock of
    each chapter it executes (and, to build the HTML, of every chapter and of the HTML) in
    ``book/_build/.locks`` (:mod:`msa_lib.io.lock`). A second ``msa book`` that wants any of
    them is refused at once, naming the first (process id, command, start time); runs of
    different chapters (``--only`` with ``--no-html``) go on side by side. ``root``: the project
    folder (default: this one).
    """
    from msa_lib.io.lock import all_locked

    root = Path(root) if root is not None else repo_root()
    every = chapter_sources(root)
    sources = select_sources(every, only)
    locks = root / "book" / "_build" / ".locks"
    held = [(locks / f"{s.stem}.lock", f"chapter {s.stem}") for s in (every if html else sources)]
    if html:
        held.append((locks / "html.lock", "the HTML book"))
    params = {"data_dir": data_dir} if data_dir else {}
    if data_dir:
        os.environ["MSA_DATA_DIR"] = str(Path(data_dir).resolve())
    data = "real" if os.environ.get("MSA_DATA_DIR") else "synthetic"
    with all_locked(held):  # or a LockError naming the run that holds one
        t0 = time.perf_counter()
        timings = execute_chapters(sources, root, params, data, jobs)
        wall = time.perf_counter() - t0
        if html:
            path = build_html(root)
            print(f"[book] HTML in {path}", flush=True)
    print(timing_table(timings, wall, jobs), flush=True)
    return 0
