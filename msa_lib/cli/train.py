"""``msa train`` and ``msa evaluate`` (interim: delegates to the training module)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa train`` and ``msa evaluate``."""
    from msa_lib.train import register_cli

    register_cli(sub)
