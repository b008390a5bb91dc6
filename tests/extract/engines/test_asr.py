"""Speech recognition (Whisper base via faster-whisper): model files, transcripts, WER."""

from __future__ import annotations

import json

import numpy as np
import pytest

from msa_lib.config import ConfigError
from msa_lib.extract.base import Segment
from msa_lib.extract.engines import asr
from msa_lib.extract.engines.asr import (
    AsrConfig,
    AsrError,
    Transcript,
    Word,
    normalise,
    transcribe,
    transcribe_segments,
    wer,
)
from msa_lib.extract.engines.media import MediaError, NoAudioError

SAID = "this movie was surprisingly good"  # what tests/media.py's speech_clip says


def test_normalise_and_wer():
    assert (
        normalise("Now, I'm NOT even -- gonna sugar-coat it!")
        == "now im not even gonna sugar coat it"
    )
    assert wer("I MEAN THAT WAS IMPRESSIVE", "I mean, that was impressive.") == 0.0
    assert wer("AND HE IS ONE", "And he's one") == pytest.approx(2 / 4)  # he's vs he is
    assert wer("a b c d", "") == 1.0
    with pytest.raises(AsrError, match="empty"):
        wer(" ... ", "anything")


def test_word_differences():
    assert asr.word_differences("NOW IM GONNA SUGAR COAT IT", "Now I'm going to sugarcoat it.") == [
        "gonna sugar coat -> going to sugarcoat"
    ]
    assert asr.word_differences("a b c", "a c d") == ["b -> -", "- -> d"]
    assert asr.word_differences("same words", "Same, words!") == []


def test_words_between_times():
    words = tuple(
        Word(t, s, e, 1.0) for t, s, e in [("a", 0.0, 0.4), ("b", 0.9, 1.3), ("c", 2.0, 2.2)]
    )
    tr = Transcript("a b c", words, "en", False, 0.0, 3.0)
    assert tr.between(0.0, 1.0) == "a"  # b's midpoint (1.1) is after 1.0
    assert tr.between(1.0, None) == "b c"
    assert tr.between(None, None) == "a b c"
    assert Transcript.from_dict(json.loads(json.dumps(tr.as_dict()))) == tr


def test_config_checks():
    with pytest.raises(ConfigError, match="cpu_threads"):
        AsrConfig(cpu_threads=0)
    with pytest.raises(ConfigError, match="no_speech_threshold"):
        AsrConfig(no_speech_threshold=0)


def test_packaged_model_is_joined_once_and_hash_checked(tmp_path):
    dest = asr.assemble_packaged(tmp_path / "w")
    model = dest / "model.bin"
    assert asr.sha256_of(model) == asr.MODEL_SHA256
    assert {p.name for p in dest.iterdir()} >= {"model.bin", *asr.SIDE_FILES}
    mtime = model.stat().st_mtime_ns
    assert asr.assemble_packaged(tmp_path / "w") == dest and model.stat().st_mtime_ns == mtime
    # a changed file is noticed (size/mtime stamp) and joined again from the packages
    with open(model, "ab") as f:
        f.write(b"x")
    asr.assemble_packaged(tmp_path / "w")
    assert asr.sha256_of(model) == asr.MODEL_SHA256


def test_wrong_hash_is_an_error_naming_the_parts(tmp_path, monkeypatch):
    monkeypatch.setattr(asr, "MODEL_SHA256", "0" * 64)
    with pytest.raises(AsrError, match=r"model\.bin\.part1 .*model\.bin\.part2: joined model\.bin"):
        asr.assemble_packaged(tmp_path / "bad")
    assert not (tmp_path / "bad" / "model.bin").exists()
    assert list((tmp_path / "bad").glob("model.bin*")) == []  # no temp file left behind


def test_a_folder_without_model_bin_is_refused(tmp_path):
    with pytest.raises(AsrError, match="no model.bin"):
        asr.resolve_asr_model(str(tmp_path))


def test_speech_is_transcribed_with_word_times(speech_clip):
    tr = transcribe(speech_clip)
    assert not tr.no_speech and tr.language == "en"
    assert wer(SAID, tr.text) <= 0.4, tr.text
    starts = [w.start for w in tr.words]
    assert starts == sorted(starts) and 0 <= starts[0] and tr.words[-1].end <= tr.end + 0.5
    assert asr.load_model() is asr.load_model()  # loaded once per process


