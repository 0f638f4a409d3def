"""The package type-checks: ``mypy --strict hivetool`` from the repository root, as a developer
runs it (pyproject.toml holds the configuration: which libraries have no type information)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hivetool

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_passes():
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "hivetool"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, f"mypy --strict hivetool failed:\n{done.stdout}{done.stderr}"


def test_type_checkers_see_every_name_the_package_loads_lazily():
    """``hivetool.X`` is loaded on first use (``__getattr__``); the names are also imported under
    ``TYPE_CHECKING``, or a type checker would see every one of them as Any."""
    tree = ast.parse((ROOT / "hivetool" / "__init__.py").read_text(encoding="utf-8"))
    block = next(node for node in tree.body
                 if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
    declared = {alias.asname or alias.name for node in block.body if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert declared == set(hivetool.__all__)
