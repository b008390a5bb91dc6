"""Reading raw media with PyAV (which bundles FFmpeg): probe, decode audio, stream video frames.

There is no system ``ffmpeg`` on the project's machines and no subprocess is used: PyAV decodes
audio and video in process, seeks by time, and yields video frames one at a time so that memory
stays flat in clip length. Every error names the file and the problem.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import av
import numpy as np

# A segment may overhang the end of its video by this much (rounding in segment tables) before it
# is an error; the overhang is clipped.
END_TOLERANCE_S = 0.5
# A file whose streams end this much before the duration its header declares (both: more than
# 0.5 s and more than 10% of it) counts as truncated, e.g. by an interrupted download.
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_FRAC = 0.10
# Audio is decoded from this far before a window's start: a PCM seek lands on the very sample
# asked for (librosa's window may begin one sample earlier), and an AAC decoder needs the frame
# before a window to rebuild its first frame (the transform overlaps frames).
AUDIO_PREROLL_S = 0.1


class MediaError(ValueError):
    """A media file cannot be read, or lacks what an extractor needs."""


class NoAudioError(MediaError):
    """The file has no audio stream."""


class NoVideoError(MediaError):
    """The file has no video stream."""


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds."""

    path: Path
    duration: float  # seconds (container duration, else the longest stream)
    has_audio: bool
    has_video: bool
    fps: float | None
    n_frames: int | None
    width: int | None
    height: int | None
    sample_rate: int | None


@dataclass(frozen=True)
class VideoFrame:
    """One decoded RGB frame and its time (seconds from the start of the file)."""

    time: float
    index: int  # index among decoded frames of the requested window
    rgb: np.ndarray  # [height, width, 3] uint8


def _open(path: str | os.PathLike) -> av.container.InputContainer:
    """Open a media file; a missing, empty or unreadable file is a MediaError naming it."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: file is empty (0 bytes)")
    try:
        return av.open(str(path))
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: not a readable media file ({exc})") from exc


def probe(path: str | os.PathLike) -> MediaInfo:
    """Duration, streams, frame rate and size of a media file (read once per file and version).

    Every extractor probes the file it reads, and a worker reads a video once per segment: the
    answer is kept per process, keyed by path, size and modification time, so that a file is
    opened to probe it once, not once per extractor and segment.
    """
    path = Path(path)
    if not path.is_file():
        _open(path)  # raises the MediaError that names the problem
    st = path.stat()
    return _probe(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _probe(name: str, size: int, mtime_ns: int) -> MediaInfo:
    """``probe`` of one version of a file (``size`` and ``mtime_ns`` key the cache)."""
    path = Path(name)
    with _open(path) as c:
        v = c.streams.video[0] if c.streams.video else None
        a = c.streams.audio[0] if c.streams.audio else None
        durations = []
        if c.duration:
            durations.append(c.duration / av.time_base)
        for s in (v, a):
            if s is not None and s.duration and s.time_base:
                durations.append(float(s.duration * s.time_base))
        if v is None and a is None:
            raise MediaError(f"{path}: no audio or video stream")
        if not durations:
            raise MediaError(f"{path}: duration unknown (damaged file?)")
        fps = float(v.average_rate) if v is not None and v.average_rate else None
        return MediaInfo(
            path=path,
            duration=max(durations),
            has_audio=a is not None,
            has_video=v is not None,
            fps=fps,
            n_frames=int(v.frames) if v is not None and v.frames else None,
            width=v.codec_context.width if v is not None else None,
            height=v.codec_context.height if v is not None else None,
            sample_rate=a.codec_context.sample_rate if a is not None else None,
        )


@dataclass(frozen=True)
class Truncation:
    """A file whose decodable streams end well before its declared duration."""

    path: Path
    declared: float  # seconds, from the container/stream headers
    decodable: float  # seconds, where the last packet of the shortest stream ends

    def message(self, needed_end: float | None = None) -> str:
        """One line naming the file and both durations (and what a segment loses)."""
        msg = (
            f"{self.path}: truncated file: its header declares {self.declared:.2f} s but its "
            f"streams end at {self.decodable:.2f} s"
        )
        if needed_end is not None and needed_end > self.decodable + TRUNCATION_TOLERANCE_S:
            msg += (
                f"; the settings need media up to {needed_end:.2f} s, so the features come from "
                "the part that is there only"
            )
        return msg


@lru_cache(maxsize=64)
def _stream_end(path: str, size: int, mtime_ns: int) -> float:
    """Where the shortest audio/video stream's last packet ends (demuxed, not decoded)."""
    ends: dict[int, float] = {}
    with _open(path) as c:
        streams = [*c.streams.video[:1], *c.streams.audio[:1]]
        for s in streams:
            ends[s.index] = 0.0
        try:
            for pkt in c.demux(streams):
                if pkt.pts is None or pkt.time_base is None:
                    continue
                t = float((pkt.pts + (pkt.duration or 0)) * pkt.time_base)
                ends[pkt.stream.index] = max(ends[pkt.stream.index], t)
        except av.error.FFmpegError:
            pass  # a damaged tail: the packets read so far are what can be decoded
    return min(ends.values()) if ends else 0.0


