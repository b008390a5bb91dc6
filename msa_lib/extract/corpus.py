"""Batch extraction: clips, folders or a segments table -> one FeatureSet per extractor.

``msa extract PATH`` takes a clip, a folder of clips, or a ``segments.csv`` whose rows name source
videos and ``start``/``end`` times (MOSEI's whole videos are cut per segment by seeking, never
re-encoded). Each segment's result is cached on disk as soon as it is computed, so a rerun after a
crash or Ctrl-C skips finished segments; audio and visual run in a process pool (``--workers``),
text in batches in the main process. A failure in one segment is written to ``errors.jsonl`` and
becomes an all-NaN row with the ``failed`` flag; it never stops the run. Settings come from the
config dataclasses, optionally read from a YAML/JSON file whose unknown keys are an error.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import hashlib
import json
import logging
import math
import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.atomic import atomic_path
from msa_lib.config import AudioConfig, TextConfig, VisualConfig, config_from_dict
from msa_lib.data.featureset import ALLOWED_SPLITS, LABEL_MAX, LABEL_MIN, FeatureSet, ModalityMeta
from msa_lib.data.folder import fail_on_rows

log = logging.getLogger(__name__)

MEDIA_EXTRACTORS = ("audio", "visual")
TEXT_EXTRACTORS = ("text", "glove")
EXTRACTORS = MEDIA_EXTRACTORS + TEXT_EXTRACTORS
MODALITY = {"audio": "audio", "visual": "visual", "text": "text", "glove": "text"}
MEDIA_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".wav", ".flac", ".mp3", ".m4a")
CACHE_VERSION = 1


class ExtractError(ValueError):
    """The extraction request itself is wrong (bad path, table, settings)."""


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Settings:
    """The three extractors' configurations (each with the paper's defaults)."""

    audio: AudioConfig = AudioConfig()
    visual: VisualConfig = VisualConfig()
    text: TextConfig = TextConfig()


def _visual_values(values: dict, origin: str) -> dict:
    """Accept ``width_landmarks`` as a pair or as a named pair ("paper", "cheeks")."""
    from msa_lib.extract.visual import FACE_WIDTHS

    out = dict(values)
    w = out.get("width_landmarks")
    if isinstance(w, str):
        if w not in FACE_WIDTHS:
            raise ExtractError(f"{origin}: width_landmarks '{w}' unknown; use {list(FACE_WIDTHS)}")
        out["width_landmarks"] = FACE_WIDTHS[w]
    elif w is not None:
        if len(w) != 2:
            raise ExtractError(f"{origin}: width_landmarks must be two landmark indices, got {w}")
        out["width_landmarks"] = (int(w[0]), int(w[1]))
    return out


def settings_from_dict(values: dict, origin: str = "<dict>") -> Settings:
    """Settings from ``{"audio": {...}, "visual": {...}, "text": {...}}``; unknown keys are errors."""
    if not isinstance(values, dict):
        raise ExtractError(f"{origin}: expected a mapping with audio/visual/text sections")
    unknown = sorted(set(values) - {"audio", "visual", "text"})
    if unknown:
        raise ExtractError(
            f"{origin}: unknown section(s) {unknown}; known sections are audio, visual, text"
        )
    for name, sec in values.items():
        if not isinstance(sec, dict):
            raise ExtractError(f"{origin}: section '{name}' must be a mapping, got {sec!r}")
    return Settings(
        audio=config_from_dict(AudioConfig, values.get("audio", {}), f"{origin} [audio]"),
        visual=config_from_dict(
            VisualConfig, _visual_values(values.get("visual", {}), origin), f"{origin} [visual]"
        ),
        text=config_from_dict(TextConfig, values.get("text", {}), f"{origin} [text]"),
    )


def load_settings(path: str | os.PathLike) -> Settings:
    """Settings from a YAML or JSON file; unknown keys (typos) are errors naming the file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: config file not found")
    try:
        values = yaml.safe_load(path.read_text()) or {}  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise ExtractError(f"{path}: not valid YAML/JSON ({exc})") from exc
    return settings_from_dict(values, str(path))


