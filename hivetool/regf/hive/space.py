"""The cell space of a hive in memory: checked access by cell offset, allocation with reuse,
freeing with coalescing.

Every pointer read from a hive goes through :meth:`CellSpace.payload`, which checks that it
lands on the start of an allocated cell inside a sound bin (STYLE principle 5). The cells of
a bin are only mapped the first time something points into it, so opening a 100 MB hive
and changing one value touches a handful of bins, not the whole file.

Edits never turn one damage into another (see :mod:`refs`): a cell that was free when the
hive was opened is handed out only if no word in the hive holds its offset, and a cell that
was allocated then is freed only after the edit that lets go of it (:meth:`CellSpace.settle`)
and only if nothing else still holds it. Cells this session allocated need no such care:
nothing in the file as opened can point at them.
"""
from __future__ import annotations

import struct
from array import array
from bisect import bisect_left, bisect_right, insort
from typing import Collection, Iterator

from ...errors import HiveFormatError
from ..records.bins import HBIN_BASE, HBIN_HEADER_SIZE, PAGE, Bin, file_offset, walk_bins, write_bin_header
from ..records.cells import CELL_ALIGN, MAX_CELL_PAYLOAD, cell_size_for, tile_bin
from ..records.problems import Described, describe
from ..records.record import HiveImage
from .refs import References

_I32 = struct.Struct("<i")
SEARCH_BINS_PER_ALLOC = 8
UNKNOWN_CELL = -1  # where a bin's cells cannot be walked (damaged tiling)


class _BinCells:
    """The cell starts of one bin, in order; ``broken_at`` marks where tiling fails."""

    __slots__ = ("starts", "broken_at", "problem")

    def __init__(self) -> None:
        self.starts = array("I")  # 4 bytes a cell: big hives have millions of cells
        self.broken_at: int | None = None
        self.problem: str | None = None


