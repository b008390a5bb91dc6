"""The per-segment cache: one ``.npz`` per segment and extractor, keyed by content.

A cached vector is reused only when it was made by the same extractor settings and library
versions (the cache folder's name) from the same input: for media, the SHA-256 of the file's first
and last MiB and its size, plus the window; for text, the transcript. An edited clip is recomputed
even when its size and modification time did not change.

Runs may share a cache folder at the same time: an entry's name holds its input key
(``<segment>-<key>.npz``), so one name always holds the same result, and it is written to a
temp file and renamed into place, so no reader ever sees half an entry. Two runs that compute
the same segment write the same vector under the same name; runs whose segments share an id but
not a clip keep both entries. An entry under the name used before (``<segment>.npz``) is still
read when its stored key matches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

import numpy as np

from msa_lib.extract.base import Extractor, Outcome, Segment
from msa_lib.io.atomic import atomic_path

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes hashed at each end of a media file
KEY_CHARS = 16  # hex characters of the input key in an entry's name (64 bits)


def file_digest(path: str | os.PathLike, chunk: int = CHUNK) -> str:
    """SHA-256 of a file's size, its first ``chunk`` bytes and its last ``chunk`` bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        h.update(str(size).encode())
        h.update(f.read(chunk))
        if size > chunk:
            f.seek(max(chunk, size - chunk))
            h.update(f.read(chunk))
    return h.hexdigest()


def safe_name(segment_id: str) -> str:
    """A file name for a segment id (ids may hold any character)."""
    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", segment_id)
    if clean != segment_id:
        clean += "-" + hashlib.sha1(segment_id.encode()).hexdigest()[:8]
    return clean


class Cache:
    """Per-segment results of one extractor under one settings hash, one ``.npz`` each."""

    def __init__(self, root: str | os.PathLike, extractor: Extractor) -> None:
        self.dir = Path(root) / f"{extractor.name}-{extractor.cache_key()}"
        self.needs = extractor.needs
        self._digests: dict[str, str] = {}  # per run: a video cut into many segments is hashed once

    def _path(self, seg: Segment, key: str) -> Path:
        """The entry of ``seg`` made from the input ``key`` (its content names it)."""
        return self.dir / f"{safe_name(seg.segment_id)}-{key[:KEY_CHARS]}.npz"

    def input_key(self, seg: Segment) -> str:
        """What the cached result depends on: the media content and window, or the transcript."""
        if self.needs == "text":
            src: list = [seg.text]
        else:
            if seg.media not in self._digests:
                try:
                    self._digests[seg.media] = file_digest(seg.media)
                except OSError:
                    self._digests[seg.media] = "unreadable"
            src = [self._digests[seg.media], seg.start, seg.end]
        return hashlib.sha256(json.dumps(src, default=str).encode()).hexdigest()

    def get(self, seg: Segment) -> Outcome | None:
        """The cached outcome, if present and made from the same input."""
        key = self.input_key(seg)
        p = self._path(seg, key)
        if not p.is_file():
            p = self.dir / f"{safe_name(seg.segment_id)}.npz"  # named as before content keys
            if not p.is_file():
                return None
        try:
            with np.load(p, allow_pickle=False) as z:
                if str(z["key"]) != key:
                    return None
                flags = {k[5:]: z[k].item() for k in z.files if k.startswith("flag_")}
                warn = [str(w) for w in z["warnings"]] if "warnings" in z.files else []
                return Outcome(
                    z["vector"], flags, seconds=float(z["seconds"]), cached=True, warnings=warn
                )
        except Exception:  # a damaged cache file is recomputed, never trusted
            log.warning("%s: unreadable cache file, recomputing", p)
            return None

    def put(self, seg: Segment, out: Outcome) -> None:
        """Store a successful outcome atomically."""
        if out.vector is None or out.error is not None:
            return
        flags = {f"flag_{k}": np.asarray(v) for k, v in out.flags.items()}
        key = self.input_key(seg)
        with atomic_path(self._path(seg, key), suffix=".tmp.npz") as tmp:
            np.savez(
                tmp,
                vector=out.vector,
                key=np.asarray(key),
                seconds=np.asarray(out.seconds),
                warnings=np.asarray(out.warnings, dtype=str),
                **flags,
            )
