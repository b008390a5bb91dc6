"""``msa train`` and ``msa evaluate``: train the fusion model on a FeatureSet, score a checkpoint.

A checkpoint is a folder (:mod:`msa_lib.io.checkpoint`: ``config.json``, ``weights.pt``,
``scaler.pt``); ``--out`` names it (``--out model.pt`` makes a folder of that name). A checkpoint
already there is replaced; a file, or a folder holding anything else, is refused before training.

Features come from one or more FeatureSet files (several single-modality files are merged by
segment id) or from a corpus of the data folder; ``--modalities`` chooses among them. Settings
come from the configuration dataclasses' defaults (the paper's), then ``--config FILE`` (sections
``model``, ``train``, ``loss``), then the flags, in that order.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from msa_lib.cli.common import add_config_arg, print_json, read_config_file, report_zero_filled

CORPUS_CHOICES = ("mosi-bclstm", "mosei", "mosi")


# ----------------------------------------------------------------- argument types
def fraction(text: str) -> float:
    """A number strictly between 0 and 1 (argparse names the option on failure)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def class_count(text: str) -> int:
    """0 (no classification head) or a number of classes >= 2."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 0 or an integer >= 2, got {text!r}") from None
    if value < 0 or value == 1:
        raise argparse.ArgumentTypeError(f"must be 0 (no head) or >= 2, got {value}")
    return value


# ----------------------------------------------------------------- parser
def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", default=None, help="data folder (default: $MSA_DATA_DIR or synthetic)"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--corpus", choices=CORPUS_CHOICES, default=None, help="default: mosi-bclstm")
    src.add_argument(
        "--features",
        nargs="+",
        metavar="FILE",
        help="FeatureSet file(s) (.h5); several single-modality files are merged by segment id",
    )
    p.add_argument(
        "--holdout",
        type=fraction,
        default=0.15,
        help="share of train videos held out for validation when there is no valid fold (0-1)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="training seed and hold-out seed (default 0)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa train`` and ``msa evaluate``."""
    from msa_lib.config import LOSS_KINDS

    p = sub.add_parser(
        "train", help="train the fusion model (paper's recipe) and save a checkpoint"
    )
    _data_args(p)
    add_config_arg(p, "training settings, sections model, train and loss")
    p.add_argument(
        "--modalities", nargs="+", default=None, help="modalities to use (default: every one)"
    )
    p.add_argument("--max-epochs", type=positive_int, default=None, help="train.max_epochs")
    p.add_argument("--loss", choices=LOSS_KINDS, default=None, help="loss.kind")
    p.add_argument(
        "--classes", type=class_count, default=None, help="model.n_classes (multi-task head)"
    )
    p.add_argument("--threads", type=positive_int, default=None, help="train.num_threads")
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="checkpoint folder to write (config.json, weights.pt, scaler.pt); a checkpoint "
        "there is replaced, any other file or folder is refused",
    )
    p.add_argument("--history", default=None, help="CSV file for the per-epoch history")
    p.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="score a checkpoint on one split, with bootstrap 95%% CIs")
    _data_args(e)
    e.add_argument(
        "--model", required=True, metavar="DIR", help="checkpoint folder written by msa train"
    )
    e.add_argument("--split", choices=("train", "valid", "test"), default="test")
    e.add_argument("--resamples", type=positive_int, default=2000, help="bootstrap resamples")
    e.set_defaults(func=cmd_evaluate)


# ----------------------------------------------------------------- shared steps
def load_featureset(data_dir: str | None, corpus: str | None, features: Sequence[str] | None):
    """One FeatureSet: the files given (merged when several) or a corpus of the data folder."""
    from msa_lib.data.featureset import FeatureSet

    if features:
        sets = [FeatureSet.load(f) for f in features]
        return sets[0] if len(sets) == 1 else FeatureSet.merge(*sets)
    from msa_lib.data.sources import open_data

    folder = open_data(data_dir)
    corpus = corpus or "mosi-bclstm"
    return folder.bclstm() if corpus == "mosi-bclstm" else folder.features(corpus)[0]


