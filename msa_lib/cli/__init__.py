"""The ``msa`` command: one module per verb (data, extract, train/evaluate, book).

Each module in ``COMMANDS`` has a ``register(subparsers)`` function and imports its heavy
dependencies inside the command functions, so ``msa --help`` starts fast. Every command's errors
end as one line on stderr naming the file and the problem, and exit status 2; ``-v`` adds the
traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
from typing import NoReturn

from msa_lib.cli.common import print_json  # noqa: F401  (re-exported for callers)

COMMANDS = (
    "data",
    "importer",
    "export",
    "extract",
    "train",
    "adapt",
    "transfer",
    "predict",
    "book",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command."""
    parser = argparse.ArgumentParser(prog="msa", description=__doc__.splitlines()[0])
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug messages and show tracebacks"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"msa_lib.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``msa`` command's work: parse ``argv``, run the command, return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("msa: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every command's failure is one line, never a traceback
        if args.verbose:
            raise
        print(f"msa {args.command}: error: {describe_error(exc)}", file=sys.stderr)
        return 2


def run(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the ``msa`` console script: :func:`main`, then exit with its status.

    The objects alive are frozen first (:func:`gc.freeze`), so that the interpreter's last
    garbage collections skip them: with torch and transformers loaded that saves about a second
    of exit, and the operating system frees the process's memory at once. Cycles are then not
    collected at exit, which loses nothing: a command has closed its output files when it returns.
    """
    status = main(argv)
    gc.freeze()
    sys.exit(status)


def describe_error(exc: BaseException) -> str:
    """One line for an exception: its message, with the type where the message alone is vague."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (ValueError, OSError)) and msg:
        return msg
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


if __name__ == "__main__":
    run()
