"""Checker, part 3: values, their data and big data (regf-format section 6).

Loops run over what the value list cell holds, not over the key's value count, so a
count of 2**32-1 costs nothing.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .check_space import (
    BIG_DATA,
    DATA,
    SEGMENT,
    SEGMENT_LIST,
    VALUE_LIST,
    VK_CELL,
    Context,
    Described,
    describe,
)
from .names import decode_name, upcase
from .types import NUMBER_SIZES, type_name
from .nk import KEY_PREDEF_HANDLE, NIL
from .vk import DB, DB_SIGNATURE, INLINE, SEGMENT_SIZE, VALUE_COMP_NAME, VK, VK_SIGNATURE, uses_big_data

if TYPE_CHECKING:
    from .check_tree import KeyNode

_V = {name: VK.fields.index(name) for name in VK.fields}
_VK_NAME_LENGTH, _VK_FLAGS, _VK_DATA_SIZE, _VK_DATA = _V["name_length"], _V["flags"], _V["data_size"], _V["data"]
_VK_TYPE = _V["type"]


def check_values(ctx: Context, key: KeyNode) -> tuple[list[str], int, int]:
    """Value names, and the largest name (UTF-16 bytes) and data size found."""
    count, list_cell = key.field("value_count"), key.field("values")
    if count == 0 or key.field("flags") & KEY_PREDEF_HANDLE:
        return [], 0, 0
    if list_cell == NIL:
        ctx.out.add("E-VALUE-LIST", key.where, f"key {key.shown} claims {count} values but has no value list")
        return [], 0, 0
    got = ctx.claim(list_cell, VALUE_LIST, lambda: f"value list of key {key.shown}", key.where)
    if got is None:
        return [], 0, 0
    at, length = got
    if 4 * count > length:
        ctx.out.add(
            "E-VALUE-LIST",
            at - 4,
            f"value list of key {key.shown} holds {length // 4} entries, but the key claims {count}",
        )
        count = length // 4
    names: list[str] = []
    seen: set[str] = set()
    max_name = max_data = 0
    for vk_cell in struct.unpack_from(f"<{count}I", ctx.buf, at):
        value = _check_value(ctx, key, vk_cell, at - 4)
        if value is None:
            continue
        name, name_size, data_size, vk_at = value
        folded = upcase(name)
        if folded in seen:
            ctx.out.add(
                "E-VK-DUPLICATE", vk_at, f"key {key.shown} has two values named {name!r} (names are case-insensitive)"
            )
        seen.add(folded)
        names.append(name)
        max_name = max(max_name, name_size)
        max_data = max(max_data, data_size)
    return names, max_name, max_data


def _check_value(ctx: Context, key: KeyNode, cell: int, where: int) -> tuple[str, int, int, int] | None:
    got = ctx.claim(cell, VK_CELL, lambda: f"value list entry of key {key.shown}", where)
    if got is None:
        return None
    at, length = got
    vk_at = at - 4
    if length < VK.size:
        ctx.out.add(
            "E-VK-SIZE", vk_at, f"value of key {key.shown}: cell of {length + 4} bytes is too small for a value record"
        )
        return None
    fields = VK.struct.unpack_from(ctx.buf, at)
    if fields[0] != VK_SIGNATURE:
        ctx.out.add(
            "E-VK-SIGNATURE",
            vk_at,
            f"value of key {key.shown}: expected a value record (vk), found {bytes(fields[0])!r}",
        )
        return None
    name_length = fields[_VK_NAME_LENGTH]
    if VK.size + name_length > length:
        ctx.out.add(
            "E-VK-NAME",
            vk_at,
            f"value of key {key.shown}: name length {name_length} exceeds the cell ({length + 4} bytes)",
        )
        return None
    compressed = bool(fields[_VK_FLAGS] & VALUE_COMP_NAME)
    name = decode_name(bytes(ctx.buf[at + VK.size : at + VK.size + name_length]), compressed)
    if not compressed and name_length % 2:
        ctx.out.add(
            "W-NAME-ODD",
            vk_at,
            f"value {name!r} of key {key.shown}: UTF-16 name has an odd length ({name_length} bytes)",
        )
    size = _check_data(
        ctx, fields[_VK_DATA_SIZE], fields[_VK_DATA], vk_at, lambda: f"value {name!r} of key {key.shown}"
    )
    width = NUMBER_SIZES.get(fields[_VK_TYPE])
    if width is not None and size != width:
        # Info, not a warning: the kernel never compares size and type (regf-format 6.4), and
        # Windows itself writes such values (Group Policy keeps an 8-byte REG_DWORD lParam and
        # a 16-byte REG_QWORD ExecTime in NTUSER.DAT); only regedit calls them invalid.
        ctx.out.add(
            "I-VK-TYPE-SIZE",
            vk_at,
            f"value {name!r} of key {key.shown}: {type_name(fields[_VK_TYPE])} holds {size} bytes of data, "
            f"not {width}",
        )
    # The "largest value name" field counts UTF-16 bytes even for compressed names (4.4).
    return name, 2 * name_length if compressed else name_length, size, vk_at


def _check_data(ctx: Context, size_field: int, data: int, vk_at: int, label: Described) -> int:
    """Check where a value's data lives (regf-format 6.2, 6.3); returns its length."""
    length = size_field & 0x7FFFFFFF
    if size_field & INLINE:
        if length > 4:
            ctx.out.add(
                "E-VK-INLINE",
                vk_at,
                f"{describe(label)}: inline data claims {length} bytes; at most 4 fit in the record",
            )
        return length
    if length == 0:
        return 0
    if uses_big_data(length, ctx.minor):
        _check_big_data(ctx, data, length, vk_at, label)
        return length
    got = ctx.claim(data, DATA, lambda: f"data of {describe(label)}", vk_at)
    if got is not None and length > got[1]:
        at, cell_length = got
        if ctx.minor < 4 and ctx.buf[at : at + 2] == DB_SIGNATURE:
            ctx.out.add(
                "E-DB-VERSION",
                vk_at,
                f"{describe(label)}: {length} bytes stored as big data (db), which a version 1.{ctx.minor} hive "
                f"does not have; Windows reads the {cell_length}-byte cell literally",
            )
        else:
            ctx.out.add(
                "E-VK-DATA-SIZE",
                vk_at,
                f"{describe(label)}: claims {length} bytes of data, but its cell holds {cell_length}",
            )
    return length


