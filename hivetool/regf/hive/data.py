"""Value data in an edited hive: placing it (inline, one cell, or big data), overwriting it
in place when it fits, and letting go of its cells (regf-format 6.2 and 6.3)."""
from __future__ import annotations

from ...errors import RefusedUnsafe
from ..records.bins import file_offset
from ..records.cells import offsets_at, pack_offsets
from ..records.data import DB, DB_SIGNATURE, INLINE, MAX_DATA_1_3, SEGMENT_SIZE, uses_big_data
from .space import CellSpace

_DB_FIELDS = DB.view("segment_count", "segment_list")


def store_data(space: CellSpace, data: bytes, minor: int) -> tuple[int, int]:
    """Place ``data``; returns the vk's (data size field, data field)."""
    length = len(data)
    if length <= 4:
        return INLINE | length, int.from_bytes(data.ljust(4, b"\0"), "little")
    if not uses_big_data(length, minor):
        if length > MAX_DATA_1_3:
            raise RefusedUnsafe(
                f"a value of {length} bytes does not fit a version 1.3 hive (one cell, at most "
                f"{MAX_DATA_1_3} bytes); use a 1.5 hive"
            )
        cell = space.alloc(length)
        at = file_offset(cell) + 4
        space.buf[at : at + length] = data
        return length, cell
    count = -(-length // SEGMENT_SIZE)
    if count > 0xFFFF:
        raise RefusedUnsafe(f"a value of {length} bytes exceeds the big-data limit of 65535 segments")
    segments = []
    for i in range(count):
        # Windows gives every segment, the last included, a full 16,352-byte cell (6.3).
        cell = space.alloc(SEGMENT_SIZE)
        part = data[i * SEGMENT_SIZE : (i + 1) * SEGMENT_SIZE]
        at = file_offset(cell) + 4
        space.buf[at : at + len(part)] = part
        segments.append(cell)
    seg_list = space.alloc(4 * count)
    at = file_offset(seg_list) + 4
    space.buf[at : at + 4 * count] = pack_offsets(segments)
    db = space.alloc(DB.size)
    DB.pack_into(space.buf, file_offset(db) + 4, segment_count=count, segment_list=seg_list)
    return length, db


def free_data(space: CellSpace, size_field: int, data_field: int, minor: int) -> None:
    """Let go of a value's data cells. Only allocated cells are freed, each once: the pointers
    of a damaged value may lead nowhere, or twice to one cell, and dropping them with the value
    is the repair (what they did lead to stays for any other owner, see cells.settle)."""
    length = size_field & 0x7FFFFFFF
    if size_field & INLINE or length == 0 or not space.is_allocated_cell(data_field):
        return
    cells = [data_field]
    if uses_big_data(length, minor):
        at, cell_length = space.payload(data_field, "big data")
        if cell_length >= DB.size and space.buf[at : at + 2] == DB_SIGNATURE:
            count, seg_list = _DB_FIELDS(space.buf, at)
            if space.is_allocated_cell(seg_list):
                list_at, list_length = space.payload(seg_list, "segment list")
                count = min(count, list_length // 4)
                cells += [seg_list, *offsets_at(space.buf, list_at, count)]
    for cell in dict.fromkeys(cells):
        if space.is_allocated_cell(cell):
            space.free(cell)


def try_overwrite(
    space: CellSpace, size_field: int, data_field: int, data: bytes, minor: int, held_at: int
) -> tuple[int, int] | None:
    """Reuse the value's current storage when the new data fits it exactly as Windows would
    store it (inline stays inline, one cell stays one cell); None when it must move.

    ``held_at`` is the file position of the vk's data field. A data cell that anything else
    points at (two owners: a damaged hive) is never overwritten, since that would change
    what the other owner reads; the new data moves and the old cell stays for its other owner.
    """
    length = len(data)
    old_length = size_field & 0x7FFFFFFF
    if length <= 4:
        if size_field & INLINE or old_length == 0:
            return INLINE | length, int.from_bytes(data.ljust(4, b"\0"), "little")
        return None
    if size_field & INLINE or old_length == 0 or uses_big_data(old_length, minor) or uses_big_data(length, minor):
        return None
    at, cell_length = space.payload(data_field, "value data")
    if length > cell_length or space.held_elsewhere(data_field, (held_at,)):
        return None
    space.buf[at : at + length] = data
    space.buf[at + length : at + cell_length] = bytes(cell_length - length)
    return length, data_field
