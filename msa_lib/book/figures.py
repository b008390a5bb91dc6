"""Figures more than one chapter draws: learning curves, predicted against true sentiment, and
a model's architecture drawn from the model object itself (:func:`plot_architecture`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch
from torch import nn


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


@dataclass(frozen=True)
class LayerCall:
    """One layer the forward pass called: its name in the model, the module, the shapes seen."""

    name: str
    module: nn.Module
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]


def layer_trace(model: nn.Module, inputs: object) -> list[LayerCall]:
    """Every layer a forward pass of ``model`` on ``inputs`` calls, in call order, with the shapes
    of its first input and its output (forward hooks; attention counts as one layer). The model
    runs in evaluation mode, without gradients, and is left as it was."""

    def shape(x: object) -> tuple[int, ...]:
        x = x[0] if isinstance(x, (tuple, list)) else x
        return tuple(x.shape) if isinstance(x, torch.Tensor) else ()

    inside_attention = {
        id(c)
        for m in model.modules()
        if isinstance(m, nn.MultiheadAttention)
        for c in m.modules()
        if c is not m
    }
    calls: list[LayerCall] = []
    hooks = []
    for name, m in model.named_modules():
        leaf = not any(True for _ in m.children())
        if id(m) in inside_attention or not (leaf or isinstance(m, nn.MultiheadAttention)):
            continue
        hooks.append(
            m.register_forward_hook(
                lambda mod, args, out, name=name: calls.append(
                    LayerCall(name, mod, shape(args), shape(out))
                )
            )
        )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return calls


def _layer_text(m: nn.Module) -> str:
    """One layer as the figure writes it."""
    if isinstance(m, nn.Linear):
        return f"Linear {m.in_features}→{m.out_features}"
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return "BatchNorm"
    if isinstance(m, nn.Dropout):
        return f"Dropout {m.p:g}"
    if isinstance(m, nn.MultiheadAttention):
        return (
            f"self-attention: {m.num_heads} heads, {m.embed_dim}-d, dropout {m.dropout:g}; "
            "Q = K = V = the tokens"
        )
    return type(m).__name__


def architecture_blocks(trace: list[LayerCall]) -> list[tuple[str, tuple[int, ...], list[str]]]:
    """The trace grouped as the figure draws it: per part of the model (``encoders.visual``,
    ``attention``, ``mlp``, ``regressor``) its input shape and its blocks, a block starting at
    each Linear layer (``Linear 713→192 · BatchNorm · ReLU · Dropout 0.7``)."""
    groups: dict[str, tuple[tuple[int, ...], list[list[str]]]] = {}
    for call in trace:
        parts = call.name.split(".")
        group = ".".join(parts[:-1]) if parts[-1].isdigit() else call.name
        shape, blocks = groups.setdefault(group, (call.in_shape, []))
        text = _layer_text(call.module)
        if not blocks or isinstance(call.module, (nn.Linear, nn.MultiheadAttention)):
            blocks.append([text])
        else:
            blocks[-1].append(text)
    return [(g, shape, [" · ".join(b) for b in blocks]) for g, (shape, blocks) in groups.items()]


def plot_architecture(model: nn.Module, inputs: object, title: str | None = None) -> plt.Figure:
    """The model as it runs, drawn from :func:`layer_trace`: each encoder a column of its blocks,
    then every later part in call order, each part headed by its name and the tensor shape it
    receives (batch first)."""
    blocks = architecture_blocks(layer_trace(model, inputs))
    encoders = [b for b in blocks if b[0].startswith("encoders.")]
    rest = [b for b in blocks if not b[0].startswith("encoders.")]
    n_enc = max(len(encoders), 1)
    depth = max((len(b[2]) for b in encoders), default=0)
    rows = depth + 1 + sum(len(b[2]) + 1 for b in rest) + 1
    fig, ax = plt.subplots(figsize=(max(9.0, 3.6 * n_enc), 0.55 * rows + 0.6))
    ax.set_xlim(0, n_enc)
    ax.set_ylim(-rows + 0.4, 0.6)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.3", "fc": "#eef3fb", "ec": "#4a6fa5"}
    end = {"boxstyle": "round,pad=0.3", "fc": "#fdf3e3", "ec": "#b07a1f"}
    kw = {"ha": "center", "va": "center"}

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate(
            "", (x1, y1 + 0.25), (x0, y0 - 0.25), arrowprops={"arrowstyle": "->", "lw": 0.8}
        )

    def shape_text(shape: tuple[int, ...]) -> str:
        return "[" + ", ".join(["batch", *map(str, shape[1:])]) + "]"

    x, y = n_enc / 2, -(depth + 1.0)  # where the parts after the encoders start
    for i, (name, shape, texts) in enumerate(encoders):
        xi = i + 0.5
        ax.text(xi, 0, f"{name.split('.')[-1]} {shape_text(shape)}", fontsize=8, bbox=end, **kw)
        for j, text in enumerate(texts, start=1):
            arrow(xi, -(j - 1), xi, -j)
            ax.text(xi, -j, text, fontsize=7.5, bbox=box, **kw)
        arrow(xi, -len(texts), x, y)
    for k, (name, shape, texts) in enumerate(rest):
        if k:
            arrow(x, y + 1, x, y)
        ax.text(x, y, f"{name} {shape_text(shape)}", fontsize=7.5, color="#555", **kw)
        for text in texts:
            arrow(x, y, x, y - 1)
            y -= 1
            ax.text(x, y, text, fontsize=7.5, bbox=box, **kw)
        y -= 1
    arrow(x, y + 1, x, y)
    ax.text(x, y, "sentiment score", fontsize=8, bbox=end, **kw)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
