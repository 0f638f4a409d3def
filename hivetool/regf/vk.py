"""Values (``vk``), their data cells and big data (``db``), regf-format section 6."""
from __future__ import annotations

import struct

from ..errors import HiveFormatError, RefusedUnsafe
from .bins import file_offset
from .cells import CellSpace
from .layout import Layout
from .names import decode_name

VK = Layout(
    "KeyValue",
    ("signature", "2s"),
    ("name_length", "H"),
    ("data_size", "I"),
    ("data", "I"),
    ("type", "I"),
    ("flags", "H"),
    ("spare", "H"),
)
assert VK.size == 20
VK_SIGNATURE = b"vk"
VALUE_COMP_NAME = 0x0001
INLINE = 0x80000000
NIL = 0xFFFFFFFF

DB = Layout("BigData", ("signature", "2s"), ("segment_count", "H"), ("segment_list", "I"))
DB_SIGNATURE = b"db"
SEGMENT_SIZE = 16_344  # CM_KEY_VALUE_BIG: bytes of data per big-data segment
MAX_DATA_1_3 = 1024 * 1024  # 1.3 hives keep a value in one cell of at most 1 MiB (P0 16)

I_NAME_LENGTH = VK.fields.index("name_length")
I_DATA_SIZE = VK.fields.index("data_size")
I_DATA = VK.fields.index("data")
I_TYPE = VK.fields.index("type")
I_FLAGS = VK.fields.index("flags")


def decode_vk(buf: bytes | bytearray, at: int, length: int) -> tuple[tuple, str]:
    if length < VK.size:
        raise HiveFormatError(f"vk cell of {length + 4} bytes is smaller than a value record", at - 4)
    fields = VK.struct.unpack_from(buf, at)
    if fields[0] != VK_SIGNATURE:
        raise HiveFormatError(f"expected a value record (vk), found {bytes(fields[0])!r}", at)
    name_length = fields[I_NAME_LENGTH]
    if VK.size + name_length > length:
        raise HiveFormatError(f"vk name length {name_length} exceeds the cell size {length + 4}", at - 4)
    raw = bytes(buf[at + VK.size : at + VK.size + name_length])
    return fields, decode_name(raw, bool(fields[I_FLAGS] & VALUE_COMP_NAME))


def uses_big_data(length: int, minor: int) -> bool:
    """Big data exists from 1.4 on; 1.3 keeps any size in one cell (regf-format 6.2)."""
    return length > SEGMENT_SIZE and minor >= 4


def read_data(space: CellSpace, size_field: int, data_field: int, minor: int, vk_at: int) -> bytes:
    """The raw data of a value whose vk payload starts at file offset ``vk_at``."""
    length = size_field & 0x7FFFFFFF
    if size_field & INLINE:
        if length > 4:
            raise HiveFormatError(f"inline value data claims {length} bytes; at most 4 fit", vk_at + 4)
        return struct.pack("<I", data_field)[:length]
    if length == 0:
        return b""
    what = f"data of the vk at file offset 0x{vk_at - 4:x}"
    if uses_big_data(length, minor):
        return _read_big(space, data_field, length, what)
    at, cell_length = space.payload(data_field, what)
    if length > cell_length:
        raise HiveFormatError(f"value claims {length} bytes of data but its cell holds {cell_length}", at - 4)
    return bytes(space.buf[at : at + length])


def _read_big(space: CellSpace, cell: int, length: int, what: str) -> bytes:
    at, cell_length = space.payload(cell, what)
    if cell_length < DB.size:
        raise HiveFormatError("big-data (db) cell is too small", at - 4)
    signature, count, seg_list = DB.struct.unpack_from(space.buf, at)
    if signature != DB_SIGNATURE:
        raise HiveFormatError(f"{what}: expected big data (db), found {bytes(signature)!r}", at)
    expected = -(-length // SEGMENT_SIZE)
    if count != expected:
        raise HiveFormatError(
            f"big data holds {count} segments but {length} bytes need {expected}", at
        )
    list_at, list_length = space.payload(seg_list, "segment list of big data")
    if list_length < 4 * count:
        raise HiveFormatError(f"segment list holds {list_length // 4} offsets, {count} needed", list_at - 4)
    segments = struct.unpack_from(f"<{count}I", space.buf, list_at)
    if len(set(segments)) != count:
        # One cell named many times would turn a small file into gigabytes of data.
        raise HiveFormatError("big-data segment list names the same cell more than once", list_at - 4)
    parts = []
    remaining = length
    for segment in segments:
        seg_at, seg_length = space.payload(segment, "big-data segment")
        take = min(SEGMENT_SIZE, remaining)
        if seg_length < take:
            raise HiveFormatError(f"big-data segment holds {seg_length} bytes, {take} needed", seg_at - 4)
        parts.append(bytes(space.buf[seg_at : seg_at + take]))
        remaining -= take
    return b"".join(parts)


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
    struct.pack_into(f"<{count}I", space.buf, file_offset(seg_list) + 4, *segments)
    db = space.alloc(DB.size)
    DB.pack_into(space.buf, file_offset(db) + 4, (DB_SIGNATURE, count, seg_list))
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
            _, count, seg_list = DB.struct.unpack_from(space.buf, at)
            if space.is_allocated_cell(seg_list):
                list_at, list_length = space.payload(seg_list, "segment list")
                count = min(count, list_length // 4)
                cells += [seg_list, *struct.unpack_from(f"<{count}I", space.buf, list_at)]
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


def new_vk_payload(name_bytes: bytes, compressed: bool, value_type: int, size_field: int, data_field: int) -> bytes:
    # The default value (empty name) has flags 0, as Windows writes it (6.1).
    flags = VALUE_COMP_NAME if compressed and name_bytes else 0
    return VK.struct.pack(VK_SIGNATURE, len(name_bytes), size_field, data_field, value_type, flags, 0) + name_bytes
