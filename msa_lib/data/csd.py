"""CMU computational sequences (.csd): read and write through mmsdk, average over time per segment.

A .csd file maps an entry key (a video id, or a segment id such as ``vid[3]`` after alignment) to
``features [T, d]`` and ``intervals [T, 2]`` (seconds). :func:`average_segments` turns one file into
one ``[n_segments, d]`` matrix: a segment takes the frames of its own key when the file has one,
else the frames of its video whose intervals overlap the segment's ``[start, end]``.

Non-finite values (COVAREP writes ``-inf`` for undefined frames) are handled per value: each
column is averaged over its finite values only. A column with no finite value in a segment is set
to 0 and counted. A segment with no frames, or no finite value at all, gets a NaN row (the
FeatureSet's "missing modality" marker) and is counted; nothing is dropped silently.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.io.atomic import atomic_path

log = logging.getLogger(__name__)


class CsdError(ValueError):
    """A .csd file is unreadable or inconsistent."""


@dataclass
class AverageReport:
    """What averaging one .csd file over segments found."""

    path: str
    n_segments: int = 0
    n_by_key: int = 0  # segments whose own key is in the file
    n_by_interval: int = 0  # segments cut from their video's frames by start/end
    n_missing: int = 0  # no entry for the segment or its video
    n_empty: int = 0  # an entry, but no frames in the segment
    n_all_nonfinite: int = 0  # frames, but not one finite value
    n_nonfinite_values: int = 0  # individual -inf/NaN values left out of a mean
    n_zero_filled: int = 0  # (segment, column) pairs with no finite value, set to 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, kind: str, segment_id: str) -> None:
        """Count a problem of ``kind`` and keep the first few segment ids as examples."""
        setattr(self, kind, getattr(self, kind) + 1)
        ex = self.examples.setdefault(kind, [])
        if len(ex) < 5:
            ex.append(segment_id)

    @property
    def n_nan_rows(self) -> int:
        """Segments whose row is missing (NaN)."""
        return self.n_missing + self.n_empty + self.n_all_nonfinite

    def as_dict(self) -> dict:
        """Plain dict for tables and JSON."""
        return {k: v for k, v in self.__dict__.items()}


@contextlib.contextmanager
def _quiet():
    """Silence mmsdk's status printing and progress bars (it prints on every call)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def open_csd(path: str | os.PathLike):
    """Open a .csd file with mmsdk; entries stay on disk until read. Errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise CsdError(f"{path}: .csd file not found")
    if path.suffix != ".csd":
        # mmsdk treats any name without '.csd' as a request for a new blank sequence.
        raise CsdError(f"{path}: expected a file ending in .csd")
    from mmsdk.mmdatasdk import computational_sequence

    try:
        with _quiet():
            return computational_sequence(str(path))
    except Exception as exc:  # mmsdk raises bare RuntimeError/KeyError/OSError
        raise CsdError(f"{path}: not a valid computational sequence ({exc})") from exc


def read_entry(seq, key: str, path: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Features ``[T, d]`` (float64) and intervals ``[T, 2]`` of one entry."""
    entry = seq.data[key]
    try:
        feats = np.asarray(entry["features"][...], dtype=np.float64)
        ivals = np.asarray(entry["intervals"][...], dtype=np.float64)
    except (OSError, ValueError, KeyError) as exc:  # h5py: a corrupt chunk fails in its filter
        raise CsdError(
            f"{path}: entry '{key}' cannot be read ({exc}); the file is damaged"
        ) from exc
    if feats.ndim == 1:
        feats = feats[:, None]
    if feats.shape[0] != ivals.shape[0]:
        raise CsdError(
            f"{path}: entry '{key}' has {feats.shape[0]} feature rows but "
            f"{ivals.shape[0]} intervals"
        )
    return feats, ivals


def csd_dim(seq, path: str = "") -> int:
    """Feature width of a sequence, read from its first entry."""
    keys = list(seq.data.keys())
    if not keys:
        raise CsdError(f"{path}: the computational sequence has no entries")
    shape = seq.data[keys[0]]["features"].shape
    return int(shape[1]) if len(shape) > 1 else 1


