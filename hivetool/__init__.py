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
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the names _WHERE loads on first use, spelled out for type checkers
    from .api import check as check, compact as compact, diff as diff, export_reg as export_reg
    from .api import import_reg as import_reg, new as new, open as open, open_image as open_image
    from .api import parse_reg as parse_reg, replay as replay
    from .errors import BadArgumentType as BadArgumentType, BadValueData as BadValueData
    from .errors import DirtyHiveError as DirtyHiveError, HiveFormatError as HiveFormatError
    from .errors import HivetoolError as HivetoolError, KeyNotFound as KeyNotFound, MalformedInput as MalformedInput
    from .errors import NotFound as NotFound, RefusedUnsafe as RefusedUnsafe, RegFileError as RegFileError
    from .errors import UsageError as UsageError, ValueNotFound as ValueNotFound
    from .regf.hive import Hive as Hive
    from .regf.hive.model import Key as Key, Value as Value
    from .regf.records.types import RegType as RegType, decode as decode, encode as encode
    from .state import apply_state as apply_state, check_state as check_state, load_states as load_states
    from .timeutil import Clock as Clock

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
