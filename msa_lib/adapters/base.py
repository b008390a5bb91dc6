"""The one adapter interface and its registry.

Words used throughout: the **source** features are the ones an adapter maps (a new extractor's,
e.g. MiniLM 384-d on MOSI); the **target** features live in the space to map into (the model's,
e.g. GloVe 300-d on MOSEI). Every kind is an estimator (:class:`Adapter`) built from an
:class:`~msa_lib.config.AdapterConfig`:

- ``fit(source, target)`` for kinds that need no pairs, ``fit(source, target, pairs)`` for the
  ``paired`` ones, where ``pairs = (source_ids, target_ids)`` are the segment ids of the rows:
  a paired kind learns from the segments present in both sets (row order does not matter); the
  other kinds ignore ids and treat the sets as unpaired;
- ``transform(x)``: source vectors ``[n, in_dim]`` to target-space vectors ``[n, out_dim]``;
- ``save(folder)`` / ``Adapter.load(folder)``: a checkpoint folder of :mod:`msa_lib.io.checkpoint`
  (kind ``adapter``): ``config.json`` holds the adapter kind, its settings, the widths and what
  the fit found (pairs used, chosen penalty); ``scaler.pt`` the standardisation statistics;
  ``weights.pt`` the kind's tensors (network weights, ridge coefficients, PCA and transport
  matrices). ``Adapter.load`` reads any kind.

Choices the paper does not state, made here for every kind: inputs and outputs are standardised
with the training rows' mean and standard deviation (1 where a column is constant); a kind fits
and maps standardised vectors, and its outputs are mapped back to the target's scale.

Each kind's module registers its class with :func:`register`; :func:`get` looks a kind up by
name (importing a built-in kind's module on first use, :data:`msa_lib.adapters.BUILTIN`) and
:func:`names` lists them, so that callers never switch on a kind.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from msa_lib.adapters import BUILTIN
from msa_lib.config import AdapterConfig, ConfigError, config_from_dict
from msa_lib.io.checkpoint import (
    SCALER_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)

CHECKPOINT_KIND = "adapter"  # the ``kind`` of an adapter's checkpoint folder
SCALER_KEYS = ("source_mean", "source_std", "target_mean", "target_std")

# The segment ids of the source rows and of the target rows, for the paired kinds.
Pairs = tuple[Sequence[str], Sequence[str]]


class AdapterError(ValueError):
    """Adapter input that cannot be used: wrong width, no pairs, too few rows, a bad file."""


def as_matrix(x: Any, what: str, width: int | None = None) -> np.ndarray:
    """``x`` as a finite float64 matrix (of ``width`` columns when given), or an AdapterError."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise AdapterError(f"{what}: expected a 2-d array [rows, features], got shape {a.shape}")
    if width is not None and a.shape[1] != width:
        raise AdapterError(f"{what}: the adapter expects {width}-d features, got {a.shape[1]}-d")
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).any(axis=1).sum())
        raise AdapterError(f"{what}: {bad} rows have NaN or infinite values; drop them first")
    if len(a) == 0:
        raise AdapterError(f"{what}: no rows")
    return a


def pair_rows(
    source_ids: Sequence[str], target_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the segment ids present in both sets (in source order), or an AdapterError."""
    s = np.asarray(source_ids).astype(str)
    t = np.asarray(target_ids).astype(str)
    for name, ids in (("source", s), ("target", t)):
        if len(np.unique(ids)) != len(ids):
            raise AdapterError(f"paired training: the {name} segment ids are not unique")
    where = {v: i for i, v in enumerate(t)}
    si = np.array([i for i, v in enumerate(s) if v in where], dtype=int)
    if len(si) == 0:
        raise AdapterError(
            f"paired training: no segment id is in both sets ({len(s)} source ids, e.g. "
            f"{s[:2].tolist()}; {len(t)} target ids, e.g. {t[:2].tolist()}); pairs need both "
            "extractors run on the same segments"
        )
    return si, np.array([where[v] for v in s[si]], dtype=int)


@dataclass
class Scale:
    """Column mean and standard deviation (1 where a column is constant)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scale:
        """The statistics of ``x``'s columns."""
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))

    def to(self, x: np.ndarray) -> np.ndarray:
        """``x`` standardised."""
        return (x - self.mean) / self.std

    def back(self, z: np.ndarray) -> np.ndarray:
        """Standardised ``z`` on the original scale."""
        return z * self.std + self.mean


def tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Numpy arrays as torch tensors (for ``weights.pt``), values and memory layout unchanged.

    The layout matters: a matrix product sums in another order over a transposed copy, and a
    loaded adapter must give the very outputs of the fitted one.
    """
    import torch

    out = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if not (a.flags.c_contiguous or a.flags.f_contiguous) or any(s < 0 for s in a.strides):
            a = np.ascontiguousarray(a)  # a view torch cannot share; row order kept
        out[k] = torch.from_numpy(a)
    return out


def stored_arrays(
    stored: Mapping[str, Any] | None,
    shapes: Mapping[str, tuple[int, ...] | None],
    path: Path,
    file: str = WEIGHTS_FILE,
) -> dict[str, np.ndarray]:
    """The arrays ``shapes`` names from a checkpoint file's tensors (``None``: any shape), checked."""
    stored = stored or {}
    out = {}
    for name, shape in shapes.items():
        if name not in stored:
            raise AdapterError(f"{path}: {file} has no '{name}'")
        if not hasattr(stored[name], "numpy"):
            raise AdapterError(f"{path}: {file} '{name}' is not a tensor")
        a = stored[name].numpy()
        if shape is not None and a.shape != shape:
            raise AdapterError(f"{path}: {file} '{name}' has shape {a.shape}, not {shape}")
        out[name] = a
    return out


