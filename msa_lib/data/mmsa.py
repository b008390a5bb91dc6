"""MMSA feature files (the pickles MMSA and MMSA-FET read and write): read, import, export.

An MMSA file is a pickle of ``{"train": {...}, "valid": {...}, "test": {...}}``; each split holds
``id`` (``video$_$clip``), ``raw_text``, ``text``, ``audio``, ``vision`` (``[n, T, d]`` padded
sequences), optionally their lengths (``audio_lengths``, ``vision_lengths``, ``text_lengths``;
MMSA-FET pads at the end) and ``text_bert`` (BERT token ids, attention mask, type ids), and
``regression_labels``.

**Loading a pickle runs code**: read only files you trust. This module reads them with a
restricted unpickler that builds numpy arrays and plain Python values (lists, dicts, strings,
numbers) and refuses anything else, so a file that names other code fails instead of running it.

Importing (:func:`load_mmsa`, :func:`import_mmsa`):

- each modality is averaged over each segment's **valid frames** into one FeatureSet, by
  :func:`msa_lib.data.csd.finite_mean`, the rule of ``.csd`` averaging: ``-inf``/NaN values are
  left out per value, a column with no finite value is 0, and a segment with no valid frame (all
  padding) or no finite value is a missing modality (a NaN row); every case is counted;
- the valid frames are the first ``<modality>_lengths`` frames where the file gives lengths; for
  text without ``text_lengths``, the ``text_bert`` attention mask's count when it has the same
  length; otherwise every frame that is not entirely zero (padding, wherever it lies);
- the same frames aligned to ``steps`` steps (:mod:`msa_lib.data.align`) make a second FeatureSet
  for the temporal model;
- ids ``video$_$clip`` become segment ``video_clip`` of video ``video``; folds are the file's own
  splits; labels are ``regression_labels``; ``raw_text`` is kept as the transcript;
- which extractor produced a modality is not in the file: the caller names it, else the width
  decides (:data:`KNOWN_WIDTHS`) with a warning.

Exporting (:func:`export_mmsa`) writes a FeatureSet in that structure so that MMSA's own
``MMDataLoader`` reads it as a ``custom_feature`` file: averaged features as sequences of one frame,
aligned sets (``meta.params['steps']``) as their steps; a missing modality as a zero frame of
length 0 (read back as missing).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import pickle
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from msa_lib.config import TemporalConfig
from msa_lib.data.align import ALIGN, align, frame_width
from msa_lib.data.csd import AverageReport, finite_mean
from msa_lib.data.featureset import SPLITS, FeatureSet, FeatureSetError, ModalityMeta
from msa_lib.data.splits import fold_splits
from msa_lib.io.atomic import atomic_path

log = logging.getLogger(__name__)

ID_SEPARATOR = "$_$"  # MMSA's ids: video$_$clip
REQUIRED_KEYS = ("id", "raw_text", "text", "audio", "vision", "regression_labels")
MODALITY_KEYS = {"text": "text", "audio": "audio", "visual": "vision"}  # ours -> MMSA's key
# What a width usually means in the field's files (MMSA's MOSI/MOSEI/SIMS, MMSA-FET's defaults):
# used only when the caller does not name the extractor, always with a warning.
KNOWN_WIDTHS = {
    "text": {300: "glove", 768: "bert"},
    "audio": {74: "covarep", 33: "librosa", 5: "covarep"},
    "visual": {709: "openface2", 35: "facet", 20: "facet"},
}
# an import folder (msa import mmsa FILE --out DIR)
FEATURES_FILE = "features.h5"
ALIGNED_FILE = "aligned.h5"
TRANSCRIPTS_FILE = "transcripts.csv"
REPORT_FILE = "import.json"
# keys this project adds at the top of an exported file (MMSA reads only the splits)
SOURCE_KEY, CORPUS_KEY, EXTRACTORS_KEY = "msa_source", "msa_corpus", "msa_extractors"


class MmsaFileError(ValueError):
    """An MMSA feature file is not readable, or its contents break the structure."""


# ----------------------------------------------------------------- restricted unpickling
_NUMPY_GLOBALS = {
    (mod, name)
    for core in ("numpy.core", "numpy._core")
    for mod, name in (
        (f"{core}.multiarray", "_reconstruct"),
        (f"{core}.multiarray", "scalar"),
        (f"{core}.numeric", "_frombuffer"),
    )
} | {("numpy", "ndarray"), ("numpy", "dtype")}
_BUILTIN_TYPES = {
    "list",
    "dict",
    "tuple",
    "set",
    "frozenset",
    "str",
    "bytes",
    "bytearray",
    "int",
    "float",
    "complex",
    "bool",
    "slice",
    "range",
}
# protocol-2 pickles spell bytes as _codecs.encode(text, "latin1"): a pure function, kept
_CODEC_GLOBALS = {("_codecs", "encode")}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Builds numpy arrays and builtin values; refuses any other global the pickle names."""

    def __init__(self, file, origin: str) -> None:
        super().__init__(file)
        self.origin = origin

    def find_class(self, module: str, name: str) -> Any:
        """The allowed globals only; anything else is an error naming it."""
        if (module, name) in _NUMPY_GLOBALS or (module, name) in _CODEC_GLOBALS:
            return super().find_class(module, name)
        if module == "builtins" and name in _BUILTIN_TYPES:
            return super().find_class(module, name)
        if module.split(".")[0] == "torch":
            raise MmsaFileError(
                f"{self.origin}: holds torch tensors ({module}.{name}); only numpy arrays are "
                "read. Save the features as numpy (MMSA-FET: return_type='np') and import again"
            )
        raise MmsaFileError(
            f"{self.origin}: the pickle names {module}.{name}, which is neither a numpy array nor "
            "a builtin value; refused (a pickle can run code: read only files you trust)"
        )


