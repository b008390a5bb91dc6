"""The one reader of segments tables (``segments.csv``), for the data folder and for extraction.

A segments table has one row per segment: ``segment_id`` and, as the use needs, ``video_id``,
``start``/``end`` (seconds in the source video), ``label`` (MOSEI: ``sentiment``) in [-3, 3],
``split`` and ``text`` (the transcript). Every problem is an error naming the file, and where it
is one row, the row (as a spreadsheet numbers it) and the segment id.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.data.featureset import ALLOWED_SPLITS, LABEL_MAX, LABEL_MIN
from msa_lib.data.layout import REQUIRED_COLUMNS

log = logging.getLogger(__name__)


class SegmentsTableError(ValueError):
    """A segments table cannot be used as it is."""


def fail_on_rows(
    path: str | os.PathLike,
    df: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    problem: Callable[[int], str],
    error: type[Exception] = SegmentsTableError,
) -> None:
    """Raise ``error`` naming the file, the first bad row's segment id and CSV row, and its problem."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        more = int(bad.sum()) - 1
        tail = f" (and {more} more row(s))" if more else ""
        raise error(f"{path}: segment '{df['segment_id'].iat[i]}' (row {i + 2}) {problem(i)}{tail}")


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as a string (a transcript 'NA' stays 'NA'); strict UTF-8, errors naming the file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: segments table not found")
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", encoding_errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise SegmentsTableError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r}); "
            "convert it, e.g. `iconv -f latin1 -t utf-8`"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise SegmentsTableError(f"{path}: empty file (no header, no segments)") from exc
    except Exception as exc:
        raise SegmentsTableError(f"{path}: cannot be read as CSV ({exc})") from exc


def _numbers(path: Path, df: pd.DataFrame, col: str) -> np.ndarray:
    """Column ``col`` as floats (empty cells NaN); a cell that is not a number is an error."""
    raw = df[col].astype(str).str.strip()
    num = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
    fail_on_rows(
        path, df, num.isna() & (raw != ""), lambda i: f"has {col} {raw.iat[i]!r}, not a number"
    )
    return num.to_numpy(dtype=float)


def read_segments(
    path: str | os.PathLike, required: Sequence[str] = ("segment_id",), corpus: str | None = None
) -> pd.DataFrame:
    """Read and validate a segments table.

    ``required`` columns must be present (``corpus`` adds that corpus's columns, see
    :data:`~msa_lib.data.layout.REQUIRED_COLUMNS`); a required ``label`` must be filled in every row.
    ``start`` and ``end`` come as a pair. Returns the columns ``segment_id``, ``video_id`` (default:
    the segment id), ``start``, ``end`` (NaN when absent), ``duration``, ``label`` (NaN when absent
    or empty), ``split`` (default ``unassigned``), ``text`` ('' when absent) and ``has_text``,
    plus any other columns of the file.
    """
    path = Path(path)
    df = _read_csv(path)
    need = list(dict.fromkeys([*required, *REQUIRED_COLUMNS.get(corpus or "", ())]))
    if "label" not in df.columns and "sentiment" in df.columns:
        df = df.rename(columns={"sentiment": "label"})
    need = ["label" if c == "sentiment" else c for c in need]
    has_times = {"start", "end"} & set(df.columns)
    if len(has_times) == 1:
        need += sorted({"start", "end"} - has_times)  # one without the other: name the missing one
    missing = [c for c in dict.fromkeys(need) if c not in df.columns]
    if missing:
        raise SegmentsTableError(
            f"{path}: missing column(s) {missing}; columns found: {list(df.columns)}"
        )
    if len(df) == 0:
        raise SegmentsTableError(f"{path}: no segments (a header and no rows)")
    df["segment_id"] = df["segment_id"].str.strip()
    fail_on_rows(path, df, df["segment_id"] == "", lambda i: "has an empty segment_id")
    dup = df["segment_id"][df["segment_id"].duplicated(keep=False)]
    if len(dup):
        rows = {sid: [int(i) + 2 for i in dup.index[dup == sid]] for sid in dup.unique()[:3]}
        raise SegmentsTableError(
            f"{path}: {dup.nunique()} duplicate segment id(s): "
            + "; ".join(f"'{sid}' in rows {r}" for sid, r in rows.items())
        )
    if "video_id" not in df.columns:
        df["video_id"] = df["segment_id"]
    df["video_id"] = df["video_id"].str.strip()
    fail_on_rows(path, df, df["video_id"] == "", lambda i: "has an empty video_id")

    for col in ("start", "end", "label"):
        df[col] = _numbers(path, df, col) if col in df.columns else np.full(len(df), np.nan)
    lab = df["label"]
    if "label" in need:
        fail_on_rows(path, df, lab.isna(), lambda i: "has no label")
    fail_on_rows(
        path,
        df,
        lab.notna() & ((lab < LABEL_MIN) | (lab > LABEL_MAX)),
        lambda i: f"has label {lab.iat[i]}, outside [{LABEL_MIN}, {LABEL_MAX}]",
    )
    df["label"] = lab.astype(np.float32)
    if has_times:
        start, end = df["start"], df["end"]
        fail_on_rows(
            path, df, start.isna() | end.isna(), lambda i: "has an empty start or end time"
        )
        fail_on_rows(
            path,
            df,
            end < start,
            lambda i: f"has start {start.iat[i]} and end {end.iat[i]}; need end >= start",
        )
        early = int((start < 0).sum())
        if early:
            # Real MOSEI has 239 such rows (up to half a second before 0); media windows start at 0.
            log.warning(
                "%s: %d segment(s) start before 0 s (e.g. '%s')",
                path,
                early,
                df["segment_id"][start < 0].iat[0],
            )
        zero = int((end == start).sum())
        if zero:
            # Real MOSI has such a segment; its media features will be missing, its label is fine.
            log.warning("%s: %d segment(s) have zero duration (end == start)", path, zero)
    df["duration"] = df["end"] - df["start"]

    if "split" not in df.columns:
        df["split"] = "unassigned"
    df["split"] = df["split"].str.strip().replace("", "unassigned")
    fail_on_rows(
        path,
        df,
        ~df["split"].isin(ALLOWED_SPLITS),
        lambda i: f"has split {df['split'].iat[i]!r}, expected one of {ALLOWED_SPLITS}",
    )
    df["has_text"] = "text" in df.columns
    df["text"] = df["text"].astype(str) if "text" in df.columns else ""
    return df
