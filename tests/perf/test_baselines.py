"""The plain baselines of chapter 9's ratios compute what the library's extractors compute."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from msa_lib.config import AudioConfig, VisualConfig
from msa_lib.extract.base import Segment
from msa_lib.extract.features.audio import N_PAPER, extract_audio, load_audio
from msa_lib.extract.features.visual import extract_visual
from msa_lib.perf.baselines import baseline_audio, baseline_visual, librosa_load, librosa_recipe
from msa_lib.perf.measure import landmark_gap


def test_the_audio_baseline_gives_the_extractors_features(long_tone_clip):
    seg = Segment("tone", "tone", str(long_tone_clip))
    # librosa.load(sr=22050, duration=3.0) done by hand reads the samples the extractor reads
    y = librosa_load(seg)
    np.testing.assert_array_equal(y, load_audio(long_tone_clip, 0.0, 3.0))
    # one librosa call per feature and one beat_track tempo: the extractor under the paper's code
    ours = extract_audio(long_tone_clip, cfg=AudioConfig(protocol="paper")).vector[:N_PAPER]
    base = baseline_audio(seg)
    assert base.shape == (N_PAPER,)
    np.testing.assert_allclose(base, ours, rtol=1e-4, atol=1e-3)
    # a window of the file: cut at the segment's end, as the extractor cuts it
    part = Segment("tone", "tone", str(long_tone_clip), start=1.0, end=2.5)
    ours = extract_audio(long_tone_clip, 1.0, 2.5, AudioConfig(protocol="paper")).vector
    np.testing.assert_allclose(baseline_audio(part), ours[:N_PAPER], rtol=1e-4, atol=1e-3)


@pytest.mark.skipif(hasattr(librosa.feature, "chroma"), reason="this librosa has feature.chroma")
def test_the_recipe_as_the_paper_names_chroma_fails(long_tone_clip):
    y = librosa_load(Segment("tone", "tone", str(long_tone_clip)))
    with pytest.raises(AttributeError, match="chroma"):
        librosa_recipe(y, 22050, chroma="chroma")


def test_the_visual_baseline_finds_the_extractors_faces(face_clip, long_tone_clip):
    cfg = VisualConfig(protocol="paper")  # MediaPipe's normalised coordinates, Tasks landmarker
    for start, end in ((None, None), (0.5, 1.8)):
        ref = extract_visual(face_clip, start, end, cfg, keep_frames=True)
        base = baseline_visual(Segment("face", "face", str(face_clip), start=start, end=end))
        assert base.shape == ref.landmarks.shape  # the same frames read
        face = np.isfinite(base).all(axis=(1, 2))
        assert face.all() and ref.n_face_frames == len(face)  # a face on every frame, in both
        # the same landmarks up to the tracker's timestamps (ms rounded and offset differently)
        found = [lm for lm in base]
        gap = landmark_gap(list(ref.landmarks), found, [ref.frame_size] * len(found))
        assert gap["face_disagreements"] == 0 and gap["mean"] < 0.01, gap
    assert len(baseline_visual(Segment("face", "face", str(face_clip)), max_frames=7)) == 7
    # grey frames: no face, as the extractor finds none
    blank = baseline_visual(Segment("grey", "grey", str(long_tone_clip)), max_frames=10)
    assert blank.shape == (10, 478, 3) and np.isnan(blank).all()
    assert extract_visual(long_tone_clip, cfg=VisualConfig(max_frames=10)).n_face_frames == 0
