"""A .reg file as a state: what importing it would leave behind.

It is read exactly as ``hivetool import`` reads it, strictly: a line Windows would skip or
reject is an error (exit 3, ``file:line:col``), and so is a header Windows would accept while
importing nothing. Each operation becomes an item: a key line a ``[[key]]``, ``[-key]`` an
absent key, ``"v"=...`` a ``[[value]]``, ``"v"=-`` an absent value. A .reg file is a script, so
later lines win with the rules of :mod:`.fold` (``[-key]`` followed by ``[key]`` and values is
the usual way to say "this key holds exactly these values"), and nothing in it is a conflict.
The key line that opens a section is implied by the values set in it: it is kept only when no
value of that key is, so a state made from an export does not list every key twice.
"""
from __future__ import annotations

from typing import Callable

from ..errors import RegFileError
from ..paths import HKLM, HKU
from ..regfile.parse import parse_reg
from ..regfile.patch import CREATE_KEY, DELETE_KEY, DELETE_VALUE, SET_VALUE, Origin
from .address import item_path
from .model import ABSENT, KEY, VALUE, Item
from .values import DataProblem

DEFAULT_CODEPAGE = "cp1252"  # as ``hivetool import``: files without a BOM, unless valid UTF-8


def load_reg(data: bytes | bytearray, path: str, encoding: str | None,
             next_seq: Callable[[], int]) -> tuple[list[Item], list[str], set[int]]:
    """The items of a .reg file in file order, its warnings, and the ids of the key items that
    only open a section (dropped when a value of the same key is set)."""
    result = parse_reg(bytes(data), path, encoding or DEFAULT_CODEPAGE, utf8_without_bom=encoding is None)
    errors = result.errors
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RegFileError(f"{first.message} [{first.code}]{more}", first.path, first.line, first.col)
    warnings = [str(diagnostic) for diagnostic in result.warnings]
    items: list[Item] = []
    section_keys: set[int] = set()
    for op in result.patch:
        origin = op.origin or Origin(path)
        if op.kind == CREATE_KEY and op.key.upper() in (HKLM, HKU):
            continue  # [HKEY_LOCAL_MACHINE] opens a section of no hive: nothing to hold
        try:
            key = item_path(op.key)
        except DataProblem as problem:
            raise RegFileError(str(problem), origin.path, origin.line, 1) from None
        if op.kind == CREATE_KEY:
            item = Item(KEY, key, origin, next_seq())
            section_keys.add(id(item))
        elif op.kind == DELETE_KEY:
            item = Item(ABSENT, key, origin, next_seq())
        elif op.kind == SET_VALUE:
            item = Item(VALUE, key, origin, next_seq(), op.name or "", op.type or 0, bytes(op.data or b""))
        elif op.kind == DELETE_VALUE:
            item = Item(ABSENT, key, origin, next_seq(), op.name or "")
        else:  # pragma: no cover - the parser makes no other kind
            continue
        items.append(item)
    return items, warnings, section_keys


__all__ = ["DEFAULT_CODEPAGE", "load_reg"]
