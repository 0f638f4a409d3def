"""hivetool: read and write Windows registry hives (regf) and .reg files, offline.

>>> import hivetool
>>> from hivetool import RegType
>>> with hivetool.open("sample_hives/SYSTEM") as hive:
...     key = hive.create_key(r"ControlSet001\\Services\\MSExchangeDS\\Parameters")
...     key.set("TCP/IP port", RegType.DWORD, 1225)
...     hive.key(r"controlset001\\services\\msexchangeds\\parameters").value("TCP/IP Port").data
True
1225

Everything below is importable from ``hivetool`` itself. Names load when first used, so that
``import hivetool`` (and every command line run, which imports the package first) stays quick.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_WHERE = {
    # the library's verbs (hivetool/api.py)
    "open": "api", "new": "api", "open_image": "api", "parse_reg": "api", "import_reg": "api",
    "export_reg": "api", "diff": "api", "check": "api", "replay": "api", "compact": "api",
    # the nouns
    "Hive": "regf.hive", "Key": "regf.hive.model", "Value": "regf.hive.model", "RegType": "regf.records.types",
    "encode": "regf.records.types", "decode": "regf.records.types", "Clock": "timeutil",
    # desired state
    "load_states": "state", "check_state": "state", "apply_state": "state",
    # errors
    "HivetoolError": "errors", "UsageError": "errors", "MalformedInput": "errors", "HiveFormatError": "errors",
    "RegFileError": "errors", "RefusedUnsafe": "errors", "DirtyHiveError": "errors", "NotFound": "errors",
    "KeyNotFound": "errors", "ValueNotFound": "errors", "BadArgumentType": "errors", "BadValueData": "errors",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hivetool' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
