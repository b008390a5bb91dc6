"""Figure and table helpers for the book: consistent style, source-labelled captions, saving.

Chapters show a table with ``show_table`` and a figure with ``show_figure``. Both emit one output
with two renderings: HTML for JupyterLab, and MyST (a ``{table}`` directive, or a ``{glue:figure}``
of the glued figure) that Jupyter Book renders with a caption and a number. The ``label`` given is
the MyST name, so the prose refers to it with ``{numref}`` and never types a number.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

LABEL = re.compile(r"^(fig|tab)-[a-z0-9][a-z0-9-]*$")
MISSING = "–"


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


def source_tag(source: str) -> str:
    """'real data' or 'SYNTHETIC data (not CMU-MOSI/MOSEI)', for captions and titles."""
    return "real data" if source == "real" else "SYNTHETIC data (not CMU-MOSI/MOSEI)"


def caption(text: str, source: str) -> str:
    """A caption that always says what data it was computed on."""
    return f"{text} [{source_tag(source)}]"


def check_label(label: str, kind: str) -> str:
    """``label`` if it is a MyST name for a ``kind`` ('fig' or 'tab'): ``fig-data-labels``."""
    if not LABEL.match(label) or not label.startswith(kind + "-"):
        raise ValueError(f"label {label!r} must look like '{kind}-some-name' (lower case, dashes)")
    return label


def format_value(value: object, digits: int, percent: bool = False) -> str:
    """One cell as the field reports it: a share as a percentage (1 decimal), floats rounded."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if percent:
        return f"{float(value):.1%}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_table(
    df: pd.DataFrame,
    digits: int | Mapping[str, int] = 3,
    percent: Iterable[str] = (),
) -> pd.DataFrame:
    """``df`` as strings without a bare index: floats rounded (per column if ``digits`` is a
    mapping), ``percent`` columns (shares in [0, 1]) as percentages with one decimal, NaN a dash;
    a named index becomes the first column(s), an unnamed one is dropped."""
    if any(name is not None for name in df.index.names):
        df = df.reset_index()  # a named index is data: it becomes the first column(s)
    percent = set(percent)
    unknown = sorted((percent | set(digits if isinstance(digits, Mapping) else ())) - set(df))
    if unknown:
        raise KeyError(f"format_table: no column(s) {unknown}; columns: {list(df.columns)}")
    out = {}
    for col in df.columns:
        d = digits.get(col, 3) if isinstance(digits, Mapping) else digits
        out[str(col)] = [format_value(v, d, col in percent) for v in df[col].tolist()]
    return pd.DataFrame(out)


def table_markdown(shown: pd.DataFrame, label: str, text: str) -> str:
    """A MyST ``{table}`` directive with a pipe table of ``shown`` (strings), numbered by the book."""
    esc = shown.apply(lambda c: c.str.replace("|", r"\|", regex=False))
    esc.columns = [str(c).replace("|", r"\|").replace("_", " ") for c in shown.columns]
    numeric = [bool(shown[c].str.match(r"^[-+]?[0-9.,]+%?$|^–$").all()) for c in shown.columns]
    body = esc.to_markdown(
        index=False,
        colalign=["right" if n else "left" for n in numeric],
        disable_numparse=True,  # keep the digits format_table chose
    )
    # a backtick fence may not carry a backtick in its argument (CommonMark): code in the caption
    # needs a tilde fence, or the directive falls apart into text
    fence = "~~~" if "`" in text else "```"
    return f"{fence}{{table}} {text}\n:name: {label}\n\n{body}\n{fence}\n"


def table_bundle(
    df: pd.DataFrame,
    label: str,
    text: str,
    source: str,
    digits: int | Mapping[str, int] = 3,
    percent: Iterable[str] = (),
) -> dict[str, str]:
    """The output of ``show_table``: MyST for the book, HTML for JupyterLab, plain text."""
    check_label(label, "tab")
    shown = format_table(df, digits, percent)
    cap = " ".join(caption(text, source).split())  # one line: a directive argument
    styler = shown.style.hide(axis="index").set_caption(html.escape(cap))
    return {
        "text/markdown": table_markdown(shown, label, cap),
        "text/html": styler.to_html(),
        "text/plain": f"{cap}\n{shown.to_string(index=False)}",
    }


def show_table(
    df: pd.DataFrame,
    label: str,
    text: str,
    source: str,
    digits: int | Mapping[str, int] = 3,
    percent: Iterable[str] = (),
) -> None:
    """Display ``df`` as a numbered, captioned table without an index (see ``format_table``).

    ``text`` is the caption; the data source is always appended. Refer to it in the prose as
    ``{numref}`label```. In JupyterLab the same output shows as an HTML table."""
    from IPython.display import display

    display(table_bundle(df, label, text, source, digits, percent), raw=True)


def show_figure(
    fig: plt.Figure,
    label: str,
    text: str,
    source: str,
    results_dir: str | Path | None = None,
) -> None:
    """Display ``fig`` as a numbered figure with a caption that carries the data source.

    The figure is glued (``myst_nb.glue``) under ``label`` and shown by a ``{glue:figure}``
    directive named ``label``; JupyterLab shows the same image with its caption. The PNG is
    saved as ``<results_dir>/<name>.png`` (``fig-data-labels`` -> ``data_labels.png``) when
    ``results_dir`` is given. The figure is closed, so the inline backend does not show it twice."""
    from IPython.display import display
    from myst_nb import glue

    check_label(label, "fig")
    if results_dir is not None:
        save_figure(fig, label.removeprefix("fig-").replace("-", "_"), results_dir)
    glue(label, fig, display=False)
    bundle = figure_bundle(fig, label, text, source)
    plt.close(fig)
    display(bundle, raw=True)


def figure_bundle(fig: plt.Figure, label: str, text: str, source: str) -> dict[str, str]:
    """The output of ``show_figure``: a ``{glue:figure}`` for the book, the image for JupyterLab."""
    check_label(label, "fig")
    cap = " ".join(caption(text, source).split())  # one line: a directive argument
    png = _png_base64(fig)
    return {
        "text/markdown": f"```{{glue:figure}} {label}\n:name: {label}\n\n{cap}\n```\n",
        "text/html": (
            f'<figure><img src="data:image/png;base64,{png}" style="max-width:100%"/>'
            f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        ),
        "text/plain": cap,
    }


def _png_base64(fig: plt.Figure) -> str:
    """The figure as a base64 PNG string."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


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


def benchmark_rows(results_dir: str | Path, extractor: str) -> pd.DataFrame | None:
    """Rows of ``extract_throughput.csv`` (written by ``make bench``) for one extractor, or None."""
    path = Path(results_dir) / "extract_throughput.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    return table[table["extractor"] == extractor]
