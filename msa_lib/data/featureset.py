"""FeatureSet: the one data contract between extractors, .csd readers, adapters and models.

A FeatureSet holds, per segment, its id, video id, split and label, and per modality one float32
matrix ``[n_segments, dim]`` (a sequence already averaged over time). A row that is entirely NaN
marks a modality missing for that segment (no face found, an empty .csd sequence); any other
non-finite value is an error. Labels are float32 in [-3, 3], NaN only where a segment is unlabelled.
On disk it is one HDF5 file, written atomically.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from msa_lib.io.atomic import atomic_path

SPLITS = ("train", "valid", "test")
ALLOWED_SPLITS = (*SPLITS, "unassigned")
LABEL_MIN, LABEL_MAX = -3.0, 3.0
FORMAT_VERSION = 1
MERGE_HOW = ("outer", "inner")

log = logging.getLogger(__name__)


class FeatureSetError(ValueError):
    """A FeatureSet (in memory or on disk) breaks the data contract."""


@dataclass
class ModalityMeta:
    """Where one modality's features came from."""

    extractor: str
    version: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    feature_names: list[str] | None = None

    def to_json(self) -> str:
        """Serialise to JSON."""
        return json.dumps(
            {
                "extractor": self.extractor,
                "version": self.version,
                "params": self.params,
                "feature_names": self.feature_names,
            },
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> ModalityMeta:
        """Parse from JSON."""
        return cls(**json.loads(text))


@dataclass
class FeatureSet:
    """Per-segment ids, splits, labels and one averaged feature matrix per modality."""

    segment_id: np.ndarray
    video_id: np.ndarray
    split: np.ndarray
    label: np.ndarray
    features: dict[str, np.ndarray]
    meta: dict[str, ModalityMeta] = field(default_factory=dict)
    corpus: str = ""
    source: str = ""  # "real" or "synthetic"
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # per-segment bool/int flags

    def __post_init__(self) -> None:
        self.segment_id = np.asarray(self.segment_id).astype(str)
        self.video_id = np.asarray(self.video_id).astype(str)
        self.split = np.asarray(self.split).astype(str)
        self.label = np.asarray(self.label, dtype=np.float32)
        self.features = {m: np.asarray(x, dtype=np.float32) for m, x in self.features.items()}
        for m in self.features:
            self.meta.setdefault(m, ModalityMeta(extractor="unknown"))
        self.flags = {k: np.asarray(v) for k, v in self.flags.items()}

    # ----------------------------------------------------------------- properties
    def __len__(self) -> int:
        return len(self.segment_id)

    @property
    def modalities(self) -> list[str]:
        """Modality names, in insertion order."""
        return list(self.features)

    @property
    def dims(self) -> dict[str, int]:
        """Feature width of each modality."""
        return {m: int(x.shape[1]) for m, x in self.features.items()}

    def missing(self, modality: str) -> np.ndarray:
        """Boolean mask of segments whose ``modality`` row is missing (all NaN)."""
        return np.isnan(self.features[modality]).all(axis=1)

    def zero_filled(self, modality: str) -> np.ndarray:
        """Boolean mask of segments whose ``modality`` row is all zeros: a stand-in, not data.

        The paper's code gives a clip with no face 65 zeros (``--protocol paper``, flagged
        ``no_face``); such rows are counted and reported wherever a set is used.
        """
        x = self.features[modality]
        if x.shape[1] == 0:
            return np.zeros(len(x), bool)
        return (x == 0).all(axis=1)

    def split_counts(self) -> dict[str, int]:
        """Number of segments in each split."""
        values, counts = np.unique(self.split, return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts)}

    # ----------------------------------------------------------------- validation
    def validate(self, origin: str = "<in memory>") -> FeatureSet:
        """Check shapes, dtypes, finiteness, splits and label range; raise naming the problem."""
        n = len(self.segment_id)
        for name in ("video_id", "split", "label"):
            if len(getattr(self, name)) != n:
                raise FeatureSetError(
                    f"{origin}: '{name}' has {len(getattr(self, name))} entries, segment_id has {n}"
                )
        uniq, counts = np.unique(self.segment_id, return_counts=True)
        if (counts > 1).any():
            dup = uniq[counts > 1][:5].tolist()
            raise FeatureSetError(f"{origin}: duplicate segment ids, e.g. {dup}")
        bad_split = ~np.isin(self.split, ALLOWED_SPLITS)
        if bad_split.any():
            i = int(np.flatnonzero(bad_split)[0])
            raise FeatureSetError(
                f"{origin}: segment '{self.segment_id[i]}' has split '{self.split[i]}', "
                f"expected one of {ALLOWED_SPLITS}"
            )
        out_of_range = ~np.isnan(self.label) & ((self.label < LABEL_MIN) | (self.label > LABEL_MAX))
        if out_of_range.any() or np.isinf(self.label).any():
            i = int(np.flatnonzero(out_of_range | np.isinf(self.label))[0])
            raise FeatureSetError(
                f"{origin}: segment '{self.segment_id[i]}' has label {self.label[i]}, "
                f"outside [{LABEL_MIN}, {LABEL_MAX}]"
            )
        for m, x in self.features.items():
            if x.ndim != 2 or x.shape[0] != n:
                raise FeatureSetError(
                    f"{origin}: modality '{m}' has shape {x.shape}, expected ({n}, dim)"
                )
            if x.dtype != np.float32:
                raise FeatureSetError(f"{origin}: modality '{m}' has dtype {x.dtype}, not float32")
            finite = np.isfinite(x)
            partial = ~finite.all(axis=1) & ~np.isnan(x).all(axis=1)
            if partial.any():
                i = int(np.flatnonzero(partial)[0])
                j = int(np.flatnonzero(~finite[i])[0])
                raise FeatureSetError(
                    f"{origin}: modality '{m}', segment '{self.segment_id[i]}' has a "
                    f"non-finite value ({x[i, j]}) in column {j}; only whole-row NaN "
                    "(a missing modality) is allowed"
                )
        for k, v in self.flags.items():
            if len(v) != n:
                raise FeatureSetError(f"{origin}: flag '{k}' has {len(v)} entries, expected {n}")
        return self

    # ----------------------------------------------------------------- selection
    def take(self, index: np.ndarray | Sequence[int] | Sequence[bool]) -> FeatureSet:
        """A new FeatureSet holding the rows selected by an index or boolean mask."""
        idx = np.asarray(index)
        if idx.size == 0:
            idx = idx.astype(np.int64)  # an empty list selects no row (numpy makes it float)
        return FeatureSet(
            segment_id=self.segment_id[idx],
            video_id=self.video_id[idx],
            split=self.split[idx],
            label=self.label[idx],
            features={m: x[idx] for m, x in self.features.items()},
            meta=dict(self.meta),
            corpus=self.corpus,
            source=self.source,
            flags={k: v[idx] for k, v in self.flags.items()},
        )

    def select(self, split: str | Iterable[str]) -> FeatureSet:
        """Rows of one split (or several)."""
        wanted = [split] if isinstance(split, str) else list(split)
        return self.take(np.isin(self.split, wanted))

    def with_modalities(self, modalities: Iterable[str]) -> FeatureSet:
        """The same rows with only the named modalities; a missing one is an error."""
        mods = list(modalities)
        absent = [m for m in mods if m not in self.features]
        if absent:
            raise FeatureSetError(
                f"{self.corpus or 'FeatureSet'}: modality {absent} not present; "
                f"available: {self.modalities}"
            )
        return FeatureSet(
            segment_id=self.segment_id,
            video_id=self.video_id,
            split=self.split,
            label=self.label,
            features={m: self.features[m] for m in mods},
            meta={m: self.meta[m] for m in mods},
            corpus=self.corpus,
            source=self.source,
            flags=dict(self.flags),
        )

    def rename_modalities(self, names: dict[str, str]) -> FeatureSet:
        """The same rows with modalities renamed (``{"glove": "text"}``); a clash is an error."""
        absent = [m for m in names if m not in self.features]
        if absent:
            raise FeatureSetError(
                f"{self.corpus or 'FeatureSet'}: cannot rename {absent}; it has {self.modalities}"
            )
        new = [names.get(m, m) for m in self.modalities]
        if len(set(new)) != len(new):
            raise FeatureSetError(f"renaming {names} gives duplicate modality names {new}")
        return FeatureSet(
            segment_id=self.segment_id,
            video_id=self.video_id,
            split=self.split,
            label=self.label,
            features={names.get(m, m): x for m, x in self.features.items()},
            meta={names.get(m, m): self.meta[m] for m in self.features},
            corpus=self.corpus,
            source=self.source,
            flags=dict(self.flags),
        )

    def matrix(self, modalities: Iterable[str] | None = None) -> np.ndarray:
        """Concatenate the named modalities (default: all) into one ``[n, sum(dim)]`` matrix."""
        mods = self.modalities if modalities is None else list(modalities)
        return np.concatenate([self.with_modalities(mods).features[m] for m in mods], axis=1)

    def to_frame(self):
        """A pandas DataFrame of ids, splits, labels and flags (no feature columns)."""
        import pandas as pd

        df = pd.DataFrame(
            {
                "segment_id": self.segment_id,
                "video_id": self.video_id,
                "split": self.split,
                "label": self.label,
            }
        )
        for k, v in self.flags.items():
            df[k] = v
        return df

    # ----------------------------------------------------------------- merging
    @classmethod
    def merge(cls, *sets: FeatureSet, how: str = "outer") -> FeatureSet:
        """One FeatureSet with every modality of ``sets``, rows matched by segment id.

        ``how="outer"`` keeps every segment (a set without it gives NaN rows, the missing-modality
        marker); ``"inner"`` keeps the segments in all sets. Refused: a modality name in two sets,
        and a segment whose video id, label or split differ between sets (an unlabelled or
        ``unassigned`` value gives way to a known one). Segments present in some sets and not
        others are logged with counts and examples (:meth:`merge_report` returns them).
        """
        if not sets:
            raise FeatureSetError("merge needs at least one FeatureSet")
        if how not in MERGE_HOW:
            raise FeatureSetError(f"merge: how must be one of {MERGE_HOW}, got {how!r}")
        names = [_name(fs, i) for i, fs in enumerate(sets)]
        for fs, name in zip(sets, names):
            fs.validate(name)
        seen: dict[str, str] = {}
        for fs, name in zip(sets, names):
            for m in fs.modalities:
                if m in seen:
                    raise FeatureSetError(
                        f"merge: modality '{m}' is in both {seen[m]} and {name}; "
                        "rename one (each extractor has its own modality name)"
                    )
                seen[m] = name
        report = cls.merge_report(*sets)
        for name, ids in report["only_in"].items():
            if ids:
                log.warning(
                    "merge: %d segment(s) only in %s (e.g. %s)%s",
                    len(ids),
                    name,
                    ids[:3],
                    "; dropped (inner merge)" if how == "inner" else "; other modalities missing",
                )
        ids = _merged_ids(sets, how)
        pos = [_positions(fs.segment_id, ids) for fs in sets]
        video = _agree(sets, pos, names, ids, "video_id", lambda v: v == "")
        split = _agree(sets, pos, names, ids, "split", lambda v: v == "unassigned")
        label = _agree_labels(sets, pos, names, ids)
        features, meta, flags = {}, {}, {}
        flag_count: dict[str, int] = {}
        for fs in sets:
            for k in fs.flags:
                flag_count[k] = flag_count.get(k, 0) + 1
        for fs, p in zip(sets, pos):
            have = p >= 0
            for m, x in fs.features.items():
                out = np.full((len(ids), x.shape[1]), np.nan, np.float32)
                out[have] = x[p[have]]
                features[m], meta[m] = out, fs.meta[m]
            for k, v in fs.flags.items():
                key = k if flag_count[k] == 1 else f"{'+'.join(fs.modalities)}.{k}"
                out = np.zeros(len(ids), dtype=v.dtype)
                out[have] = v[p[have]]
                flags[key] = out
        corpora = list(dict.fromkeys(fs.corpus for fs in sets if fs.corpus))
        sources = list(dict.fromkeys(fs.source for fs in sets if fs.source))
        return cls(
            segment_id=ids,
            video_id=video,
            split=split,
            label=label,
            features=features,
            meta=meta,
            corpus="+".join(corpora),
            source=sources[0] if len(sources) == 1 else "+".join(sources),
            flags=flags,
        ).validate("merged FeatureSet")

    @staticmethod
    def merge_report(*sets: FeatureSet) -> dict:
        """Segments shared by all ``sets`` and, per set, the ids found in it and not in every other."""
        common = set.intersection(*(set(fs.segment_id.tolist()) for fs in sets)) if sets else set()
        only = {
            _name(fs, i): sorted(set(fs.segment_id.tolist()) - common) for i, fs in enumerate(sets)
        }
        return {"n_common": len(common), "only_in": only}

    # ----------------------------------------------------------------- disk
    def save(self, path: str | os.PathLike) -> Path:
        """Validate, then write to ``path`` (HDF5) atomically: a temp file renamed into place."""
        path = Path(path)
        self.validate(str(path))
        with atomic_path(path) as tmp:
            with h5py.File(tmp, "w") as f:
                f.attrs["format"] = "msa-featureset"
                f.attrs["format_version"] = FORMAT_VERSION
                f.attrs["corpus"] = self.corpus
                f.attrs["source"] = self.source
                str_dt = h5py.string_dtype()
                f.create_dataset("segment_id", data=self.segment_id.astype(object), dtype=str_dt)
                f.create_dataset("video_id", data=self.video_id.astype(object), dtype=str_dt)
                f.create_dataset("split", data=self.split.astype(object), dtype=str_dt)
                f.create_dataset("label", data=self.label)
                g = f.create_group("features")
                for m, x in self.features.items():
                    d = g.create_dataset(m, data=x, compression="gzip", compression_opts=4)
                    d.attrs["meta"] = self.meta[m].to_json()
                fl = f.create_group("flags")
                for k, v in self.flags.items():
                    fl.create_dataset(k, data=v)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureSet:
        """Read and validate a FeatureSet file; errors name the file and the problem."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: FeatureSet file not found")
        try:
            f = h5py.File(path, "r")
        except OSError as exc:
            raise FeatureSetError(f"{path}: not a readable HDF5 FeatureSet file ({exc})") from exc
        with f:
            if f.attrs.get("format") != "msa-featureset":
                raise FeatureSetError(f"{path}: HDF5 file is not an msa FeatureSet")
            try:
                fs = cls(
                    segment_id=_read(path, f, "segment_id", text=True),
                    video_id=_read(path, f, "video_id", text=True),
                    split=_read(path, f, "split", text=True),
                    label=_read(path, f, "label"),
                    features={m: _read(path, f, f"features/{m}") for m in f["features"]},
                    meta={
                        m: ModalityMeta.from_json(d.attrs["meta"]) for m, d in f["features"].items()
                    },
                    corpus=str(f.attrs.get("corpus", "")),
                    source=str(f.attrs.get("source", "")),
                    flags={k: _read(path, f, f"flags/{k}") for k in f.get("flags", {})},
                )
            except KeyError as exc:
                raise FeatureSetError(f"{path}: missing entry {exc}") from exc
        return fs.validate(str(path))


def _read(path: Path, f: h5py.File, name: str, text: bool = False) -> np.ndarray:
    """One dataset of an open FeatureSet file; a damaged one is an error naming file and dataset."""
    d = f[name]
    try:
        return d.asstr()[...] if text else d[...]
    except (OSError, ValueError) as exc:  # h5py: a corrupt compressed chunk fails in its filter
        raise FeatureSetError(
            f"{path}: dataset '{name}' cannot be read ({exc}); the file is damaged, "
            "write it again (e.g. rerun msa extract with --overwrite)"
        ) from exc


def _name(fs: FeatureSet, i: int) -> str:
    """How a set is named in merge messages: its position, corpus and modalities."""
    return f"set {i + 1} ({fs.corpus or 'FeatureSet'}: {', '.join(fs.modalities) or 'no modality'})"


def _merged_ids(sets: Sequence[FeatureSet], how: str) -> np.ndarray:
    """Segment ids of the merge in first-seen order (outer) or those in every set (inner)."""
    order = list(dict.fromkeys(sid for fs in sets for sid in fs.segment_id.tolist()))
    if how == "inner":
        keep = set.intersection(*(set(fs.segment_id.tolist()) for fs in sets))
        order = [sid for sid in order if sid in keep]
    return np.asarray(order, dtype=str)


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each ``wanted`` id in ``ids``, or -1."""
    index = {sid: i for i, sid in enumerate(ids.tolist())}
    return np.asarray([index.get(sid, -1) for sid in wanted.tolist()], dtype=np.int64)


