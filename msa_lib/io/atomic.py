"""Atomic file writes: write to a temp file beside the target, rename into place on success."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-creation mask (read by setting and restoring it; no other way in POSIX)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temp path in ``path``'s folder; it replaces ``path`` only if the block succeeds.

    A crash or Ctrl-C in the block leaves any earlier ``path`` intact and no temp file behind.
    ``suffix`` lets writers that check the extension (mmsdk wants ``.csd``) see the one they need.
    The file gets the permissions of a plain ``open(path, "w")`` (0666 less the umask), not the
    owner-only 0600 that ``mkstemp`` gives its temp files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
