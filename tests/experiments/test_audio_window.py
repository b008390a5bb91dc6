"""The audio-window study: its table on generated clips, the relative change, and the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import AudioConfig
from msa_lib.config.paper import AUDIO_VALUES
from msa_lib.experiments.audio_window import (
    COLUMNS,
    audio_window_table,
    audio_window_verdict,
    relative_change,
    window_settings,
)
from msa_lib.extract.base import Segment
from msa_lib.extract.features.audio import extract_audio

PAPER, WHOLE = window_settings()


def test_relative_change_on_known_vectors():
    v = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 2.0], [3.0, 4.0]])
    change = relative_change(v, [0, 0, 0, 3])
    scale = np.abs(v).mean(0) + 1e-9
    assert change[0] == 0 and change[1] == 0 and change[3] == 0
    expected = np.linalg.norm((v[2] - v[0]) / scale) / np.linalg.norm(v[0] / scale)
    assert change[2] == pytest.approx(expected)
    # each column is scaled by its mean magnitude: a large column does not drown a small one
    big = np.array([[1.0, 1000.0], [2.0, 1000.0]])
    assert relative_change(big, [0, 0])[1] == pytest.approx(
        np.linalg.norm([1 / 1.5, 0]) / np.linalg.norm([1 / 1.5, 1])
    )
    # a row with NaN (no audio) gets NaN and leaves the others' scale alone
    with_nan = np.vstack([v, [np.nan, np.nan]])
    out = relative_change(with_nan, [0, 0, 0, 3, 4])
    np.testing.assert_allclose(out[:4], change)
    assert np.isnan(out[4])
    assert np.isnan(relative_change(np.full((2, 2), np.nan), [0, 0])).all()


def test_the_settings_are_the_paper_window_and_the_whole_segment():
    settings = window_settings(AudioConfig())
    assert list(settings) == [f"paper: first {AudioConfig().duration:g} s", "whole segment"]
    assert settings[PAPER] == AudioConfig() and settings[WHOLE].duration is None


@pytest.fixture(scope="module")
def table(long_tone_clip, face_clip, silent_clip) -> pd.DataFrame:
    segs = [
        Segment("long", "long", str(long_tone_clip)),
        Segment("face", "face", str(face_clip)),
        Segment("silent", "silent", str(silent_clip)),
    ]
    return audio_window_table(segs)


def test_the_table_reads_three_seconds_or_the_whole_clip(table, long_tone_clip):
    assert list(table.columns) == COLUMNS
    assert table["segment_id"].tolist() == ["long", "long", "face", "face", "silent", "silent"]
    assert table["setting"].tolist() == [PAPER, WHOLE] * 3
    rows = table.set_index(["segment_id", "setting"])
    # the 5-s clip: the paper reads its first 3 s, the whole setting all of it
    assert rows.loc[("long", PAPER), "duration_s"] == pytest.approx(5.0, abs=0.1)
    assert rows.loc[("long", PAPER), "audio_s"] == 3.0
    assert rows.loc[("long", WHOLE), "audio_s"] == pytest.approx(5.0, abs=0.1)
    assert rows.loc[("long", WHOLE), "frames"] > rows.loc[("long", PAPER), "frames"]
    # the same numbers as the extractor called directly
    r = extract_audio(long_tone_clip, cfg=AudioConfig(duration=None))
    assert rows.loc[("long", WHOLE), "frames"] == r.n_frames
    # the paper's rows are the reference; a clip shorter than 3 s is read whole by both
    assert (table.loc[table["setting"] == PAPER, "change_vs_paper"] == 0).all()
    assert rows.loc[("long", WHOLE), "change_vs_paper"] > 0
    assert rows.loc[("face", WHOLE), "change_vs_paper"] == 0
    assert rows.loc[("face", WHOLE), "audio_s"] == rows.loc[("face", PAPER), "audio_s"]
    assert (table["seconds"] > 0).all()
    # seconds of audio per second of compute (the table's seconds are rounded to 0.1 ms)
    rtf = table["audio_s"] / table["seconds"]
    np.testing.assert_allclose(table["real_time_factor"], rtf, rtol=0.05, atol=0.1)
    assert table["silent"].tolist() == [False, False, False, False, True, True]
    assert not table["no_audio"].any()


def test_the_change_is_that_of_the_informative_values(
    table, long_tone_clip, face_clip, silent_clip
):
    clips = [long_tone_clip, face_clip, silent_clip]
    v = np.stack(
        [
            extract_audio(clip, cfg=c).vector[:AUDIO_VALUES]
            for clip in clips
            for c in window_settings().values()
        ]
    )
    expected = relative_change(v, [0, 0, 2, 2, 4, 4])
    np.testing.assert_allclose(table["change_vs_paper"], np.round(expected, 3))
    # the padding columns are left out: with them (always zero) the scale would hit 1e-9
    padded = np.stack([extract_audio(c, cfg=AudioConfig()).vector for c in clips])
    assert padded.shape[1] > AUDIO_VALUES and (padded[:, AUDIO_VALUES:] == 0).all()


def test_the_verdict_states_the_speed_and_names_the_flagged_clips(table):
    v = audio_window_verdict(table)
    assert v.n_clips == 3 and v.flagged == ("silent",)
    assert v.real_time_factor == pytest.approx(table["audio_s"].sum() / table["seconds"].sum())
    text = v.sentence()
    assert f"**{v.real_time_factor:.0f}x real time**" in text
    assert text.endswith("Clips flagged silent or without audio: silent.")
    clean = audio_window_verdict(table[table["segment_id"] != "silent"])
    assert clean.flagged == () and clean.sentence().endswith(
        "No clip was flagged silent or without audio."
    )
    empty = audio_window_verdict(table.iloc[:0])
    assert empty.n_clips == 0 and empty.sentence().startswith("No clip was extracted")


def test_a_clip_without_audio_is_flagged_and_has_no_change(face_clip, no_audio_clip):
    t = audio_window_table(
        [Segment("face", "face", str(face_clip)), Segment("mute", "mute", str(no_audio_clip))]
    )
    mute = t[t["segment_id"] == "mute"]
    assert mute["no_audio"].all() and mute["change_vs_paper"].isna().all()
    assert (t.loc[t["segment_id"] == "face", "change_vs_paper"] == 0).all()
    assert audio_window_verdict(t).flagged == ("mute",)
