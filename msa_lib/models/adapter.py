"""The paper's adapter network (§3.6.2): Linear -> BatchNorm -> ReLU -> Dropout, twice, then Linear."""

from __future__ import annotations

import torch
from torch import nn


class AdapterMLP(nn.Module):
    """in -> hidden -> hidden -> out: two Linear-BatchNorm-ReLU-Dropout blocks, then a Linear."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = in_dim
        for _ in range(2):
            blocks += [
                nn.Linear(width, hidden),
                nn.BatchNorm1d(hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
            width = hidden
        self.net = nn.Sequential(*blocks, nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mapped vectors ``[batch, out_dim]``."""
        return self.net(x)
