"""Laying cells out bin by bin for a hive written from scratch (compaction, bulk building).

A layout places every cell twice over the same sequence of requests: once to learn where
everything goes, once to write it. Placement is decided once, by :class:`BinPlanner`, which
hands out offsets the way a fresh file fills up: a cell goes into one of the bins still open,
else a new bin starts (4 KiB, or the multiple of 4 KiB that one large cell needs,
regf-format 2.2). Keeping the last few dozen bins open and placing each cell in the one
whose room fits it best lets small cells fill the ends that larger ones left, so the result
is as tight as what Windows writes (measured: the same size as the ``reg save``-made SYSTEM
hive of the corpus). When a bin leaves that window its unused end becomes one free cell and
the bin is final.

The planner keeps what it decided: each cell's offset and size in request order (8 bytes a
cell) and when each bin was closed. :class:`BinEmitter` replays that plan, writing the
bytes; it checks that every request has the size planned, so a source that answers
differently the second time cannot make cells overlap. It builds only the bins still open
(plus a batch of about 1 MiB) and hands finished ones out in file order, so a hive of any
size is written with little in memory.
"""
from __future__ import annotations

import struct
from array import array
from bisect import bisect_left, insort

from ...errors import HiveFormatError
from ..records.bins import HBIN, HBIN_HEADER_SIZE, PAGE

_I32 = struct.Struct("<i")
BATCH_BYTES = 1 << 20
OPEN_BINS = 64
MIN_CELL = 8
_CHANGED = "the hive changed while it was being compacted"


class BinPlanner:
    """Pass 1: where each cell goes (best fit over the open bins), remembered for the emitter."""

    def __init__(self) -> None:
        self.end = 0  # cell offset where the next new bin starts
        # The open bins by number (numbers grow with the offset): where each starts, its
        # next free offset, its end; and (free bytes, number) sorted, for best fit.
        self._first_open = 0
        self.starts: list[int] = []
        self.cursors: list[int] = []  # after finish(): where each bin's free end starts
        self.ends: list[int] = []
        self._room: list[tuple[int, int]] = []
        self.cells = array("I")  # the plan: offset and size of each cell, in request order
        self.sizes = array("I")
        self.closed_after = array("I")  # per bin: how many cells had been placed when it closed

    def put(self, length: int, payload: object = None) -> int:
        """Place a cell for ``length`` payload bytes (``payload`` is for the emitter's sake)."""
        size = (length + 11) & ~7  # cell_size_for, inlined: this runs for every cell
        room = self._room
        i = bisect_left(room, (size,))  # (size,) sorts before every (size, number)
        if i < len(room):
            free, number = room.pop(i)
        else:
            number = self._open_bin(size)
            free = self.ends[number] - self.cursors[number]
        cursors = self.cursors
        cell = cursors[number]
        cursors[number] = cell + size
        if free - size >= MIN_CELL:
            insort(room, (free - size, number))
        self.cells.append(cell)
        self.sizes.append(size)
        return cell

    def _open_bin(self, need: int) -> int:
        if len(self.starts) - self._first_open >= OPEN_BINS:
            self._close_oldest()
        size = max(PAGE, -(-(need + HBIN_HEADER_SIZE) // PAGE) * PAGE)
        start = self.end
        self.end = start + size
        self.starts.append(start)
        self.cursors.append(start + HBIN_HEADER_SIZE)
        self.ends.append(start + size)
        return len(self.starts) - 1

    def _close_oldest(self) -> None:
        number = self._first_open
        self._first_open += 1
        cursor, end = self.cursors[number], self.ends[number]
        if end - cursor >= MIN_CELL:
            self._room.remove((end - cursor, number))
        self.closed_after.append(len(self.cells))

    def finish(self) -> int:
        """Close every bin; returns the size of the hive-bins area."""
        while self._first_open < len(self.starts):
            self._close_oldest()
        return self.end


class BinEmitter:
    """Pass 2: the planned cells written, bins handed out in file order as they are final."""

    def __init__(self, plan: BinPlanner, timestamp: int = 0) -> None:
        self.plan = plan
        self.timestamp = timestamp  # the first bin keeps a copy of the header's time (2.1)
        self._cells, self._sizes = plan.cells, plan.sizes
        self._placed = 0  # cells written so far
        self._opened = 0  # bins in the window or handed out
        self._final = 0  # bins that will receive no more cells
        self._base = 0  # cell offset of the window's first byte
        self._window = bytearray()  # the bins from the first not handed out to the last opened

    def put(self, length: int, payload: bytes | bytearray | memoryview | None = None) -> int:
        """Write the next planned cell: ``length`` payload bytes, ``payload`` if given."""
        i = self._placed
        size = (length + 11) & ~7
        if i >= len(self._cells) or self._sizes[i] != size:
            raise HiveFormatError(f"{_CHANGED} (cell {i} of the plan)")
        self._placed = i + 1
        cell = self._cells[i]
        at = cell - self._base
        window = self._window
        if at >= len(window):
            self._open_through(cell)
        _I32.pack_into(window, at, -size)
        if payload:
            window[at + 4 : at + 4 + len(payload)] = payload
        return cell

    def _open_through(self, cell: int) -> None:
        """Add the planned bins up to the one holding ``cell`` to the window: the header, and
        the unused end as one free cell (cells must tile a bin exactly)."""
        plan, window = self.plan, self._window
        while self._base + len(window) <= cell:
            number = self._opened
            start, cursor, end = plan.starts[number], plan.cursors[number], plan.ends[number]
            binbuf = bytearray(end - start)
            HBIN.pack_into(binbuf, 0, offset=start, size=end - start, timestamp=self.timestamp if start == 0 else 0)
            if end > cursor:
                _I32.pack_into(binbuf, cursor - start, end - cursor)
            window += binbuf
            self._opened = number + 1

    def finish(self) -> int:
        """Every planned cell written: all bins are final; returns the size of the hive-bins area."""
        if self._placed != len(self._cells):
            raise HiveFormatError(f"{_CHANGED} ({len(self._cells) - self._placed} planned cells not written)")
        self._open_through(self.plan.end - 1)
        self._final = self._opened
        return self.plan.end

    def take(self, at_least: int = BATCH_BYTES) -> bytearray | None:
        """Finished bytes once ``at_least`` of them have gathered (0: whatever there is)."""
        plan, closed_after, placed = self.plan, self.plan.closed_after, self._placed
        final = self._final
        while final < self._opened and closed_after[final] <= placed:
            final += 1
        self._final = final
        ready = (plan.starts[final] if final < len(plan.starts) else plan.end) - self._base
        if ready <= 0 or ready < at_least:
            return None
        window = self._window
        out = window[:ready]
        del window[:ready]  # a bytearray drops its head without moving the rest
        self._base += ready
        return out
