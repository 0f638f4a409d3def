"""What may point at a cell: the hive's bytes searched for its offset.

An edit of a damaged hive must not turn one damage into another. If a value list already
points at a free cell, handing that cell out for a new record makes two owners of one cell;
if two records share a cell, freeing it for one leaves the other pointing at free space. So
the allocator asks before it hands out a cell that was free when the hive was opened, and an
edit asks before it frees or overwrites a cell it did not allocate itself: is the cell's
offset held anywhere else?

The search is exact in the direction that matters. Every pointer in a hive is a little-endian
u32 cell offset at a 4-byte-aligned position inside an allocated cell (regf-format 3), so if
no such word holds the offset, nothing points there. A word that holds it counts only where a
reader would follow it: in a record (nk, vk, sk, db, a subkey list) only at its pointer
fields, in a cell without a signature only if a key's value list field or a big-data record
leads there and the word is within that list's count. So the old offsets Windows leaves in
the slack of value records, and numbers in value data, do not keep a cell; on the clean
corpus hives no cell is kept or refused for such a reason. Words in the base block (but the
root pointer), in bin headers and in free cells never count, nor (when freeing) words in the
cells the same edit lets go of.

One pass over the file answers for a whole 64 KiB window of offsets: the upper two bytes of
every offset in the window are the same, so they are the needle, and each hit is a candidate
word to read. Windows where that needle is a common number (offsets below 1 MiB, or a low
byte of 0) or that one cell holds hundreds of thousands of times (the one security cell of
a bulk-built hive) are searched one offset at a time instead, with all four bytes. ``re``
finds a literal about three times faster than ``bytes.find`` when the needle ends in a zero
byte, as offsets below 16 MiB do. Results are kept for the whole session: our own edits only
ever write pointers to allocated cells, and a word they overwrite is read again before it
counts.
"""
from __future__ import annotations

import re
import struct
import weakref
from typing import Collection, Protocol

from ..records.base_block import BASE_BLOCK
from ..records.bins import HBIN_BASE
from ..records.data import DB, INLINE
from ..records.lists import ENTRY_SIZE
from ..records.nk import KEY_PREDEF_HANDLE, NK
from ..records.sk import SK, SK_SIGNATURE
from ..records.record import HiveImage, ReadBuffer
from ..records.vk import VK


class CellSpace(Protocol):
    """What the search needs of :class:`~.space.CellSpace` (which owns a References)."""

    buf: HiveImage
    end: int

    def live_holder(self, offset: int, ignore_cells: Collection[int] = (), count_pending: bool = False) -> int | None:
        ...

WINDOW_BITS = 16
MIN_WINDOW = 16  # offsets below 1 MiB: the needle would be a small number, found everywhere
MAX_WINDOW_HITS = 20_000  # beyond this a window is searched offset by offset
_U32 = struct.Struct("<I")
ROOT_AT = BASE_BLOCK.offset["root_cell"]


