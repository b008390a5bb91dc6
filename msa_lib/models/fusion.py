"""The paper's fusion model (§4.2): one encoder per modality, attention over modality tokens, an MLP.

Each modality's averaged feature vector is encoded into one 96-d token; the tokens (1, 2 or 3 of
them, whatever modalities the model was built for) attend to each other with 4-head
self-attention, and the attended tokens, concatenated, go through an MLP to one sentiment score.
An optional classification head (§3.7's multi-task variant) reads the same fused vector.
Input widths come from the data (``FeatureSet.dims``), never from constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from msa_lib.config import ModelConfig


class FusionOutput(NamedTuple):
    """What the model returns: the regression score ``[batch]`` and class logits (or None)."""

    score: torch.Tensor
    logits: torch.Tensor | None


def _block(n_in: int, n_out: int, dropout: float) -> list[nn.Module]:
    """Linear -> BatchNorm -> ReLU -> Dropout, the paper's hidden block."""
    return [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU(), nn.Dropout(dropout)]


class ModalityEncoder(nn.Sequential):
    """in -> 192 (Linear, BN, ReLU, Dropout) -> 192 (same) -> 96 (Linear, BN), §4.2."""

    def __init__(self, in_dim: int, config: ModelConfig = ModelConfig()) -> None:
        if in_dim < 1:
            raise ValueError(f"encoder input width must be >= 1, got {in_dim}")
        super().__init__(
            *_block(in_dim, config.hidden, config.encoder_dropout),
            *_block(config.hidden, config.hidden, config.encoder_dropout),
            nn.Linear(config.hidden, config.token_dim),
            nn.BatchNorm1d(config.token_dim),
        )


class FusionModel(nn.Module):
    """Encoders -> multi-head self-attention over modality tokens -> MLP -> score (§4.2)."""

    def __init__(self, dims: Mapping[str, int], config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        if not dims:
            raise ValueError("FusionModel needs at least one modality")
        self.modalities = list(dims)
        self.dims = {m: int(d) for m, d in dims.items()}
        self.config = config
        self.encoders = nn.ModuleDict({m: ModalityEncoder(d, config) for m, d in dims.items()})
        self.attention = nn.MultiheadAttention(
            config.token_dim, config.heads, dropout=config.attention_dropout, batch_first=True
        )
        fused = len(self.modalities) * config.token_dim  # 288 for three modalities
        self.mlp = nn.Sequential(
            *_block(fused, config.hidden, config.encoder_dropout),
            *_block(config.hidden, config.token_dim, config.encoder_dropout),
        )
        self.regressor = nn.Linear(config.token_dim, 1)  # no output activation
        self.classifier = (
            nn.Linear(config.token_dim, config.n_classes) if config.n_classes > 0 else None
        )

    def tokens(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Encode each modality into one token: ``[batch, n_modalities, token_dim]``."""
        absent = [m for m in self.modalities if m not in inputs]
        if absent:
            raise KeyError(f"model expects modalities {self.modalities}; missing {absent}")
        for m in self.modalities:
            x = inputs[m]
            if x.ndim != 2 or x.shape[1] != self.dims[m]:
                raise ValueError(
                    f"modality '{m}': expected input [batch, {self.dims[m]}], got {tuple(x.shape)}"
                )
        return torch.stack([self.encoders[m](inputs[m]) for m in self.modalities], dim=1)

    def fused(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The 96-d fused representation each head reads: ``[batch, token_dim]``."""
        tok = self.tokens(inputs)
        attended, _ = self.attention(tok, tok, tok, need_weights=False)  # Q = K = V
        return self.mlp(attended.flatten(1))

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> FusionOutput:
        """Score ``[batch]`` and, with a classification head, logits ``[batch, n_classes]``."""
        h = self.fused(inputs)
        logits = self.classifier(h) if self.classifier is not None else None
        return FusionOutput(self.regressor(h).squeeze(-1), logits)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
