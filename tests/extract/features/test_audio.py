"""Audio features (§3.2): the paper's 29 values per frame, averaged, padded to 74."""

from __future__ import annotations

import librosa
import librosa.feature.rhythm  # not loaded by `import librosa` (lazy), nor by the extractor until it runs
import numpy as np
import pytest

from msa_lib.config import AudioConfig, ConfigError
from msa_lib.extract.base import build
from msa_lib.extract.engines.media import read_audio
from msa_lib.extract.features.audio import (
    extract_audio,
    feature_names,
    features_from_samples,
    frame_features,
    load_audio,
    tone_gain,
)
from msa_lib.extract.generate import tone

SR = 22050


def reference_frames(y: np.ndarray) -> np.ndarray:
    """librosa's own functions called on the waveform, one by one, as the paper lists them."""
    return np.concatenate(
        [
            librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_fft=2048, hop_length=512),
            librosa.feature.chroma_stft(y=y, sr=SR, n_fft=2048, hop_length=512),
            librosa.feature.spectral_centroid(y=y, sr=SR, n_fft=2048, hop_length=512),
            librosa.feature.spectral_rolloff(y=y, sr=SR, n_fft=2048, hop_length=512),
            librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512),
            librosa.feature.rhythm.tempo(y=y, sr=SR, hop_length=512, aggregate=None)[None],
        ]
    ).T


def test_frames_equal_librosa_reference(tmp_path):
    # a generated voice-like tone and a chirp, written to a WAV file and read back
    import soundfile

    t = np.arange(2 * SR) / SR
    chirp = 0.3 * np.sin(2 * np.pi * (200 * t + 400 * t**2)).astype(np.float32)
    y = np.concatenate([tone(1.0, SR, f0=150.0), chirp[:SR]])
    soundfile.write(tmp_path / "tone.wav", y, SR)
    y = read_audio(tmp_path / "tone.wav", SR)
    ours = frame_features(y)
    ref = reference_frames(y)
    assert ours.shape == ref.shape and ours.shape[1] == 29
    np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-2)


def test_vector_is_mean_padded_to_74(face_clip):
    r = extract_audio(face_clip, keep_frames=True)
    assert r.vector.shape == (74,) and r.vector.dtype == np.float32
    np.testing.assert_allclose(r.vector[:29], r.frames.mean(axis=0), rtol=1e-5)
    assert np.all(r.vector[29:] == 0) and np.isfinite(r.vector).all()
    assert len(feature_names()) == 74 and feature_names()[28] == "tempo"
    assert not any(r.flags.values())


def test_first_three_seconds_by_default(long_tone_clip):
    y = read_audio(long_tone_clip, SR)
    capped = extract_audio(long_tone_clip)
    np.testing.assert_allclose(
        capped.vector, features_from_samples(y[: 3 * SR]).vector, rtol=1e-3, atol=1e-3
    )
    whole = extract_audio(long_tone_clip, cfg=AudioConfig(duration=None))
    assert whole.n_samples > capped.n_samples == 3 * SR
    assert not np.allclose(whole.vector, capped.vector)


def test_window_inside_a_longer_video(long_tone_clip):
    y = read_audio(long_tone_clip, SR)
    r = extract_audio(long_tone_clip, start=1.0, end=2.5)
    assert r.n_samples == int(1.5 * SR)
    np.testing.assert_allclose(
        r.vector, features_from_samples(y[SR : int(2.5 * SR)]).vector, rtol=1e-3, atol=1e-2
    )


def test_no_audio_track_gives_nan_and_flag(no_audio_clip):
    r = extract_audio(no_audio_clip)
    assert r.flags["no_audio"] and np.isnan(r.vector).all() and r.vector.shape == (74,)


def test_silent_audio_is_finite_and_flagged(silent_clip):
    r = extract_audio(silent_clip)
    assert r.flags["silent"] and np.isfinite(r.vector).all()


def test_audio_shorter_than_one_frame(short_audio_clip):
    r = extract_audio(short_audio_clip)
    assert r.flags["too_short"] and np.isnan(r.vector).all()
    with pytest.raises(ValueError, match="fewer than one frame"):
        frame_features(np.zeros(100, np.float32))


def test_padding_width_follows_config():
    r = features_from_samples(
        np.random.default_rng(0).normal(size=SR).astype(np.float32) * 0.1, AudioConfig(pad_to=40)
    )
    assert r.vector.shape == (40,)


