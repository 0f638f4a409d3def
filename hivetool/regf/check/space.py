"""Checker, part 1: the cell space. Bin headers, cell tiling, and the cells nothing reaches."""

from __future__ import annotations

from ..records.bins import HBIN, HBIN_BASE, HBIN_HEADER_SIZE, HBIN_SIGNATURE, PAGE, file_offset, hbin_problems
from ..records.cells import CELL_ALIGN, region_words
from ..records.names import decode_name
from ..records.nk import KEY_COMP_NAME, NK
from ..records.vk import VALUE_COMP_NAME, VK
from .context import Context


def check_bins(ctx: Context) -> None:
    """Every bin header: signature, offset field == position, size (regf-format 2.2)."""
    for b in ctx.space.bins:
        if b.problem:
            rec = HBIN.unpack(ctx.buf, HBIN_BASE + b.start)
            ctx.out.extend(hbin_problems(rec.signature, rec.offset, rec.size, b.start, ctx.space.end))


def check_cells(ctx: Context) -> None:
    """Cells tile each sound bin exactly: sizes >= 8, multiples of 8, inside the bin (3)."""
    for index, b in enumerate(ctx.space.bins):
        if b.problem:
            continue
        _, broken_at, problem = ctx.space.bin_cells(index)
        if broken_at is not None and problem is not None:
            ctx.out.add("E-CELL-SIZE", file_offset(broken_at), problem)


def report_unreached(ctx: Context) -> None:
    """Allocated cells nothing reaches, and free cells next to free cells: both tolerated (3)."""
    space, marks = ctx.space, ctx.marks
    free = space.free_cells()  # the checker maps every bin and edits nothing: all of them
    cells = sum(len(space.bin_cells(index)[0]) for index, b in enumerate(space.bins) if not b.problem)
    # Only allocated cells are marked (claim follows a pointer to nothing else): when as many
    # slots are marked as there are allocated cells, every one of them is reached, and only
    # free cells can be reported. Counting is done in C; looking at each of the hundreds of
    # thousands of cells is left for a hive that has unreached ones.
    if len(marks) - marks.count(0) == cells - len(free):
        for previous, cell in zip(free, free[1:]):
            if previous + space.raw_size(previous) == cell:  # the next cell of its bin
                ctx.out.add("I-FREE-ADJACENT", file_offset(cell), "free cell follows another free cell (not merged)")
        return
    for index, b in enumerate(space.bins):
        if b.problem:
            continue
        starts, _, _ = space.bin_cells(index)
        # Every cell of the hive passes here: the sizes are read from the bin's words at once.
        words, first = region_words(ctx.buf, b.start, b.start + b.size), b.start
        previous_free = False
        for cell in starts:
            size = words[(cell - first) >> 2]  # space.raw_size(cell)
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
    for record_signature, record, compressed_flag, label in _NAMED_RECORDS:
        if signature == record_signature and length >= record.size:
            rec = record.unpack(ctx.buf, at)
            if record.size + rec.name_length <= length:
                raw = bytes(ctx.buf[at + record.size : at + record.size + rec.name_length])
                return f"{label} {decode_name(raw, bool(rec.flags & compressed_flag))!r}"
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
