"""The sequence model over aligned frames (§3.5's optional model; the architecture is the project's).

Each modality's frames are projected (Linear, ReLU, Dropout) and concatenated per step; a BiLSTM
(or a small transformer encoder with learned positions) reads the steps; attention pooling (a
learned score per step, softmax over steps) gives one vector, and an MLP the sentiment score.
Inputs are the flattened ``steps x width`` rows of :mod:`msa_lib.data.align`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from msa_lib.config import TemporalConfig
from msa_lib.models.fusion import FusionOutput


class TemporalModel(nn.Module):
    """Per-modality frame projection -> BiLSTM (or transformer) over steps -> attention pooling -> MLP."""

    def __init__(
        self, widths: Mapping[str, int], steps: int, config: TemporalConfig = TemporalConfig()
    ) -> None:
        super().__init__()
        if not widths:
            raise ValueError("TemporalModel needs at least one modality")
        self.widths, self.steps, self.config = {m: int(d) for m, d in widths.items()}, steps, config
        self.project = nn.ModuleDict(
            {
                m: nn.Sequential(
                    nn.Linear(d, config.projection), nn.ReLU(), nn.Dropout(config.dropout)
                )
                for m, d in widths.items()
            }
        )
        width, out = len(widths) * config.projection, 2 * config.hidden
        if config.architecture == "bilstm":
            self.sequence = nn.LSTM(width, config.hidden, batch_first=True, bidirectional=True)
            self.position = None
            self.encode_in = None
        else:
            self.encode_in = nn.Linear(width, out)
            self.position = nn.Parameter(torch.zeros(steps, out))
            layer = nn.TransformerEncoderLayer(
                out, config.heads, 2 * out, config.dropout, batch_first=True
            )
            self.sequence = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.score_step = nn.Linear(out, 1)  # attention pooling: one score per step
        self.head = nn.Sequential(
            nn.Linear(out, config.hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, 1),
        )

    def frames(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The projected, concatenated frames ``[batch, steps, n_modalities * projection]``."""
        parts = []
        for m, d in self.widths.items():
            if m not in inputs:
                raise KeyError(f"model expects modalities {list(self.widths)}; missing '{m}'")
            x = inputs[m]
            if x.ndim != 2 or x.shape[1] != self.steps * d:
                raise ValueError(
                    f"modality '{m}': expected input [batch, {self.steps} x {d}], got {tuple(x.shape)}"
                )
            parts.append(self.project[m](x.reshape(len(x), self.steps, d)))
        return torch.cat(parts, dim=-1)

    def attention(self, inputs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Sequence states ``[batch, steps, 2 * hidden]`` and pooling weights ``[batch, steps]``."""
        x = self.frames(inputs)
        if self.encode_in is not None:
            h = self.sequence(self.encode_in(x) + self.position)
        else:
            h, _ = self.sequence(x)
        return h, torch.softmax(self.score_step(h).squeeze(-1), dim=1)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> FusionOutput:
        """Score ``[batch]`` (no classification head)."""
        h, w = self.attention(inputs)
        pooled = (w.unsqueeze(-1) * h).sum(dim=1)
        return FusionOutput(self.head(pooled).squeeze(-1), None)
