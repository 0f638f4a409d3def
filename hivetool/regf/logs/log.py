"""Transaction log files: the old ``DIRT`` format and the new ``HvLE`` format
(regf-format section 9). This module only reads and checks them; :mod:`replay` applies them.

Both formats start with a 512-byte copy of the hive's base block (file type 1 or 2 for the
old format, 6 for the new one). A log is usable only when that copy is sound: signature,
checksum, equal sequence numbers (a log whose numbers differ was being written when the
machine stopped), and the fixed fields a primary must have too.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from ...inputs import open_input
from ...progress import QUIET, Progress
from ..records.base_block import BASE_BLOCK, SIGNATURE, base_block_problems
from ..records.record import Record
from .marvin import marvin32

SECTOR = 512  # log layout unit: header sector, entry alignment, old-format page size
PAGE = 4096  # hive-bins sizes are multiples of this
SEQUENCE_MASK = 0xFFFFFFFF

TYPE_OLD = 1  # Windows XP .. 8.0
TYPE_OLDEST = 2  # NT 4.0 / 2000: same layout as TYPE_OLD
TYPE_NEW = 6  # Windows 8.1 and later

FORMAT_NEW = "new (HvLE)"
FORMAT_OLD = "old (DIRT)"
FORMAT_EMPTY = "empty"
FORMAT_UNUSABLE = "unusable"

ENTRY_SIGNATURE = b"HvLE"
LOG_ENTRY = Record(
    "LogEntry",
    ("signature", "4s", ENTRY_SIGNATURE),
    ("size", "I"),
    ("flags", "I"),  # a copy of base-block flag bit 0 when the entry was written
    ("sequence", "I"),
    ("hbins_size", "I"),  # hive-bins size after this entry: the file grows to it
    ("page_count", "I"),
    ("hash1", "Q"),  # Marvin32 of bytes 40 .. size-1 (page references and pages)
    ("hash2", "Q"),  # Marvin32 of bytes 0 .. 31 (so it covers hash-1 too)
)
ENTRY_HEADER_SIZE = LOG_ENTRY.size  # 40
HASHED_HEADER_SIZE = LOG_ENTRY.offset["hash2"]  # 32
PAGE_REF = struct.Struct("<II")  # (offset inside the hive bins, size in bytes)

DIRTY_VECTOR_SIGNATURE = b"DIRT"


def sequence_before(a: int, b: int) -> bool:
    """``a`` comes before ``b`` in 32-bit sequence arithmetic (numbers wrap around)."""
    return 0 < ((b - a) & SEQUENCE_MASK) < 0x80000000


def next_sequence(n: int) -> int:
    return (n + 1) & SEQUENCE_MASK


@dataclass(frozen=True)
class LogHeader:
    """What a log's copy of the base block claims."""

    seq1: int
    seq2: int
    timestamp: int
    minor: int
    file_type: int
    root_cell: int
    hbins_size: int
    flags: int
    log_id: bytes
    raw: bytes  # the 512 bytes, which replace a broken primary header


@dataclass(frozen=True)
class PageRef:
    offset: int  # relative to the start of the hive bins
    size: int
    data_at: int  # where its bytes are in the log file


@dataclass(frozen=True)
class LogEntry:
    at: int  # file offset of the entry in its log
    size: int
    flags: int
    sequence: int
    hbins_size: int
    pages: tuple[PageRef, ...]


@dataclass
class EntryChain:
    """The entries of a new-format log that can be applied in order, and why the walk stopped.

    ``damage`` is None when the chain simply ends (no further entry, or an already applied
    older one: remnants are normal); otherwise it says what was wrong with the next entry.
    """

    entries: list[LogEntry] = field(default_factory=list)
    damage: str | None = None
    left_out: list[int] = field(default_factory=list)  # sequence numbers of entries not applied

    @property
    def first(self) -> int | None:
        return self.entries[0].sequence if self.entries else None

    @property
    def last(self) -> int | None:
        return self.entries[-1].sequence if self.entries else None


@dataclass(frozen=True)
class DirtyPage:
    """One 512-byte page of an old-format log: where it goes and where its bytes are."""

    offset: int  # relative to the start of the hive bins
    data_at: int  # in the log; may lie past the end of a truncated log


