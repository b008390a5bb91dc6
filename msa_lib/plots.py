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


def plot_learning_curves(histories: pd.DataFrame, subsets, title: str, source: str) -> plt.Figure:
    """Training loss, validation loss and validation r per epoch, every seed; stars: kept epoch."""
    h = histories[histories["subset"].isin(subsets)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, col in zip(axes, ("train_loss", "valid_loss", "valid_r")):
        sns.lineplot(
            data=h, x="epoch", y=col, hue="subset", units="seed", estimator=None, lw=0.8, ax=ax
        )
        best = h[h["best"]]
        ax.scatter(best["epoch"], best[col], marker="*", s=60, color="k", zorder=3)
        ax.set_title(col.replace("_", " "))
        if col != "valid_r":
            ax.get_legend().remove()
    fig.suptitle(caption(title, source), fontsize=10)
    fig.tight_layout()
    return fig


def plot_pred_vs_true(predictions: pd.DataFrame, title: str, source: str) -> plt.Figure:
    """Predicted against true sentiment, one panel per model (rows: label, pred, model)."""
    g = sns.FacetGrid(predictions, col="model", height=3.6)
    g.map_dataframe(sns.scatterplot, x="label", y="pred", s=10, alpha=0.5)
    for ax in g.axes.flat:
        ax.plot([-3, 3], [-3, 3], ls="--", c="grey", lw=1)
        ax.set_xlim(-3.2, 3.2)
        ax.set_xlabel("true sentiment")
        ax.set_ylabel("predicted")
    g.figure.suptitle(caption(title, source), fontsize=10, y=1.04)
    return g.figure


def benchmark_rows(results_dir: str | Path, extractor: str) -> pd.DataFrame | None:
    """Rows of ``extract_throughput.csv`` (written by ``make bench``) for one extractor, or None."""
    path = Path(results_dir) / "extract_throughput.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    return table[table["extractor"] == extractor]