def test_a_window_shifts_word_times(speech_clip):
    tr = transcribe(speech_clip, start=0.5)
    assert tr.start == 0.5 and all(w.start >= 0.5 for w in tr.words)
    with pytest.raises(MediaError, match="speech.mp4"):
        transcribe(speech_clip, start=60.0)


def test_silence_is_no_speech_not_an_error(silent_clip):
    tr = transcribe(silent_clip)
    assert tr.no_speech and tr.text == "" and tr.words == ()
    quiet = np.random.default_rng(0).normal(0, 2e-4, 32000).astype(np.float32)  # room noise
    tr = transcribe(quiet)  # Whisper alone hears " You" here
    assert tr.no_speech and tr.text == ""


def test_a_tone_is_no_speech(face_clip):
    tr = transcribe(face_clip)  # a voice-like tone: Whisper alone loops on "I'm sorry"
    assert tr.no_speech and tr.text == ""


def test_no_audio_track_is_an_error_naming_the_file(no_audio_clip):
    with pytest.raises(NoAudioError, match=str(no_audio_clip)):
        transcribe(no_audio_clip)


def test_segments_of_one_file_are_heard_once(speech_clip, tmp_path, monkeypatch):
    segs = [
        Segment("a", "v", str(speech_clip), start=-0.2, end=1.0),  # tables hold such times
        Segment("b", "v", str(speech_clip), start=1.0, end=9.0),  # past the file's end
        Segment("c", "v", str(speech_clip), text="given"),
        Segment("d", "v", None),
    ]
    out, summary = transcribe_segments(segs, cache_dir=tmp_path)
    assert summary["n_files"] == 1 and summary["n_segments"] == 2
    assert out[2].text == "given" and out[3].text is None
    heard = f"{out[0].text} {out[1].text}"
    assert wer(SAID, heard) <= 0.4, heard
    assert len(list((tmp_path / "asr").glob("*.json"))) == 1
    # a second run reads the cache and never calls the model
    monkeypatch.setattr(asr, "transcribe", lambda *a, **k: pytest.fail("not cached"))
    again, _ = transcribe_segments(segs, cache_dir=tmp_path)
    assert [s.text for s in again] == [s.text for s in out]


def test_a_file_without_audio_leaves_its_segments_without_text(no_audio_clip):
    out, summary = transcribe_segments([Segment("m", "m", str(no_audio_clip))])
    assert out[0].text is None and str(no_audio_clip) in summary["failed"]


