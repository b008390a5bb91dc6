"""A text regressor: a transformer encoder, its last hidden states mean-pooled over real tokens, a head."""

from __future__ import annotations

import torch
from torch import nn


class TextRegressor(nn.Module):
    """Encoder -> masked mean of the last hidden states -> dropout -> head -> one score."""

    def __init__(self, encoder: nn.Module, hidden: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        dim = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        if hidden:
            self.head = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, 1))
        else:
            self.head = nn.Linear(dim, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Scores ``[batch]`` for padded token ids and their attention mask."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return self.head(self.dropout(pooled)).squeeze(-1)
