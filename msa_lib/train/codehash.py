"""A fingerprint of the code a computation runs: the sources of a module's static import closure.

The closure is read from the source (``ast``), not from what happens to be imported: every
``import pkg.x`` / ``from pkg.x import y`` / relative import inside ``package`` is followed
recursively, and each module's file is included. A parent package's ``__init__`` counts where it
is imported by name (``from pkg import x``), not for each of its submodules: package ``__init__``
files here only re-export names. A cache keyed by this fingerprint is invalidated
by an edit to any module the computation can reach, and by nothing else.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path


def _module_file(name: str) -> Path | None:
    """The source file of module ``name``, or None where it is not a module with a source file."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imported_names(path: Path, name: str, source: bytes) -> set[str]:
    """Module names an import statement in ``source`` (module ``name`` at ``path``) can refer to."""
    package = name if _is_package(path) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            found.add(base)
            # ``from pkg import sub``: ``sub`` may be a submodule
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def import_closure(
    module: str, package: str | None = None, read: Callable[[Path], bytes] = Path.read_bytes
) -> dict[str, Path]:
    """``{module name: file}`` for ``module`` and every module of ``package`` it imports, recursively.

    ``package`` defaults to the top-level package of ``module``; ``read`` reads a source file.
    """
    package = package or module.split(".")[0]
    todo, seen = [module], {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            if name == module:
                raise ModuleNotFoundError(f"no source file for module '{module}'")
            continue
        seen[name] = path
        for dep in _imported_names(path, name, read(path)):
            if (dep == package or dep.startswith(package + ".")) and dep not in seen:
                todo.append(dep)
    return dict(sorted(seen.items()))


def code_fingerprint(
    module: str, package: str | None = None, read: Callable[[Path], bytes] = Path.read_bytes
) -> str:
    """SHA-256 over the names and sources of :func:`import_closure` of ``module``."""
    h = hashlib.sha256()
    for name, path in import_closure(module, package, read).items():
        h.update(name.encode() + b"\0")
        h.update(read(path))
        h.update(b"\0")
    return h.hexdigest()
