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


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    p = path
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def check_writable_dir(folder: str | os.PathLike, what: str = "output folder") -> Path:
    """Raise a one-line ``OSError`` naming the folder unless files can be created in ``folder``.

    Checked before any work, so that a run does not end with its results unwritable. Nothing is
    created: the nearest existing ancestor must be a folder this process can write in (tried
    with a temp file, which also catches read-only file systems, where ``os.access`` is wrong
    for root).
    """
    folder = Path(folder)
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise NotADirectoryError(
            f"{what} {folder}: {base} is a file, not a folder, so nothing can be written under it"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".msa-write-check.", dir=base)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PermissionError(
            f"{what} {folder}: cannot write in {base} ({reason}); choose a folder you can write"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return folder


def check_writable_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Raise a one-line ``OSError`` unless the file ``path`` can be written (its folder, see above)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    check_writable_dir(path.parent, f"{what} {path}: its folder")
    return path