# --------------------------------------------------------------------------- segments
@dataclass(frozen=True)
class Segment:
    """One unit of extraction: a media file (or a window of one) and its transcript."""

    segment_id: str
    video_id: str
    media: str | None = None
    start: float | None = None  # None: from the beginning of the file
    end: float | None = None  # None: to the end of the file
    label: float = float("nan")
    split: str = "unassigned"
    text: str | None = None


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A segments table: ``segment_id`` plus optional video_id, start, end, label, split, text."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: segments table not found")
    try:
        df = pd.read_csv(path, dtype={"segment_id": str, "video_id": str}, keep_default_na=False)
    except Exception as exc:
        raise ExtractError(f"{path}: cannot be read as CSV ({exc})") from exc
    if "segment_id" not in df.columns:
        raise ExtractError(f"{path}: no 'segment_id' column (columns: {list(df.columns)})")
    if "label" not in df.columns and "sentiment" in df.columns:
        df = df.rename(columns={"sentiment": "label"})
    dup = df["segment_id"][df["segment_id"].duplicated()]
    if len(dup):
        raise ExtractError(f"{path}: duplicate segment ids, e.g. {dup.head(3).tolist()}")
    if "video_id" not in df.columns:
        df["video_id"] = df["segment_id"]
    for col in ("start", "end", "label"):
        raw = df[col] if col in df.columns else pd.Series([""] * len(df))
        num = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad = num.isna() & (raw.astype(str).str.strip() != "")
        fail_on_rows(
            path,
            df,
            bad,
            lambda i, col=col, raw=raw: f"has {col} {raw.iat[i]!r}, not a number",
            ExtractError,
        )
        df[col] = num.to_numpy(dtype=float)
    lab = df["label"]
    fail_on_rows(
        path,
        df,
        lab.notna() & ((lab < LABEL_MIN) | (lab > LABEL_MAX)),
        lambda i: f"has label {lab.iat[i]}, outside [{LABEL_MIN}, {LABEL_MAX}]",
        ExtractError,
    )
    if "split" not in df.columns:
        df["split"] = "unassigned"
    df["split"] = df["split"].replace("", "unassigned")
    fail_on_rows(
        path,
        df,
        ~df["split"].isin(ALLOWED_SPLITS),
        lambda i: f"has split {df['split'].iat[i]!r}, expected one of {ALLOWED_SPLITS}",
        ExtractError,
    )
    if "text" in df.columns:
        df["text"] = df["text"].astype(str)
    return df


