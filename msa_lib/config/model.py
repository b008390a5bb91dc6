"""Settings of the models: the paper's fusion model (§4.2) and the aligned sequence model (§3.5)."""

from __future__ import annotations

from dataclasses import dataclass

from msa_lib.config.base import Checked

ARCHITECTURES = ("bilstm", "transformer")  # the temporal model's sequence layer


@dataclass(frozen=True)
class ModelConfig(Checked):
    """Fusion model (§4.2): encoders 192-192-96, 4-head attention, MLP 288-192-96-1."""

    hidden: int = 192
    token_dim: int = 96
    encoder_dropout: float = 0.7
    heads: int = 4
    attention_dropout: float = 0.8  # min(0.7 + 0.1, 0.8)
    n_classes: int = 0  # > 0 adds the multi-task classification head (§3.7)

    BOUNDS = {
        "hidden": ">= 1",
        "token_dim": ">= 1",
        "heads": ">= 1",
        "encoder_dropout": "[0, 1)",
        "attention_dropout": "[0, 1)",
    }
    RULES = (
        (
            lambda c: c.token_dim % c.heads == 0,
            "token_dim ({token_dim}) must be divisible by heads ({heads})",
        ),
        (
            lambda c: c.n_classes >= 0 and c.n_classes != 1,
            "n_classes must be 0 or >= 2, got {n_classes}",
        ),
    )


@dataclass(frozen=True)
class TemporalConfig(Checked):
    """Alignment (§3.5: 30 steps) and the sequence model (not in the paper: the project's choices)."""

    steps: int = 30  # §3.5: the aligned frame count
    architecture: str = "bilstm"  # "bilstm" or "transformer" (1 layer, learned positions)
    projection: int = 32  # per-modality frame projection width
    hidden: int = 64  # LSTM units per direction; transformer width is 2 * hidden
    heads: int = 4  # transformer heads
    dropout: float = 0.3

    BOUNDS = {
        "steps": ">= 1",
        "architecture": ARCHITECTURES,
        "projection": ">= 1",
        "hidden": ">= 1",
        "heads": ">= 1",
        "dropout": "[0, 1)",
    }
    RULES = (
        (
            lambda c: (2 * c.hidden) % c.heads == 0,
            "2 * hidden ({hidden}) must be divisible by heads ({heads})",
        ),
    )
