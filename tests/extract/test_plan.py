"""Planning: clips, folders and segments tables; transcripts; tables that do not fit the clips."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from msa_lib.data.segments import SegmentsTableError
from msa_lib.extract.base import ExtractError
from msa_lib.extract.plan import plan, read_transcript


@pytest.fixture()
def two_clips(tmp_path, face_clip, no_face_clip) -> Path:
    """A folder with clips ``good`` and ``noface``."""
    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(face_clip, d / "good.mp4")
    shutil.copy(no_face_clip, d / "noface.mp4")
    return d


def test_folder_with_sidecar_transcripts(two_clips):
    (two_clips / "good.txt").write_text("what a wonderful film", encoding="utf-8")
    (two_clips / "noface.txt").write_bytes("\ufeffcafé crème".encode("utf-8"))  # BOM is fine
    segs, corpus = plan(two_clips)
    assert corpus == "clips" and [s.segment_id for s in segs] == ["good", "noface"]
    assert [s.text for s in segs] == ["what a wonderful film", "café crème"]
    assert all(s.text_error is None and s.split == "unassigned" for s in segs)


def test_latin1_transcript_is_an_error_naming_file_and_byte(two_clips):
    (two_clips / "good.txt").write_bytes("un film très bon".encode("latin-1"))
    segs, _ = plan(two_clips)
    good = segs[0]
    assert good.text is None  # never decoded with replacement characters
    assert str(two_clips / "good.txt") in good.text_error
    assert "byte 10" in good.text_error and "--transcript-encoding latin-1" in good.text_error
    segs, _ = plan(two_clips, transcript_encoding="latin-1")
    assert segs[0].text == "un film très bon" and segs[0].text_error is None


def test_read_transcript_strict(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"ok \xff\xfe bad")
    text, err = read_transcript(p)
    assert text is None and "byte 3" in err and "\ufffd" not in err


def test_table_matching_no_clip_is_an_error(two_clips, tmp_path):
    csv = tmp_path / "segments.csv"
    pd.DataFrame({"segment_id": ["x1", "x2"], "label": [1.0, 2.0]}).to_csv(csv, index=False)
    with pytest.raises(ExtractError, match="none of its 2 segment ids") as err:
        plan(two_clips, segments=csv)
    msg = str(err.value)
    assert str(csv) in msg and str(two_clips) in msg and "'x1'" in msg and "'good'" in msg


def test_table_matching_some_clips_warns_with_count(two_clips, tmp_path, caplog):
    csv = tmp_path / "segments.csv"
    pd.DataFrame({"segment_id": ["good"], "label": [1.5], "split": ["test"]}).to_csv(
        csv, index=False
    )
    with caplog.at_level(logging.WARNING):
        segs, _ = plan(two_clips, segments=csv)
    assert "1 of 2 clips" in caplog.text and str(csv) in caplog.text
    assert segs[0].label == 1.5 and segs[0].split == "test"
    assert segs[1].split == "unassigned"


def test_header_only_table_is_an_error(two_clips, tmp_path):
    csv = tmp_path / "segments.csv"
    csv.write_text("segment_id,label,split\n")
    with pytest.raises(SegmentsTableError, match="no segments"):
        plan(two_clips, segments=csv)
    with pytest.raises(SegmentsTableError, match="no segments"):
        plan(csv)


def test_table_without_end_is_one_missing_column_error(tmp_path, long_tone_clip):
    media = tmp_path / "raw" / "toy"
    media.mkdir(parents=True)
    shutil.copy(long_tone_clip, media / "vid.mp4")
    (tmp_path / "toy").mkdir()
    csv = tmp_path / "toy" / "segments.csv"
    csv.write_text("segment_id,video_id,start\nvid_0,vid,0\nvid_1,vid,2\n")
    with pytest.raises(SegmentsTableError, match=r"missing column\(s\) \['end'\]"):
        plan(csv)
    # neither start nor end: rows that must be cut from a video name the columns once
    csv.write_text("segment_id,video_id\nvid_0,vid\nvid_1,vid\n")
    with pytest.raises(ExtractError, match=r"missing column\(s\) \['start', 'end'\]"):
        plan(csv)


def test_duplicate_ids_name_the_ids_and_files(tmp_path, face_clip, silent_clip):
    d = tmp_path / "dups"
    d.mkdir()
    shutil.copy(face_clip, d / "a.mp4")
    shutil.copy(face_clip, d / "a.mkv")
    shutil.copy(silent_clip, d / "b.mp4")
    with pytest.raises(ExtractError, match="1 duplicate segment id") as err:
        plan(d)
    assert "'a'" in str(err.value)
    assert str(d / "a.mp4") in str(err.value) and str(d / "a.mkv") in str(err.value)
