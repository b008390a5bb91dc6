"""Rows two feature sets share."""

from __future__ import annotations

import numpy as np
import pytest

from msa_lib.adapters.base import AdapterError
from msa_lib.adapters.pairs import pair_rows, paired_featureset
from msa_lib.data.featureset import FeatureSet


def test_pair_rows_finds_shared_ids_in_source_order():
    si, ti = pair_rows(["a", "b", "c"], ["c", "x", "a"])
    assert si.tolist() == [0, 2] and ti.tolist() == [2, 0]
    with pytest.raises(AdapterError, match="no segment id is in both sets"):
        pair_rows(["a"], ["b"])
    with pytest.raises(AdapterError, match="the target segment ids are not unique"):
        pair_rows(["a"], ["a", "a"])


def test_paired_featureset_keeps_shared_whole_rows_with_the_target_labels():
    def fs(ids, x, label):
        return FeatureSet(
            segment_id=ids,
            video_id=[i[:1] for i in ids],
            split=["train"] * len(ids),
            label=np.array(label, np.float32),
            features={"text": np.array(x, np.float32)},
        )

    source = fs(["a1", "b1", "c1"], [[1, 1], [2, np.nan], [3, 3]], [0, 0, 0])
    target = fs(["c1", "a1", "b1", "d1"], [[30.0], [10.0], [20.0], [40.0]], [3, 1, 2, 0])
    both = paired_featureset(source, target, corpus="toy")
    assert both.segment_id.tolist() == ["a1", "c1"]  # b1 has a missing source value
    assert both.label.tolist() == [1, 3]
    np.testing.assert_array_equal(both.features["source"], [[1, 1], [3, 3]])
    np.testing.assert_array_equal(both.features["target"], [[10.0], [30.0]])
    assert both.corpus == "toy"