def _agree(sets, pos, names, ids, attr: str, unknown) -> np.ndarray:
    """One value per merged segment of string column ``attr``; unknown values give way, others must agree."""
    out = np.full(len(ids), "", dtype=object)
    src = np.full(len(ids), -1)
    for j, (fs, p) in enumerate(zip(sets, pos)):
        values = getattr(fs, attr)
        for i in np.flatnonzero(p >= 0):
            v = values[p[i]]
            if src[i] < 0 or unknown(out[i]):
                out[i], src[i] = v, j
            elif not unknown(v) and v != out[i]:
                raise FeatureSetError(
                    f"merge: segment '{ids[i]}' has {attr} '{out[i]}' in {names[src[i]]} "
                    f"but '{v}' in {names[j]}"
                )
    return out.astype(str)


def _agree_labels(sets, pos, names, ids, tol: float = 1e-5) -> np.ndarray:
    """One label per merged segment; NaN (unlabelled) gives way, others must agree within ``tol``."""
    out = np.full(len(ids), np.nan, np.float32)
    src = np.full(len(ids), -1)
    for j, (fs, p) in enumerate(zip(sets, pos)):
        have = p >= 0
        v = np.full(len(ids), np.nan, np.float32)
        v[have] = fs.label[p[have]]
        clash = have & ~np.isnan(out) & ~np.isnan(v) & (np.abs(out - v) > tol)
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            raise FeatureSetError(
                f"merge: segment '{ids[i]}' has label {out[i]} in {names[src[i]]} "
                f"but {v[i]} in {names[j]} ({int(clash.sum())} segment(s) disagree)"
            )
        fill = np.isnan(out) & ~np.isnan(v)
        out[fill], src[fill] = v[fill], j
    return out
