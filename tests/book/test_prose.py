"""No result typed by hand: every number in a chapter's prose is computed, or is allowed as such.

The markdown cells of ``notebooks/*.py`` may state a number only when it is:

- part of a heading, a cross-reference (``{numref}``, "chapter 5", "Table 1", "Figure 1", "§3.2"),
  code (in backticks) or math (``$...$``);
- a year (a citation's);
- a constant of the method held by :mod:`msa_lib.config` (a setting's default, a protocol's value,
  or a paper constant in :mod:`msa_lib.config.paper`), also as a percentage or in thousands
  (22050 Hz is "22.05 kHz");
- a published figure held by :mod:`msa_lib.experiments.reference`.

Every other sentence about results comes from code (an f-string into Markdown, a study's verdict),
so it changes when its numbers do and is never shown when the computation behind it did not run.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from msa_lib.io.paths import repo_root

NOTEBOOKS = sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.py"))
NUMBER = re.compile(r"(?<![\w.\-/])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w])")
# a count of the data or of runs ("5 seeds", "686 segments") is a result of the run, never a
# setting's value: it may be typed only as a published figure
COUNT = re.compile(r"^\s*(seeds?|runs?|segments?|clips?|videos?|transcripts?|words|speakers?)\b")
CROSS_REF = re.compile(
    r"\b(chapters?|tables?|figures?|sections?|steps?|parts?|transfer|part)\s+\(?$", re.IGNORECASE
)


def markdown_cells(path: Path) -> Iterator[tuple[int, str]]:
    """(index, source) of every markdown cell of a jupytext percent file."""
    import jupytext

    for i, cell in enumerate(jupytext.read(path).cells):
        if cell.cell_type == "markdown":
            yield i, cell.source


def prose(text: str) -> str:
    """The text whose numbers must be accounted for: headings, code, math, references removed."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(re.sub(r"^\s*(\d+\.|[-*])\s+", " ", line) for line in lines)  # list marks
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\{\w+\}`[^`]*`", " ", text)  # {numref}`...`, {cite}`...`
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"§\s*\d+(\.\d+)*", " ", text)
    text = re.sub(r"\(\d\)", " ", text)  # "(1)", "(2)": enumerations in a sentence
    return text


def numbers_in(value: object) -> Iterator[float]:
    """Every number inside a config value, a table or a nested structure."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            yield float(value)
    elif isinstance(value, str):
        return
    elif isinstance(value, pd.DataFrame):
        for col in value.columns:
            yield from numbers_in(value[col].tolist())
    elif isinstance(value, dict):
        for v in value.values():
            yield from numbers_in(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield from numbers_in(dataclasses.asdict(value))
    elif isinstance(value, Iterable):
        for v in value:
            yield from numbers_in(v)


def config_numbers() -> set[float]:
    """The values of every setting's default and every constant in :mod:`msa_lib.config`."""
    import msa_lib.config as config

    out: set[float] = set()
    for info in pkgutil.iter_modules(config.__path__):
        module = importlib.import_module(f"msa_lib.config.{info.name}")
        for name, obj in vars(module).items():
            if (
                name.startswith("_")
                or getattr(obj, "__module__", module.__name__) != module.__name__
            ):
                continue
            if dataclasses.is_dataclass(obj) and isinstance(obj, type):
                out.update(numbers_in(obj()))
                for attr in ("PROTOCOLS", "CHOICES"):
                    out.update(numbers_in(getattr(obj, attr, {})))
            elif not callable(obj) and not isinstance(obj, type):
                out.update(numbers_in(obj))
    return out


def published_numbers() -> set[float]:
    """Every number of the published tables and constants in :mod:`msa_lib.experiments.reference`."""
    from msa_lib.experiments import reference

    out: set[float] = set()
    for name, obj in vars(reference).items():
        if name.startswith("_") or isinstance(obj, type):
            continue
        if callable(obj) and getattr(obj, "__module__", "") == reference.__name__:
            try:
                out.update(numbers_in(obj()))
            except TypeError:  # needs arguments: not a table
                continue
        elif not callable(obj):
            out.update(numbers_in(obj))
    return out


def widen(values: set[float]) -> set[float]:
    """Values as they are written: also as percentages and in thousands."""
    out = set()
    for v in values:
        out.update({round(v, 10), round(v * 100, 10), round(v / 1000, 10), round(abs(v), 10)})
    return out


def allowed_values() -> dict[str, set[float]]:
    """Numbers prose may state: any held constant, and the published ones alone for counts."""
    published = widen(published_numbers())
    return {"any": widen(config_numbers()) | published, "counts": published}


def parse(token: str) -> float:
    """A number as written ("16,331", "2.9%", "1e-3") as a float (percent stays in percent)."""
    return float(token.rstrip("%").replace(",", ""))


def unaccounted(text: str, allowed: dict[str, set[float]]) -> list[str]:
    """The numbers of ``text`` that are neither allowed values, years nor cross-references."""
    bad = []
    for m in NUMBER.finditer(text):
        token = m.group()
        before = text[max(0, m.start() - 30) : m.start()]
        if CROSS_REF.search(before):
            continue
        value = parse(token)
        if token.isdigit() and 1900 <= value <= 2099:
            continue  # a year
        pool = allowed["counts"] if COUNT.match(text[m.end() :]) else allowed["any"]
        if round(value, 10) in pool or round(abs(value), 10) in pool:
            continue
        bad.append(f"{token!r} in '...{text[max(0, m.start() - 50) : m.end() + 30]}...'")
    return bad


@pytest.fixture(scope="module")
def allowed() -> dict[str, set[float]]:
    return allowed_values()


def test_the_scan_finds_a_typed_result_and_lets_references_and_constants_pass(allowed):
    assert unaccounted(prose("The model reached r = 0.8123 on test."), allowed)
    assert unaccounted(prose("- 5 seeds took 412 s."), allowed)
    ok = (
        "# Chapter 3\nAs chapter 5 and {numref}`tab-x` show, the paper (Roswendi, 2025, §3.6.1) "
        "uses batch 32 and `lr 8e-4`, and reports a validation r of 0.6526 (Table 1)."
    )
    assert unaccounted(prose(ok), allowed) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_number_in_a_chapters_prose_is_computed_or_a_held_constant(path, allowed):
    found = [
        f"cell {i}: {b}"
        for i, src in markdown_cells(path)
        for b in unaccounted(prose(src), allowed)
    ]
    assert not found, f"{path.name}: numbers typed into the prose:\n" + "\n".join(found)