def _find_media(folder: Path, stem: str) -> Path | None:
    """``folder/stem.<ext>`` for the first known media extension that exists."""
    for ext in MEDIA_EXTS:
        p = folder / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def media_files(folder: str | os.PathLike) -> list[Path]:
    """Media files directly inside ``folder``, sorted."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_EXTS)


def default_table_for(folder: Path) -> Path | None:
    """``ROOT/<corpus>/segments.csv`` for a clip folder ``ROOT/raw/<corpus>`` (the data layout)."""
    folder = folder.resolve()
    if folder.parent.name == "raw":
        cand = folder.parent.parent / folder.name / "segments.csv"
        if cand.is_file():
            return cand
    return None


def plan_clips(clips: Sequence[Path], table: pd.DataFrame | None = None) -> list[Segment]:
    """One segment per whole clip, id = file stem; labels and text from ``table`` or sidecars.

    A transcript comes from the table's ``text`` column (matched by segment id), else from a
    sidecar ``<stem>.txt`` beside the clip, else there is none.
    """
    rows = table.set_index("segment_id") if table is not None else None
    out = []
    for clip in clips:
        clip = Path(clip)
        sid = clip.stem
        row = rows.loc[sid] if rows is not None and sid in rows.index else None
        text = None
        if row is not None and "text" in row.index:
            text = str(row["text"])
        elif clip.with_suffix(".txt").is_file():
            text = clip.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")
        out.append(
            Segment(
                segment_id=sid,
                video_id=str(row["video_id"]) if row is not None else sid,
                media=str(clip),
                label=float(row["label"]) if row is not None else float("nan"),
                split=str(row["split"]) if row is not None else "unassigned",
                text=text,
            )
        )
    return out


def plan_table(table: pd.DataFrame, media_dir: Path | None) -> list[Segment]:
    """One segment per table row: its own clip ``<segment_id>.*`` if present, else a window of
    ``<video_id>.*`` from ``start`` to ``end``; rows whose media is absent get ``media=None``."""
    out = []
    for r in table.itertuples(index=False):
        r = r._asdict()
        media, start, end = None, None, None
        if media_dir is not None:
            own = _find_media(media_dir, r["segment_id"])
            if own is not None:
                media = own
            else:
                media = _find_media(media_dir, r["video_id"])
                start, end = r["start"], r["end"]
                if media is not None and (not np.isfinite(start) or not np.isfinite(end)):
                    start = end = float("nan")  # reported per segment by check_window
        out.append(
            Segment(
                segment_id=r["segment_id"],
                video_id=r["video_id"],
                media=None if media is None else str(media),
                start=start,
                end=end,
                label=float(r["label"]),
                split=str(r["split"]),
                text=str(r["text"]) if "text" in r else None,
            )
        )
    return out


def plan(
    path: str | os.PathLike,
    segments: str | os.PathLike | None = None,
    media_dir: str | os.PathLike | None = None,
) -> tuple[list[Segment], str]:
    """Segments for a clip, a folder of clips or a segments table; also a corpus name."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such clip, folder or segments table")
    if path.is_file() and path.suffix.lower() == ".csv":
        table = read_table(path)
        mdir = Path(media_dir) if media_dir else path.parent.parent / "raw" / path.parent.name
        if not mdir.is_dir():
            log.warning("%s: media folder %s not found; only text can be extracted", path, mdir)
            mdir = None
        return plan_table(table, mdir), path.parent.name
    table_path = Path(segments) if segments else None
    if path.is_dir():
        clips = media_files(path)
        if not clips:
            raise ExtractError(f"{path}: no media files ({', '.join(MEDIA_EXTS)})")
        table_path = table_path or default_table_for(path)
        corpus = path.resolve().name
    else:
        clips = [path]
        table_path = table_path or default_table_for(path.parent)
        corpus = path.resolve().parent.name
    if table_path is not None:
        log.info("labels, folds and transcripts from %s", table_path)
    table = read_table(table_path) if table_path is not None else None
    return plan_clips(clips, table), corpus


# --------------------------------------------------------------------------- cache
def _jsonable(x):
    """Dataclasses, tuples and paths as JSON values."""
    if dataclasses.is_dataclass(x):
        return _jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    return x


def settings_key(name: str, settings: Settings) -> str:
    """A short hash of one extractor's settings and library versions (the cache folder name)."""
    from importlib.metadata import version

    cfg = {
        "audio": (settings.audio, version("librosa")),
        "visual": (settings.visual, version("mediapipe")),
        "text": (settings.text.model, settings.text.max_length, version("transformers")),
        "glove": (settings.text.glove,),
    }[name]
    blob = json.dumps([CACHE_VERSION, name, _jsonable(cfg)], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:10]


def segment_key(seg: Segment, name: str) -> str:
    """What the cached result depends on: the media file (size, mtime), window or transcript."""
    if name in TEXT_EXTRACTORS:
        src = [seg.text]
    else:
        st = os.stat(seg.media) if seg.media and os.path.exists(seg.media) else None
        src = [seg.media, st.st_size if st else None, st.st_mtime_ns if st else None]
        src += [seg.start, seg.end]
    return hashlib.sha1(json.dumps(src, default=str).encode()).hexdigest()


def _safe_name(segment_id: str) -> str:
    """A file name for a segment id (ids may hold any character)."""
    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", segment_id)
    if clean != segment_id:
        clean += "-" + hashlib.sha1(segment_id.encode()).hexdigest()[:8]
    return clean


@dataclass
class Outcome:
    """One extractor's result for one segment."""

    vector: np.ndarray | None  # None when failed
    flags: dict[str, float] = field(default_factory=dict)  # bool/int values
    error: str | None = None
    seconds: float = 0.0
    cached: bool = False


