"""``msa book``: execute every chapter with papermill and build the HTML book."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa book``."""
    p = sub.add_parser("book", help="execute every chapter with papermill and build the HTML book")
    p.add_argument(
        "--data-dir", default=None, help="data folder (default: $MSA_DATA_DIR or synthetic)"
    )
    p.add_argument("--only", nargs="+", help="run only these chapters, e.g. 01_data")
    p.add_argument("--no-html", action="store_true", help="execute notebooks, skip the HTML build")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="chapters executed at once, each in its own process (a chapter waits for those "
        "whose results it reads); every number is the same whatever the count (default 1)",
    )
    p.set_defaults(func=_cmd_book)


def _cmd_book(args: argparse.Namespace) -> int:
    from msa_lib.book.build import run

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    return run(args.data_dir, args.only, not args.no_html, jobs=args.jobs)
