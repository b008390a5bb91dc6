"""Temporal alignment (§3.5): a corpus's .csd sequences brought to a fixed number of steps.

Each segment's frames of every modality become ``steps`` (30) aligned steps:

- audio frames: adaptive average pooling to the visual frame count, which the paper fixes at 30;
  the visual frames are brought to that count the same way (unchanged when there are exactly 30);
- text token states: linear interpolation to the same count.

Pooling is ``torch.nn.functional.adaptive_avg_pool1d`` (step ``i`` averages input frames
``floor(i T / steps)`` to ``ceil((i + 1) T / steps)``; with fewer frames than steps, frames repeat),
interpolation ``torch.nn.functional.interpolate`` (linear, ``align_corners=True``: the first and last
steps are the first and last frames). Defects follow the averaged features' rules
(:mod:`msa_lib.data.csd`): a frame with no finite value is dropped, another non-finite value takes
its column's finite mean over the segment, and a segment without a usable frame is a missing
modality (a NaN row).

Aligned sequences are stored as a :class:`~msa_lib.data.featureset.FeatureSet` whose rows are
the ``steps x width`` frames flattened, so splits, missing rows and the training-split standardiser
are the ones every other model uses; ``meta[m].params`` records ``steps`` and the frame ``width``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from msa_lib.config import TemporalConfig
from msa_lib.data.csd import csd_dim, open_csd, read_entry
from msa_lib.data.featureset import FeatureSet, FeatureSetError, ModalityMeta

ALIGN = {"visual": "pool", "audio": "pool", "text": "interpolate"}  # §3.5


def adaptive_pool(frames: np.ndarray, steps: int) -> np.ndarray:
    """``[T, d]`` frames averaged into ``[steps, d]`` by adaptive average pooling."""
    x = torch.as_tensor(np.asarray(frames, np.float32)).T.unsqueeze(0)  # [1, d, T]
    return F.adaptive_avg_pool1d(x, steps)[0].T.numpy()


def linear_resample(frames: np.ndarray, steps: int) -> np.ndarray:
    """``[T, d]`` frames linearly interpolated to ``[steps, d]`` (first and last frames kept)."""
    x = np.asarray(frames, np.float32)
    if len(x) == 1:
        return np.repeat(x, steps, axis=0)
    t = torch.as_tensor(x).T.unsqueeze(0)
    return F.interpolate(t, size=steps, mode="linear", align_corners=True)[0].T.numpy()


def clean_frames(frames: np.ndarray) -> np.ndarray:
    """Frames without defects: all-non-finite frames dropped, other gaps filled by the column mean."""
    x = np.asarray(frames, np.float64)
    x = x[np.isfinite(x).any(axis=1)] if len(x) else x
    finite = np.isfinite(x)
    if finite.all():
        return x.astype(np.float32)
    counts = finite.sum(axis=0)
    means = np.divide(
        np.where(finite, x, 0).sum(axis=0), counts, out=np.zeros(x.shape[1]), where=counts > 0
    )
    return np.where(finite, x, means).astype(np.float32)


def align(frames: np.ndarray, steps: int, method: str) -> np.ndarray | None:
    """One modality's frames of one segment at ``steps`` steps, or None with no usable frame."""
    x = clean_frames(frames)
    if len(x) == 0:
        return None
    if method == "pool":
        return adaptive_pool(x, steps)
    if method == "interpolate":
        return linear_resample(x, steps)
    raise ValueError(f"unknown alignment '{method}' (known: pool, interpolate)")


def segment_frames(path: str | Path, segments: pd.DataFrame) -> list[np.ndarray]:
    """Each segment's frames ``[T, d]`` in one .csd file (``T`` may be 0).

    The selection is :func:`msa_lib.data.csd.average_segments`' rule: the segment's own entry when
    the file has one, else its video's frames whose intervals overlap ``[start, end]``.
    """
    seq = open_csd(path)
    dim, keys, spath = csd_dim(seq, str(path)), set(seq.data.keys()), str(path)
    out = [np.zeros((0, dim), np.float32)] * len(segments)
    by_video = segments.groupby(segments["video_id"].astype(str), sort=False).indices
    for vid, rows in by_video.items():
        video = read_entry(seq, vid, spath) if vid in keys else None
        for i in rows:
            sid = str(segments["segment_id"].iat[i])
            if sid in keys:
                out[i] = read_entry(seq, sid, spath)[0]
            elif video is not None:
                feats, ivals = video
                start, end = float(segments["start"].iat[i]), float(segments["end"].iat[i])
                out[i] = feats[(ivals[:, 0] < end) & (ivals[:, 1] > start)]
    return out


def aligned_features(
    folder,
    corpus: str = "mosi",
    modalities: Sequence[str] = ("visual", "audio", "text"),
    config: TemporalConfig = TemporalConfig(),
) -> tuple[FeatureSet, pd.DataFrame]:
    """The corpus's .csd sequences aligned to ``config.steps`` (flattened rows) and frame counts.

    The rows are the segments :meth:`~msa_lib.data.folder.DataFolder.features` averages (the
    same order), so the averaged model and the temporal model see the same segments. The frame
    table gives, per modality, the median, min and max frames per segment before alignment.
    """
    files, seg = folder.csd_segments(corpus, modalities)
    feats, meta, counts = {}, {}, []
    for m in modalities:
        frames = segment_frames(files[m], seg)
        width = frames[0].shape[1]
        x = np.full((len(seg), config.steps * width), np.nan, np.float32)
        for i, f in enumerate(frames):
            a = align(f, config.steps, ALIGN[m])
            if a is not None:
                x[i] = a.ravel()
        n = np.array([len(f) for f in frames])
        counts.append(
            {
                "modality": m,
                "alignment": ALIGN[m],
                "frames median": float(np.median(n)),
                "frames min": int(n.min()),
                "frames max": int(n.max()),
                "missing": int(np.isnan(x).all(axis=1).sum()),
            }
        )
        feats[m] = x
        meta[m] = ModalityMeta(
            extractor=files[m].stem,
            version="csd",
            params={"steps": config.steps, "width": width, "alignment": ALIGN[m]},
        )
    fs = folder.feature_set(corpus, seg, feats, meta, f"{folder.root} ({corpus}, aligned)")
    return fs, pd.DataFrame(counts)


def frame_width(fs: FeatureSet, modality: str, steps: int) -> int:
    """Width of one frame of an aligned (flattened) modality; an error if it does not divide."""
    total = fs.dims[modality]
    if total % steps:
        raise FeatureSetError(
            f"{fs.corpus or 'FeatureSet'}: modality '{modality}' has {total} columns, not a "
            f"multiple of {steps} steps; is it an aligned sequence set?"
        )
    return total // steps


def time_average(fs: FeatureSet, steps: int) -> FeatureSet:
    """An aligned set averaged over its steps: one ``[n, width]`` vector per modality."""
    feats = {
        m: x.reshape(len(fs), steps, frame_width(fs, m, steps)).mean(axis=1)
        for m, x in fs.features.items()
    }
    return dataclasses.replace(
        fs, features=feats, meta={m: ModalityMeta("time average") for m in feats}
    )