class References:
    """Where the words that may point at a cell are, found on first need and then kept."""

    def __init__(self, space: CellSpace) -> None:
        # Weak: the space keeps this object, and a cycle would keep a hive's whole buffer alive
        # until the cyclic garbage collector runs (a new buffer for every hive opened meanwhile).
        self._space = weakref.ref(space)
        self._windows: dict[int, dict[int, list[int]] | None] = {}  # None: search offset by offset
        self._offsets: dict[int, list[int]] = {}
        self.searches = 0  # passes over the file, for tests and benchmarks

    @property
    def space(self) -> CellSpace:
        space = self._space()
        assert space is not None  # only a live CellSpace asks
        return space

    def known(self, cell: int) -> bool:
        """Whether :meth:`holders` can answer for ``cell`` without a new pass over the file."""
        window = cell >> WINDOW_BITS
        if window not in self._windows:
            return False
        return self._windows[window] is not None or cell in self._offsets

    def holders(self, cell: int) -> list[int]:
        """File positions of aligned words in the hive bins that held ``cell`` when searched."""
        window = cell >> WINDOW_BITS
        if window not in self._windows:
            self._windows[window] = self._search_window(window)
        table = self._windows[window]
        if table is not None:
            return table.get(cell, [])
        found = self._offsets.get(cell)
        if found is None:
            found = self._offsets[cell] = self._search_offset(cell)
        return found

    def held(
        self,
        cell: int,
        ignore_cells: Collection[int] = (),
        ignore_at: Collection[int] = (),
        count_pending: bool = False,
    ) -> bool:
        """Whether a word that a reader would follow as a pointer holds ``cell`` now: inside an
        allocated cell (``CellSpace.live_holder`` says which count), not at one of the file
        positions ``ignore_at``."""
        if cell == _U32.unpack_from(self.space.buf, ROOT_AT)[0]:
            return True  # the base block points at the root key, and the base block is not searched
        for at, holder in self._live_words(cell, ignore_cells, ignore_at, count_pending):
            if self._read_as_pointer(holder, at, cell, ignore_cells, count_pending):
                return True
        return False

    def _live_words(
        self, cell: int, ignore_cells: Collection[int], ignore_at: Collection[int], count_pending: bool
    ) -> list[tuple[int, int]]:
        """(file position, holder cell) of the words that hold ``cell`` now, inside allocated
        cells (UNKNOWN_CELL as holder where the cells cannot be walked)."""
        space = self.space
        word = _U32.pack(cell)
        found = []
        for at in self.holders(cell):
            if at in ignore_at or space.buf[at : at + 4] != word:
                continue  # the pointer being dropped, or a word our edits overwrote since
            holder = space.live_holder(at - HBIN_BASE, ignore_cells, count_pending)
            if holder is not None:
                found.append((at, holder))
        return found

    def _read_as_pointer(
        self, holder: int, at: int, target: int, ignore_cells: Collection[int], count_pending: bool
    ) -> bool:
        """Whether a reader following the hive's pointers reads the word at ``at`` as one.

        A record is read by its layout (:func:`pointer_field`). A cell without a signature is
        a list of pointers only where a key's value list field or a big-data record's segment
        list field leads to it, and then only up to that record's count: elsewhere (value
        data, a class name, list slack, a leaked cell) its words are never followed. Finding
        those records is one more search, for the holder's own offset.
        """
        if holder < 0:
            return True  # UNKNOWN_CELL: a damaged bin, assume the worst
        buf = self.space.buf
        field = pointer_field(buf, holder, at, target)
        if field is not None:
            return field
        index = (at - (HBIN_BASE + holder + 4)) // 4
        for ref_at, referrer in self._live_words(holder, ignore_cells, (), count_pending):
            if referrer < 0:
                return True
            count = list_count_at(buf, referrer, ref_at)
            if count is not None and index < count:
                return True
        return False

    # ------------------------------------------------------------------ searching
    def _bounds(self) -> tuple[int, int]:
        return HBIN_BASE, HBIN_BASE + self.space.end

    def _search_window(self, window: int) -> dict[int, list[int]] | None:
        needle = bytes((window & 0xFF, window >> 8 & 0xFF))
        if window < MIN_WINDOW or needle[0] == 0 or needle[0] == needle[1]:
            # Common numbers, a slow first byte, or a needle that can overlap itself (a match
            # could hide the aligned one next to it): one offset at a time.
            return None
        self.searches += 1
        start, end = self._bounds()
        buf, unpack = self.space.buf, _U32.unpack_from
        table: dict[int, list[int]] = {}
        hits = 0
        # The needle is the upper half of a word: its match starts 2 bytes into the word.
        for match in re.compile(re.escape(needle)).finditer(buf, start + 2, end):
            at = match.start() - 2
            hits += 1
            if hits > MAX_WINDOW_HITS:
                return None
            if at & 3:
                continue
            value = unpack(buf, at)[0]
            if value & 7 == 0:  # cells start on 8-byte boundaries
                table.setdefault(value, []).append(at)
        return table

    def _search_offset(self, cell: int) -> list[int]:
        self.searches += 1
        word = _U32.pack(cell)
        # Leading zero bytes (offsets are multiples of 8, often of 256) would make re try a
        # match at every zero byte of the file: search from the first non-zero byte instead,
        # then compare the whole word.
        skip = 0
        while skip < 2 and word[skip] == 0:
            skip += 1
        needle = word[skip:]
        start, end = self._bounds()
        buf = self.space.buf
        found = []
        if any(needle[shift:] == needle[: len(needle) - shift] for shift in range(1, len(needle))):
            # A needle that overlaps itself: re would skip the overlapping matches.
            at = buf.find(word, start, end)
            while at != -1:
                if not at & 3:
                    found.append(at)
                at = buf.find(word, at + 1, end)
            return found
        for match in re.compile(re.escape(needle)).finditer(buf, start + skip, end):
            at = match.start() - skip
            if not at & 3 and buf[at : at + 4] == word:
                found.append(at)
        return found


