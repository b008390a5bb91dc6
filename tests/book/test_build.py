"""The book's chapter list and sources stay in sync (as nbdev checks notebooks against the library)."""

from pathlib import Path

import jupytext
import pandas as pd
import pytest

from msa_lib.book.build import built_toc, chapter_sources, select_sources, toc_chapters
from msa_lib.io.paths import repo_root

ROOT = repo_root()
NESTED_TOC = """format: jb-book
root: intro
options:
  numbered: true
chapters:
  - file: 07_a
  - file: 08_b
    sections:
      - file: 08_1_x
      - file: 08_2_y
  - file: 09_c
"""


def reading_order(stem: str) -> tuple[str, int]:
    """``08_2_losses`` -> ("08", 2); a chapter's opening page (``08_beyond``) comes first (0)."""
    chapter, rest = stem[:2], stem[3:]
    section = rest.split("_")[0]
    return chapter, int(section) if section.isdigit() else 0


def test_every_chapter_is_in_the_toc_and_exists():
    sources = chapter_sources(ROOT)
    assert sources and sources[0].stem == "01_data"
    assert [s.stem for s in sources] == sorted((s.stem for s in sources), key=reading_order)
    pages = {
        p for p in toc_chapters(ROOT / "book" / "_toc.yml") if (ROOT / "book" / f"{p}.md").is_file()
    }
    assert pages == {"build_times"}  # the one page without a notebook
    assert set(toc_chapters(ROOT / "book" / "_toc.yml")) == {s.stem for s in sources} | pages


def test_chapter_8_is_an_opening_page_and_four_sections():
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    (ch8,) = [c for c in toc["chapters"] if c["file"] == "08_beyond"]
    sections = [s["file"] for s in ch8["sections"]]
    assert sections == ["08_1_text", "08_2_losses", "08_3_temporal", "08_4_predict"]
    stems = [s.stem for s in chapter_sources(ROOT)]
    assert stems[stems.index("08_beyond") : stems.index("08_beyond") + 5] == [
        "08_beyond",
        *sections,
    ]
    # each section runs alone: its own parameters, then the chapter setup
    for name in sections:
        nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), name
        for param in ("data_dir", "results_dir", "seeds", "n_jobs", "cache_dir"):
            assert f"\n{param} = " in f"\n{code[0].source}", (name, param)
        assert "folder = start_chapter(data_dir)" in code[1].source, name


def nested_book(tmp_path: Path, executed: list[str]) -> Path:
    """A book folder with :data:`NESTED_TOC`, a source per file and ``executed`` notebooks."""
    (tmp_path / "book").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text(NESTED_TOC)
    for name in ("07_a", "08_b", "08_1_x", "08_2_y", "09_c"):
        (tmp_path / "notebooks" / f"{name}.py").write_text("# %% [markdown]\n# # x\n")
    for name in executed:
        (tmp_path / "book" / f"{name}.ipynb").write_text("{}")
    return tmp_path


def test_sections_are_read_in_order_and_run_alone(tmp_path):
    root = nested_book(tmp_path, [])
    order = ["07_a", "08_b", "08_1_x", "08_2_y", "09_c"]
    assert toc_chapters(root / "book" / "_toc.yml") == order
    sources = chapter_sources(root)
    assert [s.stem for s in sources] == order
    # `msa book --only 08_2_y`: that section alone; several keep the toc's order
    assert [s.stem for s in select_sources(sources, ["08_2_y"])] == ["08_2_y"]
    assert [s.stem for s in select_sources(sources, ["09_c", "08_1_x"])] == ["08_1_x", "09_c"]
    assert select_sources(sources, None) == sources
    with pytest.raises(ValueError, match=r"unknown chapter\(s\) \['08_3_z'\]"):
        select_sources(sources, ["08_3_z"])
    # a section's source missing from the toc is an error like a chapter's
    (root / "notebooks" / "08_3_z.py").write_text("# %% [markdown]\n# # x\n")
    with pytest.raises(ValueError, match=r"notebooks \['08_3_z'\] exist but are not listed"):
        chapter_sources(root)