def read_pickle(path: str | os.PathLike) -> Any:
    """The object in a pickle file, built by a restricted unpickler (numpy arrays and builtins).

    Loading a pickle can run code: read only files you trust. Anything other than numpy arrays and
    plain Python values is refused with an error naming the file and what it names.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: MMSA feature file not found")
    with open(path, "rb") as f:
        head = f.read(2)
        if len(head) < 2 or head[0] != 0x80:
            raise MmsaFileError(
                f"{path}: not a pickle (it starts with {head!r}); an MMSA feature file is a "
                "pickle of train/valid/test"
            )
        f.seek(0)
        try:
            return _ArraysOnlyUnpickler(io.BufferedReader(f), str(path)).load()
        except MmsaFileError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise MmsaFileError(f"{path}: not a readable pickle ({exc})") from exc


# ----------------------------------------------------------------- the structure
def split_id(mmsa_id: str) -> tuple[str, str]:
    """``video$_$clip`` -> (segment id ``video_clip``, video id ``video``); no separator: (id, id)."""
    video, sep, clip = str(mmsa_id).partition(ID_SEPARATOR)
    return (f"{video}_{clip}", video) if sep else (video, video)


def mmsa_id(segment_id: str, video_id: str) -> str:
    """The MMSA id of a segment: ``video$_$clip``, the clip being the segment id less ``video_``."""
    sid, vid = str(segment_id), str(video_id)
    clip = sid[len(vid) + 1 :] if sid.startswith(vid + "_") and len(sid) > len(vid) + 1 else sid
    return f"{vid}{ID_SEPARATOR}{clip}"


def _as_vector(path: Path, split: str, key: str, value: Any, n: int) -> np.ndarray:
    """A per-segment entry (list or array) as a 1-d array of ``n`` values, or an error."""
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or len(arr) != n:
        raise MmsaFileError(
            f"{path}: {split}['{key}'] has shape {arr.shape}, expected one value per segment ({n})"
        )
    return arr


def _as_sequences(path: Path, split: str, key: str, value: Any, n: int) -> np.ndarray:
    """A modality as a float ``[n, T, d]`` array, or an error naming file, split and key."""
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise MmsaFileError(f"{path}: {split}['{key}'] is not a numeric array ({exc})") from exc
    if arr.ndim != 3 or arr.shape[0] != n:
        raise MmsaFileError(
            f"{path}: {split}['{key}'] has shape {arr.shape}, expected [segments ({n}), frames, dim]"
        )
    return arr


def read_mmsa(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """An MMSA file's splits after the structural checks (read with :func:`read_pickle`).

    Every split of ``train``/``valid``/``test`` must be a dict with :data:`REQUIRED_KEYS`, one entry
    per segment, labels finite, and no id in two splits; each problem is one error naming the
    file, the split, the key and, where one segment is at fault, its id.
    """
    path = Path(path)
    data = read_pickle(path)
    if not isinstance(data, dict):
        raise MmsaFileError(
            f"{path}: holds a {type(data).__name__}, not an MMSA feature file (a dict of "
            "train/valid/test)"
        )
    missing = [s for s in SPLITS if s not in data]
    if missing:
        raise MmsaFileError(
            f"{path}: no split {missing}; an MMSA feature file has train, valid and test "
            f"(found keys {sorted(map(str, data))[:8]})"
        )
    seen: dict[str, str] = {}
    for split in SPLITS:
        part = data[split]
        if not isinstance(part, dict):
            raise MmsaFileError(f"{path}: split '{split}' is a {type(part).__name__}, not a dict")
        absent = [k for k in REQUIRED_KEYS if k not in part]
        if absent:
            raise MmsaFileError(
                f"{path}: split '{split}' has no {absent}; found {sorted(map(str, part))}"
            )
        ids = [str(i) for i in _as_vector(path, split, "id", part["id"], len(part["id"]))]
        n = len(ids)
        labels = _as_vector(path, split, "regression_labels", part["regression_labels"], n)
        labels = labels.astype(np.float64)
        bad = ~np.isfinite(labels)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MmsaFileError(
                f"{path}: {split} segment '{ids[i]}' has label {labels[i]} "
                f"({int(bad.sum())} segment(s) without a finite label)"
            )
        _as_vector(path, split, "raw_text", part["raw_text"], n)
        for sid in ids:
            if sid in seen:
                where = "twice in" if seen[sid] == split else f"in both {seen[sid]} and"
                raise MmsaFileError(f"{path}: segment id '{sid}' is {where} {split}")
            seen[sid] = split
        for key in MODALITY_KEYS.values():
            _as_sequences(path, split, key, part[key], n)
    return data


# ----------------------------------------------------------------- valid frames
def _lengths(
    path: Path, split: str, part: Mapping, key: str, seq: np.ndarray, clip: bool
) -> tuple[np.ndarray | None, str]:
    """Valid-frame counts of one modality of one split, and the rule that gave them."""
    n, t = seq.shape[:2]
    ids = [str(i) for i in np.asarray(part["id"]).ravel()]
    if f"{key}_lengths" in part:
        raw, rule = part[f"{key}_lengths"], f"{key}_lengths"
    elif key == "text" and "text_bert" in part and np.asarray(part["text_bert"]).ndim == 3:
        bert = np.asarray(part["text_bert"])
        if bert.shape[0] != n or bert.shape[1] < 2 or bert.shape[2] != t:
            return None, "non-zero frames"
        raw, rule = bert[:, 1, :].sum(axis=1), "text_bert attention mask"
    else:
        return None, "non-zero frames"
    lengths = _as_vector(path, split, rule.split(" ")[0], raw, n)
    try:
        lengths = lengths.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise MmsaFileError(f"{path}: {split}['{rule}'] is not numeric ({exc})") from exc
    bad_value = ~np.isfinite(lengths) | (lengths < 0) | (lengths != np.round(lengths))
    if bad_value.any():
        i = int(np.flatnonzero(bad_value)[0])
        raise MmsaFileError(
            f"{path}: {split} segment '{ids[i]}' has {rule} {lengths[i]}, not a frame count"
        )
    lengths = lengths.astype(np.int64)
    long = lengths > t
    if long.any():
        i = int(np.flatnonzero(long)[0])
        if not clip:
            raise MmsaFileError(
                f"{path}: {split} segment '{ids[i]}' has {rule} {lengths[i]}, longer than its "
                f"sequence ({t} frames; {int(long.sum())} such segment(s)); pass clip_lengths "
                "(msa import mmsa --clip-lengths) to cut them to the sequence"
            )
        log.warning(
            "%s: %s: %d segment(s) have %s longer than the sequence (%d frames), e.g. '%s'; "
            "cut to the sequence",
            path,
            split,
            int(long.sum()),
            rule,
            t,
            ids[i],
        )
        lengths = np.minimum(lengths, t)
    return lengths, rule


def valid_frames(seq: np.ndarray, length: int | None) -> np.ndarray:
    """One segment's valid frames: the first ``length``, or (no length) every frame not all zero."""
    if length is not None:
        return seq[:length]
    return seq[~(seq == 0).all(axis=1)]


