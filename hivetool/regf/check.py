"""Structural checker for hives (``hivetool check``), in the spirit of fsck.

It checks what Windows checks when it loads a hive, plus what strict readers (yarp,
libregf) reject (regf-format sections 1-8 and 12), and never raises for malformed content:
every problem becomes a :class:`Finding` with a stable code, a level, a file offset and a
message. The walk is iterative, follows each cell once and loops only over what cells
hold, so hostile counts and cycles end quickly; at most 200 findings per code are listed.

Levels: error = Windows would refuse the hive or silently repair it (losing data);
warning = it loads, but readers may misbehave; info = tolerated, worth knowing.

Codes (offset = file offset of the record at fault; for a bad pointer, of the record
that holds the pointer):

E-FILE-SHORT       file shorter than the 4096-byte base block (or empty)
E-FILE-TRUNCATED   the header claims more hive bins than the file holds
E-HDR-SIGNATURE    base block does not start with ``regf``
E-HDR-VERSION      version is not 1.3 to 1.6
E-HDR-TYPE         file type is not 0 (1, 2 and 6 are transaction logs)
E-HDR-FORMAT       file format is not 1
E-HDR-CLUSTER      clustering factor is not 1
E-HDR-BINS-SIZE    hive-bins size is zero or not a multiple of 4096
E-HDR-CHECKSUM     checksum wrong (Windows rule: XOR of 127 words, 0 -> 1, 0xFFFFFFFF -> 0xFFFFFFFE)
W-HDR-DIRTY        sequence numbers differ: dirty, replay the logs
I-TRAILING-BINS    bins after the declared hive-bins area (ignored, as Windows does)
E-BIN-SIGNATURE    bin header signature is not ``hbin``
E-BIN-OFFSET       bin offset field differs from the bin's position
E-BIN-SIZE         bin size not a multiple of 4096 inside the hive-bins area
E-CELL-SIZE        cells do not tile their bin: size < 8, not a multiple of 8, or past the bin end
E-REF              a pointer misses the start of an allocated cell
E-CELL-SHARED      a cell reached twice (a cycle, or one cell with two owners)
E-ROOT             the root pointer does not lead to an allocated key node
E-NK-SIGNATURE     a cell listed as a subkey is not a key node (nk)
E-NK-SIZE          key node cell smaller than the 76-byte record
E-NK-NAME          key name length is zero or exceeds the cell
E-NK-NAME-CHAR     key name contains a backslash
W-NK-NAME-LONG     key name longer than 255 characters
W-NAME-ODD         UTF-16 key or value name of odd byte length
E-NK-PARENT        parent field does not point at the key whose list holds the key
E-NK-SUBKEY-COUNT  subkey count differs from the entries of the subkey list
E-NK-CLASS         class name cell missing or smaller than the class length
E-NK-SYMLINK       symbolic-link key holds values other than one SymbolicLinkValue
W-NK-MAXIMA        a "largest name/class/data" field is smaller than the real maximum
W-NK-DEPTH         key deeper than 512 levels
E-LIST-SIGNATURE   subkey list is not li, lf, lh or ri
E-LIST-NESTING     ri points at another ri
E-LIST-EMPTY       leaf or ri with no entries
E-LIST-SIZE        list count does not fit its cell
E-LIST-CYCLE       ri lists itself
E-LIST-ORDER       siblings not in strictly ascending Windows upcase order
E-LIST-DUPLICATE   two siblings with the same name (case-insensitively)
W-LIST-HASH        lh entry hash differs from the name's hash
W-LIST-HINT        lf entry hint differs from the name's first four characters
I-LIST-TYPE        lh leaves in a hive older than 1.5
E-VALUE-LIST       value list missing or smaller than the value count
E-VK-SIGNATURE     a cell listed as a value is not a value record (vk)
E-VK-SIZE          value cell smaller than the 20-byte record
E-VK-NAME          value name length exceeds the cell
E-VK-DUPLICATE     two values of one key with the same name (case-insensitively)
E-VK-INLINE        inline data longer than 4 bytes
E-VK-DATA-SIZE     data cell smaller than the value's size
I-VK-TYPE-SIZE     REG_DWORD or REG_DWORD_BIG_ENDIAN data not 4 bytes, REG_QWORD data not 8 (Windows loads it)
E-DB-SIGNATURE     value above 16,344 bytes in a 1.4+ hive whose data is not big data (db)
E-DB-COUNT         big-data segment count differs from ceil(size / 16344)
E-DB-SEGMENT       segment list or segment too small
E-DB-VERSION       big data (db) in a version 1.3 hive
E-SK-REF           a key's security pointer does not lead to a security cell (sk)
E-SK-RING          sk ring broken (flink/blink disagree) or an sk in use outside the root's ring
E-SK-REFCOUNT      sk reference count lower than the number of keys using it
W-SK-REFCOUNT      sk reference count higher than the number of keys using it, or 0
E-SK-DESCRIPTOR    security descriptor size or structure invalid
I-SK-DUPLICATE     the same descriptor stored in two security cells
I-LEAK             allocated cell not reachable from the root key
I-FREE-ADJACENT    free cell next to another free cell
I-MORE             findings beyond the 200 listed for one code
E-STOPPED          checking stopped early on an unexpected format error
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import DirtyHiveError, HiveFormatError
from ..inputs import open_input
from ..progress import QUIET, Progress
from .bins import HBIN_BASE, HBIN_SIGNATURE, PAGE
from .cells import CellSpace
from .check_report import CheckReport, Collector, Finding
from .check_security import check_security
from .check_space import Context, check_bins, check_cells, report_unreached, trailing_bins
from .check_tree import check_tree
from .header import (
    BASE_BLOCK,
    BASE_BLOCK_SIZE,
    FILE_FORMAT_DIRECT,
    FILE_TYPE_PRIMARY,
    SIGNATURE,
    SUPPORTED_MINORS,
    checksum,
    raw_xor,
)

if TYPE_CHECKING:
    from .hive import Hive

__all__ = ["CheckReport", "Finding", "check_bytes", "check_file", "check_hive"]

LOG_FILE_TYPES = (1, 2, 6)


@dataclass
class _Layout:
    minor: int
    root_cell: int
    hbins_size: int  # how much of the hive-bins area can be read


def check_file(path: str | os.PathLike, progress: Progress = QUIET) -> CheckReport:
    """Check a hive file. Only OS errors and files that are not regular raise; bad content
    becomes findings. A file that has neither a ``regf`` base block nor a hive bin after it
    is judged on its first 4 KiB alone: a 4 GB file of something else is never read."""
    with open_input(path, "hive") as source:
        head = source.read_head(BASE_BLOCK_SIZE + len(HBIN_SIGNATURE))
        if head[:4] != SIGNATURE and head[BASE_BLOCK_SIZE:] != HBIN_SIGNATURE:
            return check_bytes(head[:BASE_BLOCK_SIZE], str(path))
        return check_bytes(source.read_all(), str(path), progress)


def check_hive(hive: "Hive", progress: Progress = QUIET) -> CheckReport:
    """Check an open hive; one that was edited or recovered from its logs as it would be saved."""
    data: bytes | bytearray = hive.buf
    if hive.modified or hive.modified_by_replay:
        try:
            data = hive.to_bytes()
        except DirtyHiveError:
            pass  # nothing recovered it: check the bytes as they are, the header will say dirty
    return check_bytes(data, hive.path, progress)


def check_bytes(data: bytes | bytearray, path: str | None = None, progress: Progress = QUIET) -> CheckReport:
    buf = data if isinstance(data, bytearray) else bytearray(data)
    out = Collector(path)
    layout = _check_header(buf, out)
    if layout is not None:
        try:
            _check_structure(buf, layout, out, progress)
        except HiveFormatError as err:
            out.add("E-STOPPED", err.file_offset, f"checking stopped early: {err.detail}")
    return out.report()


def _check_structure(buf: bytearray, layout: _Layout, out: Collector, progress: Progress) -> None:
    space = CellSpace(buf, layout.hbins_size)
    space.map_all()
    ctx = Context(buf, space, layout.minor, out, progress)
    check_bins(ctx)
    check_cells(ctx)
    root = check_tree(ctx, layout.root_cell)
    if root is not None:
        check_security(ctx, root)
    report_unreached(ctx)


def _check_header(buf: bytearray, out: Collector) -> _Layout | None:
    """Base-block checks (regf-format 1.3); None when nothing beyond it can be checked."""
    if len(buf) < BASE_BLOCK_SIZE:
        what = "empty" if not buf else f"{len(buf)} bytes"
        out.add("E-FILE-SHORT", 0, f"file is {what}, shorter than the 4096-byte base block of a hive")
        return None
    rec = BASE_BLOCK.unpack(buf, 0)
    offset = BASE_BLOCK.offset
    if rec.signature != SIGNATURE:
        bins_follow = buf[HBIN_BASE : HBIN_BASE + 4] == HBIN_SIGNATURE
        out.add(
            "E-HDR-SIGNATURE",
            0,
            f"signature is {bytes(rec.signature)!r}, expected b'regf'"
            + ("; hive bins follow, so the rest is checked" if bins_follow else ": not a registry hive"),
        )
        if not bins_follow:
            return None
    if rec.major != 1 or rec.minor not in SUPPORTED_MINORS:
        out.add("E-HDR-VERSION", offset["major"], f"format version {rec.major}.{rec.minor} is not 1.3 to 1.6")
    if rec.file_type != FILE_TYPE_PRIMARY:
        is_log = rec.file_type in LOG_FILE_TYPES
        out.add(
            "E-HDR-TYPE",
            offset["file_type"],
            f"file type {rec.file_type} is not 0 (primary hive)"
            + ("; this is a transaction log: check the hive it belongs to" if is_log else ""),
        )
        if is_log:
            return None
    if rec.file_format != FILE_FORMAT_DIRECT:
        out.add("E-HDR-FORMAT", offset["file_format"], f"file format {rec.file_format} is not 1")
    if rec.clustering != 1:
        out.add("E-HDR-CLUSTER", offset["clustering"], f"clustering factor {rec.clustering} is not 1")
    _check_checksum(buf, rec.checksum, out)
    if rec.seq1 != rec.seq2:
        out.add(
            "W-HDR-DIRTY",
            offset["seq1"],
            f"dirty: replay the logs (sequence numbers {rec.seq1} and {rec.seq2} differ; the newest changes "
            "are in the .LOG1/.LOG2 files)",
        )
    hbins_size = _readable_bins(buf, rec.hbins_size, out)
    if hbins_size == 0:
        return None
    return _Layout(rec.minor, rec.root_cell, hbins_size)


def _check_checksum(buf: bytearray, stored: int, out: Collector) -> None:
    expected = checksum(buf)
    if stored == expected:
        return
    plain = raw_xor(buf)
    note = " (the plain XOR, without Windows' special cases for 0 and 0xFFFFFFFF)" if stored == plain else ""
    out.add(
        "E-HDR-CHECKSUM",
        BASE_BLOCK.offset["checksum"],
        f"checksum 0x{stored:08x} is wrong{note}; expected 0x{expected:08x}",
    )


def _readable_bins(buf: bytearray, declared: int, out: Collector) -> int:
    """The part of the hive-bins area that can be read, after reporting what is wrong with it."""
    available = (len(buf) - BASE_BLOCK_SIZE) // PAGE * PAGE
    where = BASE_BLOCK.offset["hbins_size"]
    if declared == 0 or declared % PAGE:
        usable = min(declared // PAGE * PAGE, available) or available
        out.add(
            "E-HDR-BINS-SIZE",
            where,
            f"hive-bins size 0x{declared:x} is not a positive multiple of 4096; checking 0x{usable:x} bytes",
        )
    elif declared > len(buf) - BASE_BLOCK_SIZE:
        usable = available
        out.add(
            "E-FILE-TRUNCATED",
            where,
            f"header claims 0x{declared:x} bytes of hive bins, the file holds 0x{len(buf) - BASE_BLOCK_SIZE:x} "
            f"after the base block (truncated); checking 0x{usable:x} bytes",
        )
    else:
        usable = declared
        extra = trailing_bins(buf, usable)
        if extra:
            out.add(
                "I-TRAILING-BINS",
                HBIN_BASE + usable,
                f"{extra} hive bin(s) follow the declared hive-bins area; Windows ignores them",
            )
    if usable == 0 and not out.has("E-FILE-TRUNCATED"):
        out.add("E-FILE-TRUNCATED", BASE_BLOCK_SIZE, "the file holds no hive bins after its base block")
    return usable
