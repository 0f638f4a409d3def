"""Our own reader (``Hive.walk``), the reference every other reader is compared with; it
reads the storage facts some readers depend on (inline data field, UTF-16 names, big-data
segment order) from each nk and vk."""
from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

from hivetool.regf.hive import Hive
from hivetool.regf.records.bins import file_offset
from hivetool.regf.records.data import DB
from hivetool.regf.records.nk import KEY_COMP_NAME
from hivetool.regf.records.vk import VALUE_COMP_NAME, VK

from .model import BIG_DATA_LIMIT, Content, Reader, Record, View, parent_of


def read_own(source: Path | str | Hive) -> Content:
    """Our reader (Hive.walk), with the storage facts read from each nk and vk."""
    hive = source if isinstance(source, Hive) else Hive.open(source)
    keys: dict[str, tuple[bool, ...]] = {}
    values: list[Record] = []
    for key in hive.walk():
        if key.cell == hive._engine.root_cell:
            keys[""] = ()
        else:
            keys[key.path] = keys[parent_of(key.path)] + (not key.flags & KEY_COMP_NAME,)
        for value in key.values():
            at = file_offset(value.cell) + 4  # the vk payload
            vk = VK.unpack(hive._engine.buf, at)
            field_bytes = bytes(hive._engine.buf[at + 8 : at + 12]) if vk.data_size & 0x80000000 else None
            utf16 = bool(value.name) and not vk.flags & VALUE_COMP_NAME
            ascending = _segments_ascending(hive, vk) if len(value.raw) > BIG_DATA_LIMIT else None
            values.append(Record(key.path, value.name, value.type, value.raw, field_bytes, utf16, ascending))
    return Content(hive.minor, keys, values)


def _segments_ascending(hive: Hive, vk: tuple) -> bool | None:
    if hive.minor < 4:
        return None
    at, _ = hive._engine.space.payload(vk.data, "big data")
    _, count, segment_list = DB.struct.unpack_from(hive._engine.buf, at)
    list_at, _ = hive._engine.space.payload(segment_list, "segment list")
    segments = list(struct.unpack_from(f"<{count}I", hive._engine.buf, list_at))
    return segments == sorted(segments)



def _own_read(path: Path | str) -> View:
    return _own_expect(read_own(path))


def _own_expect(content: Content) -> View:
    return View(Counter(iter(content.keys)), Counter((r.key, r.name, r.type, r.raw) for r in content.values))


OWN = Reader("hivetool", _own_read, _own_expect, lambda: None)
