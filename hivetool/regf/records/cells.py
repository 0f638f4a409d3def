"""Cells: the size field that starts each one, how cells tile a bin, and cells of pointers
(regf-format section 3, 6.3 and 8).

A cell is a signed 32-bit size (negative: allocated, positive: free; the absolute value counts
the size field and is a multiple of 8) followed by its payload. Pointers between records are
cell offsets, counted from the first bin (``bins.file_offset`` turns one into a file offset).

Readers of the hive follow pointers in different ways: the engine must refuse a bad one (it
raises), the checker must report it and go on. The walks that records share (a subkey list
with its leaves, a value's data with its big-data segments) take the way to follow as a
:data:`Follow` function, so each walk is written once.
"""
from __future__ import annotations

import struct
import sys
from array import array
from typing import Callable, Sequence

from .bins import HBIN_BASE, file_offset
from .problems import Described, HiveFinding, problem
from .record import ReadBuffer

CELL_ALIGN = 8
MAX_CELL_PAYLOAD = 1024 * 1024  # larger values go to big data; one cell never needs more
NIL = 0xFFFFFFFF  # HCELL_NIL: a pointer that points nowhere
_BIG_ENDIAN = sys.byteorder == "big"  # sizes are little-endian words

# What a cell is used as, for a reader that tells (the checker marks every cell it reaches).
NK_CELL, SUBKEY_LIST, VALUE_LIST, VK_CELL, DATA, BIG_DATA, SEGMENT_LIST, SEGMENT, SK_CELL, CLASS = range(1, 11)
KIND_NAMES = {
    NK_CELL: "a key node",
    SUBKEY_LIST: "a subkey list",
    VALUE_LIST: "a value list",
    VK_CELL: "a value record",
    DATA: "value data",
    BIG_DATA: "a big-data record",
    SEGMENT_LIST: "a big-data segment list",
    SEGMENT: "a big-data segment",
    SK_CELL: "a security cell",
    CLASS: "a class name",
}

# follow(cell, what, kind, where) -> (file offset, length) of the cell's payload, or None when
# the pointer cannot be followed (the reader has reported why, at the record ``where``). The
# engine's CellSpace.payload is one (it raises instead), the checker's Context.claim another.
Follow = Callable[[int, Described, int, "int | None"], "tuple[int, int] | None"]


def cell_size_for(payload_len: int) -> int:
    """Allocation size for a payload: 4-byte size field, rounded up to 8 (regf-format 3)."""
    return (payload_len + 4 + CELL_ALIGN - 1) & ~(CELL_ALIGN - 1)


def tile_bin(
    buf: ReadBuffer, start: int, end: int, marks: bytearray | None = None
) -> tuple[array[int], list[tuple[int, int]], HiveFinding | None]:
    """Walk the cells from cell offset ``start`` to the bin's end: where each starts, the free
    ones as ``(size, offset)``, and the break in the tiling, if any (E-CELL-SIZE: cells must be
    at least 8 bytes, multiples of 8, and inside their bin; Windows loses the rest of the bin).

    The starts are 4-byte numbers: big hives have millions of cells. With ``marks`` (one byte
    per 8-byte slot of the hive-bins area) the byte of each start is set to 1 in the same pass.
    """
    starts: array[int] = array("I")
    free: list[tuple[int, int]] = []
    words = region_words(buf, start, end)
    append = starts.append
    at = start
    while at < end:
        size = words[(at - start) >> 2]
        length = -size if size < 0 else size
        if length < CELL_ALIGN or length & 7 or at + length > end:
            return starts, free, _tiling_problem(at, end, size, length)
        append(at)
        if marks is not None:
            marks[at >> 3] = 1
        if size > 0:
            free.append((length, at))
        at += length
    return starts, free, None


def region_words(buf: ReadBuffer, start: int, end: int) -> array[int]:
    """The 32-bit words from cell offset ``start`` to ``end``, as signed numbers: the word of
    the cell at ``cell`` is ``words[(cell - start) >> 2]``.

    Every cell starts on an 8-byte boundary, so every size field is a whole word: one copy of
    a bin as an array is read by index several times faster per cell than a struct call (a
    walk over a hive tiles every one of its hundreds of thousands of cells).
    """
    words = array("i", buf[HBIN_BASE + start : HBIN_BASE + start + ((end - start) & ~3)])
    if _BIG_ENDIAN:  # sizes are little-endian
        words.byteswap()
    return words


def _tiling_problem(at: int, end: int, size: int, length: int) -> HiveFinding:
    if length < CELL_ALIGN:
        why = f"cell size {size} is smaller than 8"
    elif length % CELL_ALIGN:
        why = f"cell size {size} is not a multiple of 8"
    else:
        why = f"cell of {length} bytes crosses the end of its bin at file offset 0x{file_offset(end):x}"
    lost = f"; the {end - at} bytes from here to the bin end are lost to Windows"
    return problem("E-CELL-SIZE", file_offset(at), why + lost)


def offsets_at(buf: ReadBuffer, at: int, count: int) -> tuple[int, ...]:
    """``count`` cell offsets (u32) from file offset ``at``: a value list, a segment list, a
    leaf's or an index root's entries."""
    return struct.unpack_from(f"<{count}I", buf, at)


def pack_offsets(cells: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(cells)}I", *cells)
