"""What every chapter does first: the book's style, the data folder, and the chapter's "Data:" line."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


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


def data_note(folder, if_synthetic: str) -> str:
    """The chapter's 'Data:' line: the folder and its kind, and ``if_synthetic`` when synthetic."""
    note = f"**Data:** `{folder.root}` ({folder.label})."
    return f"{note} {if_synthetic}" if folder.is_synthetic else note


def benchmark_rows(results_dir: str | Path, extractor: str) -> pd.DataFrame | None:
    """Rows of ``extract_throughput.csv`` (written by ``make bench``) for one extractor, or None."""
    path = Path(results_dir) / "extract_throughput.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    return table[table["extractor"] == extractor]
