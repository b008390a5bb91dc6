import json

import numpy as np
import pandas as pd
import pytest

from msa_lib.data.folder import DataFolder, DataFolderError
from msa_lib.data.sources import open_data

MOSI_ROWS = {
    "segment_id": ["a_1", "a_2", "b_1"],
    "video_id": ["a", "a", "b"],
    "start": [0.0, 2.0, 1.0],
    "end": [1.5, 3.0, 4.0],
    "label": [1.0, -2.2, 0.0],
    "split": ["train", "valid", "test"],
    "text": ["GOOD", "BAD", "OK"],
}


def folder_with(tmp_path, **changes):
    rows = {**MOSI_ROWS, **changes}
    (tmp_path / "mosi").mkdir()
    pd.DataFrame({k: v for k, v in rows.items() if v is not None}).to_csv(
        tmp_path / "mosi" / "segments.csv", index=False
    )
    return DataFolder.open(tmp_path)


def test_a_valid_table_reads_with_durations(tmp_path):
    folder = folder_with(tmp_path)
    seg = folder.segments("mosi")
    assert folder.source == "real"
    np.testing.assert_allclose(seg["duration"], [1.5, 1.0, 3.0])
    assert folder.summary()["corpora"]["mosi"]["splits"] == {
        "train": 1,
        "valid": 1,
        "test": 1,
        "unassigned": 0,
    }


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"label": None}, r"missing column\(s\) \['label'\]"),
        ({"label": [1.0, 7.0, 0.0]}, r"segment 'a_2' \(row 3\) has label 7.0"),
        ({"label": [1.0, float("nan"), 0.0]}, r"segment 'a_2' \(row 3\) has no label"),
        ({"label": [1.0, "good", 0.0]}, r"segment 'a_2' \(row 3\) has label 'good', not a number"),
        (
            {"segment_id": ["a_1", "a_1", "b_1"]},
            r"duplicate segment id\(s\): 'a_1' in rows \[2, 3\]",
        ),
        ({"end": None}, r"missing column\(s\) \['end'\]"),
        ({"split": ["train", "dev", "test"]}, "has split 'dev'"),
        ({"end": [1.5, 1.0, 4.0]}, r"'a_2' \(row 3\) has start 2.0 and end 1.0"),
    ],
)
def test_bad_tables_name_file_row_and_problem(tmp_path, changes, message):
    folder = folder_with(tmp_path, **changes)
    with pytest.raises(DataFolderError, match=message) as err:
        folder.segments("mosi")
    assert "segments.csv" in str(err.value)


def test_missing_data_dir_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MSA_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataFolderError, match="absent does not exist"):
        open_data()
    with pytest.raises(DataFolderError, match="neither mosi/segments.csv"):
        DataFolder.open(tmp_path)


def test_csd_features_need_the_files(tmp_path):
    with pytest.raises(DataFolderError, match="no .csd file for mosi modality"):
        folder_with(tmp_path).features("mosi")


def test_real_folder_counts(real_data_dir):
    summary = DataFolder.open(real_data_dir).summary()
    mosi, mosei = summary["corpora"]["mosi"], summary["corpora"]["mosei"]
    assert summary["source"] == "real"
    assert mosi["splits"] == {"train": 1284, "valid": 229, "test": 686, "unassigned": 0}
    assert mosei["splits"] == {"train": 16331, "valid": 1871, "test": 4662, "unassigned": 395}
    json.dumps(summary)


def test_real_bclstm_features_keep_their_own_split(real_data_dir):
    fs = DataFolder.open(real_data_dir).bclstm()
    assert fs.dims == {"audio": 73, "visual": 100, "text": 100}
    assert fs.split_counts() == {"train": 1447, "test": 752}
    seg = pd.read_csv(real_data_dir / "mosi" / "segments.csv").set_index("segment_id")
    np.testing.assert_allclose(fs.label, seg.loc[fs.segment_id, "label"], atol=1e-6)
