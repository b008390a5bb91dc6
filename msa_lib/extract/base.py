"""The one extractor interface and its registry.

An extractor turns one segment (a media window or a transcript) into one fixed-width vector of
its own modality (``audio``, ``visual``, ``text``, ``glove``). Media extractors work segment by
segment (``run``), which the runner spreads over a process pool; text extractors work on a batch
(``run_batch``) in the main process, where their model is loaded once. Each module registers its
extractor with :func:`register`; the runner looks extractors up by name with :func:`get` and never
switches on a name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from msa_lib.config import (
    FACE_WIDTHS,
    AudioConfig,
    ConfigError,
    TextConfig,
    VisualConfig,
    sections_from_dict,
)
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract import BUILTIN
from msa_lib.io.jsonio import jsonable

CACHE_VERSION = 2  # bump when a cached vector's meaning changes
SECTIONS = {"audio": AudioConfig, "visual": VisualConfig, "text": TextConfig}


class ExtractError(ValueError):
    """The extraction request itself is wrong (bad path, table, settings)."""


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
    text_error: str | None = None  # the transcript exists but cannot be read (e.g. not UTF-8)


@dataclass
class Outcome:
    """One extractor's result for one segment."""

    vector: np.ndarray | None  # None when failed
    flags: dict[str, float] = field(default_factory=dict)  # bool/int values
    error: str | None = None
    seconds: float = 0.0
    cached: bool = False
    warnings: list[str] = field(default_factory=list)  # worth a line in the log (truncated file)


def library_version(dist: str) -> str:
    """The installed version of a distribution ('' when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return ""


class Extractor(ABC):
    """One feature extractor with its settings (a config dataclass)."""

    name: ClassVar[str]  # registry key, also the output file's name (``<name>.h5``)
    modality: ClassVar[str]  # the FeatureSet modality it fills
    section: ClassVar[str]  # the config section its settings come from
    needs: ClassVar[str]  # "media" or "text": what a segment must have
    batched: ClassVar[bool] = False  # True: run_batch in the main process; False: run in a pool
    libraries: ClassVar[tuple[str, ...]] = ()  # distributions whose versions key the cache

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @classmethod
    def from_sections(cls, sections: Mapping[str, Any]) -> Extractor:
        """The extractor with its section of ``sections`` (default settings when absent)."""
        return cls(sections.get(cls.section) or SECTIONS[cls.section]())

    @abstractmethod
    def dim(self) -> int:
        """Width of the output vector."""

    @abstractmethod
    def metadata(self) -> ModalityMeta:
        """What goes into the FeatureSet's metadata for this modality."""

    def key_settings(self) -> Any:
        """The settings the vectors depend on (default: all of them).

        Settings with a protocol (``resolved()``) count with its choices filled in, less its name:
        the same choices reached by a protocol or set one by one share the cache.
        """
        if not hasattr(self.settings, "resolved"):
            return self.settings
        out = dataclasses.asdict(self.settings.resolved())
        del out["protocol"]
        return out

    def cache_key(self) -> str:
        """A short hash of the settings and library versions (the cache folder's name)."""
        versions = {d: library_version(d) for d in self.libraries}
        blob = json.dumps(
            [CACHE_VERSION, self.name, jsonable(self.key_settings()), versions], sort_keys=True
        )
        return hashlib.sha1(blob.encode()).hexdigest()[:10]

    def applies(self, seg: Segment) -> bool:
        """Whether the segment has what this extractor needs."""
        if self.needs == "media":
            return seg.media is not None
        return seg.text is not None or seg.text_error is not None

    def run(self, seg: Segment) -> Outcome:
        """The outcome of one segment (media extractors)."""
        return self.run_batch([seg])[0]

    def run_batch(self, segs: Sequence[Segment], progress: bool = False) -> list[Outcome]:
        """The outcomes of many segments, in order (text extractors override this)."""
        return [self.run(s) for s in segs]

    def prepare(self) -> None:
        """Load what :meth:`run_batch` needs (its model), so that a caller can do it ahead of
        time, e.g. while other extractors run; a failure is left for :meth:`run_batch` to raise.
        Default: nothing to load."""
        return None

    def before_workers(self) -> None:
        """Do, once in this process, what worker processes started together must not do at once
        (e.g. write a compiler's on-disk cache); called before a pool or Ray starts several.
        Default: nothing."""
        return None


