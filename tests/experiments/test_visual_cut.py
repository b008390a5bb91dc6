"""The cut-segment study: segments cut from a video of a small data folder, and a faceless clip."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import VisualConfig
from msa_lib.data.folder import DataFolder
from msa_lib.experiments.visual_cut import NO_FACE_ID, cut_segments, cut_table

SEGMENTS = """segment_id,video_id,start,end,sentiment,split
vid_0,vid,0.2,1.0,1.5,train
vid_1,vid,1.0,2.0,-0.5,test
gone_0,gone,0.0,1.0,0.0,valid
"""


@pytest.fixture()
def folder(tmp_path, face_clip) -> DataFolder:
    """A data folder with a MOSEI table of three segments; only the video of two is present."""
    root = tmp_path / "data"
    (root / "mosei").mkdir(parents=True)
    (root / "mosei" / "segments.csv").write_text(SEGMENTS)
    (root / "raw" / "mosei").mkdir(parents=True)
    shutil.copy(face_clip, root / "raw" / "mosei" / "vid.mp4")
    return DataFolder.open(root)


def test_cut_segments_are_windows_of_the_videos_present_and_a_faceless_clip(folder, tmp_path):
    segs = cut_segments(folder, tmp_path / "work")
    assert [s.segment_id for s in segs] == ["vid_0", "vid_1", NO_FACE_ID]
    assert [(s.start, s.end) for s in segs[:2]] == [(0.2, 1.0), (1.0, 2.0)]
    assert segs[0].media.endswith("vid.mp4") and segs[0].media == segs[1].media
    assert segs[2].start is None and (tmp_path / "work" / "no_face.mp4").is_file()


def test_without_mosei_videos_only_the_faceless_clip_remains(folder, tmp_path):
    shutil.rmtree(folder.raw_dir("mosei"))
    assert [s.segment_id for s in cut_segments(folder, tmp_path / "work")] == [NO_FACE_ID]


def test_the_cut_table_counts_frames_per_window_and_marks_the_faceless_row(folder, tmp_path):
    segs = cut_segments(folder, tmp_path / "work")
    cfg = VisualConfig(protocol="sampled", sample_fps=5.0)
    table = cut_table(segs, tmp_path / "features", cfg, source="real")
    assert list(table.columns) == [
        "segment_id",
        "start",
        "end",
        "label",
        "n_frames",
        "n_face_frames",
        "no_face",
        "nan_row",
    ]
    rows = table.set_index("segment_id")
    assert rows.loc["vid_0", "start"] == 0.2 and rows.loc["vid_1", "end"] == 2.0
    assert np.isnan(rows.loc[NO_FACE_ID, "start"])
    assert rows.loc["vid_0", "label"] == pytest.approx(1.5)
    assert rows.loc["vid_1", "label"] == pytest.approx(-0.5)
    # sampled at 5 per second: 0.8 s gives 4 frames, 1.0 s gives 5
    assert rows.loc["vid_0", "n_frames"] == 4 and rows.loc["vid_1", "n_frames"] == 5
    assert (rows.loc[["vid_0", "vid_1"], "n_face_frames"] > 0).all()
    assert rows.loc[NO_FACE_ID, "n_face_frames"] == 0
    assert table["no_face"].tolist() == [False, False, True]
    assert table["nan_row"].tolist() == [False, False, True]
    # the features were written where asked, and a second run replaces them
    again = cut_table(segs[:1], tmp_path / "features", cfg, source="real")
    assert again["segment_id"].tolist() == ["vid_0"]
    pd.testing.assert_frame_equal(
        again.drop(columns="no_face", errors="ignore"),
        table.iloc[:1][again.columns.drop("no_face", errors="ignore")],
    )
