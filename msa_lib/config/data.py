"""Settings of the data layer: splits and the synthetic stand-in corpus."""

from __future__ import annotations

from dataclasses import dataclass, field

from msa_lib.config.base import Checked, Noted


@dataclass(frozen=True)
class SplitConfig(Checked):
    """Seeded split grouped by video, used when a corpus has no official folds (§3.1: 70/15/15)."""

    train: float = 0.70
    valid: float = 0.15
    test: float = 0.15
    seed: int = 0

    BOUNDS = {"train": "(0, 1)", "valid": "(0, 1)", "test": "(0, 1)"}
    RULES = (
        (
            lambda c: abs(c.train + c.valid + c.test - 1) < 1e-9,
            "split fractions must sum to 1, got {train} + {valid} + {test}",
        ),
    )


@dataclass(frozen=True)
class SynthConfig(Checked):
    """Seeded synthetic corpora standing in for CMU-MOSEI/MOSI when no real data is present.

    The widths follow the paper's feature spaces: MOSEI OpenFace2 713, COVAREP 74, GloVe 300 (§3.1);
    MOSI in the new extractors' spaces: face geometry 65 (§3.3), librosa 74 (§3.2), and the default
    text encoder's 384 (MiniLM; the paper's BERT is 768, §3.4).
    """

    seed: int = 2025
    mosei_segments: int = 2400
    mosi_segments: int = 900
    min_frames: int = 2
    max_frames: int = 12
    mosei_dims: tuple[int, int, int] = (713, 74, 300)  # visual, audio, text
    mosi_dims: tuple[int, int, int] = (65, 74, 384)  # visual, audio, text
    # Correlation of each modality's per-segment mean with the sentiment factor. Not in the paper:
    # chosen so that text carries most of the signal and audio/visual little, resembling the
    # ordering of the paper's Table 1 (its validation r: text 0.65, visual 0.33, audio 0.27).
    signal: dict[str, float] = field(
        default_factory=lambda: {"visual": 0.45, "audio": 0.40, "text": 0.80}
    )
    latent_dim: int = 16  # nuisance factors shared across modalities (speaker, topic, recording)
    domain_shift: float = 1.0  # scale of the MOSI corpus's mean/scale shift against MOSEI
    p_inf_frame: float = 0.03  # share of audio frames with -inf values (COVAREP has them)
    p_empty_sequence: float = 0.004  # share of sequences with no frames at all
    p_nan_frame: float = 0.01  # share of visual frames that are all NaN (lost face)

    BOUNDS = {
        "mosei_segments": Noted(">= 30", "a grouped 70/15/15 split needs videos"),
        "mosi_segments": Noted(">= 30", "a grouped 70/15/15 split needs videos"),
        "signal": "each [0, 1)",
        "p_inf_frame": "[0, 1]",
        "p_empty_sequence": "[0, 1]",
        "p_nan_frame": "[0, 1]",
    }
    RULES = (
        (
            lambda c: 1 <= c.min_frames <= c.max_frames,
            "need 1 <= min_frames <= max_frames, got {min_frames} and {max_frames}",
        ),
    )