def batch_outcomes(
    segs: Sequence[Segment], encode: Callable, vectors_and_flags: Callable
) -> list[Outcome]:
    """Outcomes of a text extractor over ``segs``: unreadable transcripts fail, the rest encode.

    ``encode(texts)`` returns a result; ``vectors_and_flags(result)`` its ``[n, dim]`` vectors
    and a dict of per-text flag arrays.
    """
    out: list[Outcome | None] = [
        Outcome(None, error=s.text_error) if s.text_error is not None else None for s in segs
    ]
    todo = [i for i, o in enumerate(out) if o is None]
    if todo:
        t0 = time.perf_counter()
        vectors, flags = vectors_and_flags(encode([segs[i].text or "" for i in todo]))
        per = (time.perf_counter() - t0) / len(todo)
        for j, i in enumerate(todo):
            out[i] = Outcome(vectors[j], {k: v[j].item() for k, v in flags.items()}, seconds=per)
    return out  # type: ignore[return-value]


EXTRACTORS: dict[str, type[Extractor]] = {}


def register(cls: type[Extractor]) -> type[Extractor]:
    """Class decorator: make an extractor available under ``cls.name``."""
    if cls.name in EXTRACTORS and EXTRACTORS[cls.name] is not cls:
        raise ValueError(f"extractor '{cls.name}' is registered twice")
    EXTRACTORS[cls.name] = cls
    return cls


def names() -> list[str]:
    """Every known extractor name: the built-in ones first, then any registered later."""
    return list(dict.fromkeys([*BUILTIN, *EXTRACTORS]))


def get(name: str) -> type[Extractor]:
    """The extractor class registered under ``name`` (built-in modules load on first use)."""
    if name not in EXTRACTORS and name in BUILTIN:
        importlib.import_module(BUILTIN[name])
    if name not in EXTRACTORS:
        raise ExtractError(f"unknown extractor '{name}'; known: {names()}")
    return EXTRACTORS[name]


def build(requested: Sequence[str], sections: Mapping[str, Any] | None = None) -> list[Extractor]:
    """Extractors for ``requested`` names (in the registry's order) with their settings."""
    unknown = [n for n in requested if n not in names()]
    if unknown:
        raise ExtractError(f"unknown extractor(s) {unknown}; known: {names()}")
    wanted = set(requested)
    return [get(n).from_sections(sections or {}) for n in names() if n in wanted]


def _visual_values(values: Any, origin: str) -> Any:
    """Accept ``width_landmarks`` as a named pair ("paper", "cheeks") as well as two indices."""
    if not isinstance(values, Mapping) or not isinstance(values.get("width_landmarks"), str):
        return values
    w = values["width_landmarks"]
    if w not in FACE_WIDTHS:
        raise ConfigError(
            f"{origin} [visual]: width_landmarks '{w}' unknown; use {list(FACE_WIDTHS)} "
            "or two landmark indices"
        )
    return {**values, "width_landmarks": FACE_WIDTHS[w]}


def settings_from_dict(values: Mapping[str, Any], origin: str = "<dict>") -> dict[str, Any]:
    """The audio/visual/text configs from ``{"audio": {...}, ...}``; typos and bad values are errors."""
    if isinstance(values, Mapping) and "visual" in values:
        values = {**values, "visual": _visual_values(values["visual"], origin)}
    return sections_from_dict(SECTIONS, values, origin)


def default_settings() -> dict[str, Any]:
    """The paper's settings for every section."""
    return {name: cls() for name, cls in SECTIONS.items()}


def with_section(sections: Mapping[str, Any], name: str, **changes: Any) -> dict[str, Any]:
    """A copy of ``sections`` with some fields of one section changed."""
    out = {**default_settings(), **sections}
    out[name] = dataclasses.replace(out[name], **changes) if changes else out[name]
    return out