class Cache:
    """Per-segment results of one extractor under one settings hash, one ``.npz`` each."""

    def __init__(self, root: Path, name: str, settings: Settings) -> None:
        self.dir = Path(root) / f"{name}-{settings_key(name, settings)}"
        self.name = name

    def _path(self, seg: Segment) -> Path:
        return self.dir / f"{_safe_name(seg.segment_id)}.npz"

    def get(self, seg: Segment) -> Outcome | None:
        """The cached outcome, if present and made from the same input."""
        p = self._path(seg)
        if not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                if str(z["key"]) != segment_key(seg, self.name):
                    return None
                flags = {k[5:]: z[k].item() for k in z.files if k.startswith("flag_")}
                return Outcome(z["vector"], flags, seconds=float(z["seconds"]), cached=True)
        except Exception:  # a damaged cache file is recomputed, never trusted
            log.warning("%s: unreadable cache file, recomputing", p)
            return None

    def put(self, seg: Segment, out: Outcome) -> None:
        """Store a successful outcome atomically."""
        if out.vector is None:
            return
        flags = {f"flag_{k}": np.asarray(v) for k, v in out.flags.items()}
        with atomic_path(self._path(seg), suffix=".tmp.npz") as tmp:
            np.savez(
                tmp,
                vector=out.vector,
                key=np.asarray(segment_key(seg, self.name)),
                seconds=np.asarray(out.seconds),
                **flags,
            )


# --------------------------------------------------------------------------- workers
def run_media(seg: Segment, names: Sequence[str], settings: Settings) -> dict[str, Outcome]:
    """Audio and/or visual outcomes for one segment; errors are caught and described."""
    from msa_lib.extract.audio import extract_audio
    from msa_lib.extract.visual import extract_visual

    results = {}
    for name in names:
        t0 = time.perf_counter()
        try:
            if name == "audio":
                r = extract_audio(seg.media, seg.start, seg.end, settings.audio)
                flags = dict(r.flags) | {"n_audio_frames": r.n_frames}
            else:
                r = extract_visual(seg.media, seg.start, seg.end, settings.visual)
                flags = dict(r.flags) | {"n_frames": r.n_frames, "n_face_frames": r.n_face_frames}
            results[name] = Outcome(r.vector, flags, seconds=time.perf_counter() - t0)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one bad segment never stops a corpus run
            msg = str(exc) if isinstance(exc, (ValueError, OSError)) else repr(exc)
            if not isinstance(exc, (ValueError, OSError)):
                log.debug("%s", traceback.format_exc())
            results[name] = Outcome(None, error=msg, seconds=time.perf_counter() - t0)
    return results


def _worker_init() -> None:
    """Keep each worker on one thread of BLAS/OpenMP (the pool is the parallelism)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.basicConfig(level=logging.WARNING)


def _media_pass(
    todo: list[Segment],
    names: Sequence[str],
    settings: Settings,
    workers: int,
    progress: bool,
    on_done,
) -> None:
    """Run the media extractors over ``todo``, calling ``on_done(seg, outcomes)`` as each ends."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc="audio/visual", unit="seg", disable=not progress)
    try:
        if workers <= 1 or len(todo) <= 1:
            for seg in todo:
                on_done(seg, run_media(seg, names, settings))
                bar.update()
            return
        ctx = multiprocessing.get_context("spawn")  # MediaPipe and torch are not fork-safe
        with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as pool:
            futures = {pool.submit(run_media, s, names, settings): s for s in todo}
            try:
                for fut in cf.as_completed(futures):
                    seg = futures[fut]
                    try:
                        outcomes = fut.result()
                    except Exception as exc:  # a worker died (e.g. out of memory)
                        outcomes = {
                            n: Outcome(None, error=f"worker failed: {exc!r}") for n in names
                        }
                    on_done(seg, outcomes)
                    bar.update()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        bar.close()


# --------------------------------------------------------------------------- corpus run
@dataclass
class RunReport:
    """What a corpus run produced, extractor by extractor."""

    out_dir: Path
    extractors: dict[str, dict] = field(default_factory=dict)
    errors_log: Path | None = None
    n_skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "out": str(self.out_dir),
            "extractors": self.extractors,
            "errors_log": str(self.errors_log) if self.errors_log else None,
            "skipped": self.n_skipped,
            "seconds": round(self.seconds, 2),
        }


