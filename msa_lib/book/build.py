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

from msa_lib.book.findings import write_findings
from msa_lib.book.timing import (
    ChapterTime,
    finished_now,
    machine_busy_seconds,
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


def execute_chapter(source: Path, out_dir: Path, parameters: dict) -> tuple[Path, float]:
    """Convert a jupytext source and execute it with papermill; returns (notebook, seconds)."""
    import jupytext
    import nbformat
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / f".{source.stem}.input.ipynb"
    nbformat.write(jupytext.read(source), raw)
    out = out_dir / f"{source.stem}.ipynb"
    t0 = time.perf_counter()
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
    return out, time.perf_counter() - t0


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


def run(
    data_dir: str | None = None,
    only: list[str] | None = None,
    html: bool = True,
    root: Path | None = None,
) -> int:
    """Execute the chapters (all, or those named in ``only``) and build the HTML book.

    One run at a time per chapter: before any work the run takes the lock of each chapter it
    executes (and, to build the HTML, of every chapter and of the HTML) in ``book/_build/.locks``
    (:mod:`msa_lib.io.lock`). A second ``msa book`` that wants any of them is refused at once,
    naming the first (process id, command, start time); runs of different chapters (``--only``
    with ``--no-html``) go on side by side. ``root``: the project folder (default: this one).
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
    timings: list[ChapterTime] = []
    with all_locked(held):  # or a LockError naming the run that holds one
        for src in sources:
            print(f"[book] running {src.name} ...", flush=True)
            busy = machine_busy_seconds()
            out, seconds = execute_chapter(src, root / "book", params)
            cpu = machine_busy_seconds() - busy
            timings.append(
                ChapterTime(src.stem, round(seconds, 1), round(cpu, 1), data, finished_now())
            )
            record_times(root / "book" / "results", timings[-1:])  # kept if a later one fails
            print(f"[book] {src.stem}: {seconds:.1f} s -> {out.relative_to(root)}", flush=True)
        if html:
            path = build_html(root)
            print(f"[book] HTML in {path}", flush=True)
    if timings:
        print(timing_table(timings), flush=True)
    return 0