def check_truncation(info: MediaInfo) -> Truncation | None:
    """A Truncation when the file's streams end well before its declared duration, else None."""
    st = os.stat(info.path)
    end = _stream_end(str(info.path), st.st_size, st.st_mtime_ns)
    short = info.duration - end
    if short > TRUNCATION_TOLERANCE_S and short > TRUNCATION_TOLERANCE_FRAC * info.duration:
        return Truncation(info.path, info.duration, end)
    return None


def check_window(
    info: MediaInfo, start: float | None, end: float | None, segment: str = ""
) -> tuple[float, float]:
    """Resolve a [start, end) window inside the file; times outside it are an error."""
    who = f"segment '{segment}' " if segment else ""
    s = 0.0 if start is None else float(start)
    e = info.duration if end is None else float(end)
    if not (math.isfinite(s) and math.isfinite(e)):
        raise MediaError(f"{info.path}: {who}has non-finite times [{start}, {end}]")
    if s < 0 or e < s:
        raise MediaError(f"{info.path}: {who}has invalid times [{s:.3f}, {e:.3f}] s")
    if s >= info.duration:
        raise MediaError(
            f"{info.path}: {who}starts at {s:.3f} s, beyond the end of the media "
            f"({info.duration:.3f} s)"
        )
    if e > info.duration + END_TOLERANCE_S:
        raise MediaError(
            f"{info.path}: {who}ends at {e:.3f} s, beyond the end of the media "
            f"({info.duration:.3f} s)"
        )
    return s, min(e, info.duration)


def _seek(c: av.container.InputContainer, t: float) -> None:
    """Seek to the last keyframe at or before ``t`` seconds (no-op near the start)."""
    if t > 0.5:
        c.seek(int(t * av.time_base), backward=True, any_frame=False)


def _decode_mono(
    path: Path, rate: int | None, start: float, end: float | None, partial_ok: bool
) -> tuple[np.ndarray, float, int]:
    """Mono float32 samples from the keyframe at or before ``start`` until past ``end``.

    ``rate`` None keeps the file's own rate (the resampler then only converts to float). Returns
    the samples, the time of the first one and the rate. Channels are averaged after any
    resampling, so with ``rate`` None they are averaged at the native rate, as ``librosa.load``
    does.
    """
    with _open(path) as c:
        if not c.streams.audio:
            raise NoAudioError(f"{path}: no audio track")
        stream = c.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", rate=rate)
        chunks: list[np.ndarray] = []
        first_time: float | None = None
        n = 0
        _seek(c, start - AUDIO_PREROLL_S)
        try:
            for packet in c.demux(stream):
                for frame in packet.decode():
                    if first_time is None:
                        first_time = float(frame.time) if frame.time is not None else 0.0
                        rate = rate or frame.sample_rate
                    for out in resampler.resample(frame):
                        x = out.to_ndarray().astype(np.float32, copy=False)
                        chunks.append(x.mean(axis=0) if x.ndim == 2 else x)
                        n += chunks[-1].shape[0]
                if end is not None and first_time is not None and first_time + n / rate > end:
                    break
            for out in resampler.resample(None):
                x = out.to_ndarray().astype(np.float32, copy=False)
                chunks.append(x.mean(axis=0) if x.ndim == 2 else x)
        except av.error.FFmpegError as exc:
            if not (partial_ok and chunks):
                raise MediaError(f"{path}: audio stream cannot be decoded ({exc})") from exc
        rate = rate or stream.codec_context.sample_rate
    y = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return y, first_time or 0.0, int(rate)


def read_audio(
    path: str | os.PathLike,
    sample_rate: int,
    start: float = 0.0,
    duration: float | None = None,
    partial_ok: bool = False,
) -> np.ndarray:
    """Mono float32 samples at ``sample_rate`` from ``start`` for ``duration`` s (None: to the end).

    With ``partial_ok`` (a file known to be truncated), a decoding error after some audio ends
    the read with what was decoded; otherwise it is a MediaError.

    Channels are averaged (as ``librosa.load(mono=True)`` does); resampling is FFmpeg's swresample.
    """
    path = Path(path)
    end = None if duration is None else start + duration
    y, t0, _ = _decode_mono(path, sample_rate, start, end, partial_ok)
    i0 = max(0, int(round((start - t0) * sample_rate)))
    i1 = len(y) if end is None else max(i0, int(round((end - t0) * sample_rate)))
    return np.ascontiguousarray(y[i0:i1])


def read_audio_native(
    path: str | os.PathLike,
    start: float = 0.0,
    duration: float | None = None,
    partial_ok: bool = False,
) -> tuple[np.ndarray, int]:
    """Mono float32 samples at the file's own rate, and that rate, as ``librosa.load(sr=None)``.

    The window is cut the way librosa cuts it: ``int(start * rate)`` samples skipped, then
    ``int(duration * rate)`` kept (None: to the end).
    """
    path = Path(path)
    end = None if duration is None else start + duration
    y, t0, rate = _decode_mono(path, None, start, end, partial_ok)
    i0 = max(0, int(start * rate) - int(round(t0 * rate)))  # t0: a whole sample (seek)
    i1 = len(y) if duration is None else i0 + int(duration * rate)
    return np.ascontiguousarray(y[i0:i1]), rate