class TransactionLog:
    """One log file: its header, its format, and (lazily) its entries or dirty pages."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.header: LogHeader | None = None
        self.problem: str | None = None
        self.format = self._classify()

    @classmethod
    def read(cls, path: str | Path) -> "TransactionLog":
        with open_input(path, "transaction log", lock=None) as source:
            return cls(bytes(source.read_all()), str(path))

    # ------------------------------------------------------------------ header
    def _classify(self) -> str:
        data = self.data
        if not data:
            return FORMAT_EMPTY
        if len(data) < SECTOR:
            return self._unusable(f"{len(data)} bytes, shorter than the 512-byte log header (truncated)")
        rec = BASE_BLOCK.unpack(data, 0)
        if rec.signature != SIGNATURE:
            if not any(data[:SECTOR]):
                return self._unusable("its header sector is all zeros (a log that was never written)")
            return self._unusable(f"header signature is {bytes(rec.signature)!r}, expected b'regf'")
        self.header = LogHeader(
            rec.seq1, rec.seq2, rec.timestamp, rec.minor, rec.file_type, rec.root_cell, rec.hbins_size,
            rec.flags, rec.log_id, bytes(data[:SECTOR]),
        )
        for found in base_block_problems(data, log=True):
            why = found.message
            if found.code == "E-HDR-CHECKSUM":
                why += ": the header was being written when the machine stopped"
            return self._unusable(why)
        return FORMAT_NEW if rec.file_type == TYPE_NEW else FORMAT_OLD

    def _unusable(self, why: str) -> str:
        self.problem = why
        return FORMAT_UNUSABLE

    @property
    def usable(self) -> bool:
        return self.format in (FORMAT_NEW, FORMAT_OLD)

    @property
    def sequence(self) -> int:
        """The sequence number in the log's header: the first entry a new-format log holds."""
        if self.header is None:
            raise ValueError(f"{self.name} has no readable header")
        return self.header.seq1

    @cached_property
    def max_sequence(self) -> int:
        """The largest sequence number anywhere in the log: header, chain and remnant entries.

        A save must go above it, so that no stale entry can ever chain onto the saved hive.
        """
        if self.header is None:
            return 0
        found = max(self.header.seq1, self.header.seq2)
        for at in _entry_signatures(self.data, SECTOR):
            found = max(found, LOG_ENTRY.read(self.data, at, "sequence"))
        return found

    # ------------------------------------------------------------------ new format
    @cached_property
    def chain(self) -> EntryChain:
        """Entries from the header's sequence number on, each the next number, all checked."""
        return self.walk_chain(QUIET)

    def walk_chain(self, progress: Progress) -> EntryChain:
        """:attr:`chain`, computed now with each checked entry's bytes told to ``progress``
        (checking the hashes is most of a replay's time)."""
        if "chain" not in self.__dict__:
            self.__dict__["chain"] = (
                _walk_chain(self.data, self.sequence, progress) if self.format == FORMAT_NEW else EntryChain()
            )
        chain: EntryChain = self.__dict__["chain"]
        return chain

    # ------------------------------------------------------------------ old format
    def dirty_pages(self) -> tuple[list[DirtyPage], str | None]:
        """The pages an old-format log holds, in bitmap order, or a reason it holds none."""
        if self.format != FORMAT_OLD or self.header is None:
            return [], self.problem or "not an old-format log"
        data, hbins_size = self.data, self.header.hbins_size
        if data[SECTOR : SECTOR + 4] != DIRTY_VECTOR_SIGNATURE:
            return [], f"no DIRT dirty vector at log offset 0x{SECTOR:x}"
        # One bit per 512-byte page of the hive bins: hbins_size / 4096 bytes of bitmap.
        bitmap_at = SECTOR + 4
        bitmap = data[bitmap_at : bitmap_at + hbins_size // PAGE]
        if len(bitmap) < hbins_size // PAGE:
            return [], f"the dirty vector is cut short at log offset 0x{len(data):x} (truncated log)"
        pages_at = -(-(bitmap_at + len(bitmap)) // SECTOR) * SECTOR
        pages: list[DirtyPage] = []
        for byte_index, byte in enumerate(bitmap):
            if not byte:
                continue
            for bit in range(8):
                if byte >> bit & 1:
                    page = byte_index * 8 + bit
                    pages.append(DirtyPage(page * SECTOR, pages_at + len(pages) * SECTOR))
        if not pages:
            return [], "its dirty vector marks no page as dirty"
        return pages, None

    def describe(self) -> dict[str, Any]:
        """Facts for ``info`` and reports (JSON-ready)."""
        facts: dict[str, Any] = {"name": Path(self.name).name, "path": self.name, "size": len(self.data), "format": self.format}
        if self.header is not None:
            facts["sequence"] = self.header.seq1
            if self.header.seq2 != self.header.seq1:
                facts["sequence_2"] = self.header.seq2
        if self.problem:
            facts["problem"] = self.problem
        if self.format == FORMAT_NEW:
            chain = self.chain
            facts["entries"] = len(chain.entries)
            if chain.entries:
                facts["sequences"] = [chain.first, chain.last]
            if chain.damage:
                facts["damage"] = chain.damage
            if chain.left_out:
                facts["left_out"] = sequence_ranges(chain.left_out)
        elif self.format == FORMAT_OLD:
            pages, why = self.dirty_pages()
            facts["dirty_pages"] = len(pages)
            present = sum(1 for page in pages if page.data_at + SECTOR <= len(self.data))
            if why:
                facts["damage"] = why
            elif present < len(pages):
                facts["damage"] = f"only {present} of its {len(pages)} dirty pages are in the file (truncated log)"
        return facts


def _entry_signatures(data: bytes, start: int) -> Iterator[int]:
    """Offsets of sector-aligned ``HvLE`` signatures with a whole entry header, from ``start``."""
    at = data.find(ENTRY_SIGNATURE, start)
    while at >= 0:
        if at % SECTOR == 0 and at + ENTRY_HEADER_SIZE <= len(data):
            yield at
        at = data.find(ENTRY_SIGNATURE, at + 1)


def _walk_chain(data: bytes, first_sequence: int, progress: Progress = QUIET) -> EntryChain:
    chain = EntryChain()
    expected = first_sequence
    at = SECTOR
    view = memoryview(data)
    while at + ENTRY_HEADER_SIZE <= len(data):
        rec = LOG_ENTRY.unpack(data, at)
        if rec.signature != ENTRY_SIGNATURE:
            break  # the end of the entries written in this cycle
        problem = _entry_problem(view, at, rec, expected)
        if problem == "":
            break  # an older, already applied entry: a normal remnant
        if problem:
            chain.damage = f"entry at log offset 0x{at:x} (sequence {rec.sequence}): {problem}"
            break
        chain.entries.append(LogEntry(at, rec.size, rec.flags, rec.sequence, rec.hbins_size, _page_refs(data, at, rec)))
        progress.advance(rec.size)
        at += rec.size
        expected = next_sequence(expected)
    else:
        if data[at : at + 4] == ENTRY_SIGNATURE:
            chain.damage = f"entry at log offset 0x{at:x}: its header is cut short (truncated log)"
    if chain.damage is not None:
        # What the damage keeps out: the entries from the expected number on (older ones
        # are remnants of earlier cycles and were never due).
        later = (LOG_ENTRY.read(data, a, "sequence") for a in _entry_signatures(data, at))
        chain.left_out = sorted({n for n in later if not sequence_before(n, expected)})
    return chain


def _entry_problem(view: memoryview, at: int, rec: Any, expected: int) -> str | None:
    """Why the entry at ``at`` cannot be applied next; '' for an old remnant; None if sound.

    Cheap checks come first; hash-1 covers the whole entry and is computed last.
    """
    if rec.size < SECTOR or rec.size % SECTOR:
        return f"size {rec.size} is not a positive multiple of 512"
    if marvin32(view[at : at + HASHED_HEADER_SIZE]) != rec.hash2:
        return "hash-2 does not match the entry header"
    if rec.sequence != expected:
        if sequence_before(rec.sequence, expected):
            return ""
        return f"expected sequence {expected} next: entries {expected}..{(rec.sequence - 1) & SEQUENCE_MASK} are missing"
    if at + rec.size > len(view):
        return f"it runs {at + rec.size - len(view)} bytes past the end of the log (truncated log)"
    if rec.hbins_size == 0 or rec.hbins_size % PAGE:
        return f"hive-bins size 0x{rec.hbins_size:x} is not a positive multiple of 4096"
    if rec.page_count == 0 or ENTRY_HEADER_SIZE + PAGE_REF.size * rec.page_count > rec.size:
        return f"page count {rec.page_count} does not fit the entry"
    if marvin32(view[at + ENTRY_HEADER_SIZE : at + rec.size]) != rec.hash1:
        return "hash-1 does not match the entry's pages"
    total = ENTRY_HEADER_SIZE + PAGE_REF.size * rec.page_count
    for index in range(rec.page_count):
        offset, size = PAGE_REF.unpack_from(view, at + ENTRY_HEADER_SIZE + PAGE_REF.size * index)
        if size == 0 or offset + size > rec.hbins_size:
            return (
                f"page {index} (offset 0x{offset:x}, {size} bytes) lies outside the "
                f"0x{rec.hbins_size:x}-byte hive bins"
            )
        total += size
    if total > rec.size:
        return f"its pages need {total} bytes but the entry holds {rec.size}"
    return None


def _page_refs(data: bytes, at: int, rec: Any) -> tuple[PageRef, ...]:
    refs = []
    data_at = at + ENTRY_HEADER_SIZE + PAGE_REF.size * rec.page_count
    for index in range(rec.page_count):
        offset, size = PAGE_REF.unpack_from(data, at + ENTRY_HEADER_SIZE + PAGE_REF.size * index)
        refs.append(PageRef(offset, size, data_at))
        data_at += size
    return tuple(refs)


def sequence_ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``'3..5, 9'``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs)


def read_logs(paths: list[Path] | list[str]) -> list[TransactionLog]:
    return [TransactionLog.read(path) for path in paths]
