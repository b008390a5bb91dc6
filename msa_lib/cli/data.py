"""``msa data``: generate the synthetic corpora, summarise a data folder."""

from __future__ import annotations

import argparse

from msa_lib.cli.common import print_json
from msa_lib.config import SynthConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa data synth`` and ``msa data summary``."""
    data = sub.add_parser("data", help="data folders: synthetic corpora, summaries")
    dsub = data.add_subparsers(dest="data_command", required=True)

    synth = dsub.add_parser("synth", help="write the synthetic MOSEI/MOSI corpora as .csd files")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--seed", type=int, default=SynthConfig.seed)
    synth.add_argument("--mosei-segments", type=int, default=SynthConfig.mosei_segments)
    synth.add_argument("--mosi-segments", type=int, default=SynthConfig.mosi_segments)
    synth.add_argument("--json", action="store_true", help="print the folder summary as JSON")
    synth.set_defaults(func=cmd_synth)

    summary = dsub.add_parser("summary", help="segment counts per corpus and split")
    summary.add_argument("--data-dir", default=None, help="data folder (default: $MSA_DATA_DIR)")
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(func=cmd_summary)


def cmd_synth(args: argparse.Namespace) -> int:
    """Generate the synthetic corpora into ``--out``."""
    from msa_lib.data.folder import DataFolder
    from msa_lib.data.synthetic import generate

    cfg = SynthConfig(
        seed=args.seed, mosei_segments=args.mosei_segments, mosi_segments=args.mosi_segments
    )
    out = generate(args.out, cfg)
    summary = DataFolder.open(out).summary()
    _print_summary(summary, args.json)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the data folder's per-corpus segment counts."""
    from msa_lib.data.sources import open_data

    _print_summary(open_data(args.data_dir).summary(), args.json)
    return 0


def _print_summary(summary: dict, as_json: bool) -> None:
    """Print a folder summary as JSON or as a short table."""
    if as_json:
        print_json(summary)
        return
    print(f"{summary['data_dir']} ({summary['source']})")
    for corpus, info in summary["corpora"].items():
        splits = " ".join(f"{k}={v}" for k, v in info["splits"].items())
        print(f"  {corpus}: {info['n_segments']} segments, {info['n_videos']} videos; {splits}")
