"""Cells: checked access by cell offset, allocation with reuse, freeing with coalescing.

Every pointer read from a hive goes through :meth:`CellSpace.payload`, which checks that it
lands on the start of an allocated cell inside a sound bin (STYLE principle 5). The cells of
a bin are only mapped the first time something points into it, so opening a 100 MB hive
and changing one value touches a handful of bins, not the whole file.
"""
from __future__ import annotations

import struct
from array import array
from bisect import bisect_left, insort
from typing import Iterator

from ..errors import HiveFormatError
from .bins import HBIN_BASE, HBIN_HEADER_SIZE, PAGE, Bin, file_offset, walk_bins, write_bin_header

_I32 = struct.Struct("<i")
CELL_ALIGN = 8
MAX_CELL_PAYLOAD = 1024 * 1024  # larger values go to big data; one cell never needs more
SEARCH_BINS_PER_ALLOC = 8


def cell_size_for(payload_len: int) -> int:
    """Allocation size for a payload: 4-byte size field, rounded up to 8 (regf-format 3)."""
    return (payload_len + 4 + CELL_ALIGN - 1) & ~(CELL_ALIGN - 1)


class _BinCells:
    """The cell starts of one bin, in order; ``broken_at`` marks where tiling fails."""

    __slots__ = ("starts", "broken_at", "problem")

    def __init__(self) -> None:
        self.starts = array("I")  # 4 bytes a cell: big hives have millions of cells
        self.broken_at: int | None = None
        self.problem: str | None = None


