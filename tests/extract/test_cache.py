"""The per-segment cache: content digests, input keys, damaged files."""

from __future__ import annotations

import numpy as np

from msa_lib.config import AudioConfig
from msa_lib.extract.base import Outcome, Segment, get
from msa_lib.extract.cache import CHUNK, Cache, file_digest


def test_digest_reads_both_ends_and_size(tmp_path):
    p = tmp_path / "f.bin"
    data = bytearray(np.random.default_rng(0).integers(0, 256, 3 * CHUNK, dtype=np.uint8))
    p.write_bytes(data)
    d0 = file_digest(p)
    data[-1] ^= 1  # the last byte
    p.write_bytes(data)
    d1 = file_digest(p)
    data[0] ^= 1  # the first byte
    p.write_bytes(data)
    d2 = file_digest(p)
    p.write_bytes(data + b"\0")  # one byte longer
    assert len({d0, d1, d2, file_digest(p)}) == 4


def test_put_get_and_window_in_key(tmp_path, face_clip):
    cache = Cache(tmp_path, get("audio")(AudioConfig()))
    seg = Segment("x/1", "v", str(face_clip), 0.0, 1.0)
    cache.put(seg, Outcome(np.ones(3, np.float32), {"silent": False}, warnings=["w"]))
    hit = cache.get(seg)
    assert hit.cached and hit.vector.tolist() == [1, 1, 1] and hit.warnings == ["w"]
    assert cache.get(Segment("x/1", "v", str(face_clip), 0.0, 1.5)) is None
    cache.put(Segment("y", "v", str(face_clip)), Outcome(None, error="boom"))
    assert cache.get(Segment("y", "v", str(face_clip))) is None  # failures are never cached


def test_damaged_cache_file_is_recomputed(tmp_path, face_clip):
    cache = Cache(tmp_path, get("audio")(AudioConfig()))
    seg = Segment("a", "a", str(face_clip))
    cache.put(seg, Outcome(np.ones(3, np.float32)))
    next(cache.dir.glob("*.npz")).write_bytes(b"not an npz")
    assert cache.get(seg) is None


def test_entries_are_named_by_content_so_runs_never_overwrite_each_other(tmp_path, face_clip):
    import shutil

    other = tmp_path / "other.mp4"
    shutil.copy(face_clip, other)
    with open(other, "ab") as f:
        f.write(b"\0")  # another file: same segment id, other content
    cache = Cache(tmp_path / "c", get("audio")(AudioConfig()))
    a, b = Segment("s", "v", str(face_clip)), Segment("s", "v", str(other))
    cache.put(a, Outcome(np.ones(3, np.float32)))
    cache.put(b, Outcome(np.zeros(3, np.float32)))
    names = sorted(p.name for p in cache.dir.iterdir())
    assert len(names) == 2 and all(n.startswith("s-") and n.endswith(".npz") for n in names)
    assert cache.get(a).vector.tolist() == [1, 1, 1] and cache.get(b).vector.tolist() == [0, 0, 0]


def test_an_entry_under_the_old_name_is_still_read(tmp_path, face_clip):
    cache = Cache(tmp_path, get("audio")(AudioConfig()))
    seg = Segment("s", "v", str(face_clip))
    cache.put(seg, Outcome(np.ones(3, np.float32)))
    new = next(cache.dir.glob("*.npz"))
    new.rename(cache.dir / "s.npz")  # how entries were named before content-keyed names
    assert cache.get(seg).vector.tolist() == [1, 1, 1]
