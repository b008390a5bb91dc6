"""What every chapter does first: the book's style, the data folder, and the chapter's "Data:" line.

Also what more than one chapter shows the same way: a folder as the book prints it (never a
machine's absolute path: ``$MSA_DATA_DIR``, ``$MSA_CACHE_DIR/...`` or ``~/...``), and an
extractor's last ``make bench`` results.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from msa_lib.book.display import table_bundle
from msa_lib.data.layout import CACHE_ENV_VAR, ENV_VAR
from msa_lib.perf.costs import THROUGHPUT_CSV

NO_BENCHMARK = "No benchmark results yet: `make bench` writes them."


def setup_style() -> None:
    """The book's plotting style."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight"})


def start_chapter(data_dir: str | None):  # -> msa_lib.data.DataFolder
    """A chapter's setup: known notices silenced, the book's style, and the data folder opened."""
    import logging
    import warnings

    from msa_lib.data import open_data

    # tqdm (imported by transformers) warns once that ipywidgets is absent: no bars are shown
    warnings.filterwarnings("ignore", message="IProgress not found")
    # the data folder's findings (data source, zero-length segments) are chapter 1's to report
    logging.getLogger("msa_lib").setLevel(logging.ERROR)
    setup_style()
    return open_data(data_dir)


def _resolved(path: str | os.PathLike) -> Path:
    """``path`` with ``~`` expanded and links resolved (as far as it exists)."""
    return Path(path).expanduser().resolve()


def _home() -> Path | None:
    """The home folder, resolved, or None where the platform names none."""
    try:
        return _resolved(Path.home())
    except (RuntimeError, KeyError):  # no HOME and no password entry
        return None


def display_path(path: str | os.PathLike) -> str:
    """``path`` as the book prints it: under the folder named by ``$MSA_DATA_DIR`` or
    ``$MSA_CACHE_DIR`` as that variable (``$MSA_CACHE_DIR/synthetic``), else under the home
    folder as ``~/...`` (the default cache: ``~/.cache/msa-book/...``), else as it is."""
    p = _resolved(path)
    roots = [
        (f"${var}", _resolved(os.environ[var]))
        for var in (ENV_VAR, CACHE_ENV_VAR)
        if os.environ.get(var)
    ]
    home = _home()
    if home is not None:
        roots.append(("~", home))
    # the most specific folder wins (a data folder inside the cache is the data folder)
    for name, root in sorted(roots, key=lambda r: len(r[1].parts), reverse=True):
        if p == root or root in p.parents:
            rel = p.relative_to(root).as_posix()
            return name if rel == "." else f"{name}/{rel}"
    return str(p)


def data_note(folder, if_synthetic: str) -> str:
    """The chapter's 'Data:' line: the folder (see :func:`display_path`) and its kind, and
    ``if_synthetic`` when synthetic."""
    note = f"**Data:** `{display_path(folder.root)}` ({folder.label})."
    return f"{note} {if_synthetic}" if folder.is_synthetic else note


def benchmark_rows(results_dir: str | Path, extractor: str) -> pd.DataFrame | None:
    """Rows of ``extract_throughput.csv`` (written by ``make bench``) for one extractor, or None."""
    path = Path(results_dir) / THROUGHPUT_CSV
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    return table[table["extractor"] == extractor]


def benchmark_table(results_dir: str | Path, extractor: str) -> pd.DataFrame | None:
    """One extractor's last ``make bench`` rows as the book shows them: each value with its
    unit, without the extractor column; None when there are none."""
    bench = benchmark_rows(results_dir, extractor)
    if bench is None or bench.empty:
        return None
    value = bench["value"].astype(str) + " " + bench["unit"].astype(str)
    target = [
        f"≥ {t:g}: {'met' if str(m) == 'True' else 'not met'}" if pd.notna(t) else "–"
        for t, m in zip(bench["target"], bench["met"], strict=True)
    ]
    # the metric names wrap at spaces, and target and verdict share a column: the table fits
    # the book's column at a reader's window width (tests/book/test_html.py)
    return pd.DataFrame(
        {
            "setting": bench["setting"].astype(str),
            "workers": bench["workers"],
            "metric": bench["metric"].astype(str).str.replace("_", " "),
            "value": value,
            "target": target,
            "items": bench["n_items"],
            "note": bench["note"].fillna("").astype(str),
        }
    ).reset_index(drop=True)


def benchmark_bundle(
    results_dir: str | Path, extractor: str, label: str, source: str
) -> dict[str, str]:
    """What :func:`show_benchmark` shows: the table of one extractor's last ``make bench`` rows
    (see :func:`msa_lib.book.display.table_bundle`), or a note that there are none yet."""
    table = benchmark_table(results_dir, extractor)
    if table is None:
        return {"text/markdown": NO_BENCHMARK, "text/plain": NO_BENCHMARK}
    text = (
        f"The {extractor} extractor in the last `make bench` run: each metric against its target."
    )
    return table_bundle(table, label, text, source, digits=2)


def show_benchmark(results_dir: str | Path, extractor: str, label: str, source: str) -> None:
    """Show one extractor's last ``make bench`` results as table ``label``, or say there are none."""
    from IPython.display import display

    display(benchmark_bundle(results_dir, extractor, label, source), raw=True)
