"""Speed ratios of the benchmarks: one CSV of ours-against-baseline rows, merged by measure.

Every benchmark (``benchmarks/extract.py``, ``benchmarks/train.py``) measures ours and a baseline
side by side, in the same run, and writes one row per measure to
``book/results/speed_ratios.csv``: ``measure, ours, baseline, baseline_name, ratio, target, met,
spread`` (``ratio`` is ours / baseline; ``target`` reads ``>= x`` or ``<= x`` and ``met`` says
whether the ratio meets it; ``spread``, where a measure was repeated, is the range of its
repeats' ratios, and ``ratio`` their median). A benchmark replaces its own rows and keeps the
others' (:func:`upsert_ratios`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.io.atomic import atomic_path

RATIO_COLUMNS = (
    "measure",
    "ours",
    "baseline",
    "baseline_name",
    "ratio",
    "target",
    "met",
    "spread",
)
OPTIONAL_COLUMNS = ("spread",)  # absent from files written before it existed: read as ""


def ratio_row(
    measure: str,
    ours: float,
    baseline: float,
    baseline_name: str,
    target: float,
    higher_is_better: bool = True,
    repeats: Sequence[float] | None = None,
) -> dict[str, object]:
    """One row: ``ratio = ours / baseline`` against ``target`` (``>=`` or ``<=`` it).

    ``repeats``: the ratios of repeated measurements; the row's ratio is then their median (and
    ``ours``, ``baseline`` are what the caller passes, e.g. the medians of each side), and
    ``spread`` their range."""
    if repeats is not None and len(repeats):
        ratio = float(np.median(repeats))
        spread = f"{min(repeats):.2f}-{max(repeats):.2f} ({len(repeats)} repeats)"
    else:
        ratio = float(ours) / float(baseline) if baseline else float("nan")
        spread = ""
    met = ratio >= target if higher_is_better else ratio <= target
    return {
        "measure": measure,
        "ours": round(float(ours), 4),
        "baseline": round(float(baseline), 4),
        "baseline_name": baseline_name,
        "ratio": round(ratio, 3),
        "target": f"{'>=' if higher_is_better else '<='} {target:g}",
        "met": bool(met),
        "spread": spread,
    }


def budget_row(measure: str, ours: float, baseline: float, name: str, limit: float) -> dict:
    """One row of seconds against a budget (no ratio): met when ``ours <= limit``; ``baseline``
    is a figure to read it against (``name`` says what)."""
    return {
        "measure": measure,
        "ours": round(float(ours), 3),
        "baseline": round(float(baseline), 3),
        "baseline_name": name,
        "ratio": float("nan"),
        "target": f"<= {limit:g} s",
        "met": bool(ours <= limit),
        "spread": "",
    }


def read_ratios(path: str | os.PathLike) -> pd.DataFrame:
    """The ratios CSV, or an empty frame with its columns; a file without them is an error."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=list(RATIO_COLUMNS))
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable ratios CSV ({exc})") from exc
    missing = [c for c in RATIO_COLUMNS if c not in df.columns and c not in OPTIONAL_COLUMNS]
    if missing:
        raise ValueError(f"{path}: ratios CSV lacks the columns {missing} (has {list(df.columns)})")
    return with_optional(df)


def with_optional(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every optional column as text, "" where absent or empty."""
    for c in OPTIONAL_COLUMNS:
        values = df[c] if c in df.columns else [""] * len(df)
        df[c] = pd.Series(["" if pd.isna(v) else str(v) for v in values], index=df.index, dtype=str)
    return df


def upsert_ratios(rows: Iterable[Mapping[str, object]], path: str | os.PathLike) -> pd.DataFrame:
    """Replace the rows of ``path`` whose ``measure`` is in ``rows`` (in place), add new ones.

    Rows of other measures (another benchmark's) are kept as they are; the file is written
    atomically. Returns the merged table.
    """
    new = pd.DataFrame(list(rows))
    if new.empty:
        return read_ratios(path)
    new = with_optional(new)
    missing = [c for c in RATIO_COLUMNS if c not in new.columns]
    if missing:
        raise ValueError(f"ratio rows lack the columns {missing}: {list(new.columns)}")
    if new["measure"].duplicated().any():
        raise ValueError(
            f"ratio rows repeat a measure: {new['measure'][new['measure'].duplicated()].tolist()}"
        )
    new = new[list(RATIO_COLUMNS)]
    old = read_ratios(path)
    by_measure = new.set_index("measure")
    kept = []
    for _, row in old.iterrows():  # the old order, each replaced row where it was
        m = row["measure"]
        kept.append(
            by_measure.loc[m].to_dict() | {"measure": m} if m in by_measure.index else row.to_dict()
        )
    seen = set(old["measure"])
    kept += [r for r in new.to_dict("records") if r["measure"] not in seen]
    merged = with_optional(pd.DataFrame(kept, columns=list(RATIO_COLUMNS)))
    with atomic_path(path, suffix=".csv") as tmp:
        merged.to_csv(tmp, index=False)
    return merged
