"""The architecture figure is drawn from the model as it runs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from msa_lib.book.figures import architecture_blocks, layer_trace, plot_architecture
from msa_lib.config import ModelConfig
from msa_lib.models.fusion import FusionModel


def inputs(dims: dict[str, int]) -> dict[str, torch.Tensor]:
    return {m: torch.randn(4, d) for m, d in dims.items()}


def test_the_blocks_are_the_layers_the_forward_pass_calls_with_their_shapes():
    dims = {"visual": 65, "text": 30}
    model = FusionModel(dims, ModelConfig(hidden=16, token_dim=8, heads=2))
    model.train()
    blocks = architecture_blocks(layer_trace(model, inputs(dims)))
    assert model.training  # left as it was
    names = [b[0] for b in blocks]
    assert names == ["encoders.visual", "encoders.text", "attention", "mlp", "regressor"]
    by_name = {name: (shape, texts) for name, shape, texts in blocks}
    assert by_name["encoders.visual"] == (
        (4, 65),
        [
            "Linear 65→16 · BatchNorm · ReLU · Dropout 0.7",
            "Linear 16→16 · BatchNorm · ReLU · Dropout 0.7",
            "Linear 16→8 · BatchNorm",
        ],
    )
    # two modality tokens of 8 reach the attention, and 2 x 8 the MLP
    assert by_name["attention"][0] == (4, 2, 8)
    assert by_name["attention"][1][0].startswith("self-attention: 2 heads, 8-d, dropout 0.8")
    assert by_name["mlp"][0] == (4, 16) and by_name["regressor"][1] == ["Linear 8→1"]


def test_the_figure_writes_every_block():
    dims = {"visual": 713, "audio": 74, "text": 300}
    fig = plot_architecture(FusionModel(dims), inputs(dims))
    texts = {t.get_text() for t in fig.axes[0].texts}
    plt.close(fig)
    assert {"visual [batch, 713]", "attention [batch, 3, 96]", "mlp [batch, 288]"} <= texts
    assert "Linear 713→192 · BatchNorm · ReLU · Dropout 0.7" in texts
    assert "Linear 96→1" in texts and "sentiment score" in texts
