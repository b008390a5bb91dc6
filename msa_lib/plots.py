"""Figure and table helpers for the book: consistent style, source-labelled captions, saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def setup_style() -> None:
    """The book's plotting style."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight"})


def source_tag(source: str) -> str:
    """'real data' or 'SYNTHETIC data (not CMU-MOSI/MOSEI)', for captions and titles."""
    return "real data" if source == "real" else "SYNTHETIC data (not CMU-MOSI/MOSEI)"


def caption(text: str, source: str) -> str:
    """A caption that always says what data it was computed on."""
    return f"{text} [{source_tag(source)}]"


def save_figure(fig: plt.Figure, name: str, results_dir: str | Path) -> Path:
    """Save ``fig`` as ``<results_dir>/<name>.png`` and return the path."""
    path = Path(results_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def save_table(df: pd.DataFrame, name: str, results_dir: str | Path, source: str) -> Path:
    """Save ``df`` as ``<results_dir>/<name>.csv`` with a ``data_source`` column."""
    path = Path(results_dir) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.assign(data_source=source).to_csv(path, index=False)
    return path
