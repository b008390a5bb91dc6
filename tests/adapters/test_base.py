"""The adapter registry, input checks and checkpoint errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from msa_lib.adapters import BUILTIN
from msa_lib.adapters.base import (
    ADAPTERS,
    Adapter,
    AdapterError,
    as_matrix,
    get,
    names,
    register,
)
from msa_lib.config import ADAPTER_KINDS, PAIRED_ADAPTER_KINDS, AdapterConfig, ConfigError
from msa_lib.io.checkpoint import save_checkpoint
from tests.adapters.data import FAST, linear_pairs


def test_the_builtin_kinds_are_the_configured_ones_and_register_themselves():
    assert list(BUILTIN) == list(ADAPTER_KINDS) == names()[: len(BUILTIN)]
    for kind in BUILTIN:
        cls = get(kind)
        assert cls.kind == kind and ADAPTERS[kind] is cls
        assert cls.__module__ == BUILTIN[kind]
    assert [k for k in BUILTIN if get(k).paired] == list(PAIRED_ADAPTER_KINDS)


def test_an_unknown_kind_is_one_clear_error():
    with pytest.raises(AdapterError, match="unknown adapter kind 'magic'; known kinds are"):
        get("magic")


class _Shift(Adapter):
    """A kind made in the test: adds the difference of the standardised means (zero)."""

    kind = "test-shift"

    def _fit(self, zs, zt):
        self.offset = np.zeros(zt.shape[1])

    def _map(self, z):
        return z[:, : self.out_dim] + self.offset

    def _weights(self):
        import torch

        return {"offset": torch.from_numpy(self.offset)}

    def _restore(self, weights, path):
        self.offset = weights["offset"].numpy()


def test_a_kind_registered_later_is_listed_fitted_and_loaded(tmp_path):
    register(_Shift)
    try:
        assert names()[-1] == "test-shift" and get("test-shift") is _Shift
        x = np.random.default_rng(0).normal(size=(20, 3)) * 2 + 1
        ad = get("test-shift")().fit(x, x[:, :2] * 3)
        np.testing.assert_allclose(ad.transform(x), x[:, :2] * 3)
        assert type(Adapter.load(ad.save(tmp_path / "shift"))) is _Shift
        with pytest.raises(ValueError, match="registered twice"):
            register(type("Other", (_Shift,), {}))
    finally:
        ADAPTERS.pop("test-shift")


def test_rows_with_nan_and_non_matrices_are_clear_errors():
    x = np.ones((5, 3))
    x[2, 1] = np.nan
    with pytest.raises(AdapterError, match="source features: 1 rows have NaN"):
        get("paired-ridge")(FAST).fit(x, np.ones((5, 2)), (list("abcde"), list("abcde")))
    with pytest.raises(AdapterError, match="expected a 2-d array"):
        as_matrix(np.ones(4), "input")
    with pytest.raises(AdapterError, match="input: no rows"):
        as_matrix(np.ones((0, 4)), "input")


def test_ids_that_do_not_match_the_rows_are_one_clear_error():
    x, y, ids, _, _ = linear_pairs(n=30)
    with pytest.raises(AdapterError, match="paired-ridge: 29 source ids for 30 rows"):
        get("paired-ridge")(FAST).fit(x, y, (ids[:-1], ids))


def saved_ridge(tmp_path):
    """A fitted paired-ridge adapter saved into ``tmp_path / 'ridge'``."""
    x, y, ids, _, _ = linear_pairs(n=60)
    return get("paired-ridge")(FAST).fit(x, y, (ids, ids)).save(tmp_path / "ridge")


def test_files_that_are_not_adapter_folders_are_one_line_errors_naming_them(tmp_path):
    old = tmp_path / "adapter.pt"  # what earlier versions wrote: one file
    old.write_bytes(b"not a checkpoint")
    with pytest.raises(AdapterError, match=f"{old}: not a checkpoint"):
        Adapter.load(old)
    with pytest.raises(AdapterError, match="no such checkpoint folder"):
        Adapter.load(tmp_path / "nothing")
    model = save_checkpoint(tmp_path / "model", "fusion", {"dims": {}})
    with pytest.raises(AdapterError, match="a 'fusion' checkpoint, not a 'adapter' one"):
        Adapter.load(model)


def test_a_damaged_adapter_folder_is_one_line_naming_it(tmp_path):
    folder = saved_ridge(tmp_path)
    (folder / "weights.pt").unlink()
    with pytest.raises(AdapterError, match=f"{folder}: weights.pt has no 'coef'"):
        Adapter.load(folder)
    folder = saved_ridge(tmp_path)
    (folder / "scaler.pt").unlink()
    with pytest.raises(AdapterError, match=f"{folder}: no scaler.pt"):
        Adapter.load(folder)


def edit_config(folder, **changes):
    """Rewrite the adapter settings in ``folder``'s config.json."""
    path = folder / "config.json"
    blob = json.loads(path.read_text())
    blob["config"].update(changes)
    path.write_text(json.dumps(blob))


def test_a_config_that_does_not_fit_is_one_line_naming_the_folder(tmp_path):
    folder = saved_ridge(tmp_path)
    edit_config(folder, adapter="magic")
    with pytest.raises(AdapterError, match=f"{folder}: unknown adapter kind 'magic'"):
        Adapter.load(folder)
    edit_config(folder, adapter="paired-ridge", in_dim=7)
    with pytest.raises(
        AdapterError, match="scaler.pt 'source_mean' has shape \\(6,\\), not \\(7,\\)"
    ):
        Adapter.load(folder)
    edit_config(folder, in_dim=6, settings={"components": 0})
    with pytest.raises(AdapterError, match="components"):
        Adapter.load(folder)
    with pytest.raises(ConfigError, match="components"):
        AdapterConfig(components=0)


def test_a_subclass_loads_only_its_own_kind(tmp_path):
    folder = saved_ridge(tmp_path)
    with pytest.raises(AdapterError, match="a 'paired-ridge' adapter, not a CoralAdapter"):
        get("coral").load(folder)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert get("paired-ridge").load(copy).kind == "paired-ridge"
