"""Hive bins: the 4 KiB-multiple blocks that hold the cells (regf-format section 2)."""
from __future__ import annotations

import struct
from array import array

from .layout import Layout

HBIN = Layout(
    "HiveBin",
    ("signature", "4s"),
    ("offset", "I"),
    ("size", "I"),
    ("reserved", "Q"),
    ("timestamp", "Q"),
    ("spare", "I"),
)
HBIN_SIGNATURE = b"hbin"
_HEAD = struct.Struct("<4sII")  # signature, offset, size: what the bin walk reads
HBIN_HEADER_SIZE = 32
PAGE = 4096
# Cell offsets count from the first hive bin, which starts right after the base block.
HBIN_BASE = 4096


def file_offset(cell_offset: int) -> int:
    """The one conversion between the two offset spaces (STYLE principle 4)."""
    return cell_offset + HBIN_BASE


class Bin:
    """One bin: where it starts (cell offset of its header), its size, and why its header is
    not trusted, if it is not. (A plain class: thousands are made at every open.)"""

    __slots__ = ("start", "size", "problem")

    def __init__(self, start: int, size: int, problem: str | None = None) -> None:
        self.start = start
        self.size = size
        self.problem = problem

    def __repr__(self) -> str:
        return f"Bin(start=0x{self.start:x}, size=0x{self.size:x}, problem={self.problem!r})"


class BinTable:
    """The bins of a hive as a sequence of :class:`Bin`, stored as two arrays.

    Opening a hive walks every bin header; keeping 4-byte numbers instead of an object per
    bin keeps that walk (thousands of bins in a SYSTEM hive) to a few milliseconds.
    """

    def __init__(self) -> None:
        self.starts = array("I")
        self.sizes = array("I")
        self.problems: dict[int, str] = {}  # bin index -> why its header is not trusted

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> Bin:
        if index < 0:
            index += len(self.starts)
        return Bin(self.starts[index], self.sizes[index], self.problems.get(index))

    def __iter__(self):
        for index in range(len(self.starts)):
            yield self[index]

    def append(self, b: Bin) -> None:
        if b.problem:
            self.problems[len(self.starts)] = b.problem
        self.starts.append(b.start)
        self.sizes.append(b.size)

    def damaged(self) -> list[Bin]:
        return [self[index] for index in sorted(self.problems)]


def walk_bins(buf: bytes | bytearray, hbins_size: int) -> tuple[BinTable, array]:
    """Read every bin header up to the declared hive-bins size.

    A bin with a bad signature or offset field is kept with its problem noted, so that
    reading can go on around it; a size that cannot be right makes the rest one bad bin.
    Returns the bins and a page map (4 KiB page -> bin index) for constant-time lookup.
    """
    bins = BinTable()
    starts, sizes, problems = bins.starts, bins.sizes, bins.problems
    page_bin = array("i")
    unpack = _HEAD.unpack_from
    at = 0
    while at < hbins_size:
        signature, offset, size = unpack(buf, HBIN_BASE + at)
        index = len(starts)
        if size < PAGE or size % PAGE or at + size > hbins_size:
            problems[index] = f"bin size 0x{size:x} is not a multiple of 4096 inside the hive-bins area"
            size = hbins_size - at
        elif signature != HBIN_SIGNATURE:
            problems[index] = f"bin signature is {signature!r}, expected b'hbin'"
        elif offset != at:
            problems[index] = f"bin offset field is 0x{offset:x}, but the bin is at 0x{at:x}"
        if size == PAGE:
            page_bin.append(index)
        else:
            page_bin.extend([index] * (size // PAGE))
        starts.append(at)
        sizes.append(size)
        at += size
    return bins, page_bin


def write_bin_header(buf: bytearray, start: int, size: int, timestamp: int = 0) -> None:
    HBIN.pack_into(buf, HBIN_BASE + start, (HBIN_SIGNATURE, start, size, 0, timestamp, 0))
