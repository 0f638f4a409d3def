"""The API reference (docs/) builds without a single warning, nitpicky: every reference in a
docstring or a signature leads to a documented object; and its examples run (the doctest
builder), as they read."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("builder", ["html", "doctest"])
def test_the_reference_builds_cleanly(builder, tmp_path):
    out = tmp_path / builder
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", builder,
                           "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    report = out / "output.txt"  # the doctest builder's account of each failure
    details = report.read_text(encoding="utf-8") if report.exists() else ""
    assert done.returncode == 0, f"sphinx -b {builder} failed:\n{done.stdout}{done.stderr}{details}"
