"""Property-based tests (hypothesis) of the readers and of FeatureSet.merge.

Random shapes, -inf and NaN values, empty and ragged sequences and duplicate ids: a reader either
returns data that keeps the contract or raises one error naming the problem; it never returns
silently wrong numbers.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from msa_lib.data.csd import average_segments, write_csd
from msa_lib.data.featureset import FeatureSet, FeatureSetError

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
values = st.one_of(
    st.floats(-1e3, 1e3, width=32),
    st.sampled_from([np.nan, -np.inf, np.inf]),
)


@st.composite
def sequences(draw):
    """A .csd file's entries: ragged frame counts (0 included), one width, any non-finite values."""
    dim = draw(st.integers(1, 4))
    n = draw(st.integers(1, 5))
    entries = {}
    for i in range(n):
        t = draw(st.integers(0, 5))
        feats = draw(arrays(np.float32, (t, dim), elements=values))
        entries[f"s{i}"] = feats
    return entries


@SETTINGS
@given(entries=sequences(), extra=st.integers(0, 2))
def test_csd_average_keeps_the_contract(tmp_path, entries, extra):
    path = write_csd(
        tmp_path / "x.csd",
        {k: (f, np.zeros((len(f), 2))) for k, f in entries.items()},
        root_name="X",
    )
    ids = [*entries, *(f"absent{i}" for i in range(extra))]  # segments with no entry at all
    seg = pd.DataFrame({"segment_id": ids, "video_id": ids, "start": 0.0, "end": 1.0})
    x, report = average_segments(path, seg)
    assert x.shape == (len(ids), next(iter(entries.values())).shape[1])
    finite_rows = np.isfinite(x).all(axis=1)
    nan_rows = np.isnan(x).all(axis=1)
    assert (finite_rows | nan_rows).all()  # never a partly non-finite row
    for i, sid in enumerate(ids):
        f = entries.get(sid)
        if f is None or not np.isfinite(f).any():
            assert nan_rows[i]
            continue
        ok = np.isfinite(f)
        want = np.where(ok.any(0), np.where(ok, f, 0).sum(0) / np.maximum(ok.sum(0), 1), 0.0)
        np.testing.assert_allclose(x[i], want, rtol=1e-5, atol=1e-3)
    assert report.n_nan_rows == int(nan_rows.sum())
    assert report.n_missing == extra


@st.composite
def featuresets(draw, modalities=("audio", "text"), ids=None):
    """A valid FeatureSet: unique ids, labels in [-3, 3] or NaN, whole-row NaN missing modalities."""
    if ids is None:
        ids = draw(
            st.lists(st.text("abc_01", min_size=1, max_size=4), min_size=1, max_size=8, unique=True)
        )
    n = len(ids)
    feats = {}
    for m in modalities:
        dim = draw(st.integers(1, 3))
        x = draw(arrays(np.float32, (n, dim), elements=st.floats(-1e3, 1e3, width=32)))
        missing = draw(arrays(bool, n))
        x[missing] = np.nan
        feats[m] = x
    labels = draw(
        arrays(np.float32, n, elements=st.one_of(st.floats(-3, 3, width=32), st.just(np.nan)))
    )
    return FeatureSet(
        segment_id=ids,
        video_id=[i[:2] for i in ids],
        split=draw(st.lists(st.sampled_from(["train", "valid", "test"]), min_size=n, max_size=n)),
        label=labels,
        features=feats,
        corpus="prop",
        source="synthetic",
    )


@SETTINGS
@given(fs=featuresets())
def test_featureset_roundtrip(tmp_path, fs):
    back = FeatureSet.load(fs.save(tmp_path / "f.h5"))
    assert back.segment_id.tolist() == fs.segment_id.tolist()
    np.testing.assert_array_equal(back.label, fs.label)
    for m in fs.modalities:
        np.testing.assert_array_equal(back.features[m], fs.features[m])


@SETTINGS
@given(
    fs=featuresets(),
    bad=st.sampled_from([np.inf, -np.inf, np.nan]),
    data=st.data(),
)
def test_a_partly_nonfinite_row_is_refused_on_save(tmp_path, fs, bad, data):
    x = fs.features["audio"]
    if x.shape[1] < 2:
        x = fs.features["audio"] = np.zeros((len(fs), 2), np.float32)
    i = data.draw(st.integers(0, len(fs) - 1))
    x[i] = 0.0
    x[i, 0] = bad
    with pytest.raises(FeatureSetError, match=f"segment '{fs.segment_id[i]}' has a non-finite"):
        fs.save(tmp_path / "f.h5")
    assert not (tmp_path / "f.h5").exists()


@SETTINGS
@given(fs=featuresets(), data=st.data())
def test_duplicate_ids_are_refused(tmp_path, fs, data):
    if len(fs) < 2:
        return
    j = data.draw(st.integers(1, len(fs) - 1))
    fs.segment_id[j] = fs.segment_id[0]
    with pytest.raises(FeatureSetError, match="duplicate segment ids"):
        fs.validate()


@SETTINGS
@given(base=featuresets(modalities=("audio", "visual", "text")), data=st.data())
def test_merge_of_parts_rebuilds_the_whole(base, data):
    n = len(base)
    # each modality in its own set, over a random subset of the rows, in a random order
    parts, present = [], {}
    for m in base.modalities:
        rows = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
        rows = np.asarray(rows, dtype=int)
        parts.append(base.with_modalities([m]).take(rows))
        present[m] = set(base.segment_id[rows].tolist())
    if not any(len(p) for p in parts):
        return
    parts = [p for p in parts if len(p)]
    outer = FeatureSet.merge(*parts)
    index = {sid: i for i, sid in enumerate(base.segment_id.tolist())}
    rows = np.asarray([index[s] for s in outer.segment_id.tolist()])
    assert set(outer.segment_id.tolist()) == set().union(
        *(set(p.segment_id.tolist()) for p in parts)
    )
    np.testing.assert_array_equal(outer.label, base.label[rows])
    for p in parts:
        (m,) = p.modalities
        have = np.isin(outer.segment_id, list(present[m]))
        np.testing.assert_array_equal(outer.features[m][have], base.features[m][rows[have]])
        assert np.isnan(outer.features[m][~have]).all()
    inner = FeatureSet.merge(*parts, how="inner")
    common = set.intersection(*(set(p.segment_id.tolist()) for p in parts))
    assert set(inner.segment_id.tolist()) == common


@SETTINGS
@given(fs=featuresets(modalities=("audio",)), data=st.data())
def test_merge_with_a_relabelled_copy_is_refused(fs, data):
    labelled = np.flatnonzero(~np.isnan(fs.label))
    if not len(labelled):
        return
    i = int(data.draw(st.sampled_from(labelled.tolist())))
    other = fs.with_modalities([]).take(np.arange(len(fs)))
    other.features = {"text": np.zeros((len(fs), 1), np.float32)}
    other.label = fs.label.copy()
    other.label[i] = fs.label[i] + 0.5 if fs.label[i] < 2.5 else fs.label[i] - 0.5
    with pytest.raises(FeatureSetError, match=f"segment '{fs.segment_id[i]}' has label"):
        FeatureSet.merge(fs, other)
