"""Hive bins: the 4 KiB-multiple blocks that hold the cells (regf-format section 2)."""
from __future__ import annotations

from array import array
from dataclasses import dataclass

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
HBIN_HEADER_SIZE = 32
PAGE = 4096
# Cell offsets count from the first hive bin, which starts right after the base block.
HBIN_BASE = 4096


def file_offset(cell_offset: int) -> int:
    """The one conversion between the two offset spaces (STYLE principle 4)."""
    return cell_offset + HBIN_BASE


@dataclass
class Bin:
    start: int  # cell offset of the bin header
    size: int
    problem: str | None = None  # why the bin header is not trusted, if it is not


def walk_bins(buf: bytes | bytearray, hbins_size: int) -> tuple[list[Bin], array]:
    """Read every bin header up to the declared hive-bins size.

    A bin with a bad signature or offset field is kept with its problem noted, so that
    reading can go on around it; a size that cannot be right makes the rest one bad bin.
    Returns the bins and a page map (4 KiB page -> bin index) for constant-time lookup.
    """
    bins: list[Bin] = []
    pages: list[int] = []
    unpack = HBIN.struct.unpack_from
    at = 0
    while at < hbins_size:
        signature, offset, size = unpack(buf, HBIN_BASE + at)[:3]
        problem = None
        if size < PAGE or size % PAGE or at + size > hbins_size:
            problem = f"bin size 0x{size:x} is not a multiple of 4096 inside the hive-bins area"
            size = hbins_size - at
        elif signature != HBIN_SIGNATURE:
            problem = f"bin signature is {signature!r}, expected b'hbin'"
        elif offset != at:
            problem = f"bin offset field is 0x{offset:x}, but the bin is at 0x{at:x}"
        pages.extend([len(bins)] * (size // PAGE))
        bins.append(Bin(at, size, problem))
        at += size
    page_bin = array("i", pages)
    return bins, page_bin


def write_bin_header(buf: bytearray, start: int, size: int, timestamp: int = 0) -> None:
    HBIN.pack_into(buf, HBIN_BASE + start, (HBIN_SIGNATURE, start, size, 0, timestamp, 0))
