"""The visual-protocol studies (chapter 3): which frames are read, and the paper's code's choices.

:func:`frame_protocol_table` runs the paper's first ``max_frames`` frames and
``protocol="sampled"`` (frames spread over the whole segment) on every clip: frames read and with
a face, speed, and how far each vector is from the paper's. :func:`paper_code_comparison` runs
``protocol="paper"`` (the paper's public code) once per clip and applies other choices to the
same landmarks: the code's normalised coordinates against pixels, per column group, and the two
mouth-corner angles per clip; :func:`paper_choices_verdict` states what differs, as the chapter
says it.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msa_lib.config import VisualConfig
from msa_lib.extract.engines.media import probe
from msa_lib.extract.features.visual import (
    extract_visual,
    feature_names,
    features_from_landmarks,
    group_differences,
)

PROTOCOL_COLUMNS = [
    "segment_id",
    "duration_s",
    "protocol",
    "frames_read",
    "frames_with_face",
    "seconds",
    "frames_per_s",
    "x_real_time",
    "rel_diff_to_paper",
]
CHOICE_COLUMNS = [
    "segment_id",
    "frame",
    "frames_without_face",
    "angle_paper",
    "angle_ours",
    "same_sign",
]
ANGLE = "mouth_corner_angle"


def frame_protocols(
    first: VisualConfig = VisualConfig(), sampled: VisualConfig = VisualConfig(protocol="sampled")
) -> dict[str, VisualConfig]:
    """The two frame protocols by their table name: the paper's first frames, then sampled."""
    return {
        f"first {first.max_frames} frames": first,
        f"sampled: {sampled.sample_fps:g} per second": sampled,
    }


def relative_distance(vectors: np.ndarray, reference: Sequence[int]) -> np.ndarray:
    """Per row, ``|v - v_ref| / |v_ref|`` with ``v_ref`` the row ``reference[i]``."""
    v = np.asarray(vectors)
    ref = v[np.asarray(reference, dtype=int)]
    return np.array([float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(v, ref)])


def frame_protocol_table(
    segments: Sequence,
    first: VisualConfig = VisualConfig(),
    sampled: VisualConfig = VisualConfig(protocol="sampled"),
) -> pd.DataFrame:
    """Per clip (``segments``: objects with ``segment_id`` and ``media``) and protocol of
    :func:`frame_protocols`: duration, frames read and with a face, extraction seconds, frames
    per second, speed as a multiple of real time, and the relative distance of the vector to that
    of the first protocol (:func:`relative_distance`)."""
    rows, vectors, reference = [], [], []
    for s in segments:
        d = probe(s.media).duration
        ref = len(rows)
        for name, c in frame_protocols(first, sampled).items():
            t0 = time.perf_counter()
            r = extract_visual(s.media, cfg=c)
            sec = time.perf_counter() - t0
            rows.append(
                {
                    "segment_id": s.segment_id,
                    "duration_s": round(d, 2),
                    "protocol": name,
                    "frames_read": r.n_frames,
                    "frames_with_face": r.n_face_frames,
                    "seconds": round(sec, 3),
                    "frames_per_s": round(r.n_frames / sec, 1),
                    "x_real_time": round(d / sec, 1),
                }
            )
            vectors.append(r.vector)
            reference.append(ref)
    table = pd.DataFrame(rows, columns=PROTOCOL_COLUMNS[:-1])
    diff = relative_distance(np.stack(vectors), reference) if vectors else []
    return table.assign(rel_diff_to_paper=np.round(diff, 3))


@dataclass(frozen=True)
class PaperCodeComparison:
    """The paper's code's protocol against other choices on the same landmarks."""

    paper_vs_pixels: pd.DataFrame  # per column group: normalised coordinates against pixels
    choices: pd.DataFrame  # per clip: frame size, frames without a face, the two corner angles


def paper_code_comparison(
    segments: Sequence, ours: VisualConfig = VisualConfig()
) -> PaperCodeComparison:
    """``protocol="paper"`` on every clip, its landmarks also turned into features in pixels
    (everything else the paper's: :func:`group_differences` per column group) and with ``ours``
    (the corner angle of each, per clip). A clip without video frames is an error naming it."""
    paper = VisualConfig(protocol="paper")
    pixels = dataclasses.replace(paper, coords="pixels")
    k = feature_names().index(ANGLE)
    paper_vectors, pixel_vectors, rows = [], [], []
    for s in segments:
        r = extract_visual(s.media, cfg=paper, keep_frames=True)
        if r.frame_size is None:
            raise ValueError(f"{s.media}: no video frame, so no choice of the paper's code applies")
        pix = features_from_landmarks(r.landmarks, *r.frame_size, pixels)[0]
        own = features_from_landmarks(r.landmarks, *r.frame_size, ours)[0]
        paper_vectors.append(r.vector)
        pixel_vectors.append(pix)
        rows.append(
            {
                "segment_id": s.segment_id,
                "frame": f"{r.frame_size[0]} x {r.frame_size[1]}",
                "frames_without_face": r.n_frames - r.n_face_frames,
                "angle_paper": float(r.vector[k]),
                "angle_ours": float(own[k]),
                "same_sign": bool(np.sign(r.vector[k]) == np.sign(own[k])),
            }
        )
    with warnings.catch_warnings():
        # a clip without a face has no relative difference (0 / 0): NaN, left out of the means
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        groups = (
            group_differences(np.stack(paper_vectors), np.stack(pixel_vectors))
            if paper_vectors
            else []
        )
    return PaperCodeComparison(pd.DataFrame(groups), pd.DataFrame(rows, columns=CHOICE_COLUMNS))


@dataclass(frozen=True)
class ChoicesVerdict:
    """Where the paper's corner angle and the no-face rule change the features on the clips."""

    n_clips: int
    n_opposite: int  # clips whose two corner angles have opposite signs
    angle_paper: tuple[float, ...]
    angle_ours: tuple[float, ...]
    frames_without_face: int  # over all clips, among the frames read

    def sentence(self) -> str:
        """The verdict as the chapter states it."""
        if not self.n_clips:
            return "No clip was read, so this build compares no choices."
        paper = ", ".join(f"{v:+.3f}" for v in self.angle_paper)
        tilt = ", ".join(f"{v:+.3f}" for v in self.angle_ours)
        text = (
            f"On these clips the two corner angles have opposite signs on {self.n_opposite} of "
            f"{self.n_clips} clips (paper's angle {paper}; tilt {tilt} rad), and "
        )
        if self.frames_without_face:
            return text + (
                f"{self.frames_without_face} of the frames read had no face, so the two no-face "
                "rules differ there."
            )
        return (
            text + "every frame read had a face, so the two no-face rules give the same mean here."
        )


def paper_choices_verdict(choices: pd.DataFrame) -> ChoicesVerdict:
    """The verdict of :class:`PaperCodeComparison`'s ``choices`` table (a clip whose angle is
    missing or zero on either side has no opposite signs)."""
    paper = choices["angle_paper"].to_numpy(float)
    ours = choices["angle_ours"].to_numpy(float)
    return ChoicesVerdict(
        n_clips=len(choices),
        n_opposite=int((np.sign(paper) * np.sign(ours) < 0).sum()),
        angle_paper=tuple(float(v) for v in paper),
        angle_ours=tuple(float(v) for v in ours),
        frames_without_face=int(choices["frames_without_face"].sum()),
    )
