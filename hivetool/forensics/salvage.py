"""Reading a damaged hive as far as it goes (``--salvage``): a truncated file, damaged hive
bins, a bad base block. Never for writing.

Without ``--salvage`` such a hive is refused (a truncated one with E-FILE-TRUNCATED), as it
should be for editing. For reading, an examiner wants whatever is left, so a *copy* of the file
is mended in memory just enough for the engine to read it, and every mend and every loss is
noted with its file offset:

* the base block: a wrong signature, version, type or size field is replaced by what the bins
  show (regf-format 1.3), and a root pointer that leads to no key node is replaced by the key
  node flagged KEY_HIVE_ENTRY (4.2);
* the bins (2.2): a bin whose header is damaged but whose offset and size fields (or whose
  cells) show exactly where it ends is read as a bin; a region whose header cannot be trusted
  is kept as a damaged bin, which the engine never follows a pointer into; a file cut short
  ends in a bin shortened to what is there, its cells up to the cut still readable.

What cannot be read later (a pointer into a damaged region, a record cut in half) is noted by
the reading commands as they meet it (:mod:`.tolerant`). The mended copy is never written: a
:class:`SalvagedHive` refuses to save.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..errors import HiveFormatError, RefusedUnsafe
from ..fileio import Chunk
from ..inputs import DEFAULT_WAIT, SHARED, open_input
from ..regf.hive.hive import Hive
from ..regf.records.base_block import (
    BASE_BLOCK, BASE_BLOCK_SIZE, LOG_FILE_TYPES, SIGNATURE, SUPPORTED_MINORS, base_block_problems, checksum,
)
from ..regf.records.bins import HBIN, HBIN_BASE, HBIN_HEADER_SIZE, HBIN_SIGNATURE, PAGE, file_offset
from ..regf.records.cells import CELL_ALIGN, tile_bin
from ..regf.records.nk import KEY_HIVE_ENTRY, NK
from ..regf.records.problems import HiveFinding, problem
from ..timeutil import Clock

MAX_NOTED = 1000  # problems kept per hive; more are counted
_DAMAGED = b"\0bad"  # the signature a damaged region is given in the copy, so the engine skips it
# The header problems the bin walk explains better, and the dirty state, which every reading
# command already warns about.
_EXPLAINED_BELOW = {"E-FILE-TRUNCATED", "E-HDR-BINS-SIZE", "W-HDR-DIRTY"}


@dataclass
class SalvageLog:
    """What could not be read, each with its file offset, once each."""

    problems: list[HiveFinding] = field(default_factory=list)
    dropped: int = 0
    _seen: set[tuple[int | None, str]] = field(default_factory=set)

    def add(self, found: HiveFinding) -> None:
        key = (found.file_offset, found.message)
        if key in self._seen:
            return
        self._seen.add(key)
        if len(self.problems) < MAX_NOTED:
            self.problems.append(found)
        else:
            self.dropped += 1

    def error(self, err: HiveFormatError, code: str = "E-SALVAGE") -> None:
        self.add(problem(code, err.file_offset, err.detail))


class SalvagedHive(Hive):
    """A hive read from a mended copy of a damaged file: readable, never saved."""

    salvage: SalvageLog

    def saved_chunks(self) -> list[Chunk]:
        raise RefusedUnsafe(f"{self.path or 'hive'} was read with --salvage (a mended copy of a damaged file); "
                            "it is never written")


def open_salvaged(path: str | os.PathLike[str], clock: Clock | None = None,
                  wait: float = DEFAULT_WAIT) -> SalvagedHive:
    """The hive file at ``path``, read as far as it goes (see the module docstring)."""
    with open_input(path, "hive", SHARED, wait) as source:
        data = source.read_all()
        identity = source.identity
    image, log = salvage_image(data, str(path))
    hive = SalvagedHive(image, str(path), clock)
    hive.salvage = log
    hive.source_identity = identity
    return hive


def salvage_image(data: bytes | bytearray, name: str) -> tuple[bytearray, SalvageLog]:
    """A mended copy of the hive file ``data`` and what was mended or lost."""
    log = SalvageLog()
    if len(data) < BASE_BLOCK_SIZE + HBIN_HEADER_SIZE:
        raise HiveFormatError(f"file is {len(data)} bytes long: no hive bin follows the base block, so nothing can be "
                              "salvaged", len(data), name)
    image = bytearray(data)
    header = {found.code: found for found in base_block_problems(image)}
    if "E-HDR-SIGNATURE" in header and image[HBIN_BASE : HBIN_BASE + 4] != HBIN_SIGNATURE:
        raise HiveFormatError(header["E-HDR-SIGNATURE"].message + ", and no hive bin follows: not a registry hive",
                              0, name)
    rec = BASE_BLOCK.unpack(image, 0)
    if "E-HDR-TYPE" in header and rec.file_type in LOG_FILE_TYPES:
        raise HiveFormatError(header["E-HDR-TYPE"].message, header["E-HDR-TYPE"].file_offset, name)
    for code, found in header.items():
        if code not in _EXPLAINED_BELOW:
            log.add(problem(code, found.file_offset, f"{found.message}; read anyway (--salvage)"))
    end = _mend_bins(image, rec.hbins_size, log)
    minor = rec.minor if rec.major == 1 and rec.minor in SUPPORTED_MINORS else _guess_minor(image, end)
    root = _root(image, rec.root_cell, end, log, name)
    mended = dict(signature=SIGNATURE, major=1, minor=minor, file_type=0, file_format=1, root_cell=root,
                  hbins_size=end, clustering=1)
    if any(getattr(rec, field_name) != value for field_name, value in mended.items()):
        for field_name, value in mended.items():
            BASE_BLOCK.write(image, 0, field_name, value)
        BASE_BLOCK.write(image, 0, "checksum", checksum(image))
    return image, log


def _sound(image: bytearray, at: int) -> int | None:
    """The size of the bin at cell offset ``at`` when its header is sound, else None."""
    if HBIN_BASE + at + HBIN_HEADER_SIZE > len(image):
        return None
    signature, offset, size = HBIN.unpack(image, HBIN_BASE + at)[:3]
    if signature == HBIN_SIGNATURE and offset == at and size >= PAGE and not size % PAGE:
        return int(size)
    return None


def _mend_bins(image: bytearray, declared: int, log: SalvageLog) -> int:
    """Mend the bin headers of the copy; returns the hive-bins size to read."""
    available = len(image) - BASE_BLOCK_SIZE
    if declared and not declared % PAGE and declared <= available:
        end = declared
    else:
        end = -(-available // PAGE) * PAGE
        if declared > available and not declared % PAGE:
            log.add(problem("E-FILE-TRUNCATED", len(image), (
                f"the file ends at file offset 0x{len(image):x}, but its header claims hive bins up to 0x"
                f"{HBIN_BASE + declared:x}: everything after the cut is lost")))
        elif declared % PAGE or not declared:
            log.add(problem("E-HDR-BINS-SIZE", BASE_BLOCK.offset["hbins_size"], (
                f"hive-bins size 0x{declared:x} in the header is not a positive multiple of 4096; the bins up to the "
                f"end of the file (0x{end:x} bytes) are read")))
        image.extend(bytes(HBIN_BASE + end - len(image)))  # zeros: the engine's cell walk stops there
    at = 0
    while at < end:
        size = _sound(image, at)
        if size is not None and at + size <= end:
            at += size
            continue
        if size is not None:  # sound, but reaching past the end: cut short
            HBIN.write(image, HBIN_BASE + at, "size", end - at)
            log.add(problem("E-FILE-TRUNCATED", file_offset(at), (
                f"hive bin of 0x{size:x} bytes is cut short after 0x{end - at:x} bytes: the cells past file offset "
                f"0x{min(HBIN_BASE + available, HBIN_BASE + end):x} are lost")))
            _end_cells_at_cut(image, at, min(available, end), log)
            break
        at = _mend_one(image, at, end, log)
    return end


def _end_cells_at_cut(image: bytearray, start: int, cut: int, log: SalvageLog) -> None:
    """In the bin at ``start`` that the end of the file cuts at cell offset ``cut``: the cell
    that the cut goes through gets size 0 in the copy, so the engine's walk over the bin's
    cells stops there and never reads the zeros that stand in for its lost tail."""
    at = start + HBIN_HEADER_SIZE
    while at < cut:
        size = int.from_bytes(image[HBIN_BASE + at : HBIN_BASE + at + 4], "little", signed=True)
        length = -size if size < 0 else size
        if length < CELL_ALIGN or length % CELL_ALIGN:
            return  # the walk stops here anyway
        if at + length > cut:
            image[HBIN_BASE + at : HBIN_BASE + at + 4] = bytes(4)
            log.add(problem("E-FILE-TRUNCATED", file_offset(at), (
                f"the cell of {length} bytes here is cut short by the end of the file: it cannot be read")))
            return
        at += length


def _next_sound(image: bytearray, at: int, end: int) -> int:
    """The next bin boundary after ``at`` whose header is sound, or ``end``."""
    probe = at + PAGE
    while probe < end:
        if _sound(image, probe) is not None:
            return probe
        probe += PAGE
    return end


def _mend_one(image: bytearray, at: int, end: int, log: SalvageLog) -> int:
    """Mend the damaged bin header at ``at``; returns where the next bin starts."""
    signature, offset, size = HBIN.unpack(image, HBIN_BASE + at)[:3]
    following = _next_sound(image, at, end)
    where = file_offset(at)
    size = int(size)
    fits = size >= PAGE and not size % PAGE and at + size <= end and (at + size == end or bool(_sound(image, at + size)))
    if fits and offset == at:
        HBIN.write(image, HBIN_BASE + at, "signature", HBIN_SIGNATURE)
        log.add(problem("E-BIN-SIGNATURE", where, (f"hive bin signature is {bytes(signature)!r}; read as a bin, "
                                                   "since its offset and size fields are right")))
        return at + size
    if fits and signature == HBIN_SIGNATURE:
        HBIN.write(image, HBIN_BASE + at, "offset", at)
        log.add(problem("E-BIN-OFFSET", where, (f"hive bin offset field is 0x{offset:x}, not 0x{at:x}; read as a bin, "
                                                "since its signature and size are right")))
        return at + size
    # The header tells nothing: the bin is read if its cells fill the region up to the next
    # sound bin exactly (the cells, not the header, are what the engine reads).
    _, _, broken = tile_bin(image, at + HBIN_HEADER_SIZE, following)
    if broken is None:
        HBIN.pack_into(image, HBIN_BASE + at, offset=at, size=following - at)
        log.add(problem("E-BIN-HEADER", where, (f"hive bin header is damaged (signature {bytes(signature)!r}, offset "
                                                f"0x{offset:x}, size 0x{size:x}); rebuilt, since its cells fill the "
                                                f"0x{following - at:x} bytes up to the next bin exactly")))
        return following
    HBIN.pack_into(image, HBIN_BASE + at, signature=_DAMAGED, offset=at, size=following - at)
    log.add(problem("E-BIN-HEADER", where, (f"no readable hive bin in the 0x{following - at:x} bytes from here (header: "
                                            f"signature {bytes(signature)!r}, offset 0x{offset:x}, size 0x{size:x}; "
                                            f"{broken.message}): nothing in them can be followed")))
    return following


def _guess_minor(image: bytearray, end: int) -> int:
    """Without a version in the header: 1.5 when the bins hold hash leaves (lh), else 1.3."""
    return 5 if re.search(rb"lh", bytes(image[HBIN_BASE : HBIN_BASE + end])) else 3


def _is_key(image: bytearray, cell: int, end: int) -> bool:
    if cell % CELL_ALIGN or not HBIN_HEADER_SIZE <= cell < end - NK.size:
        return False
    at = HBIN_BASE + cell
    return int.from_bytes(image[at : at + 4], "little", signed=True) < 0 and image[at + 4 : at + 6] == b"nk"


def _root(image: bytearray, root: int, end: int, log: SalvageLog, name: str) -> int:
    if _is_key(image, root, end):
        return root
    for match in re.finditer(rb"nk", image, HBIN_BASE):
        cell = match.start() - 4 - HBIN_BASE
        if cell >= end:
            break
        if _is_key(image, cell, end) and NK.read(image, HBIN_BASE + cell + 4, "flags") & KEY_HIVE_ENTRY:
            log.add(problem("E-ROOT", BASE_BLOCK.offset["root_cell"], (
                f"the root key offset 0x{root:x} in the base block leads to no key node; the key node at file offset "
                f"0x{file_offset(cell):x}, flagged as a hive's root (KEY_HIVE_ENTRY), is read as the root")))
            return cell
    raise HiveFormatError(f"the root key offset 0x{root:x} in the base block leads to no key node, and no key node "
                          "flagged as a hive's root was found: nothing can be salvaged", BASE_BLOCK.offset["root_cell"],
                          name)
