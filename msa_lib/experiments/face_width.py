"""The face-width study (chapter 3): how much each normalising width moves over a clip, and with what.

Every visual feature is divided by a face width (§3.3). The paper names landmarks 0 and 16, both
on the lips; the cheek-to-cheek pair 234-454 is the alternative (``FACE_WIDTHS``). Per clip and
width, :func:`face_width_table` gives the width's median and coefficient of variation over the
frames with a face, and its correlation with the mouth's opening (the inner-lip distance 13-14,
in the same units); :func:`face_width_verdict` says which width is the steadier and which one
follows the mouth, as the chapter states it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msa_lib.config import FACE_WIDTHS, VisualConfig
from msa_lib.extract.features.visual import extract_visual, feature_names

MOUTH_OPENING = "mouth_height_13_14"  # the feature whose value times the width is the opening
# A width is called the steadier only when its median coefficient of variation is at least this
# many times smaller than every other width's and it is the lowest in most clips.
CLEAR_RATIO = 1.5
# A median correlation above this makes the verdict say the features move with the mouth.
STRONG_CORRELATION = 0.5
COLUMNS = [
    "segment_id",
    "width",
    "frames_with_face",
    "median_width_px",
    "width_cv",
    "corr_width_mouth_opening",
]


def width_label(name: str) -> str:
    """A width as the table names it: ``"paper (0-16)"``, ``"cheeks (234-454)"``."""
    a, b = FACE_WIDTHS[name]
    return f"{name} ({a}-{b})"


def width_stats(width: np.ndarray, mouth: np.ndarray) -> dict[str, float]:
    """Median and coefficient of variation of a width over the frames where it is finite, and
    its correlation with ``mouth`` over the frames where both are (NaN with fewer than 3)."""
    width = np.asarray(width)  # kept in its own precision: the chapter's numbers are its
    w = width[np.isfinite(width)]
    ok = np.isfinite(mouth) & np.isfinite(width)
    return {
        "median_width_px": float(np.median(w)) if len(w) else np.nan,
        "width_cv": float(w.std() / w.mean()) if len(w) else np.nan,
        "corr_width_mouth_opening": float(np.corrcoef(width[ok], mouth[ok])[0, 1])
        if ok.sum() > 2
        else np.nan,
    }


def clip_widths(media: str | os.PathLike, cfg: VisualConfig) -> dict[str, float]:
    """The width of ``cfg.width_landmarks`` over one clip's frames (``cfg``'s frames and units):
    frames with a face, and :func:`width_stats` against the mouth's opening."""
    r = extract_visual(media, cfg=cfg, keep_frames=True)
    mouth = r.frames[:, feature_names().index(MOUTH_OPENING)] * r.face_width
    return {"frames_with_face": r.n_face_frames, **width_stats(r.face_width, mouth)}


def face_width_table(
    segments: Sequence,
    cfg: VisualConfig = VisualConfig(),
    widths: Sequence[str] = ("paper", "cheeks"),
) -> pd.DataFrame:
    """Per clip (``segments``: objects with ``segment_id`` and ``media``) and width of
    ``FACE_WIDTHS``: frames with a face, median width, coefficient of variation over frames,
    and correlation with the mouth's opening; ``cfg`` gives everything but the width."""
    rows = []
    for s in segments:
        for name in widths:
            c = dataclasses.replace(cfg, width_landmarks=FACE_WIDTHS[name])
            rows.append(
                {"segment_id": s.segment_id, "width": width_label(name), **clip_widths(s.media, c)}
            )
    return pd.DataFrame(rows, columns=COLUMNS)


@dataclass(frozen=True)
class WidthVerdict:
    """Which width moves less over the frames, and which one moves with the mouth."""

    n_clips: int  # clips where every width was measured
    steadier: str | None  # the width with the lower median coefficient of variation
    n_steadier: int  # clips in which it has the lowest coefficient of variation
    median_cv: dict[str, float]
    follows_mouth: str | None  # the width with the higher median correlation with the mouth
    median_corr: dict[str, float]

    @property
    def clear(self) -> bool:
        """Whether the steadier width is clearly so (see ``CLEAR_RATIO``)."""
        if self.steadier is None:
            return False
        least = self.median_cv[self.steadier]
        others = [v for w, v in self.median_cv.items() if w != self.steadier]
        return min(others) >= CLEAR_RATIO * least and 2 * self.n_steadier > self.n_clips

    def sentence(self) -> str:
        """The verdict as the chapter states it."""
        if not self.n_clips or self.steadier is None or self.follows_mouth is None:
            return (
                "No clip had enough frames with a face to compare the widths, so this build "
                "states no verdict on them."
            )
        cv = self.median_cv
        least = cv[self.steadier]
        nearest = min((w for w in cv if w != self.steadier), key=cv.__getitem__)
        ratio = cv[nearest] / least if least > 0 else float("inf")
        clips = "clip" if self.n_clips == 1 else "clips"
        if self.clear:
            text = (
                f"On these {self.n_clips} {clips} the steadier width is **{self.steadier}**: the "
                f"median of its coefficient of variation over frames is {least:.3f}, {ratio:.1f} "
                f"times smaller than that of {nearest} ({cv[nearest]:.3f}), and it is the lowest "
                f"in {self.n_steadier} of {self.n_clips} {clips}. "
            )
        else:
            text = (
                f"On these {self.n_clips} {clips} neither width is clearly the steadier: the "
                "medians of their coefficients of variation over frames are "
                + ", ".join(f"{w} {v:.3f}" for w, v in cv.items())
                + f", and {self.steadier} has the lowest in {self.n_steadier} of {self.n_clips} "
                f"{clips}. "
            )
        corr = self.median_corr
        rest = ", ".join(f"{w}: {v:.2f}" for w, v in corr.items() if w != self.follows_mouth)
        text += (
            f"The width that moves most with the mouth's opening is **{self.follows_mouth}**, "
            f"with a median correlation of {corr[self.follows_mouth]:.2f} ({rest})"
        )
        if corr[self.follows_mouth] > STRONG_CORRELATION:
            return text + ": dividing by it carries the mouth's movement into every feature."
        return text + "."


def face_width_verdict(table: pd.DataFrame) -> WidthVerdict:
    """The verdict of :func:`face_width_table`'s rows, over the clips where every width has a
    coefficient of variation and a correlation (the widths in the table's order)."""
    widths = list(dict.fromkeys(table["width"]))
    if table.empty:
        return WidthVerdict(0, None, 0, {}, None, {})
    if len(widths) < 2:
        raise ValueError(f"a verdict compares widths: the table has only {widths}")
    cv = table.pivot(index="segment_id", columns="width", values="width_cv")[widths]
    corr = table.pivot(index="segment_id", columns="width", values="corr_width_mouth_opening")[
        widths
    ]
    ok = cv.notna().all(axis=1) & corr.notna().all(axis=1)
    cv, corr = cv[ok], corr[ok]
    if not ok.any():
        return WidthVerdict(0, None, 0, {}, None, {})
    median_cv = {w: float(cv[w].median()) for w in widths}
    median_corr = {w: float(corr[w].median()) for w in widths}
    steadier = min(widths, key=median_cv.__getitem__)
    return WidthVerdict(
        n_clips=int(ok.sum()),
        steadier=steadier,
        n_steadier=int((cv.idxmin(axis=1) == steadier).sum()),
        median_cv=median_cv,
        follows_mouth=max(widths, key=median_corr.__getitem__),
        median_corr=median_corr,
    )
