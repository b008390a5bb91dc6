"""AdaBN: test-time BatchNorm adaptation of a trained model to unlabelled target inputs.

A copy of the model whose BatchNorm running statistics are re-estimated on target inputs; no
weight changes. Not a feature-space adapter kind (it maps no features): it adapts the model.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from msa_lib.adapters.base import AdapterError
from msa_lib.data.featureset import FeatureSet

if TYPE_CHECKING:
    from msa_lib.train.fusion import TrainedModel


def adabn(model: nn.Module, batches: Sequence[object], forward=None) -> nn.Module:
    """A copy of ``model`` whose BatchNorm running statistics are re-estimated on ``batches``.

    Each BatchNorm layer's statistics are reset and accumulated as a plain average over the
    batches (momentum None); every other layer stays in evaluation mode (no dropout) and no weight
    changes. ``forward(model, batch)`` runs one batch (default: ``model(batch)``).
    """
    if not batches:
        raise AdapterError("AdaBN needs at least one batch of target inputs")
    forward = forward or (lambda m, b: m(b))
    out = copy.deepcopy(model)
    norms = [m for m in out.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise AdapterError("AdaBN: the model has no BatchNorm layer")
    out.eval()
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for b in batches:
            forward(out, b)
    for bn in norms:
        bn.momentum = 0.1
    out.eval()
    return out


def adabn_fusion(trained: TrainedModel, fs: FeatureSet, chunk: int = 4096) -> TrainedModel:
    """A copy of a :class:`~msa_lib.train.fusion.TrainedModel` with AdaBN on ``fs``'s segments.

    Inputs are standardised with the model's own training scaler, as at prediction time; a
    missing modality gets the training mean, as in :func:`~msa_lib.train.fusion.predict`.
    """
    from msa_lib.train.inputs import check_featureset, input_tensor, split_inputs

    check_featureset(fs, trained.modalities, "AdaBN", trained.dims)
    x, cols = input_tensor(trained.scaler, fs, trained.modalities)
    if len(x) < 2:
        raise AdapterError(f"AdaBN needs at least 2 target segments, got {len(x)}")
    batches = [x[i : i + chunk] for i in range(0, len(x), chunk) if len(x[i : i + chunk]) >= 2]
    model = adabn(trained.model, batches, lambda m, b: m(split_inputs(b, cols)))
    return dataclasses.replace(trained, model=model)
