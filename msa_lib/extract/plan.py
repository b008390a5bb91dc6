"""Planning an extraction: which segments, from which media window, with which transcript.

``plan`` takes a clip, a folder of clips or a segments table (read by
:func:`msa_lib.data.segments.read_segments`). A folder's clips are segments of their own (id = file
stem), with labels, folds and transcripts from a segments table when there is one; a table's rows
are cut from their own clip ``<segment_id>.*`` or from their video ``<video_id>.*`` by
``start``/``end``. Transcripts come from the table's ``text`` column, else from a sidecar
``<stem>.txt`` read as strict UTF-8 (or the encoding asked for), never with replacement characters.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.data.layout import (
    MEDIA_EXTS,
    default_media_for,
    default_table_for,
    find_media,
    media_files,
)
from msa_lib.data.segments import read_segments
from msa_lib.extract.base import ExtractError, Segment

log = logging.getLogger(__name__)


def read_transcript(path: Path, encoding: str = "utf-8") -> tuple[str | None, str | None]:
    """The text of a sidecar transcript and None, or None and why it cannot be read.

    UTF-8 is read strictly (a byte-order mark is fine); a file in another encoding is an error
    naming the file and the byte offset, never text with replacement characters.
    """
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return path.read_text(encoding=enc, errors="strict"), None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        hint = (
            "; if it is Latin-1 text, rerun with --transcript-encoding latin-1"
            if enc == "utf-8-sig"
            else ""
        )
        return None, f"{path}: transcript is not {encoding} text (byte {exc.start}: {bad!r}){hint}"
    except (LookupError, OSError) as exc:
        return None, f"{path}: transcript cannot be read ({exc})"


def check_unique(segments: Sequence[Segment]) -> None:
    """Raise naming every duplicate segment id and the files it comes from."""
    where: dict[str, list[str]] = defaultdict(list)
    for s in segments:
        where[s.segment_id].append(s.media or "<no media>")
    dup = {sid: files for sid, files in where.items() if len(files) > 1}
    if dup:
        shown = "; ".join(f"'{sid}' from {files}" for sid, files in list(dup.items())[:5])
        raise ExtractError(f"{len(dup)} duplicate segment id(s) in the plan: {shown}")


def match_table(clips: Sequence[Path], table: pd.DataFrame, table_path: Path, folder: Path) -> None:
    """Error when no clip is in the table, a warning with the count when only some are."""
    stems = [Path(c).stem for c in clips]
    ids = set(table["segment_id"])
    found = sum(s in ids for s in stems)
    if found == 0:
        raise ExtractError(
            f"{table_path}: none of its {len(ids)} segment ids matches the {len(stems)} clip(s) "
            f"in {folder} (e.g. table id '{table['segment_id'].iat[0]}', clip '{stems[0]}'); "
            "a clip's id is its file name without the extension"
        )
    if found < len(stems):
        log.warning(
            "%s: %d of %d clips in %s have no row (no label, fold or transcript from the table)",
            table_path,
            len(stems) - found,
            len(stems),
            folder,
        )


def plan_clips(
    clips: Sequence[Path], table: pd.DataFrame | None = None, encoding: str = "utf-8"
) -> list[Segment]:
    """One segment per whole clip, id = file stem; labels and text from ``table`` or sidecars.

    A transcript comes from the table's ``text`` column (matched by segment id), else from a
    sidecar ``<stem>.txt`` beside the clip, else there is none.
    """
    rows = table.set_index("segment_id") if table is not None else None
    out = []
    for clip in clips:
        clip = Path(clip)
        sid = clip.stem
        row = rows.loc[sid] if rows is not None and sid in rows.index else None
        text, error = None, None
        if row is not None and bool(row.get("has_text", "text" in row.index)):
            text = str(row["text"])
        elif clip.with_suffix(".txt").is_file():
            text, error = read_transcript(clip.with_suffix(".txt"), encoding)
        out.append(
            Segment(
                segment_id=sid,
                video_id=str(row["video_id"]) if row is not None else sid,
                media=str(clip),
                label=float(row["label"]) if row is not None else float("nan"),
                split=str(row["split"]) if row is not None else "unassigned",
                text=text,
                text_error=error,
            )
        )
    check_unique(out)
    return out


def plan_table(
    table: pd.DataFrame, media_dir: Path | None, table_path: str | os.PathLike = "segments table"
) -> list[Segment]:
    """One segment per table row: its own clip ``<segment_id>.*`` if present, else a window of
    ``<video_id>.*`` from ``start`` to ``end``; rows whose media is absent get ``media=None``.

    Cutting a segment out of its video needs ``start`` and ``end``: a table without them is one
    error naming the missing columns, not one failure per segment.
    """
    has_text = bool(table["has_text"].iat[0]) if "has_text" in table else "text" in table
    out = []
    for r in table.itertuples(index=False):
        r = r._asdict()
        media, start, end = None, None, None
        if media_dir is not None:
            media = find_media(media_dir, r["segment_id"])
            if media is None:
                media = find_media(media_dir, r["video_id"])
                start, end = r["start"], r["end"]
                if media is not None and not (np.isfinite(start) and np.isfinite(end)):
                    raise ExtractError(
                        f"{table_path}: missing column(s) ['start', 'end']: segment "
                        f"'{r['segment_id']}' has no clip of its own in {media_dir} and is cut "
                        f"from {media.name} by its start and end times"
                    )
        out.append(
            Segment(
                segment_id=r["segment_id"],
                video_id=r["video_id"],
                media=None if media is None else str(media),
                start=start,
                end=end,
                label=float(r["label"]),
                split=str(r["split"]),
                text=str(r["text"]) if has_text else None,
            )
        )
    return out


def plan(
    path: str | os.PathLike,
    segments: str | os.PathLike | None = None,
    media_dir: str | os.PathLike | None = None,
    transcript_encoding: str = "utf-8",
) -> tuple[list[Segment], str]:
    """Segments for a clip, a folder of clips or a segments table; also a corpus name."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such clip, folder or segments table")
    if path.is_file() and path.suffix.lower() == ".csv":
        table = read_segments(path)
        mdir = Path(media_dir) if media_dir else default_media_for(path)
        if not mdir.is_dir():
            log.warning("%s: media folder %s not found; only text can be extracted", path, mdir)
            mdir = None
        return plan_table(table, mdir, path), path.resolve().parent.name
    if path.is_dir():
        folder, clips = path, media_files(path)
        if not clips:
            raise ExtractError(f"{path}: no media files ({', '.join(MEDIA_EXTS)})")
    else:
        folder, clips = path.parent, [path]
    table_path = Path(segments) if segments else default_table_for(folder)
    table = None
    if table_path is not None:
        log.info("labels, folds and transcripts from %s", table_path)
        table = read_segments(table_path)
        match_table(clips, table, table_path, folder)
    return plan_clips(clips, table, transcript_encoding), folder.resolve().name
