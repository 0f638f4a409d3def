"""Values as the viewer shows them: decoded data, raw bytes in hex, and where they are in the file.

Each value has the fields ``ls --json`` gives it (``name``, ``type``, ``type_id``, ``size``,
``data``, ``raw``), plus ``text`` (one line for the table), ``offset`` (the file offset of its
``vk`` cell) and ``location`` (where its data bytes are: inside the vk record, in one cell, or
in the segments of a big-data record), so the hex view can give file offsets, as a forensic
examiner quotes them. A listing carries at most :data:`LISTED_RAW` bytes of each value's raw
data; one value asked for alone carries all of it.
"""
from __future__ import annotations

import struct
from typing import Any

from ..errors import KeyNotFound, ValueNotFound
from ..regf.hive.model import Key, Value
from ..regf.records.bins import file_offset
from ..regf.records.data import DB, INLINE, SEGMENT_SIZE, uses_big_data
from ..regf.records.names import upcase
from ..regf.records.types import decode, type_name
from ..regf.records.vk import VK

LISTED_RAW = 4096  # raw bytes per value in a key's listing (the hex view asks for the rest)
_VK_DATA_FIELD = 8  # bytes from the vk payload to its data field (signature, name length, size)
_TEXT_CHARS = 300


def values_of(keys: list[Key]) -> list[tuple[Key, Value]]:
    """Each value name once, with the key holding it: the first key that has it (HKCR: the
    user's side wins)."""
    seen: dict[str, tuple[Key, Value]] = {}
    for key in keys:
        for value in key.values():
            seen.setdefault(upcase(value.name), (key, value))
    return list(seen.values())


def find_value(keys: list[Key], name: str) -> tuple[Key, Value]:
    """The key that holds the value ``name`` and the value, looked up where Windows would."""
    for key in keys:
        try:
            return key, key.value(name)
        except ValueNotFound:
            continue
    if not keys:
        raise KeyNotFound("no key here holds values")
    shown = "the default value" if name == "" else f"value {name!r}"
    raise ValueNotFound(f"{shown} not found in key {keys[0].path or '(root)'!r}")


def value_json(key: Key, value: Value, raw_limit: int | None = LISTED_RAW) -> dict[str, Any]:
    """One value; ``raw_limit`` caps the raw bytes carried (None: all of them)."""
    raw = value.raw
    shown = raw if raw_limit is None else raw[:raw_limit]
    document: dict[str, Any] = {
        "name": value.name, "type": type_name(value.type), "type_id": value.type, "size": len(raw),
        "raw": shown.hex(), "raw_truncated": len(shown) < len(raw), "offset": file_offset(value.cell),
        "location": data_location(key, value.cell),
    }
    data = decode(value.type, raw)
    if isinstance(data, (bytes, bytearray)):
        # Binary data reads as its raw bytes: carried once, in ``raw``.
        document["data"] = None
    else:
        document["data"] = str(data) if isinstance(data, int) and data >= 2**53 else data  # exact in JavaScript
    document["text"] = display_text(data, raw)
    return document


def display_text(data: int | str | list[str] | bytes, raw: bytes) -> str:
    """One line for the table: numbers in decimal and hex, strings quoted, bytes in hex."""
    if isinstance(data, int):
        return f"{data} (0x{data:x})"
    if isinstance(data, str):
        return _cut(_quote(data))
    if isinstance(data, list):
        return _cut("[" + ", ".join(_quote(s) for s in data) + "]")
    if not raw:
        return "(empty)"
    return raw[:48].hex(" ") + (f" ... ({len(raw)} bytes)" if len(raw) > 48 else "")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cut(text: str) -> str:
    return text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS] + f" ... ({len(text)} characters)"


def data_location(key: Key, cell: int) -> dict[str, Any]:
    """Where the data of the value whose vk is at ``cell`` lives, in file offsets.

    ``kind`` is ``inline`` (up to 4 bytes kept in the vk's own data field), ``cell`` (one data
    cell; ``offset`` is its first data byte), ``big`` (a ``db`` record at ``offset`` and
    ``segments``, each a file offset and a length) or ``none`` (no data). The pointers come
    from the file: each is checked to lie inside it, and a bad one gives ``unknown``.
    """
    engine = key.hive._engine  # the record's own fields: the public view gives the bytes only
    buf, minor = engine.buf, engine.minor
    at = file_offset(cell) + 4
    try:
        record = VK.unpack(buf, at)
    except struct.error:
        return {"kind": "unknown"}
    length = record.data_size & 0x7FFFFFFF
    if record.data_size & INLINE:
        return {"kind": "inline", "offset": at + _VK_DATA_FIELD, "size": min(length, 4)}
    if length == 0:
        return {"kind": "none"}
    data_at = file_offset(record.data) + 4
    if data_at >= len(buf):
        return {"kind": "unknown"}
    if not uses_big_data(length, minor):
        return {"kind": "cell", "offset": data_at, "size": length}
    return _big_data(buf, data_at, length)


def _big_data(buf: Any, db_at: int, length: int) -> dict[str, Any]:
    try:
        record = DB.unpack(buf, db_at)
        list_at = file_offset(record.segment_list) + 4
        cells = struct.unpack_from(f"<{record.segment_count}I", buf, list_at)
    except struct.error:
        return {"kind": "unknown"}
    segments = []
    left = length
    for segment in cells:
        if left <= 0:
            break
        size = min(left, SEGMENT_SIZE)
        segments.append({"offset": file_offset(segment) + 4, "size": size})
        left -= size
    return {"kind": "big", "offset": db_at - 4, "segments": segments}


__all__ = ["LISTED_RAW", "data_location", "display_text", "find_value", "value_json", "values_of"]
