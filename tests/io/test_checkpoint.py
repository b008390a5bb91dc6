"""Checkpoint folders: written whole, read back with tensors only, refused with a clear reason."""

import json

import pytest
import torch

from msa_lib.io.checkpoint import (
    CONFIG_FILE,
    VERSION,
    CheckpointError,
    check_target,
    is_checkpoint,
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


def test_a_folder_that_is_not_a_checkpoint_is_never_replaced(tmp_path):
    mine = tmp_path / "results"
    mine.mkdir()
    (mine / "table.csv").write_text("a,b\n")
    with pytest.raises(CheckpointError, match="results: a folder that is not a checkpoint"):
        save_checkpoint(mine, "fusion", {})
    assert (mine / "table.csv").read_text() == "a,b\n"
    (tmp_path / "model.pt").write_bytes(b"an old single-file checkpoint")
    with pytest.raises(CheckpointError, match="model.pt: exists and is not a folder"):
        check_target(tmp_path / "model.pt")
    (tmp_path / "empty").mkdir()  # an empty folder, or a checkpoint, may be written
    assert save_checkpoint(tmp_path / "empty", "fusion", {"v": 1}) == tmp_path / "empty"
    assert is_checkpoint(tmp_path / "empty") and not is_checkpoint(mine)
    assert check_target(tmp_path / "empty") == tmp_path / "empty"
    # a folder named like a file works: `--out model.pt` style paths
    save_checkpoint(tmp_path / "new.pt", "fusion", {"v": 2})
    assert load_checkpoint(tmp_path / "new.pt", "fusion").config == {"v": 2}


def test_absent_parts_and_keys_are_named(tmp_path):
    save_checkpoint(tmp_path / "m", "fusion", {"dims": {}}, weights={"w": torch.zeros(2)})
    ck = load_checkpoint(tmp_path / "m")
    ck.require("dims")
    with pytest.raises(CheckpointError, match=r"m/config.json: checkpoint config has no key 'mod"):
        ck.require("dims", "modalities", "steps")
    assert torch.equal(ck.tensors("weights")["w"], torch.zeros(2))
    with pytest.raises(CheckpointError, match="m: checkpoint has no scaler.pt"):
        ck.tensors("scaler")
    torch.save(torch.zeros(3), tmp_path / "m" / "weights.pt")  # tensors, but not a mapping
    with pytest.raises(CheckpointError, match="weights.pt: holds a Tensor, not a mapping"):
        load_checkpoint(tmp_path / "m")


def test_weights_load_into_a_module_or_say_why_not(tmp_path):
    net = torch.nn.Linear(3, 1)
    save_checkpoint(tmp_path / "m", "fusion", {}, weights=net.state_dict())
    ck = load_checkpoint(tmp_path / "m", "fusion")
    other = ck.load_into(torch.nn.Linear(3, 1))
    assert torch.equal(other.weight, net.weight) and torch.equal(other.bias, net.bias)
    with pytest.raises(CheckpointError, match=r"m/weights.pt: does not fit the model"):
        ck.load_into(torch.nn.Linear(4, 1))
