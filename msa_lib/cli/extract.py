"""``msa extract``: features from a clip, a folder of clips or a segments table.

Writes ``<out>/<extractor>.h5`` per extractor (modalities ``audio``, ``visual``, ``text``,
``glove``), the merged ``<out>/features.h5`` and ``<out>/errors.jsonl``. An existing output file
is kept when the new one would have fewer good (non-NaN) rows, unless ``--overwrite``. One run at
a time writes into an ``--out`` folder: a second is refused at once, naming the first (its
process id and command). Runs into different folders may share a ``--cache`` folder.
Exit status 1 when every segment of an extractor failed; 2 for a bad request (config, paths,
tables, an ``--out`` in use or not writable), before any segment runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from msa_lib.cli.common import add_config_arg

if TYPE_CHECKING:
    from msa_lib.config import RayConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``msa extract``."""
    from msa_lib.config import FACE_WIDTHS
    from msa_lib.extract import BUILTIN

    p = sub.add_parser(
        "extract",
        help="extract audio/visual/text/glove features from clips, a folder or a segments.csv",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("path", help="a clip, a folder of clips, or a segments.csv")
    p.add_argument(
        "--out",
        default="features",
        help="output folder (default: ./features); existing files in it are kept when the new "
        "ones have fewer good rows, unless --overwrite; one run at a time writes into it",
    )
    p.add_argument(
        "--cache",
        metavar="DIR",
        help="per-segment cache folder, which runs into other --out folders may share, even at "
        "the same time (default: OUT/cache)",
    )
    p.add_argument(
        "--extractors",
        nargs="+",
        default=list(BUILTIN),
        choices=list(BUILTIN),
        help="which extractors to run (default: all)",
    )
    p.add_argument(
        "--segments",
        help="segments.csv giving labels, folds and transcripts of a folder's clips "
        "(default: ROOT/<corpus>/segments.csv for a folder ROOT/raw/<corpus>)",
    )
    p.add_argument(
        "--media", help="folder of the videos a segments.csv names (default: ROOT/raw/<corpus>)"
    )
    add_config_arg(p, "extractor settings (sections audio, visual, text)")
    p.add_argument("--text-model", help="a local BERT-style model folder (e.g. bert-base-uncased)")
    p.add_argument(
        "--protocol",
        choices=("ours", "paper", "sampled"),
        help="feature choices (msa_lib.config.VisualConfig, AudioConfig): ours (default; the "
        "first 100 frames), paper (the paper's public code throughout), sampled (ours on "
        "frames spread over the segment)",
    )
    p.add_argument("--face-width", choices=tuple(FACE_WIDTHS), help="visual normalisation pair")
    p.add_argument(
        "--landmarker",
        choices=("tasks", "litert"),
        help="face landmark route: tasks (MediaPipe Tasks, default) or litert (the same models "
        "through LiteRT, faster)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (or Ray actors) for audio/visual; 0: one per core, capped at the cores "
        "(under --address: one per CPU of the cluster); default 1, under --address 0",
    )
    p.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="where audio/visual run: a local process pool, or Ray (pip install -e .[ray]); "
        "both fill the same cache, so a run can resume under the other",
    )
    p.add_argument(
        "--address",
        help="with --backend ray: the Ray cluster to join (HEAD:6379, or 'auto' for the one "
        "`ray start` runs on this machine); default: a new local instance with --workers CPUs",
    )
    p.add_argument(
        "--transcript-encoding",
        default="utf-8",
        help="encoding of <clip>.txt transcripts (default: utf-8, read strictly)",
    )
    p.add_argument(
        "--asr",
        action="store_true",
        help="transcribe segments without a transcript with Whisper base (each video heard "
        "once, words given to segments by their times) so text features come from speech",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files even when the new ones have fewer good rows",
    )
    p.add_argument("--corpus", help="corpus name stored in the FeatureSets")
    p.add_argument(
        "--source", default="real", choices=("real", "synthetic"), help="data source tag"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="end by printing a JSON summary")
    p.set_defaults(func=cmd_extract)