class Adapter(ABC):
    """One adapter kind: ``fit`` learns the map, ``transform`` applies it, ``save``/``load`` keep it."""

    kind: ClassVar[str]  # registry key, also written into the checkpoint
    paired: ClassVar[bool] = False  # True: ``fit`` needs the segment ids of both sets

    def __init__(self, config: AdapterConfig = AdapterConfig(), num_threads: int | None = 1):
        self.config = config
        self.num_threads = num_threads  # torch threads while a network trains (None: as set)
        self.in_dim = 0
        self.out_dim = 0
        self.source_scale: Scale | None = None
        self.target_scale: Scale | None = None
        self.info: dict[str, float] = {}  # what the fit found: pairs used, chosen penalty, ...

    def __repr__(self) -> str:
        widths = f"{self.in_dim} -> {self.out_dim}" if self.fitted else "not fitted"
        return f"{type(self).__name__}(kind={self.kind!r}, {widths})"

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` (or ``load``) has run."""
        return self.source_scale is not None

    @classmethod
    def settings_for(cls, config: AdapterConfig, modality: str) -> AdapterConfig:
        """The settings this kind uses on ``modality`` (default: ``config`` unchanged)."""
        return config

    def widths(self) -> str:
        """The map's widths as the book writes them: ``65→713`` (a network's: every layer's)."""
        return f"{self.in_dim}→{self.out_dim}"

    def minimum(self) -> tuple[int, str]:
        """The fewest rows (pairs, for a paired kind) a fit learns from, and why."""
        return 2, "a spread to standardise by"

    def _check_rows(self, xs: np.ndarray, xt: np.ndarray) -> None:
        """An AdapterError when the rows are too few, or the source rows do not vary."""
        least, why = self.minimum()
        sets = (
            [("pair", len(xs))]
            if self.paired
            else [("source row", len(xs)), ("target row", len(xt))]
        )
        for what, n in sets:
            if n < least:
                raise AdapterError(
                    f"{self.kind}: {n} {what}{'s' if n != 1 else ''}; fitting needs at least "
                    f"{least} ({why})"
                )
        if not (np.ptp(xs, axis=0) > 0).any():
            raise AdapterError(
                f"{self.kind}: every source column is constant over the {len(xs)} rows; an "
                "adapter fitted on them would map every row to one vector"
            )

    # ------------------------------------------------------------- what a kind implements
    @abstractmethod
    def _fit(self, zs: np.ndarray, zt: np.ndarray) -> None:
        """Learn the map from standardised source rows ``zs`` to standardised target rows ``zt``."""

    @abstractmethod
    def _map(self, z: np.ndarray) -> np.ndarray:
        """Standardised source rows mapped to standardised target-space rows (float64)."""

    @abstractmethod
    def _weights(self) -> dict[str, Any]:
        """The tensors ``weights.pt`` keeps."""

    @abstractmethod
    def _restore(self, weights: Mapping[str, Any] | None, path: Path) -> None:
        """Rebuild the fitted state from ``weights.pt``'s tensors (errors name ``path``)."""

    # ------------------------------------------------------------- the interface
    def fit(self, source: Any, target: Any, pairs: Pairs | None = None) -> Adapter:
        """Learn to map ``source`` rows into ``target``'s space; returns the adapter itself."""
        xs = as_matrix(source, "source features")
        xt = as_matrix(target, "target features")
        self.info = {}
        if self.paired:
            xs, xt = self._paired_rows(xs, xt, pairs)
        self._check_rows(xs, xt)
        self.source_scale, self.target_scale = Scale.fit(xs), Scale.fit(xt)
        self.in_dim, self.out_dim = xs.shape[1], xt.shape[1]
        self._fit(self.source_scale.to(xs), self.target_scale.to(xt))
        return self

    def _paired_rows(
        self, xs: np.ndarray, xt: np.ndarray, pairs: Pairs | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the segments both sets have, source and target in the same order."""
        if pairs is None:
            raise AdapterError(
                f"{self.kind}: paired training needs the segment ids of both sets "
                "(pairs=(source_ids, target_ids))"
            )
        source_ids, target_ids = pairs
        if len(source_ids) != len(xs) or len(target_ids) != len(xt):
            raise AdapterError(
                f"{self.kind}: {len(source_ids)} source ids for {len(xs)} rows, "
                f"{len(target_ids)} target ids for {len(xt)} rows"
            )
        si, ti = pair_rows(source_ids, target_ids)
        self.info["n_pairs"] = float(len(si))
        return xs[si], xt[ti]

    def transform(self, x: Any) -> np.ndarray:
        """Source vectors ``[n, in_dim]`` mapped to ``[n, out_dim]`` target-space vectors."""
        if self.source_scale is None or self.target_scale is None:
            raise AdapterError(f"{self.kind} adapter: not fitted (call fit or Adapter.load first)")
        x = as_matrix(x, f"{self.kind} adapter input", self.in_dim)
        return self.target_scale.back(self._map(self.source_scale.to(x)))

    def save(self, path: str | os.PathLike) -> Path:
        """The adapter as a checkpoint folder at ``path`` (replacing one there)."""
        if self.source_scale is None or self.target_scale is None:
            raise AdapterError(f"{path}: a {self.kind} adapter that is not fitted cannot be saved")
        config = {
            "adapter": self.kind,
            "settings": dataclasses.asdict(self.config),
            "in_dim": self.in_dim,
            "out_dim": self.out_dim,
            "info": dict(self.info),
        }
        scale = {
            "source_mean": self.source_scale.mean,
            "source_std": self.source_scale.std,
            "target_mean": self.target_scale.mean,
            "target_std": self.target_scale.std,
        }
        return save_checkpoint(path, CHECKPOINT_KIND, config, self._weights(), tensors(scale))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Adapter:
        """An adapter of any kind read from a folder written by :meth:`save`; errors name it."""
        path = Path(path)
        try:
            ckpt = load_checkpoint(path, CHECKPOINT_KIND)
        except CheckpointError as exc:
            raise AdapterError(str(exc)) from exc
        cfg = ckpt.config
        lacking = [k for k in ("adapter", "settings", "in_dim", "out_dim") if k not in cfg]
        if lacking:
            raise AdapterError(f"{path}: config.json has no {lacking}")
        kind = cfg["adapter"]
        if kind not in names():
            raise AdapterError(f"{path}: unknown adapter kind {kind!r}; known kinds are {names()}")
        klass = get(kind)
        if not issubclass(klass, cls):
            raise AdapterError(f"{path}: a '{kind}' adapter, not a {cls.__name__}")
        try:
            config = config_from_dict(AdapterConfig, cfg["settings"], f"{path} [settings]")
        except ConfigError as exc:
            raise AdapterError(str(exc)) from exc
        adapter = klass(config)
        adapter.in_dim, adapter.out_dim = int(cfg["in_dim"]), int(cfg["out_dim"])
        adapter.info = {k: float(v) for k, v in (cfg.get("info") or {}).items()}
        if ckpt.scaler is None:
            raise AdapterError(f"{path}: no {SCALER_FILE} (the standardisation statistics)")
        widths = {"source_mean": adapter.in_dim, "source_std": adapter.in_dim}
        shapes = {k: (widths.get(k, adapter.out_dim),) for k in SCALER_KEYS}
        scale = stored_arrays(ckpt.scaler, shapes, path, SCALER_FILE)
        adapter.source_scale = Scale(scale["source_mean"], scale["source_std"])
        adapter.target_scale = Scale(scale["target_mean"], scale["target_std"])
        adapter._restore(ckpt.weights, path)
        return adapter


# ----------------------------------------------------------------- the registry
ADAPTERS: dict[str, type[Adapter]] = {}


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: make an adapter kind available under ``cls.kind``."""
    if cls.kind in ADAPTERS and ADAPTERS[cls.kind] is not cls:
        raise ValueError(f"adapter kind '{cls.kind}' is registered twice")
    ADAPTERS[cls.kind] = cls
    return cls


def names() -> list[str]:
    """Every known adapter kind: the built-in ones first, then any registered later."""
    return list(dict.fromkeys([*BUILTIN, *ADAPTERS]))


def build(kind: str, config: AdapterConfig, modality: str, num_threads: int | None = 1) -> Adapter:
    """An unfitted adapter of ``kind`` for ``modality``, with the settings the kind uses there."""
    klass = get(kind)
    return klass(klass.settings_for(config, modality), num_threads)


def get(kind: str) -> type[Adapter]:
    """The adapter class of ``kind`` (a built-in kind's module loads on first use)."""
    if kind not in ADAPTERS and kind in BUILTIN:
        importlib.import_module(BUILTIN[kind])
    if kind not in ADAPTERS:
        raise AdapterError(f"unknown adapter kind {kind!r}; known kinds are {names()}")
    return ADAPTERS[kind]
