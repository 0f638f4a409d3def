"""When two bytes ``nk`` or ``vk`` outside the live tree are a record Windows once wrote.

Free space is full of old bytes, and value data can hold anything, so a signature alone proves
little. A candidate is accepted only when every field a writer fills in has a value a writer
would write (regf-format 3, 4 and 6); each rule that held is kept as a line of evidence, so an
examiner can see why it was believed:

* the cell size field before it is a multiple of 8 and holds the record and its name, inside
  its bin (or inside the file, past the last bin);
* the name: a key name is 1 to 255 characters without a backslash; every character printable;
  a name stored as UTF-16 holds a character above U+00FF (Windows stores Latin-1 whenever it
  can: no exception among 650,000 names of real hives, regf-format 4.3);
* a key's last-write time lies between 1993 (Windows NT 3.1) and 2100; its flags are not the
  in-memory-only ones; its pointers (parent, lists, security, class) are NIL or on 8-byte cell
  boundaries, its counts below a million;
* a value's flags are 0 or 1 (the default value's 0), its inline data leaves the unused bytes
  zero, a data pointer lies on an 8-byte cell boundary, its size fits a big-data value.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ..regf.records.bins import HBIN_BASE
from ..regf.records.cells import CELL_ALIGN, NIL
from ..regf.records.data import INLINE
from ..regf.records.names import MAX_KEY_NAME_CHARS, MAX_VALUE_NAME_CHARS, decode_name
from ..regf.records.nk import KEY_COMP_NAME, KEY_HIVE_EXIT, KEY_PREDEF_HANDLE, KEY_VOLATILE, NK
from ..regf.records.types import type_name
from ..regf.records.vk import VALUE_COMP_NAME, VK
from ..timeutil import filetime_to_iso

MAX_COUNT = 1_000_000  # subkeys or values of one key; Windows has no hard limit, real hives stay far below
MAX_DATA_SIZE = 65_535 * 16_344  # the largest big-data value (regf-format 6.3)
_I32 = struct.Struct("<i")
_KEY = NK.view("flags", "timestamp", "parent", "subkey_count", "subkeys", "value_count", "values", "security",
               "class_cell", "name_length", "class_length")
_VALUE = VK.view("name_length", "data_size", "data", "type", "flags")


def _filetime(year: int) -> int:
    import datetime as dt

    delta = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc) - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 10_000_000


# 1993 is the year of Windows NT 3.1, the first writer of regf files.
MIN_FILETIME = _filetime(1993)
MAX_FILETIME = _filetime(2100)


@dataclass
class Candidate:
    """A record found outside the live tree that passed every rule."""

    kind: str  # "key" or "value"
    cell: int  # cell offset of the record's cell (its size field)
    name: str
    fields: Any  # the record's fields, as _KEY or _VALUE read them (named below)
    cell_size: int  # the size field's absolute value as found
    record_size: int  # bytes the record and its name take, size field included
    evidence: list[str] = field(default_factory=list)


def _printable(name: str) -> bool:
    return name.isprintable()


def _name(raw: bytes, compressed: bool, key: bool) -> tuple[str | None, str]:
    """The name as stored, or None with the reason it is not a name Windows would write."""
    if not compressed:
        if len(raw) % 2:
            return None, "UTF-16 name of odd length"
        name = raw.decode("utf-16-le", "surrogatepass")
        if all(ord(ch) <= 0xFF for ch in name):
            return None, "UTF-16 name that Latin-1 could hold"
    else:
        name = decode_name(raw, True)
    if not _printable(name):
        return None, "name with unprintable characters"
    if key and "\\" in name:
        return None, "key name with a backslash"
    return name, f"name of {len(name)} printable characters ({'Latin-1' if compressed else 'UTF-16'})"


def _cell_size(buf: Any, cell: int, record_size: int, limit: int) -> tuple[int | None, str]:
    size = _I32.unpack_from(buf, HBIN_BASE + cell)[0]
    length = -size if size < 0 else size
    if length < record_size or length % CELL_ALIGN or cell + length > limit:
        return None, ""
    return length, f"its cell size field ({size}) holds the {record_size}-byte record"


def _aligned(pointer: int) -> bool:
    return pointer == NIL or not pointer % CELL_ALIGN


def key_candidate(buf: Any, cell: int, limit: int) -> Candidate | None:
    """The key node whose cell starts at cell offset ``cell`` (its size field), when it passes
    every rule; ``limit`` is the cell offset its cell may not cross (its bin's end)."""
    at = HBIN_BASE + cell + 4
    if at + NK.size > len(buf) or cell + 4 + NK.size > limit:
        return None
    fields = _KEY(buf, at)
    (flags, timestamp, parent, subkey_count, subkeys, value_count, values, security, class_cell, name_length,
     class_length) = fields
    if not 0 < name_length <= 2 * MAX_KEY_NAME_CHARS or flags & (KEY_VOLATILE | KEY_HIVE_EXIT):
        return None
    if not MIN_FILETIME <= timestamp < MAX_FILETIME:
        return None
    if not all(_aligned(p) for p in (parent, subkeys, values, security)):
        return None
    if not (_aligned(class_cell) or (class_cell == 0 and class_length == 0)):
        return None
    if subkey_count > MAX_COUNT or (value_count > MAX_COUNT and not flags & KEY_PREDEF_HANDLE):
        return None
    record_size = 4 + NK.size + name_length
    length, size_note = _cell_size(buf, cell, record_size, limit)
    if length is None:
        return None
    name, name_note = _name(bytes(buf[at + NK.size : at + NK.size + name_length]), bool(flags & KEY_COMP_NAME), True)
    if name is None or len(name) > MAX_KEY_NAME_CHARS:
        return None
    evidence = [name_note, f"last write {filetime_to_iso(timestamp)}, between 1993 and 2100", size_note,
                "parent, list and security pointers NIL or on 8-byte cell boundaries"]
    return Candidate("key", cell, name, fields, length, record_size, evidence)


def value_candidate(buf: Any, cell: int, limit: int) -> Candidate | None:
    """The value record whose cell starts at cell offset ``cell``, when it passes every rule."""
    at = HBIN_BASE + cell + 4
    if at + VK.size > len(buf) or cell + 4 + VK.size > limit:
        return None
    fields = _VALUE(buf, at)
    name_length, size_field, data_field, value_type, flags = fields
    if flags & ~VALUE_COMP_NAME or name_length > 2 * MAX_VALUE_NAME_CHARS or (name_length == 0 and flags):
        return None
    length = size_field & 0x7FFFFFFF
    if size_field & INLINE:
        if length > 4 or data_field >> (8 * length):
            return None  # Windows leaves the unused inline bytes zero (regf-format 6.2)
        data_note = f"{length} bytes of data inline, unused bytes zero"
    elif length == 0:
        if data_field not in (NIL, 0):
            return None
        data_note = "no data"
    else:
        if length > MAX_DATA_SIZE or data_field == NIL or data_field % CELL_ALIGN or data_field >= 0x8000_0000:
            return None
        data_note = f"{length} bytes of data in the cell at cell offset 0x{data_field:x}"
    record_size = 4 + VK.size + name_length
    size, size_note = _cell_size(buf, cell, record_size, limit)
    if size is None:
        return None
    if name_length:
        name, name_note = _name(bytes(buf[at + VK.size : at + VK.size + name_length]), bool(flags & VALUE_COMP_NAME),
                                False)
        if name is None:
            return None
    else:
        name, name_note = "", "the default value (no name, flags 0)"
    evidence = [name_note, f"type {type_name(value_type)}", data_note, size_note]
    return Candidate("value", cell, name, fields, size, record_size, evidence)
