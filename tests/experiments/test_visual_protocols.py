"""The visual-protocol studies: frame protocols and the paper's code's choices on generated clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import VisualConfig
from msa_lib.experiments.visual_protocols import (
    ANGLE,
    CHOICE_COLUMNS,
    PROTOCOL_COLUMNS,
    frame_protocol_table,
    frame_protocols,
    paper_choices_verdict,
    paper_code_comparison,
    relative_distance,
)
from msa_lib.extract.base import Segment
from msa_lib.extract.engines.media import probe, write_media
from msa_lib.extract.features.visual import GROUPS, extract_visual, feature_names
from msa_lib.extract.generate import face_frames

FIRST = VisualConfig(max_frames=10)  # fewer than the clip's 30 frames, so the protocols differ
SAMPLED = VisualConfig(protocol="sampled", sample_fps=4.0)


def test_relative_distance_on_known_vectors():
    v = np.array([[3.0, 4.0], [3.0, 4.0], [0.0, 4.0], [1.0, 0.0], [2.0, 0.0]])
    np.testing.assert_allclose(relative_distance(v, [0, 0, 0, 3, 3]), [0, 0, 0.6, 0, 1])


def test_the_protocols_are_named_by_their_settings():
    assert list(frame_protocols()) == ["first 100 frames", "sampled: 5 per second"]
    assert list(frame_protocols(FIRST, SAMPLED)) == ["first 10 frames", "sampled: 4 per second"]


@pytest.fixture(scope="module")
def protocols(face_clip) -> pd.DataFrame:
    return frame_protocol_table([Segment("face", "face", str(face_clip))], FIRST, SAMPLED)


def test_the_protocol_table_reads_the_first_frames_or_frames_over_the_clip(protocols, face_clip):
    assert list(protocols.columns) == PROTOCOL_COLUMNS
    first, sampled = protocols.to_dict("records")
    duration = probe(face_clip).duration
    assert first["protocol"] == "first 10 frames" and sampled["protocol"] == "sampled: 4 per second"
    assert first["duration_s"] == sampled["duration_s"] == round(duration, 2)
    assert first["frames_read"] == 10
    assert sampled["frames_read"] == int(np.ceil(duration * 4 - 1e-9))
    assert first["frames_with_face"] > 0 and sampled["frames_with_face"] > 0
    # the reference protocol is at distance 0; frames spread over the clip give another vector
    assert first["rel_diff_to_paper"] == 0 and sampled["rel_diff_to_paper"] > 0
    a = extract_visual(face_clip, cfg=FIRST).vector
    b = extract_visual(face_clip, cfg=SAMPLED).vector
    assert sampled["rel_diff_to_paper"] == round(
        float(np.linalg.norm(b - a) / np.linalg.norm(a)), 3
    )
    for row in (first, sampled):
        assert row["seconds"] > 0
        assert row["x_real_time"] == pytest.approx(duration / row["seconds"], rel=0.05)


@pytest.fixture(scope="module")
def wide_face_clip(media_dir) -> Path:
    """The astronaut's face on a frame wider than tall (grey bars left and right)."""
    frames = [
        np.pad(f, ((0, 0), (64, 64), (0, 0)), constant_values=128) for f in face_frames(15, 256)
    ]
    return write_media(media_dir / "wide_face.mp4", frames, fps=15)


@pytest.fixture(scope="module")
def comparison(face_clip, wide_face_clip, no_face_clip):
    segs = [
        Segment("square", "square", str(face_clip)),
        Segment("wide", "wide", str(wide_face_clip)),
        Segment("noface", "noface", str(no_face_clip)),
    ]
    return paper_code_comparison(segs)


def test_the_choices_table_gives_both_angles_per_clip(comparison, face_clip):
    choices = comparison.choices
    assert list(choices.columns) == CHOICE_COLUMNS
    assert choices["segment_id"].tolist() == ["square", "wide", "noface"]
    assert choices["frame"].tolist() == ["256 x 256", "384 x 256", "128 x 128"]
    rows = choices.set_index("segment_id")
    k = feature_names().index(ANGLE)
    paper = extract_visual(face_clip, cfg=VisualConfig(protocol="paper"))
    ours = extract_visual(face_clip, cfg=VisualConfig())
    assert rows.loc["square", "angle_paper"] == pytest.approx(float(paper.vector[k]))
    assert rows.loc["square", "angle_ours"] == pytest.approx(float(ours.vector[k]), abs=1e-5)
    assert rows.loc["square", "frames_without_face"] == paper.n_frames - paper.n_face_frames
    # no face: the paper's code averages zeros, ours has no value
    assert rows.loc["noface", "frames_without_face"] == 15  # the fixture's grey frames
    assert rows.loc["noface", "angle_paper"] == 0 and np.isnan(rows.loc["noface", "angle_ours"])


def test_normalised_coordinates_differ_from_pixels_only_off_the_square(comparison):
    diff = comparison.paper_vs_pixels
    assert diff["group"].tolist() == list(GROUPS)
    assert diff["columns"].tolist() == [len(idx) for idx in GROUPS.values()]
    # the mean over clips includes the square one, whose distances all scale alike (no
    # difference); the largest is the wide clip's, where x and y are stretched differently
    eyes = diff.set_index("group").loc["eyes"]
    assert eyes["max_rel"] > 0.05
    assert eyes["mean_rel"] == pytest.approx(eyes["max_rel"] / 2, rel=0.01)


def test_the_verdict_follows_the_choices_table(comparison):
    v = paper_choices_verdict(comparison.choices)
    choices = comparison.choices
    assert v.n_clips == 3
    assert v.frames_without_face == int(choices["frames_without_face"].sum()) > 0
    face = choices[choices["segment_id"] != "noface"]
    assert v.n_opposite == int((np.sign(face["angle_paper"]) != np.sign(face["angle_ours"])).sum())
    text = v.sentence()
    assert f"opposite signs on {v.n_opposite} of 3 clips" in text
    assert f"{v.frames_without_face} of the frames read had no face" in text


def hand_made(paper, ours, lost) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment_id": [f"c{i}" for i in range(len(paper))],
            "frame": "640 x 360",
            "frames_without_face": lost,
            "angle_paper": paper,
            "angle_ours": ours,
            "same_sign": np.sign(paper) == np.sign(ours),
        },
        columns=CHOICE_COLUMNS,
    )


def test_the_verdict_sentence_on_hand_made_angles():
    v = paper_choices_verdict(hand_made([0.1, -0.2, 0.3], [0.05, 0.1, -0.02], [0, 0, 0]))
    assert v.n_opposite == 2
    assert v.sentence() == (
        "On these clips the two corner angles have opposite signs on 2 of 3 clips (paper's angle "
        "+0.100, -0.200, +0.300; tilt +0.050, +0.100, -0.020 rad), and every frame read had a "
        "face, so the two no-face rules give the same mean here."
    )
    lost = paper_choices_verdict(hand_made([0.1], [0.2], [7]))
    assert lost.n_opposite == 0
    assert lost.sentence().endswith(
        "7 of the frames read had no face, so the two no-face rules differ there."
    )
    assert paper_choices_verdict(hand_made([], [], [])).sentence().startswith("No clip was read")


def test_a_clip_without_video_is_an_error_naming_it(short_audio_clip):
    with pytest.raises(ValueError, match="short.mp4: no video"):
        paper_code_comparison([Segment("audio", "audio", str(short_audio_clip))])
