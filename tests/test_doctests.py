"""The examples in the library's docstrings run, as the API reference shows them."""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["hivetool", "hivetool.api", "hivetool.regf.records.types", "hivetool.regf.hive.hive", "hivetool.regf.hive.model"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples open sample_hives/
    module = importlib.import_module(name)
    globs = {"Hive": importlib.import_module("hivetool.regf.hive").Hive,
             "RegType": importlib.import_module("hivetool.regf.records.types").RegType}
    failures, tried = doctest.testmod(module, extraglobs=globs, optionflags=doctest.ELLIPSIS, report=True)
    assert tried > 0, f"{name} has no examples"
    assert failures == 0