class CellSpace:
    def __init__(self, buf: HiveImage, hbins_size: int) -> None:
        self.buf = buf
        self.end = hbins_size
        self.bins, self._page_bin = walk_bins(buf, hbins_size)
        # Known once: only the bin walk finds damage, and appended bins are sound. Every edit
        # asks, so a scan of all bins here would make each edit O(hive).
        self._damaged = self.bins.damaged()
        self._cells: dict[int, _BinCells] = {}  # bin index -> mapped cells
        # One byte per 8-byte slot of the hive-bins area, 1 where a mapped cell starts (an
        # eighth of the file's size). A set of ints would cost ~90 bytes a cell; one bit per
        # slot costs the tiling of every bin a read-modify-write per cell, which a walk of the
        # whole hive pays hundreds of thousands of times. (Compaction's CellIndex reads it too.)
        self.start_marks = bytearray((hbins_size >> 3) + 1)
        self._free: list[tuple[int, int]] = []  # (size, offset) of free cells in mapped bins
        self._unmapped_from_end = len(self.bins)  # bins below this index may be unmapped
        # For edits of hives that may be damaged (refs.py). Cells at or beyond the end as
        # opened were appended by this session; ``_own`` are the cells it allocated; cells
        # that were allocated when the hive was opened wait in ``_pending`` (an ordered set)
        # until settle() frees them.
        self._opened_end = hbins_size
        self._own: set[int] = set()
        self._pending: dict[int, None] = {}
        self._refs: References | None = None
        self.kept: list[int] = []  # cells let go of but still held elsewhere, so not freed
        self.refused: list[int] = []  # free cells not handed out because a word holds them

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
        starts, free, broken = tile_bin(self.buf, b.start + HBIN_HEADER_SIZE, b.start + b.size, self.start_marks)
        cells.starts = starts
        if broken is not None and broken.file_offset is not None:  # tile_bin always names the offset
            cells.broken_at = broken.file_offset - HBIN_BASE
            cells.problem = broken.message
        for pair in free:
            insort(self._free, pair)
        self._cells[index] = cells
        return cells

    def map_all(self) -> None:
        for index in range(len(self.bins)):
            self._map_bin(index)

    def bin_cells(self, index: int) -> tuple[array[int], int | None, str | None]:
        cells = self._map_bin(index)
        return cells.starts, cells.broken_at, cells.problem

    def is_allocated_cell(self, cell: int) -> bool:
        if cell < HBIN_HEADER_SIZE or cell >= self.end or cell % CELL_ALIGN:
            return False
        self._map_bin(self.bin_index(cell))
        return self._is_start(cell) and self.raw_size(cell) < 0

    def _is_start(self, cell: int) -> bool:
        return self.start_marks[cell >> 3] == 1

    def _set_start(self, cell: int) -> None:
        self.start_marks[cell >> 3] = 1

    def _clear_start(self, cell: int) -> None:
        self.start_marks[cell >> 3] = 0

    def raw_size(self, cell: int) -> int:
        size: int = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
        return size

    def references(self) -> References:
        if self._refs is None:
            self._refs = References(self)
        return self._refs

    def live_holder(self, offset: int, ignore_cells: Collection[int] = (), count_pending: bool = False) -> int | None:
        """The allocated cell whose payload holds cell-space ``offset`` (a word there may be a
        pointer that is read), UNKNOWN_CELL where the bin's cells cannot be walked, or None: in
        a bin header, a free cell, one of ``ignore_cells``, or (unless ``count_pending``) a
        cell an edit is letting go of."""
        if offset >= self.end:
            return None
        cells = self._map_bin(self._page_bin[offset // PAGE])
        if cells.broken_at is not None and offset >= cells.broken_at:
            return UNKNOWN_CELL
        starts = cells.starts
        i = bisect_right(starts, offset) - 1
        if i < 0:
            return None  # the bin header
        start = starts[i]
        if offset < start + 4 or start in ignore_cells or (start in self._pending and not count_pending):
            return None
        return start if self.raw_size(start) < 0 else None

    def held_elsewhere(self, cell: int, held_at: Collection[int] = ()) -> bool:
        """Whether anything but the pointers at file positions ``held_at`` may point at ``cell``.
        Never for a cell this session allocated: only our own pointers lead there."""
        if cell in self._own:
            return False
        return self.references().held(cell, ignore_cells=(cell,), ignore_at=held_at)

    def payload(self, cell: int, what: Described, kind: int = 0, where: int | None = None) -> tuple[int, int]:
        """File offset and length of the payload of the allocated cell ``cell``.

        ``what`` names the pointer for the error message ("subkey list of nk at ..."); it may be
        a function, called only for the message. With ``kind`` and ``where`` (unused: any bad
        pointer raises) this is how the records' walks follow pointers (``records.cells.Follow``).
        """
        # The sound case in one test: a walk follows every pointer of the hive through here.
        if HBIN_HEADER_SIZE <= cell < self.end and not cell & 7 and self.start_marks[cell >> 3]:
            size = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
            if size < 0:
                return HBIN_BASE + cell + 4, -size - 4
        return self._checked_payload(cell, what)

    def _checked_payload(self, cell: int, what: Described) -> tuple[int, int]:
        """:meth:`payload` past its sound case: map the bin, then raise what is wrong."""
        if cell >= self.end or cell < HBIN_HEADER_SIZE or cell % CELL_ALIGN:
            raise HiveFormatError(
                f"{describe(what)} points at cell offset 0x{cell:x}, outside the hive bins or not on an "
                f"8-byte cell boundary",
                file_offset(cell) if cell < self.end else None,
            )
        if not self._is_start(cell):
            cells = self._map_bin(self._page_bin[cell // PAGE])
            if not self._is_start(cell):
                if cells.broken_at is not None and cell >= cells.broken_at:
                    raise HiveFormatError(
                        f"{describe(what)} points into a damaged bin region: {cells.problem}",
                        file_offset(cells.broken_at),
                    )
                raise HiveFormatError(f"{describe(what)} points at the middle of a cell, not its start",
                                      file_offset(cell))
        size = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
        if size >= 0:
            raise HiveFormatError(f"{describe(what)} points at a free cell", file_offset(cell))
        return HBIN_BASE + cell + 4, -size - 4

    def free_cells(self) -> list[int]:
        """The free cells of the mapped bins that allocation has not taken or refused, in file
        order: after :meth:`map_all` on a hive not edited, every free cell of its sound bins."""
        return sorted(cell for _, cell in self._free)

    def iter_cells(self) -> Iterator[tuple[int, int]]:
        """Every cell of every sound bin region as (cell offset, signed size)."""
        for index in range(len(self.bins)):
            for start in self._map_bin(index).starts:
                yield start, self.raw_size(start)

    # ----------------------------------------------------------------- writing
    def alloc(self, payload_len: int) -> int:
        """Allocate a zeroed cell for ``payload_len`` bytes; reuse free space that nothing
        points at before growing (see ``_may_hand_out``)."""
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
        self._own.add(cell)
        return cell

    def free(self, cell: int) -> None:
        """Let go of an allocated cell. One this session allocated is freed at once; one that
        was allocated when the hive was opened waits for :meth:`settle`."""
        if not self.is_allocated_cell(cell):
            where = file_offset(cell) if cell < self.end else None
            raise HiveFormatError(f"tried to free cell offset 0x{cell:x}, which is not an allocated cell", where)
        if cell in self._own:
            self._own.discard(cell)
            self._release(cell)
        elif cell in self._pending:
            raise HiveFormatError("tried to free a cell twice: two records share it", file_offset(cell))
        else:
            self._pending[cell] = None

    def settle(self) -> None:
        """Free the cells an edit let go of, once it has rewritten every pointer it dropped,
        except those something else still points at (a damaged hive: two owners of one cell).
        Those stay allocated for their other owner and are listed in ``kept``."""
        if not self._pending:
            return
        pending = list(self._pending)
        refs = self.references()
        kept: set[int] = set()
        grew = True
        while grew:  # a kept cell's own pointers keep what they point at
            grew = False
            for cell in pending:
                if cell not in kept and refs.held(cell, ignore_cells=(cell,)):
                    kept.add(cell)
                    del self._pending[cell]  # its words count from now on
                    grew = True
        self._pending.clear()
        for cell in pending:
            if cell in kept:
                self.kept.append(cell)
            else:
                self._release(cell)

    def _release(self, cell: int) -> None:
        """Mark a cell free and merge it with free neighbours in its bin (as Windows does)."""
        length = -self.raw_size(cell)
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
        free = self._free
        while True:
            i = bisect_left(free, (need, -1))
            if i < len(free):
                size, cell = free[i]
                # Asking may map bins, which adds their free cells to the list: take the
                # entry out by value afterwards, never by its old index.
                usable = self._may_hand_out(cell)
                self._unlist_free(size, cell)
                if usable:
                    return cell
                self.refused.append(cell)  # it stays free and is not handed out in this session
                continue
            if budget == 0 or not self._map_next_bin():
                return None
            budget -= 1

    def _may_hand_out(self, cell: int) -> bool:
        """A free cell may become a record only if no live word holds its offset: in a damaged
        hive a dangling pointer would otherwise gain a target. Words in cells an edit is
        letting go of count here, since one of them may turn out to have another owner.

        Finding out costs one pass over the file per 64 KiB window of cells asked about (about
        0.3 ms per MB). It is paid on big hives too: growing instead would make every write
        session add a bin, so a hive edited in place again and again would grow without end.
        """
        if cell >= self._opened_end:
            return True  # appended by this session: the file as opened ends before it
        return not self.references().held(cell, count_pending=True)

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
        self.start_marks.extend(bytes(max(0, ((start + size) >> 3) + 1 - len(self.start_marks))))
        self._set_start(cell)
        self.end = start + size
        return cell

    def damaged_bins(self) -> list[Bin]:
        return list(self._damaged)
