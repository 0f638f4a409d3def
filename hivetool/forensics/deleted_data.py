"""The data of a deleted value: read from where its record says, and judged intact, partly
overwritten or gone.

A deleted value's record still says where its data was (inline, one cell, or big data over
segments: regf-format 6.2, 6.3). Those cells were freed with it and may have been taken again
since. Data is *intact* when no byte of it lies in a cell the live tree uses and the cell's
size field still covers it (a later allocation that began at the cell would have rewritten
that field); *partly overwritten* when some bytes lie in live cells (what is shown then mixes
old and new bytes); *gone* when all of it does, or when what should lead to it (a big-data
record, its segment list) is no longer there. A string type's data must also still read as
text.

What no check can see: free space that other data took and gave back again, when that data's
own record is gone as well, leaves bytes that look like any freed data. ``intact`` therefore
means "nothing known has been written over it" (bench/RESULTS_recover.md measures how often
that holds when freed space is taken and freed again).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..regf.records.bins import HBIN_BASE
from ..regf.records.cells import CELL_ALIGN
from ..regf.records.data import DB, INLINE, SEGMENT_SIZE, uses_big_data
from ..regf.records.types import STRING_TYPES, RegType, type_name
from .carve import Places

INTACT = "intact"
PARTLY = "partly overwritten"
GONE = "gone"
_I32 = struct.Struct("<i")


@dataclass
class DataRead:
    raw: bytes | None  # None when gone
    state: str
    damage: str | None = None  # why it is not intact
    regions: list[tuple[int, int]] = field(default_factory=list)  # cell-offset ranges it was read from
    where: str = ""  # where the data was, for the evidence


def _cell_ok(places: Places, cell: int, need: int) -> str | None:
    """Why the cell at ``cell`` cannot have held ``need`` payload bytes, or None."""
    buf = places.live.buf
    if cell % CELL_ALIGN or HBIN_BASE + cell + 4 + need > len(buf):
        return f"its cell at cell offset 0x{cell:x} lies outside the file"
    if not places.same_bin(cell, cell + 4 + need):
        return f"its cell at cell offset 0x{cell:x} would cross a hive bin's end"
    size = _I32.unpack_from(buf, HBIN_BASE + cell)[0]
    length = -size if size < 0 else size
    if length < 4 + need or length % CELL_ALIGN:
        return f"the size field of its cell at cell offset 0x{cell:x} no longer covers it ({size})"
    return None


def _piece(places: Places, cell: int, need: int) -> tuple[bytes, int, str | None]:
    """The ``need`` bytes of the cell at ``cell``, how many of them the live tree now uses, and
    why the cell is doubtful."""
    why = _cell_ok(places, cell, need)
    start = HBIN_BASE + cell + 4
    raw = bytes(places.live.buf[start : start + need])
    if len(raw) < need:
        return raw, need, why
    return raw, places.overwritten(cell, cell + 4 + need), why


def read_deleted_data(places: Places, size_field: int, data_field: int, value_type: int) -> DataRead:
    read = _read(places, size_field, data_field)
    if read.state == INTACT and read.raw is not None:
        doubt = _not_text(value_type, read.raw)
        if doubt:
            read.state, read.damage = PARTLY, doubt
    return read


def _not_text(value_type: int, raw: bytes) -> str | None:
    """Why the data of a string type does not read as text, or None. Free space taken and
    freed again by other data leaves no other trace, and a string type is the one case where
    the bytes themselves can tell: text before the first NUL is printable."""
    if value_type in STRING_TYPES:
        texts = [raw[: len(raw) & ~1].decode("utf-16-le", "surrogatepass").split("\0", 1)[0]]
    elif value_type == RegType.MULTI_SZ:
        texts = raw[: len(raw) & ~1].decode("utf-16-le", "surrogatepass").split("\0")
    else:
        return None
    for text in texts:
        if not all(ch.isprintable() or ch in "\t\r\n" for ch in text):
            return f"its bytes do not read as the text a {type_name(value_type)} holds: other data was written over them"
    return None


def _read(places: Places, size_field: int, data_field: int) -> DataRead:
    length = size_field & 0x7FFFFFFF
    if size_field & INLINE:
        return DataRead(data_field.to_bytes(4, "little")[:length], INTACT, where="inline in the value record")
    if length == 0:
        return DataRead(b"", INTACT, where="no data")
    if uses_big_data(length, places.live.minor):
        return _big_data(places, length, data_field)
    raw, lost, why = _piece(places, data_field, length)
    read = DataRead(raw, INTACT, regions=[(data_field, data_field + 4 + length)],
                    where=f"one cell at cell offset 0x{data_field:x}")
    return _judge(read, lost, length, why)


def _judge(read: DataRead, lost: int, length: int, why: str | None) -> DataRead:
    if len(read.raw or b"") < length:
        read.raw, read.state, read.damage = None, GONE, why or "its cell lies outside the file"
    elif lost >= length + 4:
        read.raw, read.state, read.damage = None, GONE, "the live tree now uses the cells it was in"
    elif lost:
        read.state, read.damage = PARTLY, f"{lost} of its {length + 4} bytes now belong to live cells"
    elif why:
        read.state, read.damage = PARTLY, why
    return read


def _big_data(places: Places, length: int, db_cell: int) -> DataRead:
    """Big data: the db record, its segment list, then each segment's share (regf-format 6.3)."""
    buf = places.live.buf
    where = f"big data (db record at cell offset 0x{db_cell:x})"
    why = _cell_ok(places, db_cell, DB.size)
    at = HBIN_BASE + db_cell + 4
    if why or bytes(buf[at : at + 2]) != b"db" or places.overwritten(db_cell, db_cell + 4 + DB.size):
        return DataRead(None, GONE, "its big-data record (db) is no longer there", where=where)
    count, segment_list = DB.read(buf, at, "segment_count"), DB.read(buf, at, "segment_list")
    expected = -(-length // SEGMENT_SIZE)
    if count != expected or segment_list % CELL_ALIGN:
        return DataRead(None, GONE, f"its db record names {count} segments, {expected} expected", where=where)
    regions = [(db_cell, db_cell + 4 + DB.size), (segment_list, segment_list + 4 + 4 * count)]
    if _cell_ok(places, segment_list, 4 * count) or places.overwritten(*regions[1]):
        return DataRead(None, GONE, "its big-data segment list is no longer there", regions[:1], where)
    list_at = HBIN_BASE + segment_list + 4
    pieces, lost, doubts = [], 0, []
    for index, segment in enumerate(struct.unpack_from(f"<{count}I", buf, list_at)):
        need = min(SEGMENT_SIZE, length - SEGMENT_SIZE * index)
        raw, overwritten, why = _piece(places, segment, need)
        pieces.append(raw.ljust(need, b"\0"))
        lost += min(overwritten, need)
        regions.append((segment, segment + 4 + need))
        if why:
            doubts.append(why)
    read = DataRead(b"".join(pieces), INTACT, regions=regions, where=f"{where}, {count} segments")
    if lost >= length:
        read.raw, read.state, read.damage = None, GONE, "the live tree now uses its segments"
    elif lost:
        read.state, read.damage = PARTLY, f"{lost} of its {length} bytes now belong to live cells"
    elif doubts:
        read.state, read.damage = PARTLY, doubts[0]
    return read