# ----------------------------------------------------------------- import
@dataclass
class MmsaImport:
    """What an MMSA file holds, in this project's terms."""

    features: FeatureSet  # each modality averaged over its valid frames
    aligned: FeatureSet | None  # the valid frames aligned to ``steps`` steps (flattened rows)
    transcripts: pd.DataFrame  # segment_id, video_id, split, label, text
    extractors: dict[str, str]
    length_rules: dict[str, str]  # per modality: how the valid frames were found
    reports: dict[str, AverageReport] = field(default_factory=dict)
    path: str = ""

    def summary(self) -> dict:
        """Counts, extractors, rules and averaging reports, as plain JSON values."""
        return {
            "file": self.path,
            "corpus": self.features.corpus,
            "source": self.features.source,
            "segments": self.features.split_counts(),
            "dims": self.features.dims,
            "extractors": self.extractors,
            "length_rules": self.length_rules,
            "steps": None
            if self.aligned is None
            else self.aligned.meta[self.aligned.modalities[0]].params.get("steps"),
            "averaging": {m: r.as_dict() for m, r in self.reports.items()},
        }


def guess_corpus(path: str | os.PathLike) -> str:
    """``mosei``, ``mosi`` or ``sims`` when the path names one, else the file's stem."""
    low = str(path).lower()
    for name in ("mosei", "mosi", "sims"):
        if name in low:
            return name
    return Path(path).stem