@pytest.fixture(scope="module")
def stereo_wav(tmp_path_factory):
    """4.3 s of stereo at 44.1 kHz, 16-bit: a chirp on the left, a 9.5 kHz tone and noise on the right."""
    import soundfile

    sr = 44100
    t = np.arange(int(4.3 * sr)) / sr
    rng = np.random.default_rng(0)
    left = 0.3 * np.sin(2 * np.pi * (200 * t + 300 * t**2))
    right = 0.2 * np.sin(2 * np.pi * 9500 * t) + 0.02 * rng.normal(size=len(t))
    path = tmp_path_factory.mktemp("wav") / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), sr, subtype="PCM_16")
    return path


@pytest.mark.parametrize("offset", [0.0, 0.7, 1.234])
def test_samples_equal_librosa_load(stereo_wav, offset):
    # decoded at 44.1 kHz, averaged to mono, cut, resampled by soxr: librosa.load's samples
    ref, sr = librosa.load(stereo_wav, sr=SR, offset=offset, duration=3.0)
    ours = load_audio(stereo_wav, offset, 3.0, AudioConfig())
    assert sr == SR and ours.shape == ref.shape == (3 * SR,)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)
    # FFmpeg's resampler gives other samples
    other = load_audio(stereo_wav, offset, 3.0, AudioConfig(resampler="swresample"))
    assert np.abs(other - ref).max() > 1e-3


def test_features_equal_the_paper_route(stereo_wav):
    # extract_audio on the file = the features of librosa.load(sr=22050, duration=3.0)'s samples
    y, _ = librosa.load(stereo_wav, sr=SR, duration=3.0)
    np.testing.assert_allclose(
        extract_audio(stereo_wav).vector, features_from_samples(y).vector, rtol=1e-6, atol=1e-6
    )


def test_tempo_frames_against_one_global_beat_track(stereo_wav):
    y, _ = librosa.load(stereo_wav, sr=SR, duration=3.0)
    frames = frame_features(y, AudioConfig())
    glob = frame_features(y, AudioConfig(protocol="paper"))
    # the paper's code: one tempo per clip from beat_track, on every frame
    bpm, _ = librosa.beat.beat_track(y=y, sr=SR)
    np.testing.assert_allclose(glob[:, 28], float(np.atleast_1d(bpm)[0]), rtol=1e-6)
    # the text's frame-level tempo: librosa's local estimate per frame, averaged
    local = librosa.feature.rhythm.tempo(y=y, sr=SR, hop_length=512, aggregate=None)
    np.testing.assert_allclose(frames[:, 28], local[: len(frames)], rtol=1e-6)
    np.testing.assert_array_equal(frames[:, :28], glob[:, :28])  # the other 28 do not move
    explicit = AudioConfig(tempo="global")
    np.testing.assert_array_equal(frame_features(y, explicit), glob)


def test_silence_has_global_tempo_zero(silent_clip):
    r = extract_audio(silent_clip, cfg=AudioConfig(tempo="global"))
    assert r.flags["silent"] and r.vector[28] == 0


def test_protocol_and_resampler_settings():
    assert AudioConfig().resolved().tempo == "frames"
    assert AudioConfig(protocol="paper").resolved().tempo == "global"
    assert AudioConfig(protocol="paper", tempo="frames").resolved().tempo == "frames"
    with pytest.raises(ConfigError, match="resampler must be one of"):
        AudioConfig(resampler="kaiser_best")
    with pytest.raises(ConfigError, match="tempo must be one of"):
        AudioConfig(tempo="median")

    def key(cfg: AudioConfig) -> str:
        return build(["audio"], {"audio": cfg})[0].cache_key()

    assert len({key(AudioConfig()), key(AudioConfig(protocol="paper"))}) == 2
    assert key(AudioConfig(resampler="swresample")) != key(AudioConfig())
    assert key(AudioConfig(tempo="global")) == key(AudioConfig(protocol="paper"))


def test_tone_gain_of_the_soxr_route():
    # soxr_hq passes speech frequencies whole up to 10 kHz at 44.1 -> 22.05 kHz
    assert tone_gain(1000.0) == pytest.approx(1.0, abs=0.01)
    assert tone_gain(10000.0) == pytest.approx(1.0, abs=0.01)
    assert tone_gain(10900.0) < 0.5  # near Nyquist (11.025 kHz) it cuts
