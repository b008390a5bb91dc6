"""``msa import``: bring the field's feature files into this project's FeatureSets.

``msa import mmsa FILE.pkl --out DIR`` reads an MMSA / MMSA-FET feature file (a pickle of
train/valid/test) and writes an import folder: ``features.h5`` (each modality averaged over its
valid frames), ``aligned.h5`` (the frames aligned for the temporal model), ``transcripts.csv`` and
``import.json`` (:mod:`msa_lib.data.mmsa`). The folder, or the file itself, is what the library's
``open_mmsa`` and ``transfer_folds`` take. Loading a pickle can run code: import only files you
trust (they are read with a restricted unpickler that builds numpy arrays and builtins only).
"""

from __future__ import annotations

import argparse

from msa_lib.cli.common import print_json

TRUST = (
    "Loading a pickle can run code: import only files you trust (read with a restricted "
    "unpickler that builds numpy arrays and builtin values only)."
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa import mmsa``."""
    imp = sub.add_parser("import", help="import the field's feature files (MMSA pickles)")
    isub = imp.add_subparsers(dest="import_format", required=True)
    p = isub.add_parser(
        "mmsa",
        help="an MMSA / MMSA-FET feature file (.pkl) -> FeatureSets in an import folder",
        description=(
            "Import an MMSA feature file (train/valid/test with id, raw_text, text, audio, "
            "vision, their lengths and regression_labels). " + TRUST
        ),
    )
    p.add_argument("file", help="the MMSA feature file (.pkl)")
    p.add_argument("--out", required=True, help="import folder to write")
    p.add_argument("--corpus", default=None, help="corpus name (default: from the file name)")
    for m, example in (
        ("text", "glove, bert"),
        ("audio", "covarep"),
        ("visual", "facet, openface2"),
    ):
        p.add_argument(
            f"--{m}",
            default=None,
            metavar="NAME",
            help=f"extractor of the {m} features (e.g. {example}); default: guessed from the width",
        )
    p.add_argument(
        "--steps", type=int, default=None, help="aligned steps (default: TemporalConfig)"
    )
    p.add_argument("--no-aligned", action="store_true", help="write the averaged features only")
    p.add_argument(
        "--clip-lengths",
        action="store_true",
        help="cut lengths longer than their sequence (default: such a file is an error)",
    )
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.set_defaults(func=cmd_import_mmsa)


def cmd_import_mmsa(args: argparse.Namespace) -> int:
    """Import one MMSA file into ``--out``."""
    from msa_lib.config import TemporalConfig
    from msa_lib.data.mmsa import import_mmsa

    temporal = None
    if not args.no_aligned:
        temporal = TemporalConfig() if args.steps is None else TemporalConfig(steps=args.steps)
    names = {m: getattr(args, m) for m in ("text", "audio", "visual")}
    imp = import_mmsa(
        args.file,
        args.out,
        corpus=args.corpus,
        extractors=names,
        temporal=temporal,
        clip_lengths=args.clip_lengths,
    )
    summary = imp.summary()
    if args.json:
        print_json({"out": args.out, **summary})
        return 0
    counts = " ".join(f"{k}={v}" for k, v in summary["segments"].items())
    print(f"{args.file} -> {args.out} ({summary['corpus']}, {summary['source']}): {counts}")
    for m, d in summary["dims"].items():
        rep = imp.reports[m]
        print(
            f"  {m:7s} {d:5d}-d  {imp.extractors[m]:12s} frames: {imp.length_rules[m]}; "
            f"missing {rep.n_nan_rows}, -inf/NaN values left out {rep.n_nonfinite_values}"
        )
    return 0