def sample_times(start: float, end: float, fps: float) -> np.ndarray:
    """Times spread uniformly over [start, end) at ``fps`` (bin centres; at least one)."""
    n = max(1, int(math.ceil((end - start) * fps - 1e-9)))
    return start + (np.arange(n) + 0.5) * (end - start) / n


def iter_frames(
    path: str | os.PathLike,
    start: float = 0.0,
    end: float | None = None,
    max_frames: int | None = None,
    times: Sequence[float] | None = None,
    partial_ok: bool = False,
) -> Iterator[VideoFrame]:
    """Stream RGB frames of [start, end): the first ``max_frames``, or the first at/after each time.

    Frames are decoded one by one and never all held, so memory is flat in clip length. With
    ``times`` (sorted), one frame is yielded per time: the first frame shown at or after it.
    """
    path = Path(path)
    targets = None if times is None else np.asarray(times, dtype=float)
    with _open(path) as c:
        if not c.streams.video:
            raise NoVideoError(f"{path}: no video track")
        stream = c.streams.video[0]
        # one decoding thread: workers are the parallelism (FFmpeg's own threads would
        # oversubscribe the cores under --workers N, and cost more CPU per frame: 0.65 against
        # 0.8 ms for a 480 x 360 MOSI frame)
        stream.thread_count = 1
        fps = float(stream.average_rate) if stream.average_rate else 25.0
        _seek(c, start)
        k = 0  # next target
        count = 0
        decoded = 0
        try:
            for frame in c.decode(stream):
                decoded += 1
                t = float(frame.time) if frame.time is not None else decoded / fps
                # a frame shown at [t, t + 1/fps) covers ``start`` when t + 1/fps > start
                if t + 0.5 / fps < start:
                    continue
                if end is not None and t >= end:
                    break
                if targets is not None:
                    if k >= len(targets):
                        break
                    if t + 0.5 / fps < targets[k]:
                        continue
                    while k < len(targets) and t + 0.5 / fps >= targets[k]:
                        k += 1
                # rows of widths not a multiple of the line alignment carry padding: copy them
                # into a contiguous array (MediaPipe reads the buffer as contiguous)
                rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
                yield VideoFrame(time=t, index=count, rgb=rgb)
                count += 1
                if max_frames is not None and count >= max_frames:
                    break
        except av.error.FFmpegError as exc:
            if not (partial_ok and decoded):  # a truncated file: keep the frames decoded
                raise MediaError(f"{path}: video stream cannot be decoded ({exc})") from exc


T = TypeVar("T")
_DONE = object()  # the end of a prefetched stream


@dataclass(frozen=True)
class _Failure:
    """An exception raised by a prefetched iterator, carried to the consumer."""

    exc: BaseException


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Iterate ``items`` in a background thread, up to ``depth`` ahead of the consumer.

    Video decoding (FFmpeg, which releases the GIL) then runs while the caller's landmark model
    works on the previous frame. An exception in ``items`` is raised in the consumer at the point
    where it happened; a consumer that stops early (an exception, ``break``) stops the thread and
    closes ``items`` (and with it the file) before this returns.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(x: object) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for x in items:
                if not put(x):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="msa-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            x = q.get()
            if x is _DONE:
                return
            if isinstance(x, _Failure):
                raise x.exc
            yield x
    finally:
        stop.set()
        worker.join()


def write_media(
    path: str | os.PathLike,
    frames: Sequence[np.ndarray] | Iterator[np.ndarray] | None = None,
    fps: int = 25,
    audio: np.ndarray | None = None,
    sample_rate: int = 22050,
) -> Path:
    """Write an mp4 (H.264 video and/or AAC audio) from RGB frames and mono float samples.

    The index (``moov``) goes first, as in files made for streaming: a file cut short (an
    interrupted download) then still declares its full duration.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "faststart"} if path.suffix.lower() in (".mp4", ".m4v", ".mov") else {}
    with av.open(str(path), "w", options=options) as c:
        vs = as_ = None
        frames = None if frames is None else list(frames)
        if frames:
            h, w = frames[0].shape[:2]
            vs = c.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", fps)
            vs.width, vs.height, vs.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        if audio is not None:
            as_ = c.add_stream("aac", sample_rate)
            as_.layout = "mono"
        if vs is not None:
            for img in frames:
                img = np.ascontiguousarray(img[: vs.height, : vs.width, :3], dtype=np.uint8)
                for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(pkt)
            for pkt in vs.encode():
                c.mux(pkt)
        if as_ is not None:
            y = np.asarray(audio, dtype=np.float32).reshape(1, -1)
            step = 1024
            for i in range(0, y.shape[1], step):
                af = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(y[:, i : i + step]), format="fltp", layout="mono"
                )
                af.sample_rate = sample_rate
                af.pts = i
                for pkt in as_.encode(af):
                    c.mux(pkt)
            for pkt in as_.encode():
                c.mux(pkt)
    return path