def test_one_section_is_executed_alone(tmp_path, capsys):
    """`msa book --only 08_2_y --no-html`: that section's notebook, no other."""
    from msa_lib.book.build import run

    root = nested_book(tmp_path, [])
    (root / "notebooks" / "08_2_y.py").write_text(
        '# %% [markdown]\n# # Y\n\n# %% tags=["parameters"]\ndata_dir = None\n\n# %%\nx = 6 * 7\n'
    )
    assert run(only=["08_2_y"], html=False, root=root) == 0
    assert sorted(p.name for p in (root / "book").glob("*.ipynb")) == ["08_2_y.ipynb"]
    assert "[book] 1 chapters executed" in capsys.readouterr().out
    times = pd.read_csv(root / "book" / "results" / "book_timing.csv")
    assert times["chapter"].tolist() == ["08_2_y"] and times["seconds"].iloc[0] > 0
    assert times["cpu_seconds"].iloc[0] >= 0 and times["data"].iloc[0] in {"real", "synthetic"}


def test_html_build_leaves_out_sections_not_executed(tmp_path):
    import yaml

    root = nested_book(tmp_path, ["07_a", "08_b", "08_2_y", "09_c"])
    toc, missing = built_toc(root)
    assert missing == ["08_1_x"]
    chapters = yaml.safe_load(toc.read_text())["chapters"]
    assert chapters[1] == {"file": "08_b", "sections": [{"file": "08_2_y"}]}
    # no section executed: the chapter stays, without an empty `sections:`
    (root / "book" / "08_2_y.ipynb").unlink()
    toc, missing = built_toc(root)
    assert missing == ["08_1_x", "08_2_y"]
    assert yaml.safe_load(toc.read_text())["chapters"][1] == {"file": "08_b"}
    # the opening page not executed: its executed sections take its place, in order
    (root / "book" / "08_b.ipynb").unlink()
    for name in ("08_1_x", "08_2_y"):
        (root / "book" / f"{name}.ipynb").write_text("{}")
    toc, missing = built_toc(root)
    assert missing == ["08_b"]
    assert toc_chapters(toc) == ["07_a", "08_1_x", "08_2_y", "09_c"]


def test_a_markdown_page_of_the_toc_is_kept_without_a_notebook(tmp_path):
    root = nested_book(tmp_path, ["07_a", "08_b", "08_1_x", "08_2_y", "09_c"])
    toc_file = root / "book" / "_toc.yml"
    toc_file.write_text(toc_file.read_text() + "  - file: build_times\n")
    assert built_toc(root)[1] == ["build_times"]
    (root / "book" / "build_times.md").write_text("# Build times\n")
    toc, missing = built_toc(root)
    assert missing == [] and toc_chapters(toc)[-1] == "build_times"


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


