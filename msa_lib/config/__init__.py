"""Configuration: one dataclass per concern, the paper's values as defaults citing its section.

Section numbers refer to Roswendi (2025), *Cross-Domain Multimodal Sentiment Analysis through
Dataset Fusion and Multi-Objective Learning*. Every config states its constraints as data
(``BOUNDS``, ``RULES``: :mod:`msa_lib.config.base`) and raises :class:`ConfigError` when built
with a bad value; :func:`config_from_dict` builds one from a settings file, type-checked.

- :mod:`~msa_lib.config.data`: splits, the synthetic corpus;
- :mod:`~msa_lib.config.extract`: audio, visual and text extractors, speech recognition, Ray;
- :mod:`~msa_lib.config.model`: the fusion model, the temporal model;
- :mod:`~msa_lib.config.train`: the training recipe, the losses, text fine-tuning;
- :mod:`~msa_lib.config.adapt`: the adapters;
- :mod:`~msa_lib.config.study`: the loss ablation.
"""

from msa_lib.config.adapt import ADAPTER_KINDS, PAIRED_ADAPTER_KINDS, AdapterConfig
from msa_lib.config.base import (
    Checked,
    ConfigError,
    Noted,
    check_type,
    config_from_dict,
    sections_from_dict,
)
from msa_lib.config.data import SplitConfig, SynthConfig
from msa_lib.config.extract import (
    FACE_WIDTHS,
    WHISPER_PACKAGE,
    AsrConfig,
    AudioConfig,
    RayConfig,
    TextConfig,
    VisualConfig,
)
from msa_lib.config.model import ARCHITECTURES, ModelConfig, TemporalConfig
from msa_lib.config.study import CALIBRATIONS, AblationConfig
from msa_lib.config.train import (
    LOSS_KINDS,
    MISSING_RULES,
    LossConfig,
    TextFineTuneConfig,
    TrainConfig,
)

__all__ = [
    "ADAPTER_KINDS",
    "ARCHITECTURES",
    "CALIBRATIONS",
    "FACE_WIDTHS",
    "LOSS_KINDS",
    "MISSING_RULES",
    "PAIRED_ADAPTER_KINDS",
    "AblationConfig",
    "AdapterConfig",
    "AsrConfig",
    "AudioConfig",
    "Checked",
    "ConfigError",
    "LossConfig",
    "ModelConfig",
    "Noted",
    "RayConfig",
    "SplitConfig",
    "SynthConfig",
    "TemporalConfig",
    "TextConfig",
    "TextFineTuneConfig",
    "TrainConfig",
    "VisualConfig",
    "WHISPER_PACKAGE",
    "check_type",
    "config_from_dict",
    "sections_from_dict",
]
