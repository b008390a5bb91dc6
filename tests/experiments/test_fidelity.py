"""Fidelity to the paper: the protocol table from the configs, and both sides measured on clips."""

from __future__ import annotations

import dataclasses
import re
import typing

import librosa
import numpy as np
import pandas as pd
import pytest

from msa_lib.config import AudioConfig, VisualConfig
from msa_lib.experiments.fidelity import (
    CHOICES,
    PROTOCOL_COLUMNS,
    Choice,
    FidelityMeasures,
    answers,
    audio_columns,
    chroma_verdict,
    distance_columns,
    fidelity_note,
    measure_fidelity,
    measured_table,
    protocol_table,
)
from msa_lib.extract.base import Segment
from msa_lib.extract.features.visual import feature_names


def test_the_protocol_table_is_the_configs_protocols():
    table = protocol_table()
    assert list(table.columns) == PROTOCOL_COLUMNS and table["choice"].is_unique
    assert table["section"].str.fullmatch(r"§3\.\d").all() and table["paper's text"].str.len().all()
    rows = table.set_index("setting")
    for cfg in (VisualConfig, AudioConfig):
        fields = {f.name for f in dataclasses.fields(cfg)}
        paper, ours = cfg.PROTOCOLS["paper"], cfg.PROTOCOLS["ours"]
        for name in cfg.CHOICES:
            if paper[name] == ours[name]:
                continue  # the code and the default agree (the first 100 frames)
            assert name in rows.index, f"{cfg.__name__}.{name} differs between protocols"
            choice = next(c for c in CHOICES if c.setting == name)
            assert rows.loc[name, "paper's code"] == choice.words[paper[name]]
            assert rows.loc[name, "ours (default)"] == choice.words[ours[name]]
        assert {c.setting for c in CHOICES if c.config is cfg} - {""} <= fields


def test_the_table_follows_a_change_of_protocol():
    @dataclasses.dataclass(frozen=True)
    class Swapped(VisualConfig):
        PROTOCOLS: typing.ClassVar = {
            "ours": VisualConfig.PROTOCOLS["paper"],
            "paper": VisualConfig.PROTOCOLS["ours"],
        }

    coords = next(c for c in CHOICES if c.setting == "coords")
    assert answers(coords) == ("normalised [0, 1], z as given", "pixels")
    assert answers(dataclasses.replace(coords, config=Swapped)) == (
        "pixels",
        "normalised [0, 1], z as given",
    )
    with pytest.raises(ValueError, match="names neither a protocol nor the code's answer"):
        answers(Choice("x", AudioConfig, "", "not said", "§3.2"))


def test_columns_come_from_the_feature_names():
    names = feature_names()
    cols = [names[i] for i in distance_columns()]
    assert len(cols) == len(set(cols)) == 58
    assert all(re.match(r"(mouth_(width|height)|.*eye.*_\d+_\d+$|norm_\d+$)", n) for n in cols)
    assert "mouth_corner_angle" not in cols and "eye_width_asymmetry" not in cols
    cfg = AudioConfig()
    assert audio_columns("mfcc_") == list(range(cfg.n_mfcc))
    assert audio_columns("tempo") == [cfg.n_mfcc + cfg.n_chroma + 3]  # after centroid, rolloff, ZCR
    with pytest.raises(ValueError, match="no audio feature"):
        audio_columns("loudness")


@pytest.fixture(scope="module")
def measured(face_clip):
    clips = [
        Segment("whole", "face", str(face_clip)),
        Segment("part", "face", str(face_clip), start=0.5, end=1.8),
    ]
    return measure_fidelity(clips)


def test_fidelity_measured_on_a_generated_face_clip(measured):
    m = measured
    assert m.n == 2 and m.frames_lost == 0  # a face on every frame
    assert m.frames_read == 30 + 20  # 2 s at 15 fps; 0.5-1.8 s from the frame on screen at 0.5
    # a square frame scales x, y and z alike: normalised and pixel coordinates agree
    assert m.distance_rel.shape == (2, 58) and m.distance_rel.max() < 1e-4
    # soxr keeps a 9 kHz tone whole; FFmpeg's swresample cuts 10 kHz more than soxr does
    (soxr9, _), (soxr10, swr10) = m.tone_gains[9e3], m.tone_gains[1e4]
    assert soxr9 == pytest.approx(1.0, abs=0.01) and swr10 < soxr10
    assert all(t > 0 for t in m.tempo_frames)
    assert m.chroma_exists == hasattr(librosa.feature, "chroma")
    if not m.chroma_exists:  # the code's audio function fails on every clip: its zeros
        assert (m.code_audio == 0).all() and m.code_audio.shape == (2, AudioConfig().pad_to)
        assert all("chroma" in e for e in m.code_audio_errors)
    table = measured_table(m).set_index("choice")["value"]
    assert table["frames without a face"] == "0 of 50"
    assert table["chroma"] == str(m.chroma_exists)
    assert table["chroma (the code's audio function)"] == (
        "2 of 2" if not m.chroma_exists else "0 of 2"
    )
    assert len(table["tempo"].split(", ")) == 2


def hand_measures(code_audio: np.ndarray) -> FidelityMeasures:
    """Measures made by hand, for the verdicts."""
    n = len(code_audio)
    return FidelityMeasures(
        n=n,
        distance_rel=np.full((n, 58), 0.25),
        angle_sign_flips=1,
        eye_ratio=np.full(n, 0.1),
        eye_difference=np.full(n, 0.2),
        frames_lost=3,
        frames_read=200,
        mfcc_shift=[0.5] * n,
        tone_gains={9e3: (1.0, 0.99), 1e4: (0.999, 0.862)},
        tempo_frames=[120.0] * n,
        tempo_global=[100.0] * n,
        chroma_exists=False,
        code_audio=code_audio,
        code_audio_errors=["AttributeError: no chroma"] * n,
        librosa_version="0.0-test",
    )


def test_the_verdicts_follow_the_measures():
    zeros = hand_measures(np.zeros((3, 74)))
    verdict = chroma_verdict(zeros)
    assert "constant (zeros)" in verdict and "librosa 0.0-test does not have" in verdict
    assert "on the 3 clips" in verdict and "AttributeError: no chroma" in verdict
    assert "on the 3 GENERATED clips" in chroma_verdict(zeros, "GENERATED clips")
    varying = hand_measures(np.r_[np.zeros((1, 74)), np.ones((2, 74)) * [[1], [2]]])
    verdict = chroma_verdict(varying)
    assert "constant" not in verdict and "for 1 of them" in verdict and "vary" in verdict
    note = fidelity_note(zeros)
    assert "99.9%" in note and "86.2%" in note and "10 kHz" in note
    assert "coordinates: pixels" in note and "tempo: per frame, averaged" in note
    table = measured_table(zeros)
    assert isinstance(table, pd.DataFrame)
    assert table.set_index("choice").loc["landmark coordinates", "value"] == "25.0% (25.0%)"