def _meta(name: str, settings: Settings, extra: dict | None = None) -> ModalityMeta:
    """Metadata of one extractor's FeatureSet."""
    if name == "audio":
        import librosa

        from msa_lib.extract import audio

        return ModalityMeta(
            "librosa",
            librosa.__version__,
            audio.params(settings.audio),
            audio.feature_names(settings.audio),
        )
    if name == "visual":
        import mediapipe

        from msa_lib.extract import visual

        return ModalityMeta(
            "mediapipe-face-geometry",
            mediapipe.__version__,
            visual.params(settings.visual),
            visual.feature_names(),
        )
    return ModalityMeta(name, "", dict(extra or {}))


def _assemble(
    name: str,
    segs: list[Segment],
    outcomes: dict[str, Outcome],
    dim: int,
    meta: ModalityMeta,
    corpus: str,
    source: str,
) -> FeatureSet:
    """One extractor's FeatureSet in plan order; failed segments are NaN rows flagged ``failed``."""
    x = np.full((len(segs), dim), np.nan, np.float32)
    flag_names = sorted({k for o in outcomes.values() for k in o.flags})
    flags = {k: np.zeros(len(segs), np.int32) for k in flag_names}
    failed = np.zeros(len(segs), bool)
    for i, s in enumerate(segs):
        o = outcomes[s.segment_id]
        if o.vector is None:
            failed[i] = True
            continue
        v = np.asarray(o.vector, np.float32)
        x[i] = v if np.isfinite(v).all() else np.nan  # partial NaN never leaves an extractor
        for k, v in o.flags.items():
            flags[k][i] = int(v)
    out_flags = {"failed": failed}
    for k, v in flags.items():
        out_flags[k] = v if k.startswith("n_") else v.astype(bool)  # counts vs yes/no flags
    return FeatureSet(
        segment_id=[s.segment_id for s in segs],
        video_id=[s.video_id for s in segs],
        split=[s.split for s in segs],
        label=[s.label for s in segs],
        features={MODALITY[name]: x},
        meta={MODALITY[name]: meta},
        corpus=corpus,
        source=source,
        flags=out_flags,
    )


