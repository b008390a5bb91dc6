"""Helpers shared by the ``msa`` commands: JSON output, warnings, the ``--config FILE`` loader."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from msa_lib.io.jsonio import dumps, jsonable  # noqa: F401  (jsonable re-exported for commands)


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout."""
    print(dumps(obj), flush=True)


def warn(command: str, message: str) -> None:
    """One warning line on stderr: ``msa <command>: warning: <message>``."""
    import sys

    print(f"msa {command}: warning: {message}", file=sys.stderr, flush=True)


def report_zero_filled(command: str, fs, modalities, origin: str, part: str = "") -> dict[str, int]:
    """Rows of ``fs`` that are all zeros per modality, each count > 0 warned about on stderr.

    Such rows stand for missing input (``--protocol paper`` gives a clip with no face 65
    zeros), yet are used as data; ``part`` names the fold the rows come from (" of fold 'train'").
    """
    counts = {m: int(fs.zero_filled(m).sum()) for m in modalities}
    for m, n in counts.items():
        if n:
            warn(
                command,
                f"{origin}: {n} of {len(fs)} '{m}' rows{part} are all zeros (a stand-in for "
                "missing input, e.g. no face under --protocol paper) and are used as data",
            )
    return counts


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
