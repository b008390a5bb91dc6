"""``msa extract`` (interim: delegates to the extraction module)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa extract``."""
    from msa_lib.extract.corpus import register_cli

    register_cli(sub)
