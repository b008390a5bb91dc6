"""The machine a measurement ran on: CPU count and model, platform, library versions, load."""

from __future__ import annotations

import os
import platform
from pathlib import Path


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
    try:  # the model name the kernel reports (Linux)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["mkl"] = torch.backends.mkl.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info


def machine_phrase(info: dict[str, object] | None = None) -> str:
    """The machine in a few words, for the book: ``"2-core CPU (Intel Xeon ...)"``.

    ``info`` is a :func:`machine_info` record (the one a benchmark stored); None: this machine.
    The core count is the cores this process may use where known, else the machine's.
    """
    info = machine_info() if info is None else info
    cores = info.get("affinity") or info.get("cpu_count") or info.get("cpus")
    model = info.get("cpu_model") or info.get("machine")
    return f"{cores}-core CPU" + (f" ({model})" if model else "")
