"""``msa adapt``: fit a feature adapter between two FeatureSets, or apply one.

``msa adapt fit --source NEW.h5 --target MODEL.h5 --kind coral --out ADAPTER`` maps the
``--modality`` features of ``NEW.h5`` (a new extractor's, e.g. ``msa extract`` on MOSI clips) into
the space of ``MODEL.h5`` (the features a model was trained on, e.g. MOSEI's from .csd files),
fitted on the training fold of each. ``--paired`` fits on segments present in both files (the
same clips through both extractors; for MOSEI, run ``msa extract`` on the MOSEI clips with the
MOSEI segments table, so segment ids match the .csd features): ``paired-ridge`` unless ``--kind``
names ``paired-mlp``. The adapter is written as a checkpoint folder (``config.json``,
``scaler.pt``, ``weights.pt``: :mod:`msa_lib.adapters.base`). ``msa adapt apply --adapter ADAPTER
--features NEW.h5 --out MAPPED.h5`` writes the mapped FeatureSet.
"""

from __future__ import annotations

import argparse

from msa_lib.cli.common import add_config_arg, print_json, read_config_file, report_zero_filled


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa adapt fit`` and ``msa adapt apply``."""
    from msa_lib.adapters import BUILTIN

    adapt = sub.add_parser("adapt", help="feature adapters: fit one, or apply one to a FeatureSet")
    asub = adapt.add_subparsers(dest="adapt_command", required=True)

    fit = asub.add_parser("fit", help="fit an adapter from --source features into --target's space")
    fit.add_argument("--source", required=True, help="FeatureSet (.h5) of the features to map")
    fit.add_argument("--target", required=True, help="FeatureSet (.h5) in the space to map into")
    fit.add_argument("--modality", default="text", help="modality to map (default: text)")
    fit.add_argument(
        "--kind", choices=list(BUILTIN), default=None, help="adapter kind (default: paper)"
    )
    fit.add_argument(
        "--paired",
        action="store_true",
        help="fit on segments present in both files (default kind: paired-ridge)",
    )
    fit.add_argument(
        "--split", default="train", help="fold of both files to fit on (default: train)"
    )
    fit.add_argument("--out", required=True, help="adapter folder to write (a checkpoint folder)")
    add_config_arg(fit, "adapter settings (the AdapterConfig keys)")
    fit.add_argument("--json", action="store_true", help="print a JSON report")
    fit.set_defaults(func=cmd_fit)

    apply = asub.add_parser("apply", help="map a FeatureSet's modality through a fitted adapter")
    apply.add_argument("--adapter", required=True, help="adapter folder written by msa adapt fit")
    apply.add_argument("--features", required=True, help="FeatureSet (.h5) to map")
    apply.add_argument("--modality", default="text")
    apply.add_argument("--out", required=True, help="FeatureSet (.h5) to write")
    apply.add_argument("--json", action="store_true", help="print a JSON report")
    apply.set_defaults(func=cmd_apply)


def _kind(args: argparse.Namespace) -> str:
    """The adapter kind from ``--kind`` and ``--paired`` (a contradiction is an error)."""
    from msa_lib.adapters.base import get, names

    kind = args.kind or ("paired-ridge" if args.paired else "paper")
    if args.paired and not get(kind).paired:
        paired = [k for k in names() if get(k).paired]
        raise ValueError(f"--paired fits a paired kind {paired}, not '{kind}'")
    if get(kind).paired and not args.paired:
        raise ValueError(f"kind '{kind}' needs --paired (segments seen by both extractors)")
    return kind


def _check_modality(fs, modality: str, path: str) -> None:
    """A one-line error naming the file when ``fs`` has no usable ``modality`` columns."""
    if modality not in fs.features:
        raise ValueError(f"{path}: no modality '{modality}' (has {fs.modalities})")
    if fs.dims[modality] == 0:
        raise ValueError(f"{path}: modality '{modality}' has no columns (0-d); nothing to map")


def _rows(fs, modality: str, split: str, path: str):
    """The fold's rows of ``modality`` with whole vectors: (matrix, segment ids, zero rows)."""
    import numpy as np

    _check_modality(fs, modality, path)
    part = fs.select(split)
    if len(part) == 0:
        raise ValueError(f"{path}: no segments in fold '{split}'")
    x = part.features[modality]
    ok = np.isfinite(x).all(axis=1)
    if not ok.any():
        raise ValueError(f"{path}: every '{modality}' row of fold '{split}' is missing")
    zeros = report_zero_filled("adapt", part, [modality], path, f" of fold '{split}'")[modality]
    return x[ok], part.segment_id[ok], zeros


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit the adapter and write it."""
    from pathlib import Path

    from msa_lib.adapters.base import build
    from msa_lib.config import AdapterConfig, config_from_dict
    from msa_lib.data.featureset import FeatureSet
    from msa_lib.io.atomic import check_writable_dir
    from msa_lib.io.checkpoint import check_target

    check_target(args.out)  # a file or a folder of other things: refused before fitting
    check_writable_dir(Path(args.out).parent, f"--out {args.out}: its folder")
    config = AdapterConfig()
    if args.config:
        config = config_from_dict(AdapterConfig, read_config_file(args.config), args.config)
    kind = _kind(args)
    xs, ids_s, zeros_s = _rows(FeatureSet.load(args.source), args.modality, args.split, args.source)
    xt, ids_t, zeros_t = _rows(FeatureSet.load(args.target), args.modality, args.split, args.target)
    adapter = build(kind, config, args.modality).fit(xs, xt, (ids_s, ids_t))
    path = adapter.save(args.out)
    report = {
        "adapter": str(path),
        "kind": kind,
        "modality": args.modality,
        "in_dim": adapter.in_dim,
        "out_dim": adapter.out_dim,
        "n_source": len(xs),
        "n_target": len(xt),
        "n_zero_filled": {"source": zeros_s, "target": zeros_t},
        **adapter.info,
    }
    if args.json:
        print_json(report)
    else:
        print(f"{kind} adapter {adapter.in_dim}-d -> {adapter.out_dim}-d written to {path}")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    """Map one modality of a FeatureSet and write the result (missing rows stay missing)."""
    import dataclasses
    import sys

    import numpy as np

    from msa_lib.adapters.base import Adapter
    from msa_lib.data.featureset import FeatureSet, ModalityMeta
    from msa_lib.io.atomic import check_writable_file

    check_writable_file(args.out, "--out")
    adapter = Adapter.load(args.adapter)  # any kind
    fs = FeatureSet.load(args.features)
    _check_modality(fs, args.modality, args.features)
    x = fs.features[args.modality]
    ok = np.isfinite(x).all(axis=1)
    if not ok.any():  # as msa extract when every segment failed: nothing usable, exit 1
        print(
            f"msa adapt: error: {args.features}: every '{args.modality}' row is missing "
            f"(0 of {len(fs)} rows usable); nothing mapped, {args.out} not written",
            file=sys.stderr,
        )
        return 1
    zeros = report_zero_filled("adapt", fs, [args.modality], args.features)[args.modality]
    out = np.full((len(fs), adapter.out_dim), np.nan, dtype=np.float32)
    out[ok] = adapter.transform(x[ok])
    meta = dict(fs.meta)
    meta[args.modality] = ModalityMeta(
        extractor=f"adapter:{adapter.kind}", params={"adapter": str(args.adapter)}
    )
    mapped = dataclasses.replace(fs, features={**fs.features, args.modality: out}, meta=meta)
    path = mapped.validate(args.out).save(args.out)
    report = {
        "features": str(path),
        "rows": len(fs),
        "mapped": int(ok.sum()),
        "n_zero_filled": zeros,
        "dim": adapter.out_dim,
    }
    if args.json:
        print_json(report)
    else:
        print(f"{int(ok.sum())} of {len(fs)} rows mapped to {adapter.out_dim}-d: {path}")
    return 0