class CellSpace:
    def __init__(self, buf: bytearray, hbins_size: int) -> None:
        self.buf = buf
        self.end = hbins_size
        self.bins, self._page_bin = walk_bins(buf, hbins_size)
        # Known once: only the bin walk finds damage, and appended bins are sound. Every edit
        # asks, so a scan of all bins here would make each edit O(hive).
        self._damaged = self.bins.damaged()
        self._cells: dict[int, _BinCells] = {}  # bin index -> mapped cells
        # One bit per 8-byte unit of the hive-bins area: set where a mapped cell starts. A set
        # of ints would cost ~90 bytes a cell and put memory far above the file's size.
        self._start_bits = bytearray((hbins_size >> 6) + 1)
        self._free: list[tuple[int, int]] = []  # (size, offset) of free cells in mapped bins
        self._unmapped_from_end = len(self.bins)  # bins below this index may be unmapped

    # ----------------------------------------------------------------- reading
    def bin_index(self, cell: int) -> int:
        return self._page_bin[cell // PAGE]

    def _map_bin(self, index: int) -> _BinCells:
        cells = self._cells.get(index)
        if cells is not None:
            return cells
        cells = _BinCells()
        b = self.bins[index]
        if b.problem:
            cells.broken_at = b.start
            cells.problem = b.problem
            self._cells[index] = cells
            return cells
        buf, starts, free = self.buf, cells.starts, self._free
        at, end = b.start + HBIN_HEADER_SIZE, b.start + b.size
        unpack = _I32.unpack_from
        while at < end:
            size = unpack(buf, HBIN_BASE + at)[0]
            length = -size if size < 0 else size
            if length < CELL_ALIGN or length % CELL_ALIGN or at + length > end:
                cells.broken_at = at
                cells.problem = (
                    f"cell size {size} is not a multiple of 8 that fits the bin (bin ends at "
                    f"file offset 0x{file_offset(end):x})"
                )
                break
            starts.append(at)
            if size > 0:
                insort(free, (length, at))
            at += length
        bits = self._start_bits
        for start in starts:
            bits[start >> 6] |= 1 << ((start >> 3) & 7)
        self._cells[index] = cells
        return cells

    def map_all(self) -> None:
        for index in range(len(self.bins)):
            self._map_bin(index)

    def bin_cells(self, index: int) -> tuple[list[int], int | None, str | None]:
        cells = self._map_bin(index)
        return cells.starts, cells.broken_at, cells.problem

    def is_allocated_cell(self, cell: int) -> bool:
        if cell < HBIN_HEADER_SIZE or cell >= self.end or cell % CELL_ALIGN:
            return False
        self._map_bin(self.bin_index(cell))
        return self._is_start(cell) and self.raw_size(cell) < 0

    def _is_start(self, cell: int) -> bool:
        return bool(self._start_bits[cell >> 6] >> ((cell >> 3) & 7) & 1)

    def _set_start(self, cell: int) -> None:
        self._start_bits[cell >> 6] |= 1 << ((cell >> 3) & 7)

    def _clear_start(self, cell: int) -> None:
        self._start_bits[cell >> 6] &= ~(1 << ((cell >> 3) & 7)) & 0xFF

    def raw_size(self, cell: int) -> int:
        return _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]

    def payload(self, cell: int, what: str) -> tuple[int, int]:
        """File offset and length of the payload of the allocated cell ``cell``.

        ``what`` names the pointer for the error message ("subkey list of nk at ...").
        """
        if cell >= self.end or cell < HBIN_HEADER_SIZE or cell % CELL_ALIGN:
            raise HiveFormatError(
                f"{what} points at cell offset 0x{cell:x}, outside the hive bins or not on an "
                f"8-byte cell boundary",
                file_offset(cell) if cell < self.end else None,
            )
        if not self._start_bits[cell >> 6] >> ((cell >> 3) & 7) & 1:
            cells = self._map_bin(self._page_bin[cell // PAGE])
            if not self._is_start(cell):
                if cells.broken_at is not None and cell >= cells.broken_at:
                    raise HiveFormatError(
                        f"{what} points into a damaged bin region: {cells.problem}",
                        file_offset(cells.broken_at),
                    )
                raise HiveFormatError(f"{what} points at the middle of a cell, not its start", file_offset(cell))
        size = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
        if size >= 0:
            raise HiveFormatError(f"{what} points at a free cell", file_offset(cell))
        return HBIN_BASE + cell + 4, -size - 4

    def iter_cells(self) -> Iterator[tuple[int, int]]:
        """Every cell of every sound bin region as (cell offset, signed size)."""
        for index in range(len(self.bins)):
            for start in self._map_bin(index).starts:
                yield start, self.raw_size(start)

    # ----------------------------------------------------------------- writing
    def alloc(self, payload_len: int) -> int:
        """Allocate a zeroed cell for ``payload_len`` bytes; reuse free space before growing."""
        if payload_len > MAX_CELL_PAYLOAD:
            raise ValueError(f"cell payload of {payload_len} bytes exceeds the 1 MiB cell limit")
        need = cell_size_for(payload_len)
        cell = self._take_free(need)
        if cell is None:
            cell = self._append_bin(need)
        length = self.raw_size(cell)
        if length - need >= CELL_ALIGN:
            self._split(cell, length, need)
            length = need
        _I32.pack_into(self.buf, HBIN_BASE + cell, -length)
        start = HBIN_BASE + cell + 4
        self.buf[start : start + length - 4] = bytes(length - 4)
        return cell

    def free(self, cell: int) -> None:
        """Mark a cell free and merge it with free neighbours in its bin (as Windows does)."""
        size = self.raw_size(cell)
        if size >= 0:
            raise HiveFormatError("tried to free a cell that is already free", file_offset(cell))
        length = -size
        starts = self._map_bin(self.bin_index(cell)).starts
        i = bisect_left(starts, cell)
        if i + 1 < len(starts):
            nxt = starts[i + 1]
            nsize = self.raw_size(nxt)
            if nsize > 0:
                self._unlist_free(nsize, nxt)
                del starts[i + 1]
                self._clear_start(nxt)
                length += nsize
        if i > 0:
            prev = starts[i - 1]
            psize = self.raw_size(prev)
            if psize > 0:
                self._unlist_free(psize, prev)
                del starts[i]
                self._clear_start(cell)
                cell, length = prev, psize + length
        _I32.pack_into(self.buf, HBIN_BASE + cell, length)
        insort(self._free, (length, cell))

    def _unlist_free(self, size: int, cell: int) -> None:
        i = bisect_left(self._free, (size, cell))
        if i < len(self._free) and self._free[i] == (size, cell):
            del self._free[i]

    def _take_free(self, need: int) -> int | None:
        """Best fit among mapped free cells, mapping a bounded number of further bins.

        Bins are mapped from the end of the hive backwards, where space freed or appended
        by earlier edits lies, and at most ``SEARCH_BINS_PER_ALLOC`` per allocation: a
        compact hive (as ``reg save`` writes them) has almost no free space, and mapping all
        of it to place one key would make a one-value edit cost O(hive). A long series of
        edits still maps, and so reuses, every bin eventually.
        """
        budget = SEARCH_BINS_PER_ALLOC
        while True:
            i = bisect_left(self._free, (need, -1))
            if i < len(self._free):
                _, cell = self._free.pop(i)
                return cell
            if budget == 0 or not self._map_next_bin():
                return None
            budget -= 1

    def _map_next_bin(self) -> bool:
        while self._unmapped_from_end > 0:
            self._unmapped_from_end -= 1
            index = self._unmapped_from_end
            if index not in self._cells:
                self._map_bin(index)
                return True
        return False

    def _split(self, cell: int, length: int, need: int) -> None:
        rest = cell + need
        _I32.pack_into(self.buf, HBIN_BASE + rest, length - need)
        insort(self._map_bin(self.bin_index(cell)).starts, rest)
        self._set_start(rest)
        insort(self._free, (length - need, rest))

    def _append_bin(self, need: int) -> int:
        """Add a bin at the end of the hive-bins area big enough for one cell of ``need`` bytes."""
        size = max(PAGE, -(-(need + HBIN_HEADER_SIZE) // PAGE) * PAGE)
        start = self.end
        file_end = HBIN_BASE + start + size
        if len(self.buf) < file_end:
            if not isinstance(self.buf, bytearray):
                # A mapped file cannot grow: the hive moves into memory (once) to take the bin.
                self.buf = bytearray(self.buf)
            self.buf.extend(bytes(file_end - len(self.buf)))
        self.buf[HBIN_BASE + start : file_end] = bytes(size)
        write_bin_header(self.buf, start, size)
        cell = start + HBIN_HEADER_SIZE
        _I32.pack_into(self.buf, HBIN_BASE + cell, size - HBIN_HEADER_SIZE)
        index = len(self.bins)
        self.bins.append(Bin(start, size))
        self._page_bin.extend([index] * (size // PAGE))
        cells = _BinCells()
        cells.starts.append(cell)
        self._cells[index] = cells
        self._start_bits.extend(bytes(max(0, ((start + size) >> 6) + 1 - len(self._start_bits))))
        self._set_start(cell)
        self.end = start + size
        return cell

    def damaged_bins(self) -> list[Bin]:
        return list(self._damaged)