def extract_corpus(
    segments: Sequence[Segment],
    out_dir: str | os.PathLike,
    extractors: Iterable[str] = EXTRACTORS,
    settings: Settings = Settings(),
    workers: int = 1,
    progress: bool = True,
    corpus: str = "",
    source: str = "real",
    cache_dir: str | os.PathLike | None = None,
) -> RunReport:
    """Extract every requested feature of ``segments``; write ``<out_dir>/<extractor>.h5``.

    Audio/visual need media, text/GloVe a transcript; an extractor runs on the segments that
    have what it needs (the others are counted as skipped). Results are cached per segment in
    ``cache_dir`` (default ``<out_dir>/cache``) so an interrupted run resumes where it stopped.
    """
    t_start = time.perf_counter()
    names = [n for n in EXTRACTORS if n in set(extractors)]
    unknown = sorted(set(extractors) - set(EXTRACTORS))
    if unknown:
        raise ExtractError(f"unknown extractor(s) {unknown}; known: {list(EXTRACTORS)}")
    ids = [s.segment_id for s in segments]
    if len(set(ids)) != len(ids):
        raise ExtractError("duplicate segment ids in the extraction plan")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_root = Path(cache_dir) if cache_dir else out_dir / "cache"
    report = RunReport(out_dir=out_dir)
    errors: list[dict] = []

    applicable = {}
    for n in names:
        if n in MEDIA_EXTRACTORS:
            applicable[n] = [s for s in segments if s.media]
        else:
            applicable[n] = [s for s in segments if s.text is not None]
        report.n_skipped[n] = len(segments) - len(applicable[n])
        if report.n_skipped[n]:
            why = "no media file" if n in MEDIA_EXTRACTORS else "no transcript"
            log.warning(
                "%s: %d of %d segments skipped (%s)", n, report.n_skipped[n], len(segments), why
            )
    names = [n for n in names if applicable[n]]

    caches = {n: Cache(cache_root, n, settings) for n in names}
    outcomes: dict[str, dict[str, Outcome]] = {n: {} for n in names}
    for n in names:
        for s in applicable[n]:
            hit = caches[n].get(s)
            if hit is not None:
                outcomes[n][s.segment_id] = hit

    # audio and visual: per segment, in a pool
    media_names = [n for n in names if n in MEDIA_EXTRACTORS]
    todo_media = [
        s for s in segments if s.media and any(s.segment_id not in outcomes[n] for n in media_names)
    ]

    def on_done(seg: Segment, res: dict[str, Outcome]) -> None:
        for n, o in res.items():
            if seg.segment_id in outcomes[n]:
                continue
            outcomes[n][seg.segment_id] = o
            if o.error is None:
                caches[n].put(seg, o)

    if media_names and todo_media:
        n_cached = sum(1 for s in segments if s.media) - len(todo_media)
        log.info("%d segments to extract (%d already cached)", len(todo_media), n_cached)
        try:
            _media_pass(todo_media, media_names, settings, workers, progress, on_done)
        except KeyboardInterrupt:
            done = sum(len(v) for v in outcomes.values())
            log.warning(
                "interrupted: %d results are cached in %s; rerun the same command to resume",
                done,
                cache_root,
            )
            raise

    # text and GloVe: batched in this process
    dims: dict[str, int] = {"audio": len(_audio_names(settings)), "visual": 65}
    extra: dict[str, dict] = {}
    for n in (n for n in names if n in TEXT_EXTRACTORS):
        todo = [s for s in applicable[n] if s.segment_id not in outcomes[n]]
        if not todo:  # all cached: no need to load the model
            dims[n] = len(outcomes[n][applicable[n][0].segment_id].vector)
            extra[n] = _text_params(n, settings) | {"dim": dims[n]}
        else:
            enc = _text_encoder(n, settings)
            dims[n] = enc.dim
            extra[n] = enc.params()
            t0 = time.perf_counter()
            if n == "text":
                res = enc.encode([s.text for s in todo], progress=progress)
                flag_arrays = res.flags | {"n_tokens": res.n_tokens}
            else:
                res = enc.encode([s.text for s in todo])
                flag_arrays = res.flags | {"n_words": res.n_words, "n_known_words": res.n_known}
            per = (time.perf_counter() - t0) / len(todo)
            for i, s in enumerate(todo):
                o = Outcome(
                    res.vectors[i], {k: v[i].item() for k, v in flag_arrays.items()}, seconds=per
                )
                outcomes[n][s.segment_id] = o
                caches[n].put(s, o)

    for n in names:
        for s in applicable[n]:
            o = outcomes[n][s.segment_id]
            if o.error is not None:
                errors.append(
                    {
                        "segment_id": s.segment_id,
                        "extractor": n,
                        "media": s.media,
                        "start": s.start,
                        "end": s.end,
                        "error": o.error,
                    }
                )
        meta = _meta(n, settings, extra.get(n))
        if n in TEXT_EXTRACTORS:
            meta = ModalityMeta(
                extractor="transformers-mean-pool" if n == "text" else "glove-mean",
                version=_version(n),
                params=extra[n],
            )
        fs = _assemble(n, applicable[n], outcomes[n], dims[n], meta, corpus, source)
        path = fs.save(out_dir / f"{n}.h5")
        report.extractors[n] = {
            "dim": dims[n],
            "n_segments": len(fs),
            "n_nan_rows": int(fs.missing(MODALITY[n]).sum()),
            "n_failed": int(fs.flags["failed"].sum()),
            "n_cached": sum(outcomes[n][s.segment_id].cached for s in applicable[n]),
            "file": str(path),
        }
    log_path = out_dir / "errors.jsonl"
    with open(log_path, "w") as f:
        for e in errors:
            f.write(json.dumps(e, default=_json_default) + "\n")
    report.errors_log = log_path
    for e in errors:
        log.warning("%s [%s]: %s", e["segment_id"], e["extractor"], e["error"])
    report.seconds = time.perf_counter() - t_start
    return report


def _json_default(x):
    """NaN-free JSON for floats that may be NaN."""
    if isinstance(x, float) and math.isnan(x):
        return None
    return str(x)