def _check_big_data(ctx: Context, cell: int, length: int, vk_at: int, described: Described) -> None:
    label = describe(described)  # big data is rare: describing it up front costs nothing
    got = ctx.claim(cell, BIG_DATA, f"data of {label}", vk_at)
    if got is None:
        return
    at, cell_length = got
    if cell_length < DB.size or ctx.buf[at : at + 2] != DB_SIGNATURE:
        ctx.out.add(
            "E-DB-SIGNATURE",
            at - 4,
            f"{label}: {length} bytes in a version 1.{ctx.minor} hive must be big data (db), but the data cell "
            f"starts with {bytes(ctx.buf[at : at + 2])!r}",
        )
        return
    _, count, segment_list = DB.struct.unpack_from(ctx.buf, at)
    expected = -(-length // SEGMENT_SIZE)
    if count != expected:
        # Windows removes a value whose segment count and length disagree (6.3).
        ctx.out.add("E-DB-COUNT", at - 4, f"{label}: big data has {count} segments, but {length} bytes need {expected}")
    got = ctx.claim(segment_list, SEGMENT_LIST, f"segment list of {label}", at - 4)
    if got is None:
        return
    list_at, list_length = got
    if 4 * count > list_length:
        ctx.out.add(
            "E-DB-SEGMENT", list_at - 4, f"{label}: segment list holds {list_length // 4} offsets, {count} expected"
        )
        count = list_length // 4
    remaining = length
    for segment in struct.unpack_from(f"<{count}I", ctx.buf, list_at):
        need = max(0, min(SEGMENT_SIZE, remaining))
        remaining -= SEGMENT_SIZE
        got = ctx.claim(segment, SEGMENT, f"big-data segment of {label}", list_at - 4)
        if got is not None and got[1] < need:
            ctx.out.add("E-DB-SEGMENT", got[0] - 4, f"{label}: big-data segment holds {got[1]} bytes, {need} needed")
