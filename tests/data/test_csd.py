import numpy as np
import pandas as pd
import pytest

from msa_lib.data.csd import CsdError, average_segments, finite_mean, open_csd, write_csd


def segments(rows):
    return pd.DataFrame(rows, columns=["segment_id", "video_id", "start", "end"])


def test_write_then_read_through_mmsdk(tmp_path):
    feats = np.arange(12, dtype=np.float32).reshape(4, 3)
    ivals = np.array([[0, 1], [1, 2], [2, 3], [3, 4]], float)
    path = write_csd(tmp_path / "x.csd", {"vid": (feats, ivals)}, root_name="X")
    seq = open_csd(path)
    assert list(seq.keys()) == ["vid"]
    np.testing.assert_array_equal(seq["vid"]["features"][...], feats)
    assert seq.metadata["root name"] == b"X"  # h5py returns the stored string as bytes


def test_average_by_interval_and_by_key(tmp_path):
    feats = np.array([[1, 10], [3, 30], [5, 50], [7, 70]], np.float32)
    ivals = np.array([[0, 1], [1, 2], [2, 3], [3, 4]], float)
    own = np.array([[2, 2], [4, 4]], np.float32)
    path = write_csd(
        tmp_path / "x.csd",
        {"vid": (feats, ivals), "vid_9": (own, np.array([[0, 1], [1, 2.0]]))},
        root_name="X",
    )
    seg = segments([("vid_0", "vid", 0.0, 2.0), ("vid_1", "vid", 2.5, 4.0), ("vid_9", "vid", 0, 9)])
    x, rep = average_segments(path, seg)
    np.testing.assert_allclose(x, [[2, 20], [6, 60], [3, 3]])
    assert (rep.n_by_interval, rep.n_by_key, rep.n_nan_rows) == (2, 1, 0)


def test_nonfinite_values_are_left_out_per_value_and_counted(tmp_path):
    feats = np.array([[1, -np.inf], [3, 4], [np.nan, 8]], np.float32)
    path = write_csd(tmp_path / "x.csd", {"s": (feats, np.zeros((3, 2)))}, root_name="X")
    x, rep = average_segments(path, segments([("s", "v", 0, 1)]))
    np.testing.assert_allclose(x[0], [2, 6])
    assert rep.n_nonfinite_values == 2


def test_all_inf_empty_and_missing_sequences_become_counted_nan_rows(tmp_path, caplog):
    path = write_csd(
        tmp_path / "x.csd",
        {
            "inf": (np.full((3, 2), -np.inf, np.float32), np.zeros((3, 2))),
            "empty": (np.zeros((0, 2), np.float32), np.zeros((0, 2))),
            "ok": (np.ones((2, 2), np.float32), np.zeros((2, 2))),
            "half": (np.array([[1, -np.inf]], np.float32), np.zeros((1, 2))),
        },
        root_name="X",
    )
    seg = segments(
        [
            ("inf", "a", 0, 1),
            ("empty", "b", 0, 1),
            ("gone", "c", 0, 1),
            ("ok", "d", 0, 1),
            ("half", "e", 0, 1),
        ]
    )
    x, rep = average_segments(path, seg)
    assert np.isnan(x[:3]).all() and np.isfinite(x[3:]).all()
    assert (rep.n_all_nonfinite, rep.n_empty, rep.n_missing, rep.n_nan_rows) == (1, 1, 1, 3)
    assert rep.n_zero_filled == 1 and x[4].tolist() == [1, 0]
    assert rep.examples["n_missing"] == ["gone"]
    assert "3 of 5 segments have no usable frames" in caplog.text


def test_interval_outside_every_frame_is_empty(tmp_path):
    path = write_csd(
        tmp_path / "x.csd", {"v": (np.ones((2, 1), np.float32), np.array([[0, 1], [1, 2.0]]))}, "X"
    )
    x, rep = average_segments(path, segments([("v_0", "v", 5.0, 6.0)]))
    assert np.isnan(x).all() and rep.n_empty == 1


def test_bad_files_name_the_file(tmp_path):
    fake = tmp_path / "fake.csd"
    fake.write_bytes(b"this is not HDF5")
    with pytest.raises(CsdError, match="fake.csd: not a valid computational sequence"):
        open_csd(fake)
    with pytest.raises(CsdError, match="nothere.csd: .csd file not found"):
        open_csd(tmp_path / "nothere.csd")
    wrong = tmp_path / "x.h5"
    wrong.write_bytes(b"")
    with pytest.raises(CsdError, match="expected a file ending in .csd"):
        open_csd(wrong)
    with pytest.raises(CsdError, match="lacks column 'start'"):
        average_segments(fake, pd.DataFrame({"segment_id": [], "video_id": []}))


def test_finite_mean_of_nothing():
    assert finite_mean(np.zeros((0, 3)))[0] is None


def test_a_damaged_compressed_entry_names_the_file_and_key(tmp_path):
    import h5py

    feats = np.random.default_rng(0).normal(size=(400, 16)).astype(np.float32)
    path = write_csd(tmp_path / "x.csd", {"vid": (feats, np.zeros((400, 2)))}, root_name="X")
    with h5py.File(path, "r+") as f:  # store the features gzip-compressed, as HDF5 tools may
        del f["X/data/vid/features"]
        f["X/data/vid"].create_dataset("features", data=feats, compression="gzip")
    with h5py.File(path) as f:
        chunk = f["X/data/vid/features"].id.get_chunk_info(0)
    data = bytearray(path.read_bytes())
    for i in range(chunk.byte_offset + 50, chunk.byte_offset + 300):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CsdError, match="x.csd: entry 'vid' cannot be read"):
        average_segments(path, segments([("vid", "vid", 0.0, 1.0)]))
