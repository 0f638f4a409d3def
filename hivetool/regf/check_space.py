"""Checker, part 1: the cell space. Bin headers, cell tiling, and which cells the tree uses.

:class:`Context` is shared by every part of the checker. Its :meth:`Context.claim` is the
one way a part follows a pointer: the pointer must hit the start of an allocated cell
(regf-format 3), and the cell is marked with what it is used as, so that a cell reached
twice (a cycle, or two owners of one cell) is reported once and never followed again, and
so that allocated cells nothing reaches can be listed at the end.
"""

from __future__ import annotations

from typing import Callable, Union

from ..progress import QUIET, Progress
from ..errors import HiveFormatError
from .bins import HBIN, HBIN_BASE, HBIN_HEADER_SIZE, HBIN_SIGNATURE, PAGE, file_offset
from .cells import CELL_ALIGN, CellSpace
from .check_report import Collector
from .names import decode_name
from .nk import KEY_COMP_NAME, NK
from .vk import VALUE_COMP_NAME, VK

# What a cell is used as; 0 = not reached (yet).
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


Described = Union[str, Callable[[], str]]


def describe(what: Described) -> str:
    return what if isinstance(what, str) else what()


class Context:
    """What every part of the checker needs: the bytes, the cells, the version, the findings."""

    def __init__(self, buf: bytearray, space: CellSpace, minor: int, out: Collector,
                 progress: Progress = QUIET) -> None:
        self.buf = buf
        self.progress = progress
        self.space = space
        self.minor = minor
        self.out = out
        # One byte per 8-byte cell slot: bounded by the file size, unlike a set of offsets.
        self.marks = bytearray(space.end // CELL_ALIGN + 1)
        self.sk_users: dict[int, list] = {}  # sk cell -> [keys using it, first nk file offset, its path]

    def claim(
        self, cell: int, kind: int, what: Described, where: int | None, code: str = "E-REF"
    ) -> tuple[int, int] | None:
        """File offset and length of the payload of ``cell``, marked as ``kind``; None (after
        reporting why, at the referring record ``where``) when it cannot be used.

        ``what`` names the pointer; it may be a function, so that the description of the
        hundreds of thousands of sound pointers in a big hive is never built.
        """
        try:
            at, length = self.space.payload(cell, "pointer")
        except HiveFormatError:
            try:  # again, only to get the engine's explanation with the real description
                self.space.payload(cell, f"{describe(what)} (cell offset 0x{cell:x})")
            except HiveFormatError as err:
                self.out.add(code, where, err.detail)
            return None
        slot = cell // CELL_ALIGN
        used_as = self.marks[slot]
        if used_as and not (used_as == kind == SK_CELL):
            self.out.add(
                "E-CELL-SHARED",
                where,
                f"{describe(what)} points at file offset 0x{file_offset(cell):x}, which is already used as "
                f"{KIND_NAMES[used_as]} (a cycle, or one cell with two owners)",
            )
            return None
        self.marks[slot] = kind
        return at, length

    def mark_quietly(self, cell: int, kind: int) -> None:
        """Count a cell as used when a pointer that nothing reads still holds it."""
        if self.space.is_allocated_cell(cell) and not self.marks[cell // CELL_ALIGN]:
            self.marks[cell // CELL_ALIGN] = kind


def check_bins(ctx: Context) -> None:
    """Every bin header: signature, offset field == position, size (regf-format 2.2)."""
    for b in ctx.space.bins:
        if not b.problem:
            continue
        rec = HBIN.unpack(ctx.buf, HBIN_BASE + b.start)
        where = file_offset(b.start)
        lost = "; Windows drops the cells of such a bin"
        if rec.signature != HBIN_SIGNATURE:
            ctx.out.add("E-BIN-SIGNATURE", where, f"bin signature is {bytes(rec.signature)!r}, expected b'hbin'{lost}")
        elif rec.offset != b.start:
            ctx.out.add(
                "E-BIN-OFFSET", where, f"bin offset field is 0x{rec.offset:x}, but the bin is at 0x{b.start:x}{lost}"
            )
        if rec.size < PAGE or rec.size % PAGE or b.start + rec.size > ctx.space.end:
            ctx.out.add(
                "E-BIN-SIZE",
                where,
                f"bin size 0x{rec.size:x} is not a multiple of 4096 that fits the hive-bins area "
                f"(0x{ctx.space.end:x} bytes); the rest of the area (0x{b.size:x} bytes) cannot be read",
            )


def check_cells(ctx: Context) -> None:
    """Cells tile each sound bin exactly: sizes >= 8, multiples of 8, inside the bin (3)."""
    for index, b in enumerate(ctx.space.bins):
        if b.problem:
            continue
        _, broken_at, _ = ctx.space.bin_cells(index)
        if broken_at is None:
            continue
        size = ctx.space.raw_size(broken_at)
        length = abs(size)
        bin_end = b.start + b.size
        if length < CELL_ALIGN:
            why = f"cell size {size} is smaller than 8"
        elif length % CELL_ALIGN:
            why = f"cell size {size} is not a multiple of 8"
        else:
            why = f"cell of {length} bytes crosses the end of its bin at file offset 0x{file_offset(bin_end):x}"
        ctx.out.add(
            "E-CELL-SIZE",
            file_offset(broken_at),
            f"{why}; the {bin_end - broken_at} bytes from here to the bin end are lost to Windows",
        )


def report_unreached(ctx: Context) -> None:
    """Allocated cells nothing reaches, and free cells next to free cells: both tolerated (3)."""
    space, marks = ctx.space, ctx.marks
    for index, b in enumerate(space.bins):
        if b.problem:
            continue
        starts, _, _ = space.bin_cells(index)
        previous_free = False
        for cell in starts:
            size = space.raw_size(cell)
            if size > 0:
                if previous_free:
                    ctx.out.add(
                        "I-FREE-ADJACENT", file_offset(cell), "free cell follows another free cell (not merged)"
                    )
                previous_free = True
                continue
            previous_free = False
            if not marks[cell // CELL_ALIGN]:
                ctx.out.add(
                    "I-LEAK",
                    file_offset(cell),
                    f"allocated cell of {-size} bytes ({_describe(ctx, cell, -size - 4)}) is not reachable "
                    f"from the root key",
                )


_NAMED_RECORDS = ((b"nk", NK, KEY_COMP_NAME, "key node"), (b"vk", VK, VALUE_COMP_NAME, "value record"))
_OTHER_RECORDS = {
    b"sk": "security cell",
    b"lh": "hash leaf",
    b"lf": "fast leaf",
    b"li": "index leaf",
    b"ri": "index root",
    b"db": "big-data record",
}


def _describe(ctx: Context, cell: int, length: int) -> str:
    """What an unreachable cell seems to hold, for forensic readers of the report."""
    at = HBIN_BASE + cell + 4
    signature = bytes(ctx.buf[at : at + 2]) if length >= 2 else b""
    for record_signature, layout, compressed_flag, label in _NAMED_RECORDS:
        if signature == record_signature and length >= layout.size:
            fields = layout.unpack(ctx.buf, at)
            if layout.size + fields.name_length <= length:
                raw = bytes(ctx.buf[at + layout.size : at + layout.size + fields.name_length])
                return f"{label} {decode_name(raw, bool(fields.flags & compressed_flag))!r}"
    return _OTHER_RECORDS.get(signature, "data")


def trailing_bins(buf: bytearray, hbins_end: int) -> int:
    """How many bins with an ``hbin`` signature follow the declared hive-bins area."""
    count = 0
    at = HBIN_BASE + hbins_end
    while at + HBIN_HEADER_SIZE <= len(buf) and buf[at : at + 4] == HBIN_SIGNATURE:
        count += 1
        size = HBIN.read(buf, at, "size")
        if size < PAGE or size % PAGE:
            break
        at += size
    return count
