"""Hive bins: the 4 KiB-multiple blocks that hold the cells (regf-format section 2)."""
from __future__ import annotations

from array import array
from typing import Iterator, Sequence

from .problems import HiveFinding, problem
from .record import HiveImage, ReadBuffer, Record

HBIN_SIGNATURE = b"hbin"
HBIN = Record(
    "HiveBin",
    ("signature", "4s", HBIN_SIGNATURE),
    ("offset", "I"),  # of this bin, counted from the first bin: must equal its position
    ("size", "I"),  # a multiple of 4096, header included
    ("reserved", "Q"),
    ("timestamp", "Q"),  # the first bin only: a copy of the base block's last-written time
    ("spare", "I"),
)
HBIN_HEADER_SIZE = HBIN.size
assert HBIN_HEADER_SIZE == 32
PAGE = 4096
# Cell offsets count from the first hive bin, which starts right after the base block.
HBIN_BASE = 4096
_HEAD = HBIN.view("signature", "offset", "size")  # what the walk over every bin reads


def file_offset(cell_offset: int) -> int:
    """The one conversion between the two offset spaces (STYLE principle 4)."""
    return cell_offset + HBIN_BASE


def hbin_problems(signature: bytes, offset: int, size: int, at: int, hbins_size: int) -> Sequence[HiveFinding]:
    """What is wrong with the header of the bin at cell offset ``at`` (2.2): its signature,
    offset field and size as read, inside a hive-bins area of ``hbins_size`` bytes."""
    sound_size = size >= PAGE and not size % PAGE and at + size <= hbins_size
    if signature == HBIN_SIGNATURE and offset == at and sound_size:
        return ()  # nearly every bin: one test, no list
    where, lost = file_offset(at), "; Windows drops the cells of such a bin"
    found = []
    if signature != HBIN_SIGNATURE:
        found.append(problem("E-BIN-SIGNATURE", where, f"bin signature is {bytes(signature)!r}, expected b'hbin'{lost}"))
    elif offset != at:
        found.append(problem("E-BIN-OFFSET", where, f"bin offset field is 0x{offset:x}, but the bin is at 0x{at:x}{lost}"))
    if not sound_size:
        found.append(problem("E-BIN-SIZE", where, (
            f"bin size 0x{size:x} is not a multiple of 4096 that fits the hive-bins area (0x{hbins_size:x} bytes); "
            f"the rest of the area (0x{hbins_size - at:x} bytes) cannot be read")))
    return found


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

    def __iter__(self) -> Iterator[Bin]:
        for index in range(len(self.starts)):
            yield self[index]

    def append(self, b: Bin) -> None:
        if b.problem:
            self.problems[len(self.starts)] = b.problem
        self.starts.append(b.start)
        self.sizes.append(b.size)

    def damaged(self) -> list[Bin]:
        return [self[index] for index in sorted(self.problems)]


def walk_bins(buf: ReadBuffer, hbins_size: int) -> tuple[BinTable, array[int]]:
    """Read every bin header up to the declared hive-bins size.

    A bin with a bad signature or offset field is kept with its problem noted, so that
    reading can go on around it; a size that cannot be right makes the rest one bad bin.
    Returns the bins and a page map (4 KiB page -> bin index) for constant-time lookup.
    """
    bins = BinTable()
    starts, sizes, problems = bins.starts, bins.sizes, bins.problems
    page_bin = array("i")
    head = _HEAD
    at = 0
    while at < hbins_size:
        signature, offset, size = head(buf, HBIN_BASE + at)
        index = len(starts)
        found = hbin_problems(signature, offset, size, at, hbins_size)
        if found:
            problems[index] = found[0].message
            if found[-1].code == "E-BIN-SIZE":
                size = hbins_size - at
        if size == PAGE:
            page_bin.append(index)
        else:
            page_bin.extend([index] * (size // PAGE))
        starts.append(at)
        sizes.append(size)
        at += size
    return bins, page_bin


def write_bin_header(buf: HiveImage, start: int, size: int, timestamp: int = 0) -> None:
    HBIN.pack_into(buf, HBIN_BASE + start, offset=start, size=size, timestamp=timestamp)