def choose_modalities(fs, wanted: Sequence[str] | None) -> list[str]:
    """``wanted`` if every name is a modality of ``fs`` (default: all), else one clear error."""
    if not wanted:
        return fs.modalities
    unknown = [m for m in wanted if m not in fs.modalities]
    if unknown:
        raise ValueError(
            f"--modalities: unknown modality {', '.join(map(repr, unknown))}; "
            f"the features have {', '.join(fs.modalities)}"
        )
    return list(dict.fromkeys(wanted))


def make_splits(fs, holdout: float, seed: int) -> dict:
    """train/valid/test; a corpus without a valid fold gets whole train videos held out."""
    from msa_lib.data.splits import fold_splits

    if not (fs.split == "valid").any():  # e.g. the bc-LSTM split
        return fold_splits(fs, holdout=holdout, seed=seed)
    return fold_splits(fs)


def training_configs(args: argparse.Namespace) -> dict[str, Any]:
    """``{"model", "train", "loss"}`` configs: defaults, then ``--config FILE``, then the flags."""
    from msa_lib.config import LossConfig, ModelConfig, TrainConfig, sections_from_dict

    values: dict[str, Any] = read_config_file(args.config) if args.config else {}
    flags = {
        "model": {"n_classes": args.classes},
        "train": {"max_epochs": args.max_epochs, "seed": args.seed, "num_threads": args.threads},
        "loss": {"kind": args.loss},
    }
    merged = dict(values)
    for name, given in flags.items():
        given = {k: v for k, v in given.items() if v is not None}
        if given:
            section = values.get(name) or {}
            if not isinstance(section, dict):
                raise ValueError(f"{args.config}: section '{name}' must be a mapping")
            merged[name] = {**section, **given}
    sections = {"model": ModelConfig, "train": TrainConfig, "loss": LossConfig}
    return sections_from_dict(sections, merged, str(args.config or "command line"))


# ----------------------------------------------------------------- commands
def cmd_train(args: argparse.Namespace) -> int:
    """Train, save the checkpoint, print train/valid scores as JSON."""
    from msa_lib.io.checkpoint import check_target
    from msa_lib.train import evaluate_model, fit

    check_target(args.out)  # refused before hours of training, not after
    configs = training_configs(args)
    train_config = configs["train"]
    fs = load_featureset(args.data_dir, args.corpus, args.features)
    modalities = choose_modalities(fs, args.modalities)
    origin = " + ".join(args.features) if args.features else (args.corpus or "mosi-bclstm")
    zeros = report_zero_filled("train", fs, modalities, origin)  # used as data: said, counted
    splits = make_splits(fs, args.holdout, train_config.seed)
    trained, history = fit(
        configs["model"],
        train_config,
        splits["train"],
        splits["valid"],
        configs["loss"],
        modalities,
        progress=True,
    )
    path = trained.save(args.out)
    if args.history:
        from msa_lib.io.atomic import atomic_path

        with atomic_path(args.history) as tmp:
            history.to_csv(tmp, index=False)
    scores = evaluate_model(trained, {k: splits[k] for k in ("train", "valid")})
    print_json(
        {
            "checkpoint": path,
            "modalities": trained.modalities,
            "epochs": len(history),
            "best_epoch": trained.best_epoch,
            "input_counts": trained.input_counts,
            "n_zero_filled": zeros,
            "configs": configs,
            "scores": scores.set_index("split").to_dict("index"),
        }
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a checkpoint on one split with bootstrap CIs; print JSON."""
    import numpy as np

    from msa_lib.evaluate import metrics_with_ci
    from msa_lib.train import TrainedModel, predict

    trained = TrainedModel.load(args.model)
    fs = load_featureset(args.data_dir, args.corpus, args.features)
    seed = args.seed if args.seed is not None else trained.train_config.seed
    part = make_splits(fs, args.holdout, seed)[args.split]
    pred = predict(trained, part)
    ok = ~np.isnan(part.label)
    if ok.sum() < 2:
        raise ValueError(f"the {args.split} split has {int(ok.sum())} labelled segments; need >= 2")
    out = metrics_with_ci(part.label[ok], pred[ok], n_resamples=args.resamples)
    print_json({"checkpoint": args.model, "split": args.split, "n": int(ok.sum()), **out})
    return 0
