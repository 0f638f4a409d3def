"""Where a value's data lives: inline in the vk, in one cell, or as big data (``db``) spread
over segments (regf-format 6.2 and 6.3)."""
from __future__ import annotations

from typing import Sequence

from .bins import file_offset
from .cells import BIG_DATA, DATA, KIND_NAMES, SEGMENT, SEGMENT_LIST, Follow, offsets_at
from .problems import Described, HiveFinding, describe, problem
from .record import ReadBuffer, Record
from .types import NUMBER_SIZES, type_name

DB_SIGNATURE = b"db"
DB = Record(
    "BigData",
    ("signature", "2s", DB_SIGNATURE),
    ("segment_count", "H"),  # must be ceil(size / 16,344): Windows drops the value otherwise
    ("segment_list", "I"),  # a cell of segment_count cell offsets
)
INLINE = 0x80000000  # the vk's data size bit for data kept in the data field itself
SEGMENT_SIZE = 16_344  # CM_KEY_VALUE_BIG: bytes of data per big-data segment
MAX_DATA_1_3 = 1024 * 1024  # 1.3 hives keep a value in one cell of at most 1 MiB (P0 16)
WIDTHS = {int(t): width for t, width in NUMBER_SIZES.items()}  # plain ints: looked up per value
_NONE: tuple[HiveFinding, ...] = ()  # no problems
_DB_FIELDS = DB.view("segment_count", "segment_list")


def uses_big_data(length: int, minor: int) -> bool:
    """Big data exists from 1.4 on; 1.3 keeps any size in one cell (regf-format 6.2)."""
    return length > SEGMENT_SIZE and minor >= 4


def data_problems(
    buf: ReadBuffer, size_field: int, data_field: int, value_type: int, minor: int, vk_at: int,
    follow: Follow, label: Described, read: bool = False,
) -> tuple[bytes | None, Sequence[HiveFinding]]:
    """What is wrong with the data of the value whose vk cell is at file offset ``vk_at``, and,
    with ``read``, the data itself (None when it cannot be read; without ``read``, b"" or None).

    ``label`` names the value ("value 'x' of key 'A'"). Loops run over what the segment list
    cell holds, never over a count alone, and no segment is followed twice (one cell named
    65,535 times would turn a few kilobytes into a gigabyte of data). This runs for every value
    a walk reads: the sound cases come first and build nothing they do not return.
    """
    length = size_field & 0x7FFFFFFF
    width = WIDTHS.get(value_type, length)
    got = None
    if size_field & INLINE:
        if length <= 4 and width == length:
            return data_field.to_bytes(4, "little")[:length], _NONE
    elif length == 0:
        if width == 0:
            return b"", _NONE
    elif length <= SEGMENT_SIZE or minor < 4:  # one cell: followed once, here
        got = follow(data_field, ("data of", label), DATA, vk_at)
        if got is not None and length <= got[1] and width == length:
            return (bytes(buf[got[0] : got[0] + length]) if read else b""), _NONE
    return _with_problems(buf, size_field, data_field, value_type, minor, vk_at, follow, describe(label), read, got)


