"""Figures more than one chapter draws: learning curves, predicted against true sentiment."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def plot_learning_curves(
    histories: pd.DataFrame, subsets: Iterable[str], title: str | None = None
) -> plt.Figure:
    """Training loss, validation loss and validation r per epoch, every seed; stars: kept epoch.

    ``title`` is a short title over the panels; the caption belongs to ``show_figure``."""
    h = histories[histories["subset"].isin(list(subsets))]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, col in zip(axes, ("train_loss", "valid_loss", "valid_r")):
        sns.lineplot(
            data=h, x="epoch", y=col, hue="subset", units="seed", estimator=None, lw=0.8, ax=ax
        )
        best = h[h["best"]]
        ax.scatter(best["epoch"], best[col], marker="*", s=60, color="k", zorder=3)
        ax.set_title(col.replace("_", " "))
        if col != "valid_r":
            ax.get_legend().remove()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_pred_vs_true(predictions: pd.DataFrame, title: str | None = None) -> plt.Figure:
    """Predicted against true sentiment, one panel per model (rows: label, pred, model).

    ``title`` is a short title over the panels; the caption belongs to ``show_figure``."""
    g = sns.FacetGrid(predictions, col="model", height=3.6)
    g.map_dataframe(sns.scatterplot, x="label", y="pred", s=10, alpha=0.5)
    for ax in g.axes.flat:
        ax.plot([-3, 3], [-3, 3], ls="--", c="grey", lw=1)
        ax.set_xlim(-3.2, 3.2)
        ax.set_xlabel("true sentiment")
        ax.set_ylabel("predicted")
    if title:
        g.figure.suptitle(title, fontsize=10, y=1.04)
    return g.figure