BOOK_RUN = """
import sys
from pathlib import Path
from msa_lib.book.build import run
from msa_lib.io.lock import LockError
try:
    sys.exit(run(only=sys.argv[2:] or None, html=False, root=Path(sys.argv[1])))
except LockError as exc:  # as `msa book` says it: one line, exit status 2
    print(f"msa book: error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def tiny_book(root: Path, seconds: float) -> Path:
    """A project of two chapters: 01_slow sleeps ``seconds``, 02_quick does nothing."""
    (root / "book").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "_config.yml").write_text("title: tiny\n")
    (root / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: 01_slow\n  - file: 02_quick\n"
    )
    params = '# %% tags=["parameters"]\ndata_dir = None\n'
    (root / "notebooks" / "01_slow.py").write_text(
        f"# %% [markdown]\n# # Slow\n\n{params}\n# %%\nimport time\ntime.sleep({seconds})\n"
    )
    (root / "notebooks" / "02_quick.py").write_text(
        f"# %% [markdown]\n# # Quick\n\n{params}\n# %%\nx = 1\n"
    )
    return root


def test_the_book_started_twice_refuses_the_second_naming_the_first(tmp_path):
    import subprocess
    import sys
    import time

    root = tiny_book(tmp_path / "project", seconds=8)
    lock = root / "book" / "_build" / ".locks" / "01_slow.lock"

    def start(*only: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", BOOK_RUN, str(root), *only],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start("01_slow")
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (
            lock.is_file() and str(first.pid) in lock.read_text()
        ):
            assert first.poll() is None, first.communicate()
            time.sleep(0.1)
        for second in (start("01_slow"), start()):  # the same chapter; every chapter
            out, err = second.communicate(timeout=60)
            assert second.returncode == 2, (out, err)
            line = err.strip().splitlines()[-1]
            assert line.startswith("msa book: error: chapter 01_slow is in use by another run: ")
            assert f"pid {first.pid} (" in line and "01_slow" in line[line.index("pid") :]
            assert "[book] running" not in out
        assert first.poll() is None  # refused at once, while the first still runs
        other = start("02_quick")  # another chapter goes on beside it
        out, err = other.communicate(timeout=120)
        assert other.returncode == 0, err
        assert "02_quick" in out and (root / "book" / "02_quick.ipynb").is_file()
    finally:
        out, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    assert (root / "book" / "01_slow.ipynb").is_file() and lock.read_text() == ""


def chapter_source(body: str, after: list[str] | None = None) -> str:
    """A tiny chapter: its header (with ``msa: after:``), a parameters cell and ``body``."""
    header = ""
    if after is not None:
        header = f"# ---\n# jupyter:\n#   msa:\n#     after: {after}\n# ---\n\n"
    return f'{header}# %% [markdown]\n# # X\n\n# %% tags=["parameters"]\ndata_dir = None\n\n# %%\n{body}\n'


def test_a_chapter_names_the_chapters_it_reads(tmp_path):
    from msa_lib.book.build import chapter_after

    src = tmp_path / "08_4_p.py"
    src.write_text(chapter_source("x = 1", ["08_1_x"]))
    assert chapter_after(src) == ["08_1_x"]
    src.write_text(chapter_source("x = 1"))
    assert chapter_after(src) == []
    src.write_text(
        chapter_source("x = 1").replace(
            "# %% [markdown]",
            "# ---\n# jupyter:\n#   msa:\n#     after: 08_1_x\n# ---\n\n# %% [markdown]",
            1,
        )
    )
    with pytest.raises(ValueError, match="08_4_p.py: 'msa: after:' must be a list"):
        chapter_after(src)
    # the book's one such chapter: prediction loads the text section's model
    assert chapter_after(ROOT / "notebooks" / "08_4_predict.py") == ["08_1_text"]


def test_chapters_run_side_by_side_each_after_the_ones_it_reads(tmp_path, capsys):
    from msa_lib.book.build import run

    root = nested_book(tmp_path, [])
    stamp = "import time, pathlib; pathlib.Path('../book/{0}.done').write_text(str(time.time()))"
    for name in ("07_a", "08_1_x"):
        (root / "notebooks" / f"{name}.py").write_text(chapter_source(stamp.format(name)))
    # 08_2_y reads 08_1_x's result: it fails unless 08_1_x ran first
    reads = "assert pathlib.Path('../book/08_1_x.done').is_file()\n" + stamp.format("08_2_y")
    (root / "notebooks" / "08_2_y.py").write_text(
        chapter_source("import pathlib\n" + reads, ["08_1_x"])
    )
    # in toc order 08_2_y is ready second, but it waits: 07_a and 08_1_x start together
    assert run(only=["07_a", "08_1_x", "08_2_y"], html=False, root=root, jobs=2) == 0
    out = capsys.readouterr().out
    assert "[book] 3 chapters executed in" in out and "up to 2 at a time" in out
    times = pd.read_csv(root / "book" / "results" / "book_timing.csv").set_index("chapter")
    assert sorted(times.index) == ["07_a", "08_1_x", "08_2_y"]
    assert (times["jobs"] == 2).all() and times["run"].nunique() == 1
    assert times.loc["08_2_y", "started"] >= times.loc["08_1_x", "finished"]
    # two ran at once somewhere: some chapter started before another had finished
    spans = sorted(zip(times["started"], times["finished"], strict=True))
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


def test_a_failed_chapter_starts_nothing_that_reads_it_and_is_named(tmp_path):
    from msa_lib.book.build import ChapterError, run

    root = nested_book(tmp_path, [])
    (root / "notebooks" / "08_1_x.py").write_text(chapter_source("raise ValueError('no model')"))
    (root / "notebooks" / "08_2_y.py").write_text(chapter_source("x = 2", ["08_1_x"]))
    with pytest.raises(
        ChapterError, match=r"08_1_x \(ValueError: no model \(cell \[2\]\)\); not run: 08_2_y$"
    ):
        run(only=["08_1_x", "08_2_y"], html=False, root=root, jobs=2)
    assert (root / "book" / "08_1_x.ipynb").is_file()  # kept, showing the failed cell
    assert not (root / "book" / "08_2_y.ipynb").exists()
    with pytest.raises(ChapterError, match=r"chapter 08_1_x failed: ValueError: no model"):
        run(only=["08_1_x"], html=False, root=root)  # one at a time: raised at once
