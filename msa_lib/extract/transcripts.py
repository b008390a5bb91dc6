"""Text features of every transcript of a segments table, cached per segment (no media needed).

Chapters 4, 6, 7 and 8 all read the MiniLM and GloVe vectors of the MOSI transcripts; they are
encoded once into the data folder's transcript cache (:func:`msa_lib.data.layout.transcript_cache`)
and read back by every later call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from msa_lib.data.featureset import FeatureSet
from msa_lib.data.layout import transcript_cache
from msa_lib.extract.base import ExtractError
from msa_lib.extract.plan import plan_table
from msa_lib.extract.run.corpus import extract_corpus


def transcript_features(
    table: pd.DataFrame,
    out_dir: str | os.PathLike,
    extractors: Sequence[str] = ("text", "glove"),
    corpus: str = "",
    source: str = "real",
    settings: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> FeatureSet:
    """The text extractors' features of every transcript in a segments table, merged, in table order.

    Runs :func:`extract_corpus` on the table's transcripts (no media), so results are cached per
    segment under ``out_dir`` and a second call (another chapter, a rerun) encodes nothing again.
    """
    segments = plan_table(table, None)
    report = extract_corpus(
        segments, out_dir, extractors, settings, progress=progress, corpus=corpus, source=source
    )
    if report.all_failed:
        raise ExtractError(
            f"{out_dir}: every transcript failed for {report.all_failed}; see {report.errors_log}"
        )
    fs = FeatureSet.load(report.merged)
    order = {sid: i for i, sid in enumerate(fs.segment_id.tolist())}
    return fs.take([order[s.segment_id] for s in segments if s.segment_id in order])


def folder_transcript_features(
    folder, corpus: str = "mosi", extractors: Sequence[str] = ("text", "glove")
) -> FeatureSet:
    """The text features of a data folder's ``corpus`` transcripts, from the shared cache.

    ``folder`` is a :class:`~msa_lib.data.folder.DataFolder`; the cache is
    :func:`~msa_lib.data.layout.transcript_cache` of its source, so every chapter reads the
    vectors the first one encoded.
    """
    return transcript_features(
        folder.segments(corpus),
        transcript_cache(folder.source, corpus),
        extractors,
        corpus=corpus,
        source=folder.source,
    )