# Offsets (from the cell start) of the fields of each record that a reader follows; for nk
# also the count that must be non-zero for the field to be read (the class pointer is
# read even with a class length of 0: the checker counts its cell as used).
_NK_POINTERS: dict[int, str | None] = {
    4 + NK.offset["subkeys"]: "subkey_count",
    4 + NK.offset["values"]: "value_count",
    4 + NK.offset["security"]: None,
    4 + NK.offset["class_cell"]: None,
}
_NK_SECURITY = 4 + NK.offset["security"]


def _is_sk(buf: ReadBuffer, cell: int) -> bool:
    at = HBIN_BASE + cell + 4
    return bytes(buf[at : at + 2]) == SK_SIGNATURE


def pointer_field(buf: ReadBuffer, holder: int, at: int, target: int) -> bool | None:
    """Whether the word at file position ``at`` in the allocated cell ``holder``, which holds
    the cell offset ``target``, is a field that readers follow there; None for a cell without
    a record signature (a value list, a segment list, data), which only its referrers can tell.

    A cell that starts with a signature is read as that record, so the slack after a value's
    name (where Windows leaves old offsets) or a key's timestamp never counts. No pointer list
    can start with a signature: its first word, a cell offset, is a multiple of 8, and no
    signature is. A security pointer is followed only to a cell that is an sk: the checker
    and Windows test the signature first, so a damaged one that leads elsewhere uses nothing.
    """
    payload = HBIN_BASE + holder + 4
    rel = at - payload + 4  # from the cell start, as the tables above count
    signature = bytes(buf[payload : payload + 2])
    if signature == b"nk":
        if rel not in _NK_POINTERS:
            return False
        counter = _NK_POINTERS[rel]
        if rel == _NK_SECURITY:
            return _is_sk(buf, target)
        return counter is None or NK.read(buf, payload, counter) != 0
    if signature == b"vk":
        size = VK.read(buf, payload, "data_size")
        return rel == 4 + VK.offset["data"] and not size & INLINE and size != 0
    if signature == b"sk":
        # blink is only compared with the ring, never followed
        return rel == 4 + SK.offset["flink"] and _is_sk(buf, target)
    if signature == b"db":
        return rel == 4 + DB.offset["segment_list"]
    step = ENTRY_SIZE.get(signature)
    if step is not None:
        count = int.from_bytes(buf[payload + 2 : payload + 4], "little")
        index, phase = divmod(rel - 8, step)
        return rel >= 8 and phase == 0 and index < count
    return None


def list_count_at(buf: ReadBuffer, referrer: int, at: int) -> int | None:
    """The number of pointers in the cell that the word at ``at`` (in the record ``referrer``)
    points at, when that word is a key's value list field or a big-data segment list field."""
    payload = HBIN_BASE + referrer + 4
    signature = bytes(buf[payload : payload + 2])
    if signature == b"nk" and at == payload + NK.offset["values"]:
        if NK.read(buf, payload, "flags") & KEY_PREDEF_HANDLE:
            return None  # the count field holds a handle; the list is never read
        values: int = NK.read(buf, payload, "value_count")
        return values
    if signature == b"db" and at == payload + DB.offset["segment_list"]:
        segments: int = DB.read(buf, payload, "segment_count")
        return segments
    return None