def settings_from_args(args: argparse.Namespace) -> dict:
    """The extractor settings: the config file, then the options that override it."""
    from msa_lib.cli.common import read_config_file
    from msa_lib.config import FACE_WIDTHS
    from msa_lib.extract.base import default_settings, settings_from_dict, with_section

    settings = default_settings()
    if args.config:
        settings = settings_from_dict(read_config_file(args.config), str(args.config))
    if args.text_model:
        settings = with_section(settings, "text", model=args.text_model)
    if args.protocol:
        settings = with_section(settings, "visual", protocol=args.protocol)
        audio = "paper" if args.protocol == "paper" else "ours"  # audio has no frame choice
        settings = with_section(settings, "audio", protocol=audio)
    if args.face_width:
        settings = with_section(settings, "visual", width_landmarks=FACE_WIDTHS[args.face_width])
    if getattr(args, "landmarker", None):
        settings = with_section(settings, "visual", landmarker=args.landmarker)
    return settings


def cmd_extract(args: argparse.Namespace) -> int:
    """Run ``msa extract``."""
    from msa_lib.config import RayConfig
    from msa_lib.extract.base import ExtractError
    from msa_lib.extract.plan import plan
    from msa_lib.extract.run.worker import check_cpus, resolve_workers
    from msa_lib.io.atomic import check_writable_dir
    from msa_lib.io.lock import folder_lock

    # a bad request fails before any work
    if args.address is not None and args.backend != "ray":
        raise ExtractError("--address names a Ray cluster: add --backend ray")
    ray_config = RayConfig(address=args.address)
    workers = args.workers if args.workers is not None else (0 if args.address else 1)
    zero = "every CPU of the cluster" if args.address else "one per core"
    workers = check_cpus(workers, "--workers", zero)
    if args.address is None:
        workers = resolve_workers(workers)
    settings = settings_from_args(args)
    segments, corpus = plan(args.path, args.segments, args.media, args.transcript_encoding)
    check_writable_dir(args.out, "--out")
    if args.cache:
        check_writable_dir(args.cache, "--cache")
    with folder_lock(args.out, hint="or write to another --out"):
        return _extract(args, segments, corpus, settings, workers, ray_config)


def _extract(
    args: argparse.Namespace,
    segments: list,
    corpus: str,
    settings: dict,
    workers: int,
    ray_config: RayConfig,
) -> int:
    """The work of ``msa extract``, under its output folder's lock."""
    from pathlib import Path

    from msa_lib.cli.common import print_json
    from msa_lib.extract.run.corpus import extract_corpus
    from msa_lib.extract.run.worker import resolve_workers

    cache = Path(args.cache) if args.cache else Path(args.out) / "cache"
    heard = None
    if args.asr and {"text", "glove"} & set(args.extractors):
        from msa_lib.config import AsrConfig
        from msa_lib.extract.engines.asr import transcribe_segments

        segments, heard = transcribe_segments(
            segments,
            # threads of this machine (under --address, --workers counts the cluster's CPUs)
            AsrConfig(cpu_threads=workers if args.address is None else resolve_workers(0)),
            cache_dir=cache,
        )
    try:
        report = extract_corpus(
            segments,
            args.out,
            args.extractors,
            settings,
            workers=workers,
            progress=not args.no_progress,
            corpus=args.corpus or corpus,
            source=args.source,
            cache_dir=cache,
            overwrite=args.overwrite,
            backend=args.backend,
            ray_config=ray_config,
            # with a second core, the text models load while the media extractors run
            load_ahead=True,
        )
    except KeyboardInterrupt:
        print("msa: interrupted; finished segments are cached, rerun to resume", flush=True)
        return 130
    summary = report.as_dict()
    if heard is not None:
        summary["asr"] = heard
    if args.json:
        print_json(summary)
    else:
        for n, info in summary["extractors"].items():
            kept = " (existing file kept)" if info["kept_existing"] else ""
            print(
                f"{n}: {info['n_segments']} segments x {info['dim']} -> {info['file']}{kept} "
                f"({info['n_nan_rows']} NaN rows, {info['n_failed']} failed)"
            )
        if summary["merged"]:
            print(f"merged: {summary['merged']}")
        if heard is not None:
            print(
                f"asr: {heard['n_segments']} segments transcribed from {heard['n_files']} files "
                f"({heard['n_no_speech']} with no speech, {len(heard['failed'])} files failed)"
            )
    return 1 if report.all_failed else 0
