import h5py
import numpy as np
import pytest

from msa_lib.data.featureset import FeatureSet, FeatureSetError, ModalityMeta


def make_fs(n: int = 6, **overrides) -> FeatureSet:
    rng = np.random.default_rng(0)
    kwargs = dict(
        segment_id=[f"v{i // 2}_{i}" for i in range(n)],
        video_id=[f"v{i // 2}" for i in range(n)],
        split=(["train", "valid", "test"] * n)[:n],
        label=np.linspace(-3, 3, n),
        features={"audio": rng.normal(size=(n, 4)), "text": rng.normal(size=(n, 3))},
        meta={"audio": ModalityMeta("librosa", "0.11", {"n_fft": 2048}, ["a", "b", "c", "d"])},
        corpus="test",
        source="synthetic",
        flags={"no_face": np.zeros(n, bool)},
    )
    kwargs.update(overrides)
    return FeatureSet(**kwargs)


def test_roundtrip_keeps_everything(tmp_path):
    fs = make_fs()
    fs.features["text"][2] = np.nan  # a missing modality row is allowed
    path = fs.save(tmp_path / "f.h5")
    back = FeatureSet.load(path)
    assert back.segment_id.tolist() == fs.segment_id.tolist()
    assert back.split.tolist() == fs.split.tolist()
    np.testing.assert_array_equal(back.label, fs.label)
    np.testing.assert_array_equal(back.features["audio"], fs.features["audio"])
    assert back.missing("text").tolist() == [False, False, True, False, False, False]
    assert back.meta["audio"].params == {"n_fft": 2048}
    assert back.meta["audio"].feature_names == ["a", "b", "c", "d"]
    assert back.meta["text"].extractor == "unknown"
    assert back.flags["no_face"].dtype == bool
    assert (back.corpus, back.source) == ("test", "synthetic")
    assert [p.name for p in tmp_path.iterdir()] == ["f.h5"]  # no temp file left behind


def test_failed_save_leaves_old_file_intact(tmp_path):
    path = make_fs().save(tmp_path / "f.h5")
    bad = make_fs(label=np.array([0, 0, 7, 0, 0, 0.0]))
    with pytest.raises(FeatureSetError, match="label 7"):
        bad.save(path)
    assert FeatureSet.load(path).label[2] != 7
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"label": np.array([0, 0, 7.0, 0, 0, 0])}, r"'v1_2' has label 7.0, outside \[-3.0, 3.0\]"),
        ({"label": np.array([0, 0, -np.inf, 0, 0, 0])}, "outside"),
        ({"segment_id": ["a", "b", "a", "c", "d", "e"]}, r"duplicate segment ids, e.g. \['a'\]"),
        ({"split": ["train"] * 5 + ["dev"]}, "split 'dev'"),
        ({"video_id": ["v"] * 5}, "'video_id' has 5 entries"),
        ({"features": {"audio": np.ones((5, 2))}}, r"'audio' has shape \(5, 2\)"),
    ],
)
def test_validate_names_the_problem(overrides, message):
    with pytest.raises(FeatureSetError, match=message):
        make_fs(**overrides).validate()


def test_nan_label_means_unlabelled():
    fs = make_fs(label=np.array([np.nan, 0, 1, 2, 3, -3.0])).validate()
    assert np.isnan(fs.label[0])


def test_partial_nonfinite_row_is_rejected():
    x = np.zeros((6, 3), np.float32)
    x[4, 1] = -np.inf
    with pytest.raises(
        FeatureSetError, match=r"'v2_4' has a non-finite value \(-inf\) in column 1"
    ):
        make_fs(features={"audio": x}).validate("f.h5")


def test_load_errors_name_the_file(tmp_path):
    not_h5 = tmp_path / "broken.h5"
    not_h5.write_text("not hdf5")
    with pytest.raises(FeatureSetError, match="broken.h5: not a readable HDF5"):
        FeatureSet.load(not_h5)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1]
    with pytest.raises(FeatureSetError, match="other.h5: HDF5 file is not an msa FeatureSet"):
        FeatureSet.load(other)
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        FeatureSet.load(tmp_path / "nope.h5")


def test_selection_helpers():
    fs = make_fs()
    assert len(fs.select("train")) == 2
    assert len(fs.select(["train", "valid"])) == 4
    assert fs.matrix(["audio", "text"]).shape == (6, 7)
    assert fs.with_modalities(["text"]).dims == {"text": 3}
    assert fs.split_counts() == {"test": 2, "train": 2, "valid": 2}
    with pytest.raises(FeatureSetError, match=r"modality \['visual'\] not present"):
        fs.with_modalities(["visual"])


# ----------------------------------------------------------------- merge
def single(modality: str, ids, labels=None, split=None, dim: int = 2, **kw) -> FeatureSet:
    n = len(ids)
    return FeatureSet(
        segment_id=ids,
        video_id=[i.split("_")[0] for i in ids],
        split=split or ["train"] * n,
        label=np.linspace(-1, 1, n) if labels is None else labels,
        features={modality: np.arange(n * dim, dtype=float).reshape(n, dim) + 1},
        corpus="toy",
        source="real",
        **kw,
    )