def finite_mean(frames: np.ndarray) -> tuple[np.ndarray | None, int, int]:
    """Column means over finite values; returns (mean or None, n_nonfinite, n_zero_filled)."""
    if frames.shape[0] == 0:
        return None, 0, 0
    finite = np.isfinite(frames)
    if not finite.any():
        return None, int(frames.size), 0
    counts = finite.sum(axis=0)
    sums = np.where(finite, frames, 0.0).sum(axis=0)
    mean = np.divide(sums, counts, out=np.zeros(frames.shape[1]), where=counts > 0)
    return mean, int((~finite).sum()), int((counts == 0).sum())


def average_segments(
    path: str | os.PathLike, segments: pd.DataFrame
) -> tuple[np.ndarray, AverageReport]:
    """Average one .csd file into a float32 ``[len(segments), d]`` matrix (NaN rows = missing)."""
    for col in ("segment_id", "video_id", "start", "end"):
        if col not in segments.columns:
            raise CsdError(f"segments table lacks column '{col}' needed to read {path}")
    seq = open_csd(path)
    spath = str(path)
    dim = csd_dim(seq, spath)
    keys = set(seq.data.keys())
    out = np.full((len(segments), dim), np.nan, dtype=np.float32)
    report = AverageReport(path=spath, n_segments=len(segments))
    seg_ids = segments["segment_id"].astype(str).to_numpy()
    # Entries are read once per video, not once per segment.
    for vid, rows in segments.groupby(segments["video_id"].astype(str), sort=False).indices.items():
        cache: tuple[np.ndarray, np.ndarray] | None = None
        for i in rows:
            sid = seg_ids[i]
            if sid in keys:
                frames, _ = read_entry(seq, sid, spath)
                report.n_by_key += 1
            elif vid in keys:
                if cache is None:
                    cache = read_entry(seq, vid, spath)
                feats, ivals = cache
                start, end = float(segments["start"].iat[i]), float(segments["end"].iat[i])
                frames = feats[(ivals[:, 0] < end) & (ivals[:, 1] > start)]
                report.n_by_interval += 1
            else:
                report.note("n_missing", sid)
                continue
            if frames.shape[1] != dim:
                raise CsdError(f"{spath}: entry for '{sid}' has width {frames.shape[1]}, not {dim}")
            mean, n_bad, n_zero = finite_mean(frames)
            report.n_nonfinite_values += n_bad
            if mean is None:
                report.note("n_empty" if frames.shape[0] == 0 else "n_all_nonfinite", sid)
                continue
            report.n_zero_filled += n_zero
            out[i] = mean
    if report.n_nan_rows:
        log.warning(
            "%s: %d of %d segments have no usable frames (missing %d, empty %d, all non-finite %d)"
            "; their rows are NaN (missing modality). Examples: %s",
            spath,
            report.n_nan_rows,
            report.n_segments,
            report.n_missing,
            report.n_empty,
            report.n_all_nonfinite,
            report.examples,
        )
    return out, report


CSD_METADATA_KEYS = (
    "root name",
    "computational sequence description",
    "computational sequence version",
    "alignment compatible",
    "dataset name",
    "dataset version",
    "creator",
    "contact",
    "featureset bib citation",
    "dataset bib citation",
)


def write_csd(
    path: str | os.PathLike,
    entries: Mapping[str, tuple[np.ndarray, np.ndarray]],
    root_name: str,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``{key: (features, intervals)}`` as a .csd file through mmsdk, atomically."""
    from mmsdk.mmdatasdk import computational_sequence

    path = Path(path)
    if path.suffix != ".csd":
        raise CsdError(f"{path}: a computational sequence file must end in .csd")
    meta = {k: "" for k in CSD_METADATA_KEYS}
    meta.update({"root name": root_name, "alignment compatible": "True"})
    meta.update(dict(metadata or {}))
    data = {
        str(k): {
            "features": np.asarray(f, dtype=np.float32),
            "intervals": np.asarray(iv, dtype=np.float64).reshape(-1, 2),
        }
        for k, (f, iv) in entries.items()
    }
    with atomic_path(path, suffix=".tmp.csd") as tmp, _quiet():
        seq = computational_sequence(root_name)
        seq.setData(data, root_name)
        seq.setMetadata(meta, root_name)
        seq.deploy(str(tmp))
    return path
