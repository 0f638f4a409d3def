"""The shared corpus of real hives: where it is and what role each file plays.

The corpus README's table gives every file a role (edit, replay, read-only, broken,
reference, log, .reg). Tests ask for files by role so that a new file joins the right
tests by itself. Missing corpus: skip with a reason, except under CI=true, where it fails.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def corpus_dir() -> Path:
    return Path(os.environ.get("HIVETOOL_CORPUS", HERE.parent.parent / "shared" / "corpus")).resolve()


def require_corpus() -> Path:
    root = corpus_dir()
    if not (root / "README.md").is_file():
        message = f"corpus not found at {root} (set HIVETOOL_CORPUS)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return root


@lru_cache(maxsize=None)
def _table() -> tuple[tuple[str, str, str], ...]:
    """(relative path, role, notes) for each row of the README table."""
    root = corpus_dir()
    readme = root / "README.md"
    if not readme.is_file():
        return ()
    rows = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 9 or cells[0] in ("file", "---") or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[1], cells[-1]))
    return tuple(rows)


def files_with_role(role: str) -> list[str]:
    """Relative paths whose role starts with ``role`` ('broken' matches 'broken: "..."')."""
    return [path for path, r, _ in _table() if re.match(re.escape(role) + r"\b", r)]


def corpus_path(relative: str) -> Path:
    return require_corpus() / relative


def role_params(role: str, max_bytes: int | None = None) -> list:
    """pytest params for every corpus file of a role (ids are the file paths)."""
    params = []
    for rel in files_with_role(role):
        marks = []
        full = corpus_dir() / rel
        if max_bytes is not None and full.is_file() and full.stat().st_size > max_bytes:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(rel, id=rel, marks=marks))
    if not params:
        params.append(pytest.param(None, id=f"no-{role}-corpus"))
    return params
