"""The one result cache: a finished result kept under a key of everything it depends on.

A long study (a grid of seeds, transfer settings, fine-tuned models) keeps each finished piece in a
:class:`ResultCache` folder, so an interrupted or repeated run computes only what is missing. A
piece is stored as ``<folder>/<kind>-<key>.pkl`` (a pickled object) or ``<folder>/<kind>-<key>/``
(a folder of files, such as a saved model), written atomically: a crash leaves no half result, and
two runs finishing the same key keep one whole copy. ``key`` comes from :func:`cache_key` over the
data (large arrays through :func:`digest`), the settings and the code
(:func:`msa_lib.train.codehash.code_fingerprint`), so a change to any of them is a new key. A cache with no
folder keeps nothing and computes every time.

Pickles run code when they are read: the cache reads only what this library wrote into a folder
the user chose.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from msa_lib.io.atomic import atomic_path
from msa_lib.io.jsonio import dumps

T = TypeVar("T")


def cache_key(*parts: Any, length: int = 20) -> str:
    """A short hex hash of ``parts`` (strict JSON of each: strings, numbers, dataclasses, arrays)."""
    return hashlib.sha256(dumps(list(parts), indent=None, sort_keys=True).encode()).hexdigest()[
        :length
    ]


def digest(*parts: str | np.ndarray) -> str:
    """SHA-256 hex of strings and arrays (each array's dtype, shape and bytes): the data part of
    a :func:`cache_key`, for data too large to spell out as JSON."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            h.update(b"s" + part.encode() + b"\0")
            continue
        arr = np.ascontiguousarray(part)
        if arr.dtype == object:
            raise TypeError("digest: an object array has no stable bytes; convert it first")
        h.update(f"a{arr.dtype.str}{arr.shape}".encode() + b"\0")
        h.update(arr.tobytes())
    return h.hexdigest()


class ResultCache:
    """Finished results under ``folder``, one per key; ``folder=None`` keeps nothing."""

    def __init__(self, folder: str | os.PathLike | None, kind: str) -> None:
        self.folder = None if folder is None else Path(folder)
        self.kind = kind

    def __repr__(self) -> str:
        return f"ResultCache({str(self.folder) if self.folder else None!r}, {self.kind!r})"

    @property
    def enabled(self) -> bool:
        """Whether results are kept."""
        return self.folder is not None

    def path(self, key: str, folder: bool = False) -> Path | None:
        """Where the result of ``key`` lives (a ``.pkl`` file, or a folder), or None: not kept."""
        if self.folder is None:
            return None
        name = f"{self.kind}-{key}"
        return self.folder / (name if folder else f"{name}.pkl")

    def __contains__(self, key: str) -> bool:
        path = self.path(key)
        return path is not None and path.is_file()

    def load(self, key: str) -> Any:
        """The stored result of ``key``; a KeyError when there is none."""
        path = self.path(key)
        if path is None or not path.is_file():
            raise KeyError(f"{self}: no result for key {key}")
        with open(path, "rb") as f:
            return pickle.load(f)

    def store(self, key: str, value: T) -> T:
        """Keep ``value`` under ``key`` (atomically); returns it."""
        path = self.path(key)
        if path is not None:
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        return value

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """The stored result of ``key``, else ``compute()``, stored."""
        if key in self:
            return self.load(key)
        return self.store(key, compute())

    def cached_folder(self, key: str, build: Callable[[Path], T], read: Callable[[Path], T]) -> T:
        """A result made of files: ``read(folder)`` of the stored folder of ``key``, else
        ``build(folder)`` into a fresh folder that then takes its place (``build``'s return
        value is returned). Without a cache folder, ``build`` runs in a temporary folder that is
        removed afterwards, so its return value must not need the files."""
        target = self.path(key, folder=True)
        if target is None:
            with tempfile.TemporaryDirectory(prefix=f"msa-{self.kind}-") as tmp:
                return build(Path(tmp))
        if target.is_dir():
            return read(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        try:
            value = build(tmp)
            try:
                os.rename(tmp, target)
            except OSError:  # another run finished this key first: keep its copy
                if not target.is_dir():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
                return read(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return value
