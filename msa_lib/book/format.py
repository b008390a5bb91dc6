"""How the book writes values: numbers, shares, intervals, missing values and the data source."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

MISSING = "–"
PUBLISHED = "published"  # the data source of a table typed from a printed source


def published(source: str) -> str:
    """The data source of a table of published numbers: ``published: <where from>``."""
    if not source.strip():
        raise ValueError("published: say where the numbers were printed")
    return f"{PUBLISHED}: {source}"


def source_tag(source: str) -> str:
    """'real data', 'published: <where from>' (see :func:`published`) or 'SYNTHETIC data (not
    CMU-MOSI/MOSEI)', for captions and titles: a table is never tagged as measured here unless
    it was."""
    if source == "real":
        return "real data"
    if source.startswith(f"{PUBLISHED}: ") and source[len(PUBLISHED) + 2 :].strip():
        return source
    return "SYNTHETIC data (not CMU-MOSI/MOSEI)"


def source_word(source: str) -> str:
    """``real`` or ``SYNTHETIC``: a data source in one word, for a table cell or a parenthesis."""
    return "SYNTHETIC" if str(source) == "synthetic" else "real"


def caption(text: str, source: str) -> str:
    """A caption that always says what data it was computed on."""
    return f"{text} [{source_tag(source)}]"


def ci_text(
    value: float, lo: float, hi: float, digits: int = 3, sign: bool = False, percent: bool = False
) -> str:
    """A value with its interval as the book writes it: ``0.775 [0.744, 0.803]``.

    ``sign`` writes a leading + on differences; ``percent`` writes shares as percentages with one
    decimal. A missing interval gives the value alone; a missing value gives the book's dash.
    """

    def one(x: float) -> str:
        if percent:
            return f"{x:+.1%}" if sign else f"{x:.1%}"
        return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"

    if value is None or not math.isfinite(float(value)):
        return MISSING
    if lo is None or hi is None or not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        return one(value)
    return f"{one(value)} [{one(lo)}, {one(hi)}]"


def ci_column(
    frame: pd.DataFrame, metric: str, digits: int = 3, sign: bool = False, percent: bool = False
) -> list[str]:
    """:func:`ci_text` of every row's ``<metric>``, ``<metric>_lo`` and ``<metric>_hi`` columns
    (the value alone where the frame has no interval columns)."""
    lo = frame[f"{metric}_lo"] if f"{metric}_lo" in frame else [None] * len(frame)
    hi = frame[f"{metric}_hi"] if f"{metric}_hi" in frame else [None] * len(frame)
    return [ci_text(v, a, b, digits, sign, percent) for v, a, b in zip(frame[metric], lo, hi)]


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


def chapter_link(doc: str, built: Callable[[str], bool]) -> str:
    """A link to a chapter of this build (its page name), or its name where it is not built."""
    return f"{{doc}}`{doc}`" if built(doc) else f"`{doc}` (not in this build)"
