"""The ``msa`` command: data, extract, train, evaluate, book.

Each command group lives beside the code it drives and registers itself through a
``register_cli(subparsers)`` function in one of the modules listed in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

COMMAND_MODULES = ("msa_lib.cli_data", "msa_lib.book", "msa_lib.extract.corpus", "msa_lib.train")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered command group."""
    parser = argparse.ArgumentParser(prog="msa", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register_cli(sub)
    return parser


def print_json(obj) -> None:
    """Print one JSON object on stdout (paths as strings)."""
    print(json.dumps(obj, indent=2, default=lambda o: str(o) if isinstance(o, Path) else repr(o)))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``msa`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"msa: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