def _with_problems(
    buf: ReadBuffer, size_field: int, data_field: int, value_type: int, minor: int, vk_at: int,
    follow: Follow, label: str, read: bool, got: tuple[int, int] | None,
) -> tuple[bytes | None, list[HiveFinding]]:
    """:func:`data_problems` past its sound cases: every rule, in the order a reader meets them.
    ``got`` is what following the data pointer of a one-cell value gave (None: it could not)."""
    length = size_field & 0x7FFFFFFF
    found: list[HiveFinding] = []
    data: bytes | None = None
    if size_field & INLINE:
        if length <= 4:
            data = data_field.to_bytes(4, "little")[:length]
        else:
            found.append(problem("E-VK-INLINE", vk_at, f"{label}: inline data claims {length} bytes; at most 4 fit "
                                                        "in the record"))
    elif length == 0:
        data = b""
    elif uses_big_data(length, minor):
        data = _big_data(buf, data_field, length, minor, vk_at, follow, label, found, read)
    elif got is not None:
        at, cell_length = got
        if length <= cell_length:
            data = bytes(buf[at : at + length]) if read else b""
        elif minor < 4 and buf[at : at + 2] == DB_SIGNATURE:
            found.append(problem("E-DB-VERSION", vk_at, (
                f"{label}: {length} bytes stored as big data (db), which a version 1.{minor} hive does not have; "
                f"Windows reads the {cell_length}-byte cell literally")))
        else:
            found.append(problem("E-VK-DATA-SIZE", vk_at,
                                 f"{label}: claims {length} bytes of data, but its cell holds {cell_length}"))
    width = WIDTHS.get(value_type)
    if width is not None and length != width:
        # Info, not a warning: the kernel never compares size and type (regf-format 6.4), and
        # Windows itself writes such values (Group Policy keeps an 8-byte REG_DWORD lParam and
        # a 16-byte REG_QWORD ExecTime in NTUSER.DAT); only regedit calls them invalid.
        found.append(problem("I-VK-TYPE-SIZE", vk_at,
                             f"{label}: {type_name(value_type)} holds {length} bytes of data, not {width}"))
    return data, found


def _big_data(
    buf: ReadBuffer, cell: int, length: int, minor: int, vk_at: int, follow: Follow, label: str,
    found: list[HiveFinding], read: bool,
) -> bytes | None:
    got = follow(cell, f"data of {label}", BIG_DATA, vk_at)
    if got is None:
        return None
    at, cell_length = got
    if cell_length < DB.size or buf[at : at + 2] != DB_SIGNATURE:
        found.append(problem("E-DB-SIGNATURE", at - 4, (
            f"{label}: {length} bytes in a version 1.{minor} hive must be big data (db), but the data cell starts "
            f"with {bytes(buf[at : at + 2])!r}")))
        return None
    count, segment_list = _DB_FIELDS(buf, at)
    expected = -(-length // SEGMENT_SIZE)
    if count != expected:
        found.append(problem("E-DB-COUNT", at - 4, f"{label}: big data has {count} segments, but {length} bytes need "
                                                    f"{expected}"))
    got = follow(segment_list, f"segment list of {label}", SEGMENT_LIST, at - 4)
    if got is None:
        return None
    list_at, list_length = got
    if 4 * count > list_length:
        found.append(problem("E-DB-SEGMENT", list_at - 4,
                             f"{label}: segment list holds {list_length // 4} offsets, {count} expected"))
        count = list_length // 4
    pieces: list[bytes] = []
    seen: dict[int, bool] = {}  # segment -> whether it was reported as named again
    remaining = length
    for segment in offsets_at(buf, list_at, count):
        need = max(0, min(SEGMENT_SIZE, remaining))
        remaining -= SEGMENT_SIZE
        if segment in seen:
            # Reported once per cell: a list naming one cell 65,535 times is one fault, not 65,535.
            if not seen[segment]:
                seen[segment] = True
                found.append(problem("E-CELL-SHARED", list_at - 4, (
                    f"big-data segment of {label} points at file offset 0x{file_offset(segment):x}, which is already "
                    f"used as {KIND_NAMES[SEGMENT]} (a cycle, or one cell with two owners)")))
            continue
        seen[segment] = False
        got = follow(segment, f"big-data segment of {label}", SEGMENT, list_at - 4)
        if got is not None and got[1] < need:
            found.append(problem("E-DB-SEGMENT", got[0] - 4, f"{label}: big-data segment holds {got[1]} bytes, {need} needed"))
        elif got is not None and read:
            pieces.append(bytes(buf[got[0] : got[0] + need]))
    if found:
        return None
    return b"".join(pieces)
