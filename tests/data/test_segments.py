"""The one segments-table reader: every problem is one error naming the file (and row)."""

import numpy as np
import pytest

from msa_lib.data.segments import SegmentsTableError, read_segments


def write(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "segments.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_defaults_for_optional_columns(tmp_path):
    df = read_segments(write(tmp_path, "segment_id\na\nb\n"))
    assert df["video_id"].tolist() == ["a", "b"]
    assert df["split"].tolist() == ["unassigned"] * 2
    assert np.isnan(df["label"]).all() and np.isnan(df["start"]).all()
    assert df["text"].tolist() == ["", ""] and not df["has_text"].any()


def test_transcripts_stay_as_written(tmp_path):
    # pandas would read "NA" and "null" as missing values; a transcript is text
    df = read_segments(write(tmp_path, "segment_id,text,label\na,NA,1\nb,null,\nc,ÇA VA,-1\n"))
    assert df["text"].tolist() == ["NA", "null", "ÇA VA"]
    assert df["has_text"].all()
    assert np.isnan(df["label"].iat[1])


def test_mosei_sentiment_is_the_label(tmp_path):
    path = write(tmp_path, "segment_id,video_id,start,end,sentiment,split\nv_0,v,0,1.5,2.0,train\n")
    df = read_segments(path, corpus="mosei")
    assert df["label"].tolist() == [2.0] and df["duration"].tolist() == [1.5]


@pytest.mark.parametrize(
    "text, message",
    [
        ("segment_id,label\n", r"no segments \(a header and no rows\)"),
        ("", "empty file"),
        ("video_id\nv\n", r"missing column\(s\) \['segment_id'\]"),
        ("segment_id,video_id,start\na,v,0\n", r"missing column\(s\) \['end'\]"),
        ("segment_id,end\na,3\n", r"missing column\(s\) \['start'\]"),
        ("segment_id\na\nb\na\n", r"duplicate segment id\(s\): 'a' in rows \[2, 4\]"),
        ("segment_id,label\na,4\n", r"'a' \(row 2\) has label 4.0, outside \[-3.0, 3.0\]"),
        ("segment_id,label\na,high\n", r"'a' \(row 2\) has label 'high', not a number"),
        ("segment_id,start,end\na,2,1\n", r"'a' \(row 2\) has start 2.0 and end 1.0"),
        ("segment_id,start,end\na,,1\n", r"'a' \(row 2\) has an empty start or end time"),
        ("segment_id,split\na,dev\n", r"'a' \(row 2\) has split 'dev'"),
        ("segment_id,label\n ,1\n", r"\(row 2\) has an empty segment_id"),
    ],
)
def test_bad_tables_are_one_clear_error(tmp_path, text, message):
    with pytest.raises(SegmentsTableError, match=message) as err:
        read_segments(write(tmp_path, text))
    assert "segments.csv" in str(err.value)


def test_required_label_must_be_filled(tmp_path):
    path = write(tmp_path, "segment_id,label\na,1\nb,\n")
    assert len(read_segments(path)) == 2  # optional: an empty label is an unlabelled segment
    with pytest.raises(SegmentsTableError, match=r"'b' \(row 3\) has no label"):
        read_segments(path, required=("segment_id", "label"))


def test_a_latin1_table_is_refused_not_garbled(tmp_path):
    path = write(tmp_path, "segment_id,text\na,ça va très bien\n", encoding="latin-1")
    with pytest.raises(SegmentsTableError, match=r"not UTF-8 text \(byte \d+"):
        read_segments(path)


def test_a_utf8_bom_is_fine(tmp_path):
    df = read_segments(write(tmp_path, "\ufeffsegment_id\na\n"))
    assert df["segment_id"].tolist() == ["a"]


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv: segments table not found"):
        read_segments(tmp_path / "nope.csv")


def test_a_start_before_zero_is_kept_with_a_warning(tmp_path, caplog):
    # real MOSEI has segments starting up to half a second before the video
    df = read_segments(write(tmp_path, "segment_id,start,end\na,-0.46,2\n"))
    assert df["start"].tolist() == [-0.46]
    assert "1 segment(s) start before 0 s (e.g. 'a')" in caplog.text
