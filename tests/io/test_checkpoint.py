"""Checkpoint folders: written whole, read back with tensors only, refused with a clear reason."""

import json

import pytest
import torch

from msa_lib.io.checkpoint import (
    CONFIG_FILE,
    VERSION,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)


def test_a_checkpoint_round_trips(tmp_path):
    w = {"layer.weight": torch.arange(6.0).reshape(2, 3)}
    s = {"mean": torch.zeros(3), "sd": torch.ones(3)}
    save_checkpoint(tmp_path / "m", "fusion", {"modalities": ["text"], "dims": {"text": 3}}, w, s)
    ck = load_checkpoint(tmp_path / "m", "fusion")
    assert ck.kind == "fusion" and ck.version == VERSION
    assert ck.config == {"modalities": ["text"], "dims": {"text": 3}}
    assert torch.equal(ck.weights["layer.weight"], w["layer.weight"])
    assert torch.equal(ck.scaler["sd"], s["sd"])
    assert ck.files == [CONFIG_FILE, "scaler.pt", "weights.pt"]


def test_saving_again_replaces_the_folder_whole(tmp_path):
    save_checkpoint(tmp_path / "m", "fusion", {"v": 1}, extra=lambda d: (d / "old").write_text(""))
    save_checkpoint(tmp_path / "m", "fusion", {"v": 2})
    ck = load_checkpoint(tmp_path / "m")
    assert ck.config == {"v": 2} and "old" not in ck.files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "m", "fusion", {"v": 1})

    def crash(folder):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_checkpoint(tmp_path / "m", "fusion", {"v": 2}, extra=crash)
    assert load_checkpoint(tmp_path / "m").config == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_bad_folders_are_refused_with_the_reason(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        load_checkpoint(tmp_path / "absent")
    (tmp_path / "file.pt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="a checkpoint is a folder"):
        load_checkpoint(tmp_path / "file.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        load_checkpoint(tmp_path / "empty")
    save_checkpoint(tmp_path / "a", "adapter", {})
    with pytest.raises(CheckpointError, match="an? 'adapter' checkpoint, not a 'fusion' one"):
        load_checkpoint(tmp_path / "a", "fusion")
    cfg = tmp_path / "a" / CONFIG_FILE
    blob = json.loads(cfg.read_text())
    cfg.write_text(json.dumps({**blob, "version": VERSION + 1}))
    with pytest.raises(CheckpointError, match=f"format version {VERSION + 1}; this code reads"):
        load_checkpoint(tmp_path / "a")
    cfg.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "a")
    save_checkpoint(tmp_path / "b", "fusion", {}, weights={"w": torch.zeros(1)})
    (tmp_path / "b" / "weights.pt").write_bytes(b"not a tensor file")
    with pytest.raises(CheckpointError, match="weights.pt: cannot be read as tensors"):
        load_checkpoint(tmp_path / "b")
