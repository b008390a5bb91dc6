"""The package's layers hold: no module imports a layer above its own, and no import circle.

The layers are declared once, in ``pyproject.toml`` (``[tool.importlinter]``), and checked by
import-linter; the README's layout section explains them.
"""

import subprocess
import sys
from pathlib import Path

import grimp

from msa_lib.io.paths import repo_root


def test_the_layer_contract_in_pyproject_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--config", str(repo_root() / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=repo_root(),
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 kept, 0 broken" in run.stdout


def test_no_import_circle_between_modules():
    graph = grimp.build_graph("msa_lib")
    circles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(imported=module, importer=imported)
    )
    assert not circles, f"import circles: {circles}"