def test_merge_outer_keeps_every_segment_with_missing_rows(caplog):
    a = single("audio", ["v_0", "v_1", "v_2"], labels=[1.0, 2.0, 3.0])
    t = single("text", ["v_1", "v_2", "w_0"], labels=[2.0, 3.0, -1.0], dim=3)
    merged = FeatureSet.merge(a, t)
    assert merged.segment_id.tolist() == ["v_0", "v_1", "v_2", "w_0"]
    assert merged.modalities == ["audio", "text"]
    assert merged.missing("text").tolist() == [True, False, False, False]
    assert merged.missing("audio").tolist() == [False, False, False, True]
    np.testing.assert_array_equal(merged.features["text"][1:], t.features["text"])
    np.testing.assert_array_equal(merged.label, [1, 2, 3, -1])
    assert "1 segment(s) only in set 1" in caplog.text and "'v_0'" in caplog.text
    report = FeatureSet.merge_report(a, t)
    assert report["n_common"] == 2
    assert list(report["only_in"].values()) == [["v_0"], ["w_0"]]


def test_merge_inner_keeps_shared_segments():
    a = single("audio", ["v_0", "v_1", "v_2"])
    t = single("text", ["v_2", "v_1"], labels=[1.0, 0.0])
    merged = FeatureSet.merge(a, t, how="inner")
    assert merged.segment_id.tolist() == ["v_1", "v_2"]
    assert not merged.missing("text").any()


def test_merge_fills_unknown_labels_and_splits_from_the_other_set():
    a = single("audio", ["v_0", "v_1"], labels=[np.nan, np.nan], split=["unassigned"] * 2)
    t = single("text", ["v_0", "v_1"], labels=[0.5, -0.5], split=["train", "test"])
    merged = FeatureSet.merge(a, t)
    np.testing.assert_array_equal(merged.label, [0.5, -0.5])
    assert merged.split.tolist() == ["train", "test"]


def test_merge_renames_clashing_flags_and_keeps_unique_ones():
    a = single("audio", ["v_0"], labels=[0.0], flags={"failed": [True], "n_frames": [3]})
    t = single("text", ["v_0"], labels=[0.0], flags={"failed": [False]})
    merged = FeatureSet.merge(a, t)
    assert sorted(merged.flags) == ["audio.failed", "n_frames", "text.failed"]
    assert merged.flags["audio.failed"].tolist() == [True]


@pytest.mark.parametrize(
    "second, message",
    [
        (single("audio", ["v_0"], labels=[0.0]), "modality 'audio' is in both set 1"),
        (single("text", ["v_0"], labels=[2.0]), r"segment 'v_0' has label 0.0 in set 1 .* but 2.0"),
        (
            single("text", ["v_0"], labels=[0.0], split=["test"]),
            "segment 'v_0' has split 'train' in set 1",
        ),
    ],
)
def test_merge_refuses_conflicts(second, message):
    first = single("audio", ["v_0"], labels=[0.0])
    with pytest.raises(FeatureSetError, match=message):
        FeatureSet.merge(first, second)


def test_merge_refuses_a_different_video_for_one_segment():
    a = single("audio", ["v_0"], labels=[0.0])
    t = FeatureSet(["v_0"], ["elsewhere"], ["train"], [0.0], {"text": np.ones((1, 2))})
    with pytest.raises(FeatureSetError, match="video_id 'v' in set 1 .* but 'elsewhere'"):
        FeatureSet.merge(a, t)


def test_merge_result_saves_and_loads(tmp_path):
    merged = FeatureSet.merge(
        single("audio", ["v_0", "v_1"]), single("text", ["v_1"], labels=[1.0])
    )
    back = FeatureSet.load(merged.save(tmp_path / "features.h5"))
    assert back.modalities == ["audio", "text"] and back.missing("text").tolist() == [True, False]


def test_a_corrupt_compressed_dataset_names_the_file_and_dataset(tmp_path):
    n = 200
    fs = make_fs(n, features={"audio": np.random.default_rng(0).normal(size=(n, 64))}, meta={})
    path = fs.save(tmp_path / "f.h5")
    with h5py.File(path) as f:
        chunk = f["features/audio"].id.get_chunk_info(0)
    data = bytearray(path.read_bytes())
    for i in range(chunk.byte_offset + 100, chunk.byte_offset + 400):
        data[i] ^= 0xFF  # flip bytes inside the gzip-compressed chunk
    bad = tmp_path / "bad.h5"
    bad.write_bytes(bytes(data))
    with pytest.raises(FeatureSetError, match=r"bad.h5: dataset 'features/audio' cannot be read"):
        FeatureSet.load(bad)


def test_take_an_empty_list_selects_no_row():
    fs = make_fs()
    assert len(fs.take([])) == 0 and fs.take([]).modalities == fs.modalities


def test_rename_modalities():
    fs = make_fs()
    out = fs.rename_modalities({"text": "glove"})
    assert out.modalities == ["audio", "glove"]
    np.testing.assert_array_equal(out.features["glove"], fs.features["text"])
    with pytest.raises(FeatureSetError, match="duplicate modality names"):
        fs.rename_modalities({"text": "audio"})
    with pytest.raises(FeatureSetError, match=r"cannot rename \['visual'\]"):
        fs.rename_modalities({"visual": "v"})
