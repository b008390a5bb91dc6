"""AdaBN: BatchNorm statistics re-estimated on target inputs, nothing else changed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from msa_lib.adapters.adabn import adabn
from msa_lib.adapters.base import AdapterError


def test_adabn_changes_running_statistics_only():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 1)
    )
    model.eval()
    shifted = torch.randn(200, 3) * 3 + 7
    adapted = adabn(model, [shifted[:100], shifted[100:]])
    before, after = model.state_dict(), adapted.state_dict()
    for key in before:
        same = torch.equal(before[key], after[key])
        assert same == (not key.startswith("1.running") and key != "1.num_batches_tracked"), key
    expected = model[0](shifted).detach()
    torch.testing.assert_close(adapted[1].running_mean, expected.mean(0), atol=1e-4, rtol=1e-4)
    assert not adapted.training and not adapted[1].training
    # normalised by target statistics, the first block's outputs are centred on the target
    with torch.no_grad():
        assert adapted[1](adapted[0](shifted)).mean().abs() < 0.1


def test_adabn_without_batches_or_batchnorm_is_one_clear_error():
    with pytest.raises(AdapterError, match="at least one batch"):
        adabn(nn.Linear(2, 1), [])
    with pytest.raises(AdapterError, match="no BatchNorm layer"):
        adabn(nn.Linear(2, 1), [torch.zeros(2, 2)])