def name_extractors(
    path: str | os.PathLike, dims: Mapping[str, int], given: Mapping[str, str] | None
) -> dict[str, str]:
    """The extractor of each modality: the caller's name, else the width's usual one, warned."""
    given = {k: v for k, v in (given or {}).items() if v}
    unknown = sorted(set(given) - set(MODALITY_KEYS))
    if unknown:
        raise ValueError(
            f"extractor names for unknown modalities {unknown} (known: text, audio, visual)"
        )
    out = {}
    for m, d in dims.items():
        if m in given:
            out[m] = given[m]
            continue
        out[m] = KNOWN_WIDTHS[m].get(d, f"unknown-{d}d")
        log.warning(
            "%s: the %s features are %d-d; taking them for '%s' from the width alone (name the "
            "extractor, e.g. msa import mmsa --%s NAME, to be sure)",
            path,
            m,
            d,
            out[m],
            m,
        )
    return out


def load_mmsa(
    path: str | os.PathLike,
    corpus: str | None = None,
    extractors: Mapping[str, str] | None = None,
    temporal: TemporalConfig | None = TemporalConfig(),
    clip_lengths: bool = False,
) -> MmsaImport:
    """An MMSA feature file as FeatureSets (averaged, and aligned unless ``temporal`` is None).

    Loading a pickle can run code: read only files you trust (it is read with a restricted
    unpickler, :func:`read_pickle`). ``extractors`` names each modality's extractor (``{"text":
    "glove"}``); unnamed ones are guessed from the width with a warning. ``clip_lengths`` cuts
    lengths longer than their sequence (else an error).
    """
    path = Path(path)
    data = read_mmsa(path)
    origin = str(path)
    rows: dict[str, list] = {k: [] for k in ("segment_id", "video_id", "split", "label", "text")}
    feats: dict[str, list[np.ndarray]] = {m: [] for m in MODALITY_KEYS}
    seqs: dict[str, list[np.ndarray]] = {m: [] for m in MODALITY_KEYS}
    reports = {m: AverageReport(path=f"{origin} ({key})") for m, key in MODALITY_KEYS.items()}
    rules: dict[str, set[str]] = {m: set() for m in MODALITY_KEYS}
    steps = temporal.steps if temporal is not None else None
    dims = {}
    no_separator = 0
    for split in SPLITS:
        part = data[split]
        ids = [str(i) for i in np.asarray(part["id"]).ravel()]
        no_separator += sum(ID_SEPARATOR not in i for i in ids)
        segs = [split_id(i) for i in ids]
        rows["segment_id"] += [s for s, _ in segs]
        rows["video_id"] += [v for _, v in segs]
        rows["split"] += [split] * len(ids)
        rows["label"] += np.asarray(part["regression_labels"], np.float64).ravel().tolist()
        rows["text"] += [str(t) for t in np.asarray(part["raw_text"], dtype=object).ravel()]
        for m, key in MODALITY_KEYS.items():
            seq = _as_sequences(path, split, key, part[key], len(ids))
            if dims.setdefault(m, seq.shape[2]) != seq.shape[2]:
                raise MmsaFileError(
                    f"{path}: {split}['{key}'] is {seq.shape[2]}-d, the other splits {dims[m]}-d"
                )
            lengths, rule = _lengths(path, split, part, key, seq, clip_lengths)
            rules[m].add(rule)
            with _one_torch_thread():  # thousands of tiny pooling calls: threads only cost here
                mean, frames = _average(seq, lengths, segs, reports[m], steps, ALIGN[m])
            feats[m].append(mean)
            seqs[m].append(frames)
    if no_separator:
        log.warning(
            "%s: %d id(s) are not video%sclip; each is taken as its own video",
            path,
            no_separator,
            ID_SEPARATOR,
        )
    written = data.get(EXTRACTORS_KEY) if isinstance(data.get(EXTRACTORS_KEY), dict) else {}
    given = {m: v for m, v in (extractors or {}).items() if v}
    names = name_extractors(path, dims, {**written, **given})
    source = str(data.get(SOURCE_KEY, "real"))
    corpus = corpus or str(data.get(CORPUS_KEY, "")) or guess_corpus(path)
    length_rules = {m: " / ".join(sorted(r)) for m, r in rules.items()}
    meta = {
        m: ModalityMeta(
            extractor=names[m],
            version="mmsa",
            params={
                "file": path.name,
                "pooling": "finite mean over valid frames",
                "frames": length_rules[m],
            },
        )
        for m in MODALITY_KEYS
    }
    common = dict(
        segment_id=np.asarray(rows["segment_id"]),
        video_id=np.asarray(rows["video_id"]),
        split=np.asarray(rows["split"]),
        label=np.asarray(rows["label"], np.float32),
        corpus=corpus,
        source=source,
    )
    try:
        fs = FeatureSet(
            features={m: np.concatenate(v) for m, v in feats.items()}, meta=meta, **common
        ).validate(origin)
    except FeatureSetError as exc:
        raise MmsaFileError(str(exc)) from exc
    aligned = None
    if steps is not None:
        ameta = {
            m: ModalityMeta(
                extractor=names[m],
                version="mmsa",
                params={"steps": steps, "width": dims[m], "alignment": ALIGN[m], "file": path.name},
            )
            for m in MODALITY_KEYS
        }
        aligned = FeatureSet(
            features={m: np.concatenate(v) for m, v in seqs.items()}, meta=ameta, **common
        ).validate(f"{origin} (aligned)")
    for m, rep in reports.items():
        if rep.n_nan_rows:
            log.warning(
                "%s: %d of %d segments have no usable %s frame (all padding %d, no finite value "
                "%d); their rows are NaN (missing modality). Examples: %s",
                origin,
                rep.n_nan_rows,
                rep.n_segments,
                m,
                rep.n_empty,
                rep.n_all_nonfinite,
                rep.examples,
            )
    transcripts = pd.DataFrame(rows)
    transcripts["label"] = transcripts["label"].astype(np.float32)
    return MmsaImport(fs, aligned, transcripts, names, length_rules, reports, origin)


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Torch on one thread inside the block (the caller's setting restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _average(
    seq: np.ndarray,
    lengths: np.ndarray | None,
    segments: Sequence[tuple[str, str]],
    report: AverageReport,
    steps: int | None,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """One split's modality: the finite mean of each segment's valid frames (NaN row: none) and,
    with ``steps``, those frames aligned to ``steps`` (flattened; NaN row: none)."""
    n, _, d = seq.shape
    mean = np.full((n, d), np.nan, np.float32)
    aligned = np.full((n, (steps or 0) * d), np.nan, np.float32)
    for i in range(n):
        report.n_segments += 1
        frames = valid_frames(seq[i], None if lengths is None else int(lengths[i]))
        m, n_bad, n_zero = finite_mean(frames.astype(np.float64))
        report.n_nonfinite_values += n_bad
        if m is None:
            report.note("n_empty" if len(frames) == 0 else "n_all_nonfinite", segments[i][0])
            continue
        report.n_by_key += 1
        report.n_zero_filled += n_zero
        mean[i] = m
        if steps:
            a = align(frames, steps, method)
            if a is not None:
                aligned[i] = a.ravel()
    return mean, aligned


def import_mmsa(path: str | os.PathLike, out_dir: str | os.PathLike, **kwargs: Any) -> MmsaImport:
    """:func:`load_mmsa`, written to ``out_dir`` as an import folder (:func:`open_mmsa` reads it).

    The folder holds ``features.h5`` (averaged FeatureSet), ``aligned.h5`` (aligned sequences, when
    made), ``transcripts.csv`` (segment_id, video_id, split, label, text) and ``import.json`` (what
    was found). Loading a pickle can run code: read only files you trust.
    """
    out = Path(out_dir)
    imp = load_mmsa(path, **kwargs)
    out.mkdir(parents=True, exist_ok=True)
    imp.features.save(out / FEATURES_FILE)
    if imp.aligned is not None:
        imp.aligned.save(out / ALIGNED_FILE)
    with atomic_path(out / TRANSCRIPTS_FILE) as tmp:
        imp.transcripts.to_csv(tmp, index=False)
    with atomic_path(out / REPORT_FILE) as tmp:
        tmp.write_text(json.dumps(imp.summary(), indent=2, default=str) + "\n", encoding="utf-8")
    return imp


def open_mmsa(path: str | os.PathLike, **kwargs: Any) -> MmsaImport:
    """An MMSA file (``.pkl``, read by :func:`load_mmsa` with ``kwargs``) or an import folder."""
    path = Path(path)
    if not path.is_dir():
        return load_mmsa(path, **kwargs)
    feats = path / FEATURES_FILE
    if not feats.is_file():
        raise MmsaFileError(
            f"{path}: not an import folder (no {FEATURES_FILE}; see msa import mmsa)"
        )
    fs = FeatureSet.load(feats)
    aligned = FeatureSet.load(path / ALIGNED_FILE) if (path / ALIGNED_FILE).is_file() else None
    report = path / REPORT_FILE
    summary = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    transcripts = (
        pd.read_csv(
            path / TRANSCRIPTS_FILE,
            dtype={"segment_id": str, "video_id": str, "text": str},
            keep_default_na=False,
        )
        if (path / TRANSCRIPTS_FILE).is_file()
        else pd.DataFrame({"segment_id": fs.segment_id, "text": ""})
    )
    return MmsaImport(
        fs,
        aligned,
        transcripts,
        {m: fs.meta[m].extractor for m in fs.modalities},
        summary.get("length_rules", {}),
        {},
        summary.get("file", str(path)),
    )


# ----------------------------------------------------------------- export
def _sequences(fs: FeatureSet, m: str, steps: int | None) -> tuple[np.ndarray, np.ndarray]:
    """A modality as ``[n, T, d]`` frames (T = 1, or ``steps`` of an aligned set) and lengths;
    a missing row is zero frames of length 0."""
    x = fs.features[m]
    t = 1 if steps is None else steps
    seq = x.reshape(len(fs), t, x.shape[1] // t).copy()
    missing = fs.missing(m)
    seq[missing] = 0.0
    return seq.astype(np.float32), np.where(missing, 0, t).astype(np.int64)


def _aligned_steps(fs: FeatureSet) -> int | None:
    """The steps of an aligned set (every modality's ``meta.params['steps']``), else None."""
    steps = {fs.meta[m].params.get("steps") for m in MODALITY_KEYS}
    if steps == {None}:
        return None
    if len(steps) != 1 or None in steps:
        raise FeatureSetError(
            f"{fs.corpus or 'FeatureSet'}: only some modalities are aligned sequences ({steps})"
        )
    step = int(next(iter(steps)))
    for m in MODALITY_KEYS:
        frame_width(fs, m, step)
    return step


def to_mmsa(
    data: FeatureSet | Mapping[str, FeatureSet],
    transcripts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A FeatureSet (or its ``{train, valid, test}`` folds) in MMSA's structure, as a dict.

    Needs the three modalities (text, audio, visual), every segment labelled, and rows in each
    of train, valid and test (rows of another split are left out, with a warning).
    """
    if isinstance(data, FeatureSet):
        other = ~np.isin(data.split, SPLITS)
        if other.any():
            log.warning(
                "%s: %d segment(s) in no train/valid/test fold are left out of the MMSA file",
                data.corpus or "FeatureSet",
                int(other.sum()),
            )
        folds = {s: data.select(s) for s in SPLITS}
    else:
        folds = {s: data[s] for s in SPLITS if s in data}
    name = next((fs.corpus for fs in folds.values() if fs.corpus), "FeatureSet")
    empty = [s for s in SPLITS if s not in folds or len(folds[s]) == 0]
    if empty:
        raise FeatureSetError(
            f"{name}: no {empty} segments; an MMSA file needs train, valid and test (hold out "
            "train videos as valid: msa export --holdout 0.15)"
        )
    text = dict(transcripts or {})
    out: dict[str, Any] = {}
    for split, fs in folds.items():
        lacking = [m for m in MODALITY_KEYS if m not in fs.features]
        if lacking:
            raise FeatureSetError(
                f"{name}: no {lacking} features; an MMSA file holds text, audio and visual "
                f"(it has {fs.modalities})"
            )
        unlabelled = np.isnan(fs.label)
        if unlabelled.any():
            i = int(np.flatnonzero(unlabelled)[0])
            raise FeatureSetError(
                f"{name}: {split} segment '{fs.segment_id[i]}' has no label; an MMSA file "
                f"labels every segment ({int(unlabelled.sum())} unlabelled)"
            )
        steps = _aligned_steps(fs)
        part: dict[str, Any] = {
            "id": np.asarray(
                [mmsa_id(s, v) for s, v in zip(fs.segment_id, fs.video_id)], dtype=object
            ),
            "raw_text": np.asarray([text.get(s, "") for s in fs.segment_id], dtype=object),
            "regression_labels": fs.label.astype(np.float32),
            "annotations": np.asarray(
                ["Positive" if y > 0 else "Negative" if y < 0 else "Neutral" for y in fs.label],
                dtype=object,
            ),
            "classification_labels": np.sign(fs.label).astype(np.float32),
        }
        for m, key in MODALITY_KEYS.items():
            part[key], part[f"{key}_lengths"] = _sequences(fs, m, steps)
        out[split] = part
    first = next(iter(folds.values()))
    out[SOURCE_KEY], out[CORPUS_KEY] = first.source or "unknown", first.corpus
    out[EXTRACTORS_KEY] = {m: first.meta[m].extractor for m in MODALITY_KEYS}
    return out


def write_mmsa(data: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Pickle an MMSA structure (:func:`to_mmsa`) to ``path`` atomically (protocol 4)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(dict(data), f, protocol=4)
    return path


def export_mmsa(
    data: FeatureSet | Mapping[str, FeatureSet],
    path: str | os.PathLike,
    transcripts: Mapping[str, str] | None = None,
    holdout: float | None = None,
    seed: int = 0,
) -> Path:
    """Write features as an MMSA file MMSA's ``MMDataLoader`` reads (``custom_feature``).

    ``holdout``: for a FeatureSet without a valid fold, that share of train videos is held out as
    valid (:func:`msa_lib.data.splits.fold_splits`).
    """
    if holdout is not None:
        if not isinstance(data, FeatureSet):
            raise ValueError("holdout applies to one FeatureSet, not to folds already made")
        data = fold_splits(data, holdout=holdout, seed=seed)
    return write_mmsa(to_mmsa(data, transcripts), path)


# ----------------------------------------------------------------- the paper's transfer on MMSA files
def as_features(source: str | os.PathLike | FeatureSet | MmsaImport, **kwargs: Any) -> FeatureSet:
    """Averaged features from an MMSA file or import folder (read with ``kwargs``), an import, a
    FeatureSet (returned as it is) or a FeatureSet's ``.h5`` file (as ``msa extract`` writes)."""
    if isinstance(source, FeatureSet):
        return source
    if isinstance(source, MmsaImport):
        return source.features
    if Path(source).suffix in (".h5", ".hdf5"):
        return FeatureSet.load(source)
    return open_mmsa(source, **{"temporal": None, **kwargs}).features


def transfer_folds(
    source: str | os.PathLike | FeatureSet | MmsaImport,
    target: str | os.PathLike | FeatureSet | MmsaImport,
    modalities: Sequence[str] = ("visual", "audio", "text"),
) -> tuple[dict[str, FeatureSet], dict[str, FeatureSet]]:
    """The source (e.g. an MMSA MOSEI file) and target (an MMSA MOSI file, or MOSI features of
    this project's extractors) folds that :class:`msa_lib.experiments.transfer.TransferData` takes.

    Each side keeps its own train/valid/test folds and the named modalities; loading a pickle can
    run code: read only files you trust.
    """
    out = []
    for side, value in (("source", source), ("target", target)):
        fs = as_features(value)
        lacking = [m for m in modalities if m not in fs.features]
        if lacking:
            raise FeatureSetError(f"{side} {fs.corpus or 'features'}: no modality {lacking}")
        folds = fold_splits(fs.with_modalities(modalities))
        empty = [s for s, f in folds.items() if len(f) == 0]
        if empty:
            raise FeatureSetError(f"{side} {fs.corpus or 'features'}: no {empty} segments")
        out.append(folds)
    return out[0], out[1]
