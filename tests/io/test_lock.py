"""One run at a time: the lock names its holder, is refused at once, and dies with its holder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from msa_lib.io.lock import LOCK_FILE, LockError, all_locked, folder_lock, locked

HOLD = """
import sys, time
from msa_lib.io.lock import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def hold_in_another_process(folder: Path) -> subprocess.Popen:
    """A real process that holds ``folder``'s lock until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_is_refused_naming_the_first(tmp_path):
    proc = hold_in_another_process(tmp_path)
    try:
        t0 = time.perf_counter()
        with pytest.raises(LockError) as err, folder_lock(tmp_path, "or use another --out"):
            pytest.fail("the lock was taken twice")
        assert time.perf_counter() - t0 < 5  # refused at once, not after waiting
        msg = str(err.value)
        assert f"{tmp_path} is in use by another run: pid {proc.pid} (" in msg
        assert "-c" in msg and "started 20" in msg and "or use another --out" in msg
        assert "\n" not in msg
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    with folder_lock(tmp_path):  # released when its holder ended
        held = json.loads((tmp_path / LOCK_FILE).read_text())
        assert held["pid"] == os.getpid()
    assert (tmp_path / LOCK_FILE).read_text() == ""  # an unheld lock names nobody


def test_a_killed_holder_leaves_no_lock(tmp_path):
    proc = hold_in_another_process(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert str(proc.pid) in (tmp_path / LOCK_FILE).read_text()  # its record is still there
    with folder_lock(tmp_path):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_locks_are_reentrant_within_a_process(tmp_path):
    with folder_lock(tmp_path), folder_lock(tmp_path):
        pass
    with folder_lock(tmp_path):  # the inner release did not drop the outer lock
        proc = subprocess.run(
            [sys.executable, "-c", HOLD, str(tmp_path)],
            input="",
            capture_output=True,
            text=True,
        )
        assert proc.returncode != 0 and "LockError" in proc.stderr
        assert f"pid {os.getpid()}" in proc.stderr


def test_all_or_none_of_several_locks(tmp_path):
    proc = hold_in_another_process(tmp_path / "b")
    try:
        a, b = tmp_path / "a" / LOCK_FILE, tmp_path / "b" / LOCK_FILE
        with pytest.raises(LockError, match="chapter b is in use"):
            with all_locked([(a, "chapter a"), (b, "chapter b")]):
                pass
        with locked(a, "chapter a"):  # a was given back when b was refused
            pass
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_a_library_run_waits_for_the_holder_instead(tmp_path, caplog):
    import threading

    proc = hold_in_another_process(tmp_path)
    got: list[float] = []

    def take() -> None:
        with folder_lock(tmp_path, wait=True):
            got.append(time.perf_counter())

    t0 = time.perf_counter()
    thread = threading.Thread(target=take)
    thread.start()
    time.sleep(1.0)
    assert not got  # still waiting while the other process holds it
    proc.stdin.close()
    proc.wait(timeout=30)
    thread.join(timeout=30)
    assert got and got[0] - t0 >= 1.0
    assert f"pid {proc.pid}" in caplog.text and "waiting for it to end" in caplog.text
