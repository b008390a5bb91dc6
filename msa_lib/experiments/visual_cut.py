"""The cut-segment study (chapter 3): MOSEI segments cut from their videos, a clip without a face.

MOSEI's raw media are whole videos; :func:`cut_segments` plans every MOSEI segment whose video is
in the data folder as a window of it (``start``/``end``) and adds one generated clip in which no
frame shows a face. :func:`cut_table` runs the visual extractor on them through the corpus
runner (cache, error log) and gives per segment its window, label, frames read and with a face,
the flags raised on any row, and whether the row is all-NaN.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from msa_lib.config import VisualConfig
from msa_lib.data import FeatureSet
from msa_lib.extract.base import Segment
from msa_lib.extract.generate import make_clip
from msa_lib.extract.plan import plan_table
from msa_lib.extract.run.corpus import extract_corpus

NO_FACE_ID = "generated_no_face"
FLAG_PREFIXES = ("no_", "failed", "trunc")  # flags the table shows when any row raises them


def cut_segments(folder, workdir: str | os.PathLike) -> list[Segment]:
    """The MOSEI segments of ``folder`` (a :class:`~msa_lib.data.DataFolder`) whose video is in
    its ``raw/mosei/``, then a generated clip without a face written to ``workdir``."""
    media = folder.raw_dir("mosei")
    segs = []
    if folder.has("mosei") and media.is_dir():
        segs = [s for s in plan_table(folder.segments("mosei"), media) if s.media]
    blank = make_clip(Path(workdir) / "no_face.mp4", text="nobody here", face=False, seconds=1.0)
    return [*segs, Segment(NO_FACE_ID, NO_FACE_ID, str(blank.path))]


def cut_table(
    segments: Sequence[Segment],
    out_dir: str | os.PathLike,
    cfg: VisualConfig = VisualConfig(protocol="sampled"),
    source: str = "real",
) -> pd.DataFrame:
    """Visual features of ``segments`` through :func:`extract_corpus` (written to ``out_dir``,
    replacing what an earlier run left there): per segment its id, ``start``, ``end``, label,
    frames read and with a face, every flag of ``FLAG_PREFIXES`` that any row raises, and
    ``nan_row`` (no visual values at all)."""
    rep = extract_corpus(
        segments,
        out_dir,
        ["visual"],
        {"visual": cfg},
        progress=False,
        corpus="mosei+generated",
        source=source,
        overwrite=True,  # this run's segments, whatever an earlier run (other data) left there
    )
    fs = FeatureSet.load(rep.extractors["visual"]["file"])
    tab = fs.to_frame()
    ids = tab["segment_id"]
    tab = tab.assign(
        start=ids.map({s.segment_id: s.start for s in segments}).astype(float),
        end=ids.map({s.segment_id: s.end for s in segments}).astype(float),
        nan_row=fs.missing("visual"),
    )
    raised = [f for f in fs.flags if f.startswith(FLAG_PREFIXES) and tab[f].any()]
    columns = ["segment_id", "start", "end", "label", "n_frames", "n_face_frames"]
    return tab[[*columns, *raised, "nan_row"]]
