"""libregf (``pyregf``), and what it cannot show:

* compressed names are decoded with a Windows code page (cp1252; undefined bytes become
  U+FFFD), names are cut at a NUL, the default value's name is ``None``;
* inline data shorter than 4 bytes is taken from the *end* of the 4-byte field (Windows
  puts it at the start), and a 1- or 3-byte inline REG_SZ/REG_EXPAND_SZ grows by one zero
  byte;
* a REG_SZ/REG_EXPAND_SZ stored in one cell is cut after its first UTF-16 NUL; empty data
  reads as ``None``; big data is only read as such in 1.5+ hives.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .model import BIG_DATA_LIMIT, Content, Reader, Record, View, cp1252, join, module_missing


def _libregf_read(path: Path | str) -> View:
    import pyregf

    keys: Counter = Counter()
    values: Counter = Counter()
    hive = pyregf.file()
    hive.open(str(path))
    try:
        stack = [("", hive.get_root_key())]
        while stack:
            path_text, key = stack.pop()
            keys[path_text] += 1
            for value in key.values:
                values[(path_text, value.name or "", value.type, value.data or b"")] += 1
            stack.extend((join(path_text, sub.name), sub) for sub in key.sub_keys)
    finally:
        hive.close()
    return View(keys, values)


def _libregf_name(name: str, utf16: bool) -> str:
    return cp1252(name, utf16, "replace").split("\0", 1)[0]


def _libregf_data(record: Record, minor: int) -> bytes:
    raw, fld = record.raw, record.inline
    if fld is not None:
        size = len(raw)
        grow = record.type in (1, 2) and size in (1, 3)
        if grow:
            size += 1
        data = fld[4 - size :] if size else b""
        return data[:-1] + b"\0" if grow else data
    if record.type in (1, 2) and not (minor >= 5 and len(raw) > BIG_DATA_LIMIT):
        for at in range(0, len(raw) - 1, 2):
            if raw[at : at + 2] == b"\0\0":
                return raw[: at + 2]
    return raw


def _libregf_expect(content: Content) -> View:
    def path_of(path: str) -> str:
        parts = path.split("\\") if path else []
        return "\\".join(_libregf_name(p, u) for p, u in zip(parts, content.keys[path]))

    keys = Counter(path_of(path) for path in content.keys)
    values = Counter(
        (path_of(r.key), _libregf_name(r.name, r.name_utf16), r.type, _libregf_data(r, content.minor))
        for r in content.values
    )
    return View(keys, values)


LIBREGF = Reader("libregf", _libregf_read, _libregf_expect, module_missing("pyregf"))
