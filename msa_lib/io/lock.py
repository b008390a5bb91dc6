"""One run at a time: an advisory lock (``fcntl.flock``) on a file that names the run holding it.

A command takes the lock of what it writes before any work (``msa extract``: its ``--out``
folder; ``msa book``: each chapter it executes, and the HTML). A second run that wants a lock
already held is refused at once with one line naming the first: its process id, its command
and when it started (a library call may wait for it instead: ``wait=True``, as
:func:`msa_lib.extract.run.corpus.extract_corpus` does). The operating system releases a lock when its holder ends, however it ends
(an exception, Ctrl-C, SIGKILL), so a lock file left behind never blocks a later run. Within
one process the locks are re-entrant: a library call that takes the lock its command already
holds goes on. The lock files stay where they are (deleting a file another process may be
opening would let two runs hold "the" lock at once); an unheld one is empty.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shlex
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_FILE = ".msa.lock"  # the lock file of a folder (``folder_lock``)
READ_TRIES = 20  # the holder writes who it is just after it takes the lock: wait that long


class LockError(OSError):
    """Another run holds the lock: the message names it (process id, command, start time)."""


_HELD: dict[str, list] = {}  # resolved lock file -> [file descriptor, depth] held by this process
_GUARD = threading.Lock()


def command_line(argv: Iterable[str] | None = None) -> str:
    """This process's command line, quoted as a shell would need it (``msa`` for the script)."""
    args = list(sys.argv if argv is None else argv)
    if args and Path(args[0]).name in ("msa", "__main__.py"):
        args[0] = "msa"
    return " ".join(shlex.quote(a) for a in args) or "python"


def _read_holder(fd: int) -> dict:
    """Who holds the lock, as its holder wrote it ({} until it has written)."""
    for _ in range(READ_TRIES):
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 1 << 16)
        try:
            info = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            info = {}
        if isinstance(info, dict) and info.get("pid"):
            return info
        time.sleep(0.05)
    return {}


def describe_holder(info: dict) -> str:
    """'pid 123 (msa extract clips --out f), started 2025-01-01T12:00:00' from a lock file."""
    if not info.get("pid"):
        return "another process (it has not said which yet)"
    return f"pid {info['pid']} ({info.get('command', '?')}), started {info.get('started', '?')}" + (
        f" on {info['host']}" if info.get("host") and info["host"] != os.uname().nodename else ""
    )


@contextlib.contextmanager
def locked(
    path: str | os.PathLike, what: str, hint: str = "", wait: bool = False
) -> Iterator[Path]:
    """Hold the lock file ``path`` for the block, or raise :class:`LockError` at once.

    ``what`` names what the lock guards in the message (a folder, a chapter); ``hint`` ends it
    (what the user can do instead, e.g. "or write to another --out"). With ``wait``, a lock
    held by another run is waited for (one log line names the holder) instead of refused.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _GUARD:
        if key in _HELD:
            _HELD[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _GUARD:
                _HELD[key][1] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # not inherited by child programs
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        if wait:
            log.warning("%s is in use by %s; waiting for it to end", what, describe_holder(holder))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        else:
            os.close(fd)
            raise LockError(
                f"{what} is in use by another run: {describe_holder(holder)}; wait for it to end"
                + (f", {hint}" if hint else "")
                + f" (lock file {path})"
            ) from None
    except BaseException:
        os.close(fd)
        raise
    info = {
        "pid": os.getpid(),
        "command": command_line(),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "host": os.uname().nodename,
    }
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        with _GUARD:
            _HELD[key] = [fd, 1]
        yield path
    finally:
        with _GUARD:
            _HELD.pop(key, None)
        try:
            os.ftruncate(fd, 0)  # an unheld lock file names nobody
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def folder_lock(
    folder: str | os.PathLike, hint: str = "", wait: bool = False
) -> contextlib.AbstractContextManager:
    """The lock of a folder a run writes into (``<folder>/.msa.lock``); see :func:`locked`."""
    return locked(Path(folder) / LOCK_FILE, f"{folder}", hint, wait)


@contextlib.contextmanager
def all_locked(locks: Iterable[tuple[str | os.PathLike, str]], hint: str = "") -> Iterator[None]:
    """Hold every ``(lock file, what)`` for the block, or none of them (the first refusal raises)."""
    ordered = sorted(locks, key=lambda item: str(item[0]))  # one order: of two runs, one gets all
    with contextlib.ExitStack() as stack:
        for path, what in ordered:
            stack.enter_context(locked(path, what, hint))
        yield
