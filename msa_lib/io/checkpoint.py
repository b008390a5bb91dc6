"""The one checkpoint format: a folder with ``config.json``, ``weights.pt`` and, where inputs are
standardised, ``scaler.pt``, like model libraries' ``save_pretrained`` / ``from_pretrained``.

``config.json`` names the format, its version and the ``kind`` of model (``fusion``, ``temporal``,
``adapter``, ``text``), and holds everything needed to rebuild it (settings, modalities, input
widths, what it was trained on); ``weights.pt`` and ``scaler.pt`` hold tensors only and are read
with ``torch.load(weights_only=True)``, which runs no code. A kind may keep more files beside them
(a fine-tuned text model keeps its encoder's own ``save_pretrained`` folder). A checkpoint is
written into a temporary folder that then replaces the target, so a crash leaves the previous one
whole; a folder that is not a checkpoint (a user's folder of other files) is never replaced.
Reading names the folder and what is wrong: not a checkpoint, another kind, a newer format version
than this code knows, a missing file or key.
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

    @property
    def config_file(self) -> Path:
        """The folder's ``config.json``."""
        return self.path / CONFIG_FILE

    def require(self, *keys: str) -> None:
        """A CheckpointError naming ``config.json`` and the keys of ``keys`` its config lacks."""
        absent = [k for k in keys if k not in self.config]
        if absent:
            raise CheckpointError(
                f"{self.config_file}: checkpoint config has no key '{absent[0]}' "
                f"(missing: {absent})"
            )

    def tensors(self, part: str) -> dict[str, Any]:
        """The ``weights`` or ``scaler`` tensors; a CheckpointError naming the absent file."""
        value = {"weights": self.weights, "scaler": self.scaler}[part]
        if value is None:
            name = WEIGHTS_FILE if part == "weights" else SCALER_FILE
            raise CheckpointError(f"{self.path}: checkpoint has no {name}")
        return value

    def load_into(self, module: Any) -> Any:
        """``module`` (a torch module) with ``weights.pt`` loaded, strictly; a CheckpointError
        naming the file when the weights do not fit it."""
        weights = self.tensors("weights")
        try:
            module.load_state_dict(weights)
        except (RuntimeError, TypeError, AttributeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(
                f"{self.path / WEIGHTS_FILE}: does not fit the model ({first})"
            ) from exc
        return module


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder whose ``config.json`` says it is a checkpoint (any kind)."""
    cfg = Path(path) / CONFIG_FILE
    try:
        blob = json.loads(cfg.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(blob, dict) and blob.get("format") == FORMAT


def check_target(path: str | os.PathLike) -> Path:
    """``path`` if a checkpoint may be written there: nothing there, an empty folder, or a
    checkpoint (replaced); a file or a folder of other things is a CheckpointError."""
    path = Path(path)
    if path.is_dir():
        if any(path.iterdir()) and not is_checkpoint(path):
            raise CheckpointError(
                f"{path}: a folder that is not a checkpoint is there (no {FORMAT} "
                f"{CONFIG_FILE}); it is not replaced: choose a new or empty folder"
            )
    elif path.exists():
        raise CheckpointError(
            f"{path}: exists and is not a folder; a checkpoint is a folder (config.json, "
            "weights.pt, ...): remove the file or choose another path"
        )
    return path


def save_checkpoint(
    path: str | os.PathLike,
    kind: str,
    config: Mapping[str, Any],
    weights: Mapping[str, Any] | None = None,
    scaler: Mapping[str, Any] | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a checkpoint folder at ``path`` (replacing a checkpoint there, see
    :func:`check_target`); ``extra(folder)`` adds files."""
    import torch

    path = check_target(path)
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
            raise CheckpointError(f"{f}: cannot be read as tensors ({_first_line(exc)})") from exc
        if not isinstance(tensors[name], dict):
            raise CheckpointError(f"{f}: holds a {type(tensors[name]).__name__}, not a mapping")
    return Checkpoint(
        path,
        blob_kind,
        config,
        tensors["weights"],
        tensors["scaler"],
        version,
        sorted(p.name for p in path.iterdir()),
    )


def _first_line(exc: BaseException) -> str:
    """An exception's type and the first sentence of its message (torch's run to paragraphs)."""
    text = str(exc).strip()
    first = text.split(". ")[0].splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
