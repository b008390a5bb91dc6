"""Pairs: the segments two feature sets share (one segment seen by two extractors).

:func:`pair_rows` (defined beside the estimator interface, whose ``fit`` pairs rows with it)
finds them by segment id; :func:`paired_featureset` builds the set the adapters study measures.
"""

from __future__ import annotations

import numpy as np

from msa_lib.adapters.base import pair_rows
from msa_lib.data.featureset import FeatureSet

__all__ = ["pair_rows", "paired_featureset"]


def paired_featureset(
    source: FeatureSet, target: FeatureSet, modality: str = "text", corpus: str = ""
) -> FeatureSet:
    """One FeatureSet with modalities ``source`` and ``target``: the segments both sets have, no NaN row.

    Ids, videos, labels and folds come from ``target`` (for the bc-LSTM features: their own split).
    """
    si, ti = pair_rows(source.segment_id, target.segment_id)
    xs, xt = source.features[modality][si], target.features[modality][ti]
    ok = np.isfinite(xs).all(axis=1) & np.isfinite(xt).all(axis=1)
    t = target.take(ti[ok])
    return FeatureSet(
        segment_id=t.segment_id,
        video_id=t.video_id,
        split=t.split,
        label=t.label,
        features={"source": xs[ok], "target": xt[ok]},
        corpus=corpus or t.corpus,
        source=t.source,
    )
