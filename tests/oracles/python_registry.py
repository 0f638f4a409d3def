"""python-registry (``Registry.Registry``; ``raw_data()``, ``value_type()``), and what it
cannot show:

* the type is masked with 0xFFF (device-property types: 0xFFFF0011 shows as 0x11);
* compressed names are decoded as cp1252, not Latin-1 (0x80-0x9F differ), and the default
  value is named ``(default)``;
* ``raw_data()`` depends on the type: an inline REG_SZ/REG_EXPAND_SZ (or unknown type)
  gives the whole 4-byte field, an inline REG_MULTI_SZ gives ``b""``, REG_DWORD always gives
  the 4-byte field (for non-inline data that is a cell offset: cannot show), REG_QWORD and
  REG_DWORD_BIG_ENDIAN read the first 8/4 bytes of a data cell (inline data, big data or a
  shorter cell: cannot show), an inline FILETIME (0x10) cannot be shown;
* a 1.3 value above 16,344 bytes whose data starts with ``db`` is taken for big data.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .model import BIG_DATA_LIMIT, OPAQUE, Content, Opaque, Reader, Record, View, cp1252, join, module_missing


def _pyreg_read(path: Path | str) -> View:
    from Registry import Registry

    keys: Counter = Counter()
    values: Counter = Counter()
    stack = [("", Registry.Registry(str(path)).root())]
    while stack:
        path_text, key = stack.pop()
        keys[path_text] += 1
        for value in key.values():
            try:
                raw = bytes(value.raw_data())
            except Exception as err:  # an unreadable value only matches a "cannot show"
                raw = f"error: {type(err).__name__}".encode()
            values[(path_text, value.name(), value.value_type(), raw)] += 1
        stack.extend((join(path_text, sub.name()), sub) for sub in key.subkeys())
    return View(keys, values)


def _pyreg_data(record: Record, minor: int) -> bytes | Opaque:
    t, raw, fld = record.type & 0xFFF, record.raw, record.inline
    if fld is None and len(raw) < 5:
        return OPAQUE  # python-registry then reads the data field as if it were inline
    if len(raw) > BIG_DATA_LIMIT and minor < 4 and raw[:2] == b"db":
        return OPAQUE  # one cell that looks like big data to it
    if t in (1, 2):
        return fld if fld is not None else raw
    if t == 4:
        return fld if fld is not None else OPAQUE
    if t == 7:
        return b"" if fld is not None else raw
    if t in (5, 11):  # the first bytes of the data cell: of the db record for big data
        size = 4 if t == 5 else 8
        in_one_cell = fld is None and not (minor >= 4 and len(raw) > BIG_DATA_LIMIT)
        return raw[:size] if in_one_cell and len(raw) >= size else OPAQUE
    if t == 0x10:
        return raw if fld is None else OPAQUE
    if t in (0, 3, 6, 8, 9, 10) or 0x101 <= t <= 0x11F:
        return raw
    return fld if fld is not None else raw


def _pyreg_expect(content: Content) -> View:
    keys = Counter(_pyreg_path(path, flags) for path, flags in content.keys.items())
    values = Counter(
        (
            _pyreg_path(r.key, content.keys[r.key]),
            cp1252(r.name, r.name_utf16) if r.name else "(default)",
            r.type & 0xFFF,
            _pyreg_data(r, content.minor),
        )
        for r in content.values
    )
    return View(keys, values)


def _pyreg_path(path: str, flags: tuple[bool, ...]) -> str:
    parts = path.split("\\") if path else []
    return "\\".join(cp1252(part, utf16) for part, utf16 in zip(parts, flags))


PYTHON_REGISTRY = Reader("python-registry", _pyreg_read, _pyreg_expect, module_missing("Registry.Registry"))
