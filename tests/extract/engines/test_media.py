"""PyAV decoding: probing, audio windows, streamed frames, broken files."""

from __future__ import annotations

import numpy as np
import pytest

from msa_lib.extract.engines.media import (
    MediaError,
    NoAudioError,
    check_window,
    iter_frames,
    prefetch,
    probe,
    read_audio,
    sample_times,
    write_media,
)

SR = 22050


def test_probe_describes_streams(face_clip, no_audio_clip):
    info = probe(face_clip)
    assert info.has_audio and info.has_video
    assert info.fps == pytest.approx(15.0)
    assert info.duration == pytest.approx(2.0, abs=0.15)
    assert (info.width, info.height) == (256, 256)
    assert not probe(no_audio_clip).has_audio


def test_audio_window_matches_slice_of_whole(long_tone_clip):
    whole = read_audio(long_tone_clip, SR)
    part = read_audio(long_tone_clip, SR, start=2.0, duration=1.0)
    assert len(part) == SR
    # the seek lands on the same samples as reading from the start and slicing
    np.testing.assert_allclose(part, whole[2 * SR : 3 * SR], atol=1e-4)
    assert np.abs(part).max() > 0.05


def test_audio_resampled_to_requested_rate(face_clip):
    y16 = read_audio(face_clip, 16000, duration=1.0)
    assert len(y16) == 16000 and y16.dtype == np.float32


def test_no_audio_track_is_named(no_audio_clip):
    with pytest.raises(NoAudioError, match="no audio track"):
        read_audio(no_audio_clip, SR)


@pytest.mark.parametrize(
    "fixture,message", [("zero_byte_clip", "empty"), ("corrupt_clip", "not a readable media file")]
)
def test_broken_files_raise_media_error_naming_file(request, fixture, message):
    path = request.getfixturevalue(fixture)
    with pytest.raises(MediaError, match=message) as err:
        probe(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        probe(tmp_path / "nope.mp4")


def test_frames_first_n_and_sampled(face_clip):
    first = list(iter_frames(face_clip, max_frames=7))
    assert len(first) == 7 and first[0].time == pytest.approx(0.0, abs=1e-3)
    assert all(b.time > a.time for a, b in zip(first, first[1:]))
    times = sample_times(0.0, 2.0, 5.0)
    sampled = list(iter_frames(face_clip, 0.0, 2.0, times=times))
    assert len(sampled) == len(times) == 10
    # each sampled frame is the one on screen at its target time (15 fps: within 1/15 s)
    assert np.all(np.abs(np.array([f.time for f in sampled]) - times) <= 1 / 15 + 1e-6)


def test_frame_window_by_time(long_tone_clip):
    frames = list(iter_frames(long_tone_clip, 2.0, 3.0))
    assert len(frames) == 10
    assert frames[0].time == pytest.approx(2.0, abs=0.051)


def test_probe_sees_a_file_rewritten_in_place(tmp_path):
    # probe keeps its answer per file; a new version of the file (size, mtime) is probed anew
    img = np.zeros((64, 64, 3), np.uint8)
    clip = write_media(tmp_path / "clip.mp4", [img] * 10, fps=10)
    assert probe(clip).duration == pytest.approx(1.0, abs=0.15)
    write_media(clip, [img] * 30, fps=10)
    assert probe(clip).duration == pytest.approx(3.0, abs=0.15)
    clip.unlink()
    with pytest.raises(MediaError, match="clip.mp4: file not found"):
        probe(clip)


def test_odd_width_frames_are_contiguous(tmp_path):
    # widths whose RGB rows are not a multiple of the line alignment come back row-padded from
    # FFmpeg; MediaPipe reads buffers as contiguous, so padded rows would scramble the image
    img = np.random.default_rng(0).integers(0, 255, (120, 250, 3), dtype=np.uint8)
    p = write_media(tmp_path / "odd.mp4", [img] * 3, fps=10)
    f = next(iter_frames(p))
    assert f.rgb.shape == (120, 250, 3) and f.rgb.flags["C_CONTIGUOUS"]


def test_check_window_outside_the_video(face_clip):
    info = probe(face_clip)
    with pytest.raises(MediaError, match="beyond the end"):
        check_window(info, 10.0, 12.0, "s1")
    with pytest.raises(MediaError, match="beyond the end"):
        check_window(info, 0.5, 9.0, "s1")
    with pytest.raises(MediaError, match="invalid times"):
        check_window(info, 1.5, 1.0, "s1")
    # a small overhang (rounding in segment tables) is clipped
    assert check_window(info, 1.0, info.duration + 0.2) == (1.0, info.duration)


def test_prefetch_keeps_order_and_raises_where_the_source_failed():
    def source():
        yield from range(10)
        raise MediaError("clip.mp4: video stream cannot be decoded")

    got = []
    with pytest.raises(MediaError, match="clip.mp4: video stream cannot be decoded"):
        for x in prefetch(source(), depth=2):
            got.append(x)
    assert got == list(range(10))


def test_prefetch_stops_and_closes_the_source_when_the_consumer_stops(face_clip):
    closed = []

    def source():
        try:
            yield from iter_frames(face_clip)
        finally:
            closed.append(True)

    frames = prefetch(source(), depth=2)
    first = next(frames)
    frames.close()  # the consumer stops after one frame (as an exception in its loop would)
    assert first.index == 0 and closed == [True]
    assert [f.index for f in prefetch(iter_frames(face_clip, max_frames=5))] == [0, 1, 2, 3, 4]
