"""``msa predict``: the sentiment of a raw clip (or of every clip in a folder), end to end.

With no ``--text`` or ``--transcript``, the speech is transcribed by Whisper base (offline). The
report says the score in [-3, 3], its polarity, the transcript used, which modalities were usable
and used (and why not), and what data each part of the model was trained on. A folder is scored
clip by clip into a CSV (``--out``); a clip that fails becomes a row with its error, and its
error is also said on stderr. An existing ``--out`` file is refused unless ``--overwrite`` is
given (then it is replaced, even by a file with fewer scored clips). Everything that can be
checked is checked before the first clip: the output file can be written, the bundle is whole
(its manifest, parts and extractor settings), the speech recognition model is there.
Exit status: 0 scored, 1 every clip of a folder failed, 2 a bad request or a clip that cannot be
scored (one line on stderr).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa predict``."""
    p = sub.add_parser(
        "predict",
        help="score a clip (or a folder of clips) end to end: transcript, features, model",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("clip", help="a video (or audio) clip, or a folder of clips")
    words = p.add_mutually_exclusive_group()
    words.add_argument("--text", help="what is said in the clip (default: transcribe the speech)")
    words.add_argument("--transcript", metavar="FILE", help="a UTF-8 file holding what is said")
    p.add_argument(
        "--model",
        metavar="DIR",
        help="model bundle folder (default: book/results/model, built by `make book`)",
    )
    p.add_argument(
        "--out",
        metavar="CSV",
        help="for a folder: the CSV of scores to write (one row per clip); an existing file is "
        "refused unless --overwrite",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out file, even when the new one has fewer scored clips",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="CPU threads for speech recognition (default 0: one per core, at most 4)",
    )
    p.add_argument(
        "--asr-model",
        default=None,
        metavar="NAME|DIR",
        help="speech recognition model: a CTranslate2 Whisper folder, or a faster-whisper name "
        "such as small.en (downloaded once: needs the network); default: the packaged Whisper base",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_predict)


def asr_threads(requested: int) -> int:
    """Whisper's CPU threads: ``requested``, or one per core (at most 4) for 0."""
    from msa_lib.extract.run.worker import available_cores, check_cpus

    return check_cpus(requested, "--threads") or min(available_cores(), 4)


def cmd_predict(args: argparse.Namespace) -> int:
    """Run ``msa predict``."""
    import dataclasses
    from pathlib import Path

    from msa_lib.cli.common import print_json
    from msa_lib.config import AsrConfig
    from msa_lib.extract.engines.asr import resolve_asr_model
    from msa_lib.predict.predictor import PredictError, Predictor

    target = Path(args.clip)
    if target.is_dir():
        if args.text is not None or args.transcript is not None:
            raise PredictError(
                "--text/--transcript name one clip's words; for a folder, put <clip>.txt "
                "beside each clip"
            )
        if not args.out:
            raise PredictError(f"{target}: a folder needs --out FILE.csv for the scores")
        check_out(Path(args.out), args.overwrite)
    elif args.out:
        raise PredictError("--out is for a folder of clips; a single clip's result is printed")
    asr = AsrConfig(cpu_threads=asr_threads(args.threads))
    if args.asr_model:
        asr = dataclasses.replace(asr, model=args.asr_model)
    # the whole bundle is checked as it loads; for one clip its parts load while Whisper listens
    predictor = Predictor(args.model, asr, background=not target.is_dir())
    try:
        if target.is_dir() or (args.text is None and args.transcript is None):
            resolve_asr_model(asr.model)  # a folder without model.bin: said once, before any clip
    except BaseException:
        predictor.settle()
        raise
    if target.is_dir():
        return score_folder(target, Path(args.out), predictor, args.json)
    result = predictor.predict(target, args.text, args.transcript)
    if args.json:
        print_json(result.as_dict())
    else:
        print("\n".join(result.lines()), flush=True)
    return 0


def check_out(out, overwrite: bool) -> None:
    """Before any clip: ``out`` is not an existing file (unless ``overwrite``) and can be written."""
    from msa_lib.io.atomic import check_writable_file
    from msa_lib.predict.predictor import PredictError

    if out.is_file() and not overwrite:
        try:
            with open(out, "rb") as f:
                n = max(sum(1 for _ in f) - 1, 0)  # rows under the header
            held = f" ({n} row{'s' if n != 1 else ''})"
        except OSError:
            held = ""
        raise PredictError(
            f"{out} exists{held}: give --overwrite to replace it, or another --out; "
            "nothing was scored"
        )
    check_writable_file(out, "--out")


def score_folder(folder, out, predictor, as_json: bool) -> int:
    """Score every clip of ``folder`` into the CSV ``out``; 1 when every clip failed."""
    import sys

    import pandas as pd

    from msa_lib.cli.common import print_json
    from msa_lib.io.atomic import atomic_path
    from msa_lib.predict.predictor import predict_folder

    rows = predict_folder(folder, predictor)
    df = pd.DataFrame(rows)
    with atomic_path(out, suffix=".csv") as tmp:
        df.to_csv(tmp, index=False)
    for r in rows:
        if r.get("error"):
            print(f"msa predict: {r['clip']}: error: {r['error']}", file=sys.stderr, flush=True)
    failed = int((df.get("error", pd.Series("", index=df.index)).fillna("") != "").sum())
    summary = {
        "out": str(out),
        "n_clips": len(df),
        "n_scored": len(df) - failed,
        "n_failed": failed,
    }
    if as_json:
        print_json({**summary, "rows": rows})
    else:
        for r in rows:
            what = (
                f"{r['score']:+.2f} {r['polarity']} ({r['model']})"
                if not r.get("error")
                else f"error: {r['error']}"
            )
            print(f"{r['clip']}: {what}")
        print(f"{summary['n_scored']} of {summary['n_clips']} clips scored -> {out}")
    if failed == len(df):
        print(
            f"msa predict: error: every one of the {len(df)} clips failed (their errors are in "
            f"{out})",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0
