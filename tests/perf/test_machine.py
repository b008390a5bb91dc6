"""The one machine description: what /proc and os say, and the book's phrase for it."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import pytest
import torch

from msa_lib.perf.machine import cores, cpu_model, machine_info, machine_phrase


def test_the_machine_record_says_what_os_and_proc_say():
    info = machine_info()
    assert info["cpu_count"] == os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert info["affinity"] == len(os.sched_getaffinity(0))
    assert info["python"] == platform.python_version() and info["torch"] == torch.__version__
    assert info["machine"] == platform.machine()
    load = info["load_average"]
    assert len(load) == 3 and all(x >= 0 for x in load)
    proc = Path("/proc/cpuinfo")
    if proc.is_file():
        names = re.findall(r"^model name\s*:\s*(.+?)\s*$", proc.read_text(), flags=re.M)
        assert info.get("cpu_model") == (names[0] if names else None)


def test_cpu_model_reads_the_first_model_name(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU 9000 @ 2GHz\n\nmodel name\t: Other\n")
    assert cpu_model(info) == "Test CPU 9000 @ 2GHz"
    assert cpu_model(tmp_path / "absent") is None
    info.write_text("processor\t: 0\n")
    assert cpu_model(info) is None


def test_cores_and_the_phrase_read_new_and_old_records():
    here = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cores() == here and machine_phrase().startswith(f"{here}-core CPU")
    # the cores this process may use come before the machine's count
    new = {"cpu_count": 64, "affinity": 8, "cpu_model": "Test CPU 9000", "machine": "x86_64"}
    assert cores(new) == 8 and machine_phrase(new) == "8-core CPU (Test CPU 9000)"
    old = {"cpus": 2, "machine": "x86_64"}  # benchmarks/extract.py's record before it shared this
    assert cores(old) == 2 and machine_phrase(old) == "2-core CPU (x86_64)"
    with pytest.raises(ValueError, match="names no CPU count"):
        cores({"machine": "x86_64"})