def _audio_names(settings: Settings) -> list[str]:
    from msa_lib.extract.audio import feature_names

    return feature_names(settings.audio)


def _text_encoder(name: str, settings: Settings):
    """The text encoder (``text``) or GloVe vocabulary (``glove``)."""
    if name == "text":
        from msa_lib.extract.text import TextEncoder

        return TextEncoder(settings.text)
    from msa_lib.extract.glove import Glove

    return Glove(settings.text.glove)


def _text_params(name: str, settings: Settings) -> dict:
    """The metadata parameters of a text extractor, without loading its model."""
    if name == "text":
        from msa_lib.extract.text import resolve_model

        return dataclasses.asdict(settings.text) | {
            "model_path": resolve_model(settings.text.model)
        }
    return {"vectors": settings.text.glove, "pooling": "mean over known words"}


def _version(name: str) -> str:
    if name == "text":
        import transformers

        return transformers.__version__
    return "GloVe 6B"


def featureset_from_vectors(
    table: pd.DataFrame,
    vectors: np.ndarray,
    modality: str,
    meta: ModalityMeta,
    corpus: str,
    source: str,
    flags: dict[str, np.ndarray] | None = None,
) -> FeatureSet:
    """A FeatureSet from a segments table (ids, video ids, labels, splits) and vectors per row."""
    return FeatureSet(
        segment_id=table["segment_id"].to_numpy(),
        video_id=table["video_id"].to_numpy(),
        split=table["split"].to_numpy(),
        label=table["label"].to_numpy(),
        features={modality: vectors},
        meta={modality: meta},
        corpus=corpus,
        source=source,
        flags=flags or {},
    ).validate(f"{corpus} {modality}")


# --------------------------------------------------------------------------- CLI
def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add ``msa extract``."""
    p = sub.add_parser(
        "extract",
        help="extract audio/visual/text features from clips, a folder or a segments.csv",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("path", help="a clip, a folder of clips, or a segments.csv")
    p.add_argument("--out", default="features", help="output folder (default: ./features)")
    p.add_argument(
        "--extractors",
        nargs="+",
        default=list(EXTRACTORS),
        choices=EXTRACTORS,
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
    p.add_argument("--config", help="YAML/JSON file with audio/visual/text settings")
    p.add_argument("--text-model", help="a local BERT-style model folder (e.g. bert-base-uncased)")
    p.add_argument(
        "--protocol", choices=("paper", "sampled"), help="visual frames (default: paper)"
    )
    p.add_argument("--face-width", choices=("paper", "cheeks"), help="visual normalisation pair")
    p.add_argument(
        "--workers", type=int, default=1, help="processes for audio/visual (0: all cores)"
    )
    p.add_argument("--corpus", help="corpus name stored in the FeatureSets")
    p.add_argument(
        "--source", default="real", choices=("real", "synthetic"), help="data source tag"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="end by printing a JSON summary")
    p.set_defaults(func=cmd_extract)


def cmd_extract(args: argparse.Namespace) -> int:
    """Run ``msa extract``."""
    from msa_lib.cli import print_json
    from msa_lib.extract.visual import FACE_WIDTHS

    settings = load_settings(args.config) if args.config else Settings()
    if args.text_model:
        settings = dataclasses.replace(
            settings, text=dataclasses.replace(settings.text, model=args.text_model)
        )
    vis = {}
    if args.protocol:
        vis["protocol"] = args.protocol
    if args.face_width:
        vis["width_landmarks"] = FACE_WIDTHS[args.face_width]
    if vis:
        settings = dataclasses.replace(settings, visual=dataclasses.replace(settings.visual, **vis))
    segments, corpus = plan(args.path, args.segments, args.media)
    workers = args.workers if args.workers > 0 else (os.cpu_count() or 1)
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
        )
    except KeyboardInterrupt:
        print("msa: interrupted; finished segments are cached, rerun to resume", flush=True)
        return 130
    summary = report.as_dict()
    if args.json:
        print_json(summary)
    else:
        for n, info in summary["extractors"].items():
            print(
                f"{n}: {info['n_segments']} segments x {info['dim']} -> {info['file']} "
                f"({info['n_nan_rows']} NaN rows, {info['n_failed']} failed)"
            )
    return 0
