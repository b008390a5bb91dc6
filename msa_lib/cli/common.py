"""Helpers shared by the ``msa`` commands: JSON output, the ``--config FILE`` loader, CPU counts."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from msa_lib.io.jsonio import dumps, jsonable  # noqa: F401  (jsonable re-exported for commands)


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout."""
    print(dumps(obj), flush=True)


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """A YAML or JSON mapping from ``path``; errors name the file and the problem."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: config file not found")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid YAML/JSON ({exc})") from exc
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(values).__name__}")
    return values


def add_config_arg(parser: argparse.ArgumentParser, what: str) -> None:
    """The one ``--config FILE`` option every command shares."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"YAML/JSON file of {what}; values are type-checked and unknown keys are errors",
    )
