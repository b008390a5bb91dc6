"""The book's chapter list and sources stay in sync (as nbdev checks notebooks against the library)."""

from pathlib import Path

import jupytext
import pytest

from msa_lib.book.build import chapter_sources, toc_chapters
from msa_lib.io.paths import repo_root

ROOT = repo_root()


def test_every_chapter_is_in_the_toc_and_exists():
    sources = chapter_sources(ROOT)
    assert sources and sources[0].stem == "01_data"
    assert [s.stem for s in sources] == sorted(s.stem for s in sources)
    assert set(toc_chapters(ROOT / "book" / "_toc.yml")) == {s.stem for s in sources}


@pytest.mark.parametrize(
    "source", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem
)
def test_chapter_has_a_title_and_papermill_parameters(source: Path):
    nb = jupytext.read(source)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert "data_dir = None" in params[0].source
    assert 'results_dir = "../book/results"' in params[0].source


def test_an_unlisted_chapter_is_an_error(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: 01_a\n"
    )
    for name in ("01_a", "02_b"):
        (tmp_path / "notebooks" / f"{name}.py").write_text("# %% [markdown]\n# # x\n")
    with pytest.raises(ValueError, match=r"notebooks \['02_b'\] exist but are not listed"):
        chapter_sources(tmp_path)


def test_jupyterlab_opens_chapter_sources_as_notebooks():
    """`make install` writes the settings override JupyterLab reads from this environment."""
    import sys

    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not running in the project's .venv (where `make install` writes the override)")
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import _get_overrides

    settings_dir = Path(get_app_dir()) / "settings"
    assert (settings_dir / "overrides.json").is_file(), f"{settings_dir}: run `make install`"
    overrides, error = _get_overrides(str(settings_dir))
    assert not error, error
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"
    labext = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"
    assert any("Jupytext Notebook" in p.read_text(errors="ignore") for p in labext.rglob("*.js")), (
        "the jupytext lab extension no longer provides a 'Jupytext Notebook' viewer"
    )


def test_html_build_leaves_out_chapters_not_executed(tmp_path):
    from msa_lib.book.build import built_toc

    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\noptions:\n  numbered: true\n"
        "chapters:\n  - file: 01_a\n  - file: 02_b\n  - file: 03_c\n"
    )
    (tmp_path / "book" / "02_b.ipynb").write_text("{}")
    toc, missing = built_toc(tmp_path)
    assert missing == ["01_a", "03_c"]
    assert toc_chapters(toc) == ["02_b"]
    assert "numbered: true" in toc.read_text()
    for name in ("01_a", "03_c"):
        (tmp_path / "book" / f"{name}.ipynb").write_text("{}")
    assert built_toc(tmp_path) == (tmp_path / "book" / "_toc.yml", [])


def test_mathjax_is_served_from_the_build(tmp_path):
    import yaml

    from msa_lib.book.build import vendor_mathjax

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert "://" not in config["mathjax_path"]
    assert "sphinx_thebe" not in config["extensions"]  # it puts a CDN address on every page
    assert config["nb_ipywidgets_js"] == {}
    dest = vendor_mathjax(tmp_path)
    assert dest.parent.name in config["html_static_path"]
    assert (dest / config["mathjax_path"].removeprefix("mathjax/")).is_file()
    assert any((dest / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    stamp = (dest / ".version").stat().st_mtime_ns
    vendor_mathjax(tmp_path)  # up to date: not copied again
    assert (dest / ".version").stat().st_mtime_ns == stamp


def test_papermill_injected_parameters_are_hidden_like_the_parameters_cell(tmp_path):
    import nbformat

    from msa_lib.book.build import hide_injected_parameters

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("data_dir = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('data_dir = "/d"', metadata={"tags": ["injected-parameters"]}),
    ]
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, path)
    hide_injected_parameters(path)
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].metadata["tags"] == ["parameters"]
    assert cells[1].metadata["tags"] == ["injected-parameters", "hide-input"]
