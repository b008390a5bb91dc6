"""``msa transfer``: every transfer setting from a source FeatureSet to a target one, with CIs.

``msa transfer --source MOSEI.h5 --target MOSI.h5 --out transfer.csv`` trains the fusion model on
the source's train fold, then scores on the target's test fold: zero-shot through each adapter
kind (with and without AdaBN), fine-tuned after adaptation, and a model trained on the target
alone; one row per setting, mean over seeds with 95% bootstrap intervals (``msa_lib.experiments.transfer``).
``--pairs NEW.h5 MODEL.h5`` adds the paired kinds: the same segments seen by the target's
extractor (``NEW.h5``) and by the source's (``MODEL.h5``); only their train fold is used.
``--csd`` takes MOSEI as source and MOSI as target from the data folder's ``.csd`` files.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa transfer``."""
    from msa_lib.adapters import BUILTIN

    p = sub.add_parser("transfer", help="transfer a model across feature spaces, every setting")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", help="FeatureSet (.h5) the model is trained on")
    src.add_argument(
        "--csd", action="store_true", help="MOSEI -> MOSI from the data folder's .csd files"
    )
    p.add_argument("--target", help="FeatureSet (.h5) to transfer to (with --source)")
    p.add_argument(
        "--data-dir", default=None, help="data folder for --csd (default: $MSA_DATA_DIR)"
    )
    p.add_argument("--pairs", nargs=2, metavar=("NEW", "MODEL"), help="paired FeatureSets (.h5)")
    p.add_argument("--modalities", nargs="+", default=None, help="default: those both sets have")
    p.add_argument(
        "--kinds", nargs="+", default=["none", *BUILTIN], help="adapter kinds (default: all)"
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--n-jobs", type=int, default=2, help="processes (one torch thread each)")
    p.add_argument(
        "--out",
        required=True,
        help="CSV of the summary rows (checked before any work; an existing file is replaced "
        "when the run ends)",
    )
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=cmd_transfer)


def _data(args: argparse.Namespace):
    """The TransferData the arguments describe."""
    from msa_lib.cli.common import report_zero_filled
    from msa_lib.data.featureset import FeatureSet
    from msa_lib.data.splits import fold_splits
    from msa_lib.experiments.transfer import TransferData

    if args.csd:
        from msa_lib.data.sources import open_data

        folder = open_data(args.data_dir)
        mods = tuple(args.modalities or ("visual", "audio", "text"))
        source, _ = folder.features("mosei", mods)
        target, _ = folder.features("mosi", mods)
        name, data_source = "MOSEI -> MOSI (.csd)", folder.source
    else:
        if not args.target:
            raise ValueError("--source needs --target (the FeatureSet to transfer to)")
        source, target = FeatureSet.load(args.source), FeatureSet.load(args.target)
        common = [m for m in source.modalities if m in target.modalities]
        mods = tuple(args.modalities or common)
        lacking = [m for m in mods if m not in common]
        if not mods or lacking:
            raise ValueError(
                f"{args.source} has {source.modalities}, {args.target} has {target.modalities}: "
                f"no modality {lacking or 'in common'} in both"
            )
        name = f"{source.corpus or args.source} -> {target.corpus or args.target}"
        data_source = target.source or "unknown"
    origins = ("MOSEI .csd", "MOSI .csd") if args.csd else (args.source, args.target)
    for fs, origin in zip((source, target), origins):
        report_zero_filled("transfer", fs, [m for m in mods if m in fs.modalities], origin)
    pairs = None
    if args.pairs:
        new, model = (FeatureSet.load(p).select("train") for p in args.pairs)
        pairs = (new, model)
    return TransferData(name, data_source, fold_splits(source), fold_splits(target), mods, pairs)


def cmd_transfer(args: argparse.Namespace) -> int:
    """Run every setting and write the summary."""
    from msa_lib.adapters.base import names
    from msa_lib.cli.common import print_json
    from msa_lib.experiments.transfer import run_transfer, summarise
    from msa_lib.io.atomic import atomic_path, check_writable_file

    unknown = sorted(set(args.kinds) - {"none", *names()})
    if unknown:
        raise ValueError(f"unknown adapter kind(s) {unknown}; known: {['none', *names()]}")
    out = check_writable_file(args.out, "--out")  # before every seed and kind, not after
    data = _data(args)
    rows, tuned = run_transfer(data, seeds=args.seeds, kinds=args.kinds, n_jobs=args.n_jobs)
    table = summarise(rows.to_dict("records"), data.name, data.data_source)
    with atomic_path(out, suffix=".csv") as tmp:
        table.to_csv(tmp, index=False)
    if args.json:
        print_json({"out": str(out), "fine_tuned_after": tuned, "rows": table.to_dict("records")})
    else:
        for row in table.itertuples(index=False):
            print(
                f"{row.setting:18s} {row.adapter:13s} n={row.n:<5d} r={row.r:.3f} mae={row.mae:.3f}"
            )
        print(f"written to {out}")
    return 0
