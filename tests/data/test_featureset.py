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
