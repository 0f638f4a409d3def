"""Reading a whole subtree in one pass: for export, diff and other jobs that visit every key.

The Key and Value views re-read a key node for every question asked of them, which is
right for lookups and edits. A job that visits 30,000 keys asks each one everything once:
here every key node is decoded once, and values come straight from their cells. The checks
are the same (every record through its problem function, every pointer through the cell
space; cycles are refused).
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, cast

from ...errors import HiveFormatError
from ...utf16 import decode_le
from ..records.bins import file_offset
from ..records.cells import NIL
from ..records.nk import KEY_PREDEF_HANDLE, NK

if TYPE_CHECKING:
    from .engine import ValueRow
    from .value import Value
    from .hive import Hive
    from .model import Key

_LISTS = NK.view("flags", "subkey_count", "subkeys", "value_count", "values")
KeyLists = tuple[int, int, int, int, int]  # (flags, subkey count, subkey list, value count, value list) of one key
_NODE = NK.view("flags", "timestamp", "subkey_count", "subkeys", "value_count", "values", "class_cell",
                "class_length")


class KeyNode(NamedTuple):
    """One key as a dump shows it, read in one pass (see :func:`iter_nodes`)."""

    path: str
    name: str
    cell: int
    at: int  # file offset of the nk payload
    flags: int
    timestamp: int
    value_count: int
    value_list: int
    class_cell: int
    class_length: int
    subkey_names: list[str]  # in subkey-list order


# Made per key of a walk: straight from a tuple in field order, without the keyword handling
# of a NamedTuple's constructor (as the engine makes its Values).
_make_node: Callable[[tuple[Any, ...]], KeyNode] = partial(tuple.__new__, KeyNode)


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
            children = engine.subkey_cells(lists[2], at)
            for child in reversed(children):
                if child in seen:
                    raise HiveFormatError(
                        f"subkey lists form a cycle: the nk at cell 0x{child:x} is reached twice", file_offset(child)
                    )
                seen.add(child)
                stack.append((path, child))


def iter_nodes(hive: "Hive", start: "Key") -> Iterator[KeyNode]:
    """``start`` and every key below it, depth-first in subkey-list order, each key node
    decoded once: a key's subkey names come from decoding its subkeys, which are then
    visited without decoding them again (a dump lists every key's subkeys, then each)."""
    try:
        yield from _iter_nodes(hive, start)
    except HiveFormatError as err:
        raise err.with_path(hive.path) if hive.path else err


def _iter_nodes(hive: "Hive", start: "Key") -> Iterator[KeyNode]:
    engine = hive._engine
    buf = engine.space.buf
    decode_key = engine.decode_key
    at, name = decode_key(start.cell, "key")
    stack: list[tuple[str, str, int, int]] = [(start.path, name, start.cell, at)]
    seen = {start.cell}
    while stack:
        path, name, cell, at = stack.pop()
        flags, timestamp, subkey_count, subkey_list, value_count, value_list, class_cell, class_length = \
            _NODE(buf, at)
        children: list[tuple[str, str, int, int]] = []
        names: list[str] = []
        if subkey_count and subkey_list != NIL:
            prefix = f"{path}\\" if path else ""
            for child in engine.subkey_cells(subkey_list, at):
                if child in seen:
                    raise HiveFormatError(
                        f"subkey lists form a cycle: the nk at cell 0x{child:x} is reached twice", file_offset(child)
                    )
                seen.add(child)
                child_at, child_name = decode_key(child, "a subkey list entry")
                children.append((prefix + child_name, child_name, child, child_at))
                names.append(child_name)
        yield _make_node((path, name, cell, at, flags, timestamp, value_count, value_list, class_cell, class_length,
                          names))
        stack.extend(reversed(children))


def node_values(hive: "Hive", node: KeyNode) -> "list[Value]":
    """The values of ``node``, in value-list order."""
    if node.value_count == 0 or node.value_list == NIL or node.flags & KEY_PREDEF_HANDLE:
        return []
    engine = hive._engine
    return engine.read_values(engine.value_list(node.value_list, node.value_count, node.at))


def node_class_name(hive: "Hive", node: KeyNode) -> str | None:
    """The class name of ``node`` (as :attr:`Key.class_name` reads it), or None."""
    if node.class_cell == NIL or node.class_length == 0:
        return None
    engine = hive._engine
    shown = f"<Key {node.path or '(root)'} at file offset 0x{file_offset(node.cell):x}>"
    at, length = engine.space.payload(node.class_cell, f"class name of {shown}")
    if node.class_length > length:
        raise HiveFormatError(f"class name length {node.class_length} exceeds its cell", at - 4)
    return decode_le(engine.buf[at : at + node.class_length])


def value_records(hive: "Hive", nk_at: int, lists: KeyLists) -> list[ValueRow]:
    """``(name, type, raw, cell)`` of each value of the key whose payload offset and ``lists``
    (from :func:`iter_keys`) are given, in value-list order (plain tuples: an export reads all)."""
    flags, _, _, count, list_cell = lists
    if count == 0 or list_cell == NIL or flags & KEY_PREDEF_HANDLE:
        return []
    engine = hive._engine
    # tuple() of a row is the row itself; the cast says so, as tuple's signature cannot
    return cast("list[ValueRow]", engine.read_values(engine.value_list(list_cell, count, nk_at), tuple))
