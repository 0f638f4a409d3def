"""Finding remnants of records: every place outside the live tree where a key node or a value
record may have survived, and the checks of what a remnant still points at.

Where deleted records are (regf-format 3): Windows frees a deleted record's cell and merges it
with free neighbours, so an old record starts at an old cell boundary (a multiple of 8 from the
first bin) inside a free cell; a cell that was taken again whole keeps the old bytes behind the
new record as slack; allocated cells that nothing reaches are leaked records; and bytes past the
last bin of the hive (and, in a salvaged hive, damaged bins) are remnants of an older, larger
hive. The live tree's own records are never candidates (:mod:`.live`).

The search is one pass of the regular-expression engine over the file for the two signatures;
only hits on a record's place in a cell (4 bytes after a cell boundary) are looked at further.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Iterator

from ..regf.records.bins import HBIN_BASE, PAGE
from ..regf.records.cells import CELL_ALIGN, KIND_NAMES
from .live import LiveCells
from .plausible import Candidate, key_candidate, value_candidate

FREE_CELL = "free cell"
INSIDE_FREE_CELL = "free cell (inside a larger free cell, merged after it was freed)"
UNREACHED_CELL = "allocated cell that nothing in the live tree reaches"
INSIDE_UNREACHED_CELL = "inside an allocated cell that nothing in the live tree reaches"
PAST_BINS = "past the last hive bin"
DAMAGED_BIN = "damaged hive bin"
_SIGNATURES = re.compile(rb"[nv]k")


def slack_of(kind: int) -> str:
    """``slack of a live value list``: the unused tail of a cell the live tree uses."""
    return f"slack of a live cell ({KIND_NAMES.get(kind, 'in use')})"


class Places:
    """What holds a given cell offset: which bin, which cell, whether the live tree uses it."""

    def __init__(self, live: LiveCells) -> None:
        self.live = live
        self.space = live.space
        self.bin_starts = live.space.bins.starts
        self.bin_sizes = live.space.bins.sizes
        self.damaged = live.space.bins.problems

    def bin_of(self, cell: int) -> tuple[int, int, int]:
        """(index, start, end) of the bin holding the cell offset ``cell`` (inside the bins)."""
        index = self.space.bin_index(cell)
        start = self.bin_starts[index]
        return index, start, start + self.bin_sizes[index]

    def where(self, cell: int) -> tuple[str, int] | None:
        """Where a record whose cell starts at ``cell`` lies, and the cell offset its cell may not
        cross; None where no remnant can be (a live record, the used part of a live cell, a bin
        header)."""
        live = self.live
        if cell >= live.end:
            return PAST_BINS, (len(live.buf) - HBIN_BASE) // CELL_ALIGN * CELL_ALIGN
        index, start, end = self.bin_of(cell)
        if index in self.damaged:
            return DAMAGED_BIN, end
        starts, broken_at, _ = self.space.bin_cells(index)
        if broken_at is not None and cell >= broken_at:
            return DAMAGED_BIN, end
        i = bisect_right(starts, cell) - 1
        if i < 0:
            return None  # inside the bin header
        holder = starts[i]
        size = self.space.raw_size(holder)
        kind = live.kinds[holder // CELL_ALIGN]
        if holder == cell:
            if kind:
                return None
            return (FREE_CELL if size > 0 else UNREACHED_CELL), end
        if size > 0:
            return INSIDE_FREE_CELL, end
        if not kind:
            return INSIDE_UNREACHED_CELL, end
        used = live.slack.get(holder)
        if used is None or cell < holder + 4 + used:
            return None
        return slack_of(kind), end

    def overwritten(self, first: int, end: int) -> int:
        """How many bytes of the cell-offset range [first, end) the live tree now uses (its
        cells' size fields and used payloads; not their slack). Bytes past the bins count as
        not overwritten, bin headers and damaged bins as overwritten."""
        live = self.live
        total = 0
        at = first
        stop = min(end, live.end)
        while at < stop:
            index, bin_start, bin_end = self.bin_of(at)
            upto = min(stop, bin_end)
            if index in self.damaged:
                total += upto - at
                at = upto
                continue
            starts, broken_at, _ = self.space.bin_cells(index)
            header_end = bin_start + 32
            if at < header_end:
                total += min(upto, header_end) - at
            i = max(bisect_right(starts, at) - 1, 0)
            while i < len(starts) and starts[i] < upto:
                cell = starts[i]
                i += 1
                if not live.kinds[cell // CELL_ALIGN]:
                    continue
                length = -self.space.raw_size(cell)
                used_end = cell + 4 + live.used(cell, length - 4)
                total += max(0, min(used_end, upto) - max(cell, at))
            if broken_at is not None and broken_at < upto:
                total += upto - max(broken_at, at)
            at = upto
        return total

    def same_bin(self, first: int, end: int) -> bool:
        """Whether [first, end) lies inside one bin (a cell never crosses a bin's end), or wholly
        past the bins."""
        live = self.live
        if first >= live.end:
            return end <= len(live.buf) - HBIN_BASE
        if end > live.end:
            return False
        _, start, bin_end = self.bin_of(first)
        return first >= start + 32 and end <= bin_end


def find_candidates(live: LiveCells, places: Places) -> Iterator[tuple[Candidate, str]]:
    """Every key node and value record outside the live tree that passes the rules of
    :mod:`.plausible`, in file order, with where it was found."""
    buf = live.buf
    for match in _SIGNATURES.finditer(buf, HBIN_BASE + 4):
        at = match.start()
        if (at - HBIN_BASE) % CELL_ALIGN != 4:
            continue
        cell = at - 4 - HBIN_BASE
        found = places.where(cell)
        if found is None:
            continue
        where, limit = found
        if buf[at] == 0x6E:  # "n"
            candidate = key_candidate(buf, cell, limit)
        else:
            candidate = value_candidate(buf, cell, limit)
        if candidate is not None:
            yield candidate, where


__all__ = ["DAMAGED_BIN", "FREE_CELL", "PAGE", "PAST_BINS", "Places", "find_candidates"]
