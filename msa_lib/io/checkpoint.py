"""The one checkpoint format: a folder with ``config.json``, ``weights.pt`` and, where inputs are
standardised, ``scaler.pt``, like model libraries' ``save_pretrained`` / ``from_pretrained``.

``config.json`` names the format, its version and the ``kind`` of model (``fusion``, ``temporal``,
``adapter``, ``text``), and holds everything needed to rebuild it (settings, modalities, input
widths, what it was trained on); ``weights.pt`` and ``scaler.pt`` hold tensors only and are read
with ``torch.load(weights_only=True)``, which runs no code. A kind may keep more files beside them
(a fine-tuned text model keeps its encoder's own ``save_pretrained`` folder). A checkpoint is
written into a temporary folder that then replaces the target, so a crash leaves the previous one
whole. Reading names the folder and what is wrong: not a checkpoint, another kind, a newer format
version than this code knows, a missing file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msa_lib.io.atomic import current_umask
from msa_lib.io.jsonio import dumps

FORMAT = "msa-checkpoint"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
SCALER_FILE = "scaler.pt"


class CheckpointError(ValueError):
    """A folder that is not a readable checkpoint of the expected kind."""


@dataclass
class Checkpoint:
    """What a checkpoint folder holds, read back."""

    path: Path
    kind: str
    config: dict[str, Any]
    weights: dict[str, Any] | None = None
    scaler: dict[str, Any] | None = None
    version: int = VERSION
    files: list[str] = field(default_factory=list)


def save_checkpoint(
    path: str | os.PathLike,
    kind: str,
    config: Mapping[str, Any],
    weights: Mapping[str, Any] | None = None,
    scaler: Mapping[str, Any] | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a checkpoint folder at ``path`` (replacing one there); ``extra(folder)`` adds files."""
    import torch

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"{path}: exists and is not a folder; a checkpoint is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=path.parent))
    try:
        blob = {"format": FORMAT, "version": VERSION, "kind": kind, "config": dict(config)}
        (tmp / CONFIG_FILE).write_text(dumps(blob) + "\n")
        if weights is not None:
            torch.save(dict(weights), tmp / WEIGHTS_FILE)
        if scaler is not None:
            torch.save(dict(scaler), tmp / SCALER_FILE)
        if extra is not None:
            extra(tmp)
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp's folders are owner-only
        if path.is_dir():
            old = Path(tempfile.mkdtemp(prefix=path.name + ".old.", dir=path.parent))
            os.replace(path, old / "previous")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_config(path: str | os.PathLike, kind: str | None = None) -> tuple[dict[str, Any], int]:
    """``config.json`` of a checkpoint folder: its ``config`` and format version, checked."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint folder")
    if not path.is_dir():
        raise CheckpointError(
            f"{path}: not a checkpoint (a checkpoint is a folder with {CONFIG_FILE})"
        )
    cfg_file = path / CONFIG_FILE
    if not cfg_file.is_file():
        raise CheckpointError(f"{path}: not a checkpoint (no {CONFIG_FILE})")
    try:
        blob = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{cfg_file}: not valid JSON ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{cfg_file}: not an {FORMAT} config")
    version = blob.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{cfg_file}: format version {version!r} is not valid")
    if version > VERSION:
        raise CheckpointError(
            f"{path}: written in checkpoint format version {version}; this code reads versions "
            f"up to {VERSION} (a newer msa-lib wrote it)"
        )
    if kind is not None and blob.get("kind") != kind:
        raise CheckpointError(f"{path}: a '{blob.get('kind')}' checkpoint, not a '{kind}' one")
    if not isinstance(blob.get("config"), dict):
        raise CheckpointError(f"{cfg_file}: no 'config' mapping")
    return blob["config"], version


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> Checkpoint:
    """A checkpoint folder read back (tensors with ``weights_only=True``); errors name the folder."""
    import torch

    path = Path(path)
    config, version = read_config(path, kind)
    blob_kind = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))["kind"]
    tensors = {}
    for name, file in (("weights", WEIGHTS_FILE), ("scaler", SCALER_FILE)):
        f = path / file
        if not f.is_file():
            tensors[name] = None
            continue
        try:
            tensors[name] = torch.load(f, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged or foreign file: torch raises many kinds
            raise CheckpointError(f"{f}: cannot be read as tensors ({exc})") from exc
    return Checkpoint(
        path,
        blob_kind,
        config,
        tensors["weights"],
        tensors["scaler"],
        version,
        sorted(p.name for p in path.iterdir()),
    )
