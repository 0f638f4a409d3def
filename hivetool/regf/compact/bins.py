"""Laying cells out bin by bin for a hive written from scratch (compaction, bulk building).

:class:`BinWriter` hands out cell offsets the way a fresh file fills up: a cell goes into
one of the bins still open, else a new bin starts (4 KiB, or the multiple of 4 KiB that
one large cell needs, regf-format 2.2). Keeping the last few dozen bins open and placing
each cell in the one whose room fits it best lets small cells fill the ends that larger
ones left, so the result is as tight as what Windows writes (measured: the same size as
the ``reg save``-made SYSTEM hive of the corpus). When a bin leaves that window its unused
end becomes one free cell and the bin is final.

A writer that only plans computes the same offsets without bytes; one that emits also
builds the open bins and hands finished ones out in file order, so a hive of any size is
written with a few bins (plus a batch of about 1 MiB) in memory.
"""
from __future__ import annotations

import struct
from bisect import bisect_left, insort

from ..records.bins import HBIN, HBIN_HEADER_SIZE, PAGE

_I32 = struct.Struct("<i")
BATCH_BYTES = 1 << 20
OPEN_BINS = 64
MIN_CELL = 8


class BinWriter:
    def __init__(self, emit: bool, timestamp: int = 0) -> None:
        self.emit = emit
        self.timestamp = timestamp  # the first bin keeps a copy of the header's time (2.1)
        self.end = 0  # cell offset where the next new bin starts
        # The open bins by number (numbers grow with the offset): where each starts, its
        # next free offset, its end; and (free bytes, number) sorted, for best fit.
        self._first_open = 0
        self._starts: list[int] = []
        self._cursors: list[int] = []
        self._ends: list[int] = []
        self._bins: dict[int, bytearray] = {}
        self._room: list[tuple[int, int]] = []
        self._ready = bytearray()  # finished bins not yet handed out

    def put(self, length: int, payload: bytes | bytearray | memoryview | None = None) -> int:
        """Place a cell for ``length`` payload bytes and, when emitting, write ``payload``."""
        size = (length + 11) & ~7  # cell_size_for, inlined: this runs for every cell
        room = self._room
        i = bisect_left(room, (size,))  # (size,) sorts before every (size, number)
        if i < len(room):
            free, number = room.pop(i)
        else:
            number = self._open_bin(size)
            free = self._ends[number] - self._cursors[number]
        cursors = self._cursors
        cell = cursors[number]
        cursors[number] = cell + size
        if free - size >= MIN_CELL:
            insort(room, (free - size, number))
        if self.emit:
            binbuf, at = self._bins[number], cell - self._starts[number]
            _I32.pack_into(binbuf, at, -size)
            if payload:
                binbuf[at + 4 : at + 4 + len(payload)] = payload
        return cell

    def _open_bin(self, need: int) -> int:
        if len(self._starts) - self._first_open >= OPEN_BINS:
            self._close_oldest()
        size = max(PAGE, -(-(need + HBIN_HEADER_SIZE) // PAGE) * PAGE)
        start = self.end
        self.end = start + size
        number = len(self._starts)
        self._starts.append(start)
        self._cursors.append(start + HBIN_HEADER_SIZE)
        self._ends.append(start + size)
        if self.emit:
            binbuf = bytearray(size)
            HBIN.pack_into(binbuf, 0, offset=start, size=size, timestamp=self.timestamp if start == 0 else 0)
            self._bins[number] = binbuf
        return number

    def _close_oldest(self) -> None:
        number = self._first_open
        self._first_open += 1
        start, cursor, end = self._starts[number], self._cursors[number], self._ends[number]
        if end - cursor >= MIN_CELL:
            self._room.remove((end - cursor, number))
        if self.emit:
            binbuf = self._bins.pop(number)
            if end > cursor:
                # Cells must tile the bin exactly: the unused end is one free cell.
                _I32.pack_into(binbuf, cursor - start, end - cursor)
            self._ready += binbuf

    def finish(self) -> int:
        """Close every bin; returns the size of the hive-bins area."""
        while self._first_open < len(self._starts):
            self._close_oldest()
        return self.end

    def take(self, at_least: int = BATCH_BYTES) -> bytearray | None:
        """Finished bytes once ``at_least`` of them have gathered (0: whatever there is)."""
        if not self._ready or len(self._ready) < at_least:
            return None
        ready, self._ready = self._ready, bytearray()
        return ready
