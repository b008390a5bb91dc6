"""The machine a measurement ran on: CPU count and model, platform, library versions, load.

One record for every benchmark (``benchmarks/extract.py``, ``benchmarks/train.py``) and the
book: :func:`machine_info` writes it, :func:`cores` and :func:`machine_phrase` read it. Records
written before the benchmarks shared it (``{"cpus": ..., "machine": ...}``) read the same way.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_model(cpuinfo: Path = CPUINFO) -> str | None:
    """The CPU's model name as the kernel reports it (Linux's ``/proc/cpuinfo``), or None."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_info() -> dict[str, object]:
    """What a measurement ran on: CPU model and count, load, Python, torch and its BLAS."""
    info: dict[str, object] = {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    model = cpu_model()
    if model:
        info["cpu_model"] = model
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["mkl"] = torch.backends.mkl.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info


def cores(info: Mapping[str, object] | None = None) -> int:
    """The cores a measurement could use: its affinity where known, else the machine's CPUs.

    ``info`` is a :func:`machine_info` record (older records name the count ``cpus``); None:
    this machine. A record naming no count at all is an error.
    """
    info = machine_info() if info is None else info
    n = info.get("affinity") or info.get("cpu_count") or info.get("cpus")
    if not n:
        raise ValueError(f"the machine record names no CPU count: {dict(info)}")
    return int(n)


def machine_phrase(info: Mapping[str, object] | None = None) -> str:
    """The machine in a few words, for the book: ``"2-core CPU (Intel Xeon ...)"``.

    ``info`` is a :func:`machine_info` record (the one a benchmark stored); None: this machine.
    """
    info = machine_info() if info is None else info
    model = info.get("cpu_model") or info.get("machine")
    return f"{cores(info)}-core CPU" + (f" ({model})" if model else "")
