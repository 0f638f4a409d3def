"""Reading a whole subtree in one pass: for export, diff and other jobs that visit every key.

The Key and Value views re-read a key node for every question asked of them, which is
right for lookups and edits. A job that visits 30,000 keys asks each one everything once:
here every key node is decoded once, and values come straight from their cells. The checks
are the same (every record through its problem function, every pointer through the cell
space; cycles are refused).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, cast

from ...errors import HiveFormatError
from ..records.bins import file_offset
from ..records.cells import NIL
from ..records.nk import KEY_PREDEF_HANDLE, NK

if TYPE_CHECKING:
    from .engine import ValueRow
    from .hive import Hive
    from .model import Key

_LISTS = NK.view("flags", "subkey_count", "subkeys", "value_count", "values")
KeyLists = tuple[int, int, int, int, int]  # (flags, subkey count, subkey list, value count, value list) of one key


def iter_keys(hive: "Hive", start: "Key") -> Iterator[tuple[str, int, KeyLists]]:
    """``(path, nk payload offset, lists)`` of ``start`` and every key below it, depth-first,
    each key's subkeys in the order of its (sorted) subkey list; the offset and ``lists`` are
    for :func:`value_records`."""
    try:
        yield from _iter_keys(hive, start)
    except HiveFormatError as err:
        raise err.with_path(hive.path) if hive.path else err


def _iter_keys(hive: "Hive", start: "Key") -> Iterator[tuple[str, int, KeyLists]]:
    engine = hive._engine
    space = engine.space
    stack: list[tuple[str | None, int]] = [(None, start.cell)]
    seen = {start.cell}
    while stack:
        parent_path, cell = stack.pop()
        at, name = engine.decode_key(cell, "a subkey list entry")
        lists = _LISTS(space.buf, at)
        path = start.path if parent_path is None else (f"{parent_path}\\{name}" if parent_path else name)
        yield path, at, lists
        if lists[1] and lists[2] != NIL:
            children = engine.read_subkey_list(lists[2], at).offsets()
            for child in reversed(children):
                if child in seen:
                    raise HiveFormatError(
                        f"subkey lists form a cycle: the nk at cell 0x{child:x} is reached twice", file_offset(child)
                    )
                seen.add(child)
                stack.append((path, child))


def value_records(hive: "Hive", nk_at: int, lists: KeyLists) -> list[ValueRow]:
    """``(name, type, raw, cell)`` of each value of the key whose payload offset and ``lists``
    (from :func:`iter_keys`) are given, in value-list order (plain tuples: an export reads all)."""
    flags, _, _, count, list_cell = lists
    if count == 0 or list_cell == NIL or flags & KEY_PREDEF_HANDLE:
        return []
    engine = hive._engine
    # tuple() of a row is the row itself; the cast says so, as tuple's signature cannot
    return cast("list[ValueRow]", engine.read_values(engine.value_list(list_cell, count, nk_at), tuple))
