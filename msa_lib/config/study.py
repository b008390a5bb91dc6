"""Settings of the book's studies that are not a model or a training recipe."""

from __future__ import annotations

from dataclasses import dataclass

from msa_lib.config.base import Checked

CALIBRATIONS = ("affine", "scale")


@dataclass(frozen=True)
class AblationConfig(Checked):
    """Which losses the ablation compares and how it calibrates and bootstraps (§4.1, §3.7)."""

    alphas: tuple[float, ...] = (1.0, 5.0, 10.0, 20.0)  # §3.7's grid for the MSE weight
    beta: float = 1.0  # §3.7: the cross-entropy weight
    # The multi-task head's classes. §3.7 names the head "categorical emotion classification"
    # without listing the classes; the project uses the 7 sentiment bins of Acc-7.
    n_classes: int = 7
    # "affine": least-squares line label ~ a * pred + b; "scale": the line that matches the
    # validation predictions' mean and sd to the labels' (both fitted on validation only)
    calibration: str = "affine"
    n_resamples: int = 1000  # paired bootstrap resamples for the 95% intervals
    confidence: float = 0.95

    BOUNDS = {
        "alphas": "each >= 0",
        "beta": ">= 0",
        "n_classes": (2, 3, 5, 7),
        "calibration": CALIBRATIONS,
        "n_resamples": ">= 10",
        "confidence": "(0, 1)",
    }
