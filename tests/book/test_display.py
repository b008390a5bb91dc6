"""The book's table and figure helpers: captions carry the data source, tables are rounded as the
field reports them and have no bare index, labels are MyST names the book can number."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from msa_lib.book.display import figure_bundle, save_figure, save_table, show_figure, table_bundle
from msa_lib.book.figures import plot_learning_curves, plot_pred_vs_true
from msa_lib.book.format import caption, format_table


@pytest.mark.parametrize(
    ("source", "tag"),
    [("real", "[real data]"), ("synthetic", "[SYNTHETIC data (not CMU-MOSI/MOSEI)]")],
)
def test_caption_always_names_the_data_source(source, tag):
    assert caption("Labels per fold.", source) == f"Labels per fold. {tag}"
    bundle = table_bundle(pd.DataFrame({"r": [0.5]}), "tab-x", "Scores.", source)
    assert tag in bundle["text/markdown"] and tag in bundle["text/plain"]


def test_anything_but_real_is_labelled_synthetic():
    assert "SYNTHETIC" in caption("x", "")
    assert "SYNTHETIC" in caption("x", "Real")


def test_format_table_rounds_as_the_field_reports_and_drops_the_bare_index():
    df = pd.DataFrame(
        {"model": ["ridge", "fusion"], "r": [0.71234, 0.6], "acc2": [0.81349, 0.5], "n": [686, 7]},
        index=[5, 9],
    )
    shown = format_table(df, digits={"r": 3}, percent=["acc2"])
    assert list(shown.columns) == ["model", "r", "acc2", "n"]  # index not shown
    assert shown.to_dict("records") == [
        {"model": "ridge", "r": "0.712", "acc2": "81.3%", "n": "686"},
        {"model": "fusion", "r": "0.600", "acc2": "50.0%", "n": "7"},
    ]


def test_format_table_keeps_a_named_index_as_a_column_and_marks_missing_values():
    df = pd.DataFrame({"mae": [1.23456, np.nan]}, index=pd.Index(["a", "b"], name="subset"))
    shown = format_table(df, digits=2)
    assert shown.to_dict("records") == [
        {"subset": "a", "mae": "1.23"},
        {"subset": "b", "mae": "–"},
    ]


def test_format_table_names_a_misspelt_column():
    with pytest.raises(KeyError, match=r"no column\(s\) \['acc'\]"):
        format_table(pd.DataFrame({"acc2": [0.5]}), percent=["acc"])


def test_table_bundle_is_a_numbered_myst_table_without_index():
    df = pd.DataFrame({"model": ["a|b", "c"], "r": [0.123456, -0.5]}, index=[10, 11])
    bundle = table_bundle(df, "tab-scores", "Scores on the test fold.", "real")
    md = bundle["text/markdown"]
    lines = md.splitlines()
    assert lines[0] == "```{table} Scores on the test fold. [real data]"
    assert lines[1] == ":name: tab-scores"
    assert lines[-1] == "```"
    assert "| model" in md and "0.123" in md and "-0.500" in md
    assert r"a\|b" in md  # a pipe in a cell does not split it
    assert "10" not in md and "11" not in md  # no index
    assert "|--" in md or "|:-" in md  # a pipe table under the directive
    html = bundle["text/html"]
    assert "<caption>" in html and "Scores on the test fold." in html
    assert "10" not in html.split("</caption>")[1]  # the Styler's index is hidden


@pytest.mark.parametrize("label", ["Table 1", "tab_scores", "fig-scores", "tab-", "tab-Scores"])
def test_table_labels_must_be_myst_names_for_tables(label):
    with pytest.raises(ValueError, match="must look like 'tab-some-name'"):
        table_bundle(pd.DataFrame({"r": [0.5]}), label, "x", "real")


def test_figure_bundle_glues_a_numbered_figure_with_its_caption():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    bundle = figure_bundle(fig, "fig-line", "A line.", "synthetic")
    plt.close(fig)
    md = bundle["text/markdown"]
    assert md.splitlines()[:2] == ["```{glue:figure} fig-line", ":name: fig-line"]
    assert "A line. [SYNTHETIC data (not CMU-MOSI/MOSEI)]" in md
    png = bundle["text/html"].split("base64,")[1].split('"')[0]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_figure_saves_glues_and_closes(tmp_path, monkeypatch):
    shown, glued = [], []
    monkeypatch.setattr("IPython.display.display", lambda obj, **k: shown.append(obj))
    monkeypatch.setattr("myst_nb.glue", lambda name, obj, display: glued.append((name, display)))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    show_figure(fig, "fig-data-labels", "Labels.", "real", tmp_path)
    assert (tmp_path / "data_labels.png").read_bytes()[:4] == b"\x89PNG"
    assert not plt.fignum_exists(fig.number)  # not shown a second time by the inline backend
    assert glued == [("fig-data-labels", False)]  # glued under its label, hidden where glued
    assert len(shown) == 1
    assert shown[0]["text/markdown"].startswith("```{glue:figure} fig-data-labels")


def test_save_table_writes_a_data_source_column(tmp_path):
    path = save_table(pd.DataFrame({"r": [0.1, 0.2]}), "scores", tmp_path, "synthetic")
    back = pd.read_csv(path)
    assert path == tmp_path / "scores.csv"
    assert list(back.columns) == ["r", "data_source"]
    assert (back["data_source"] == "synthetic").all()
    # rows from different data: one source per row, in place of a column the table has
    mixed = pd.DataFrame({"data_source": ["x", "y"], "r": [0.1, 0.2]})
    back = pd.read_csv(save_table(mixed, "mixed", tmp_path, ["synthetic", "real"]))
    assert list(back.columns) == ["data_source", "r"]
    assert back["data_source"].tolist() == ["synthetic", "real"]


def test_save_figure_writes_a_png(tmp_path):
    fig, _ = plt.subplots()
    path = save_figure(fig, "empty", tmp_path / "sub")
    plt.close(fig)
    assert path == tmp_path / "sub" / "empty.png"
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_training_plots_carry_a_short_title_and_no_caption():
    histories = pd.DataFrame(
        {
            "subset": ["T"] * 4,
            "seed": [0, 0, 1, 1],
            "epoch": [1, 2, 1, 2],
            "train_loss": [1.0, 0.8, 1.1, 0.9],
            "valid_loss": [1.0, 0.9, 1.0, 0.95],
            "valid_r": [0.2, 0.4, 0.1, 0.3],
            "best": [False, True, False, True],
        }
    )
    fig = plot_learning_curves(histories, ["T"], "MOSI, T")
    assert fig._suptitle.get_text() == "MOSI, T"
    assert plot_learning_curves(histories, ["T"])._suptitle is None
    preds = pd.DataFrame({"label": [-1.0, 0.5, 2.0], "pred": [-0.5, 0.2, 1.0], "model": "ridge"})
    fig = plot_pred_vs_true(preds, "T+V+A")
    assert fig._suptitle.get_text() == "T+V+A" and "data" not in fig._suptitle.get_text()
    plt.close("all")


def test_table_caption_with_code_keeps_the_directive_whole():
    md = table_bundle(pd.DataFrame({"r": [0.5]}), "tab-x", "Saved in `results/x.csv`.", "real")[
        "text/markdown"
    ]
    lines = md.splitlines()
    assert lines[0] == "~~~{table} Saved in `results/x.csv`. [real data]"  # not a ``` fence
    assert lines[-1] == "~~~" and lines[1] == ":name: tab-x"
