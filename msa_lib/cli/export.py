"""``msa export``: write this project's features in the field's formats.

``msa export --format mmsa FEATURES.h5 --out FILE.pkl`` writes a FeatureSet as an MMSA feature
file that MMSA's own ``MMDataLoader`` reads as a ``custom_feature`` file
(:func:`msa_lib.data.mmsa.export_mmsa`): averaged features as sequences of one frame, an aligned
set (``msa_lib.data.align``) as its steps. ``--transcripts`` fills ``raw_text`` from a table with
``segment_id`` and ``text`` columns; ``--holdout`` makes a valid fold from whole train videos for
features without one (the bc-LSTM features' own split).
"""

from __future__ import annotations

import argparse

from msa_lib.cli.common import print_json

FORMATS = ("mmsa",)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa export``."""
    p = sub.add_parser("export", help="write a FeatureSet in the field's formats (MMSA pickle)")
    p.add_argument("features", help="FeatureSet file (.h5)")
    p.add_argument("--format", choices=FORMATS, required=True, help="the format to write")
    p.add_argument("--out", required=True, help="file to write (.pkl)")
    p.add_argument(
        "--transcripts", default=None, help="CSV with segment_id and text columns (raw_text)"
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=None,
        help="share of train videos held out as the valid fold (features without one)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the hold-out (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Write ``FEATURES.h5`` as an MMSA file."""
    from msa_lib.data.featureset import FeatureSet
    from msa_lib.data.mmsa import export_mmsa
    from msa_lib.data.segments import read_segments

    fs = FeatureSet.load(args.features)
    text = None
    if args.transcripts:
        table = read_segments(args.transcripts, required=("segment_id", "text"))
        text = dict(zip(table["segment_id"], table["text"]))
    out = export_mmsa(fs, args.out, transcripts=text, holdout=args.holdout, seed=args.seed)
    report = {"out": str(out), "format": args.format, "segments": len(fs), "dims": fs.dims}
    if args.json:
        print_json(report)
    else:
        print(f"{args.features} -> {out} ({args.format}, {len(fs)} segments, dims {fs.dims})")
    return 0
