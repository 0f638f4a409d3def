"""Reading a whole subtree in one pass: for export, diff and other jobs that visit every key.

The Key and Value views re-read a key node for every question asked of them, which is
right for lookups and edits. A job that visits 30,000 keys asks each one everything once:
here every key node is decoded once, and values come straight from their cells. The checks
are the same (every pointer goes through CellSpace.payload; cycles are refused).
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Iterator

from ..errors import HiveFormatError
from . import nk as nkmod
from . import sublists
from .bins import file_offset
from .nk import NIL, decode_nk
from .vk import I_DATA, I_DATA_SIZE, I_TYPE, decode_vk, read_data

if TYPE_CHECKING:
    from .hive import Hive
    from .model import Key


def iter_keys(hive: "Hive", start: "Key") -> Iterator[tuple[str, int, tuple]]:
    """``(path, cell, nk fields)`` of ``start`` and every key below it, depth-first, each
    key's subkeys in the order of its (sorted) subkey list."""
    try:
        yield from _iter_keys(hive, start)
    except HiveFormatError as err:
        raise err.with_path(hive.path) if hive.path else err


def _iter_keys(hive: "Hive", start: "Key") -> Iterator[tuple[str, int, tuple]]:
    space, buf = hive.space, hive.buf
    at, length = space.payload(start.cell, "key")
    stack: list[tuple[str | None, int]] = [(None, start.cell)]
    seen = {start.cell}
    while stack:
        parent_path, cell = stack.pop()
        at, length = space.payload(cell, "a subkey list entry")
        fields, name = decode_nk(buf, at, length, cell)
        path = start.path if parent_path is None else (f"{parent_path}\\{name}" if parent_path else name)
        yield path, cell, fields
        if fields[nkmod.I_SUBKEY_COUNT] and fields[nkmod.I_SUBKEYS] != NIL:
            children = sublists.read_list(space, fields[nkmod.I_SUBKEYS], cell).offsets()
            for child in reversed(children):
                if child in seen:
                    raise HiveFormatError(
                        f"subkey lists form a cycle: the nk at cell 0x{child:x} is reached twice", file_offset(child)
                    )
                seen.add(child)
                stack.append((path, child))


def value_records(hive: "Hive", fields: tuple) -> list[tuple[str, int, bytes]]:
    """``(name, type, raw data)`` of each value of the key whose nk ``fields`` are given, in
    value-list order."""
    count, list_cell = fields[nkmod.I_VALUE_COUNT], fields[nkmod.I_VALUES]
    if count == 0 or list_cell == NIL or fields[nkmod.I_FLAGS] & nkmod.KEY_PREDEF_HANDLE:
        return []
    space, buf, minor = hive.space, hive.buf, hive.minor
    list_at, length = space.payload(list_cell, "value list")
    if 4 * count > length:
        raise HiveFormatError(f"value list holds {length // 4} entries but the key claims {count}", list_at - 4)
    out = []
    for cell in struct.unpack_from(f"<{count}I", buf, list_at):
        at, vk_length = space.payload(cell, "value")
        vk, name = decode_vk(buf, at, vk_length)
        out.append((name, vk[I_TYPE], read_data(space, vk[I_DATA_SIZE], vk[I_DATA], minor, at)))
    return out
