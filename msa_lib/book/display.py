"""Figure and table helpers for the book: consistent style, source-labelled captions, saving.

Chapters show a table with ``show_table`` and a figure with ``show_figure``. Both emit one output
with two renderings: HTML for JupyterLab, and MyST (a ``{table}`` directive, or a ``{glue:figure}``
of the glued figure) that Jupyter Book renders with a caption and a number. The ``label`` given is
the MyST name, so the prose refers to it with ``{numref}`` and never types a number.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from msa_lib.book.format import caption, format_table

LABEL = re.compile(r"^(fig|tab)-[a-z0-9][a-z0-9-]*$")


def check_label(label: str, kind: str) -> str:
    """``label`` if it is a MyST name for a ``kind`` ('fig' or 'tab'): ``fig-data-labels``."""
    if not LABEL.match(label) or not label.startswith(kind + "-"):
        raise ValueError(f"label {label!r} must look like '{kind}-some-name' (lower case, dashes)")
    return label


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


def save_table(
    df: pd.DataFrame, name: str, results_dir: str | Path, source: str | Sequence[str]
) -> Path:
    """Save ``df`` as ``<results_dir>/<name>.csv`` with a ``data_source`` column: ``source`` for
    every row, or one source per row (a table whose rows come from different data)."""
    path = Path(results_dir) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.assign(data_source=source).to_csv(path, index=False)
    return path