def test_extract_gets_text_features_from_speech_of_a_source_video(speech_clip, tmp_path, capsys):
    import shutil

    from msa_lib.cli import main
    from msa_lib.data import FeatureSet

    media = tmp_path / "raw"
    media.mkdir()
    shutil.copy(speech_clip, media / "vid.mp4")
    table = tmp_path / "segments.csv"  # MOSEI-like: times in the source video, no text column
    table.write_text(
        "segment_id,video_id,start,end,label,split\nvid_0,vid,0.0,1.0,1.0,train\n"
        "vid_1,vid,1.0,2.0,-1.0,test\n"
    )
    base = ["extract", str(table), "--media", str(media), "--extractors", "glove", "--json"]
    assert main([*base, "--out", str(tmp_path / "plain"), "--no-progress"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["skipped"]["glove"] == 2 and "asr" not in plain  # no transcript, no text
    assert main([*base, "--out", str(tmp_path / "asr"), "--no-progress", "--asr"]) == 0
    heard = json.loads(capsys.readouterr().out)
    assert heard["asr"]["n_files"] == 1 and heard["asr"]["n_segments"] == 2
    fs = FeatureSet.load(heard["extractors"]["glove"]["file"])
    assert list(fs.segment_id) == ["vid_0", "vid_1"] and not fs.missing("glove").any()


# ----------------------------------------------------------------- sounds that are not speech
NOT_SPEECH_SR = 16000


def not_speech(kind: str, seconds: float) -> np.ndarray:
    """Generated non-speech at 16 kHz: a pure tone, white or pink noise, or digital silence."""
    rng = np.random.default_rng(int(seconds))
    n = int(seconds * NOT_SPEECH_SR)
    t = np.arange(n) / NOT_SPEECH_SR
    if kind.startswith("tone"):  # "tone440": 440 Hz at half scale
        return (0.5 * np.sin(2 * np.pi * float(kind[4:]) * t)).astype(np.float32)
    if kind == "white":
        return (0.15 * rng.standard_normal(n)).astype(np.float32)
    if kind == "pink":  # 1/f power: louder in the speech band than white noise
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        y = np.fft.irfft(spectrum, n)
        return (0.15 * y / y.std()).astype(np.float32)
    if kind == "silence":
        return np.zeros(n, np.float32)
    raise ValueError(kind)


@pytest.mark.parametrize("seconds", [2, 10, 60])
@pytest.mark.parametrize("kind", ["tone440", "tone1000", "tone3000", "white", "pink", "silence"])
def test_tones_noise_and_silence_are_no_speech(kind, seconds):
    # without the voice-activity filter, Whisper base hears "I'm going to do a little bit more
    # on the other side of the other side..." in 10 s of a 1 kHz tone
    tr = transcribe(not_speech(kind, seconds))
    assert tr.no_speech and tr.text == "" and tr.words == (), (kind, seconds, tr.text)


def test_ten_minutes_of_tone_are_no_speech_and_fast():
    tr = transcribe(not_speech("tone440", 600))
    assert tr.no_speech and tr.text == ""
    # the filter finds no speech, so no 30-s window is decoded (Whisper alone: 78 s on 2 cores)
    assert tr.seconds < 30


def test_vad_settings_are_checked():
    with pytest.raises(ConfigError, match="vad_threshold"):
        AsrConfig(vad_threshold=1.5)
    assert AsrConfig().vad_filter  # on by default


def test_a_tone_clip_gets_a_missing_text_row_from_extract_asr(speech_clip, tmp_path, capsys):
    import shutil

    from msa_lib.cli import main
    from msa_lib.data import FeatureSet
    from msa_lib.extract.engines.media import write_media

    clips = tmp_path / "clips"
    write_media(clips / "tone.mp4", audio=not_speech("tone1000", 10), sample_rate=NOT_SPEECH_SR)
    shutil.copy(speech_clip, clips / "speech.mp4")
    out = tmp_path / "o"
    args = ["extract", str(clips), "--out", str(out), "--extractors", "glove", "--asr"]
    assert main([*args, "--json", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["asr"]["n_segments"] == 2 and summary["asr"]["n_no_speech"] == 1
    glove = FeatureSet.load(out / "glove.h5")
    missing = dict(zip(glove.segment_id, glove.missing("glove")))
    assert missing == {"speech": False, "tone": True}


# Whisper base (int8, beam 5, temperature 0) on the data folder's clips: the accepted transcripts.
# CTranslate2's int8 kernels round by the CPU's instruction set, and one contraction differs
# between the machines measured (an Intel CPU wrote "he is", an AMD EPYC "he's").
REAL_TRANSCRIPTS = {
    "0h-zjBukYpk_2": (
        "Now, I'm not even going to sugarcoat this, this movie frustrated me to such "
        "an extreme extent that I was loudly exclaiming why at the end of the film.",
    ),
    "0h-zjBukYpk_24": ("I mean, that was impressive.",),
    "Sqr0AcuoNnk_12": (
        "And he is one of my favorite actors ever.",
        "And he's one of my favorite actors ever.",
    ),
}


def test_the_real_clips_transcripts_are_unchanged_by_the_speech_filter(real_data_dir):
    clips = sorted((real_data_dir / "raw" / "mosi").glob("*.mp4"))
    if not clips:
        pytest.skip("no raw MOSI clips in the data folder")
    assert {p.stem for p in clips} == set(REAL_TRANSCRIPTS)
    for clip in clips:
        with_filter = transcribe(clip)
        assert with_filter.text in REAL_TRANSCRIPTS[clip.stem]
        without = transcribe(clip, cfg=AsrConfig(vad_filter=False))
        assert with_filter.words == without.words  # the same words at the same times
