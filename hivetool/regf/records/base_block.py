"""The base block: the first 4096 bytes of a hive, and the 512-byte copy that starts every
transaction log (regf-format sections 1 and 9)."""
from __future__ import annotations

import struct
from typing import NamedTuple

from ...errors import HiveFormatError
from .problems import HiveFinding, problem, raise_first
from .record import ReadBuffer, Record

BASE_BLOCK_SIZE = 4096
SIGNATURE = b"regf"
CHECKSUM_OFFSET = 508
FILE_TYPE_PRIMARY = 0
LOG_FILE_TYPES = (1, 2, 6)  # old format (XP .. 8.0), oldest (NT4/2000), new format (8.1+)
FILE_FORMAT_DIRECT = 1
SUPPORTED_MINORS = (3, 4, 5, 6)
PAGE = 4096  # the hive-bins size is a multiple of this

BASE_BLOCK = Record(
    "BaseBlock",
    ("signature", "4s", SIGNATURE),
    ("seq1", "I"),  # raised when a write starts ...
    ("seq2", "I"),  # ... and when it ends: different numbers mean a dirty hive (1.4)
    ("timestamp", "Q"),  # FILETIME of the last write (the first bin keeps a copy)
    ("major", "I", 1),
    ("minor", "I", 5),
    ("file_type", "I", FILE_TYPE_PRIMARY),
    ("file_format", "I", FILE_FORMAT_DIRECT),
    ("root_cell", "I"),  # cell offset of the root key's nk
    ("hbins_size", "I"),  # bytes of hive bins after the base block
    ("clustering", "I", 1),
    ("file_name", "64s"),  # UTF-16LE, the end of the path Windows loaded it from (debug only)
    ("rm_id", "16s"),
    ("log_id", "16s"),  # names the hive its logs belong to
    ("flags", "I"),  # bit 0: pending KTM transactions; bit 1: defragmented / layered keys
    ("tm_id", "16s"),
    ("guid_signature", "4s"),  # "rmtm" from Vista on, else zeros
    ("last_reorganized", "Q"),
    ("offreg_signature", "4s"),  # "OfRg" when offreg.dll wrote the hive
    ("offreg_flags", "I"),
    ("reserved", "324s"),
    ("checksum", "I"),  # XOR of the 127 words before it, see checksum()
)
assert BASE_BLOCK.size == 512 and BASE_BLOCK.offset["checksum"] == CHECKSUM_OFFSET

_WORDS = struct.Struct("<127I")
# What a reader may go on without: the checker reports these, the engine reads past them.
READABLE = frozenset({"E-HDR-FORMAT", "E-HDR-CLUSTER", "E-HDR-CHECKSUM", "W-HDR-DIRTY"})


def raw_xor(buf: ReadBuffer, at: int = 0) -> int:
    value = 0
    for word in _WORDS.unpack_from(buf, at):
        value ^= word
    return value


def checksum(buf: ReadBuffer, at: int = 0) -> int:
    """XOR of the 127 words before the checksum, with Windows' two special cases (1.2)."""
    value = raw_xor(buf, at)
    if value == 0xFFFFFFFF:
        return 0xFFFFFFFE
    if value == 0:
        return 1
    return value


def base_block_problems(buf: ReadBuffer, log: bool = False) -> list[HiveFinding]:
    """What is wrong with the base block at the start of ``buf``: that of a primary hive
    (regf-format 1.3), or with ``log`` the header copy of a transaction log (9.1).

    A primary's problems come in file order; a log's in the order that explains best why it
    cannot be used (a torn header first). The size of the hive bins is measured against the
    file only for a primary: a log holds pages, not bins.
    """
    if len(buf) < BASE_BLOCK_SIZE and not log:
        what = "empty" if not buf else f"{len(buf)} bytes"
        return [problem("E-FILE-SHORT", 0, f"file is {what}, shorter than the 4096-byte base block of a hive")]
    rec = BASE_BLOCK.unpack(buf, 0)
    at = BASE_BLOCK.offset
    found: dict[str, HiveFinding | None] = {}
    if rec.signature != SIGNATURE:
        found["sig"] = problem("E-HDR-SIGNATURE", 0, f"signature is {bytes(rec.signature)!r}, expected b'regf'")
    if rec.major != 1 or rec.minor not in SUPPORTED_MINORS:
        found["version"] = problem("E-HDR-VERSION", at["major"],
                                   f"format version {rec.major}.{rec.minor} is not 1.3 to 1.6")
    found["type"] = _type_problem(rec.file_type, log)
    if rec.file_format != FILE_FORMAT_DIRECT:
        found["format"] = problem("E-HDR-FORMAT", at["file_format"], f"file format {rec.file_format} is not 1")
    if rec.clustering != 1:
        found["cluster"] = problem("E-HDR-CLUSTER", at["clustering"], f"clustering factor {rec.clustering} is not 1")
    expected = checksum(buf)
    if rec.checksum != expected:
        note = " (the plain XOR, without Windows' special cases for 0 and 0xFFFFFFFF)" if rec.checksum == raw_xor(buf) else ""
        found["checksum"] = problem("E-HDR-CHECKSUM", at["checksum"],
                                    f"checksum 0x{rec.checksum:08x} is wrong{note}; expected 0x{expected:08x}")
    if rec.seq1 != rec.seq2:
        # In a primary the newest changes are in the logs; in a log, the log itself was torn.
        found["dirty"] = problem("W-HDR-DIRTY", at["seq1"], (
            f"header sequence numbers differ ({rec.seq1}/{rec.seq2}): the log itself was being written" if log else
            f"dirty: replay the logs (sequence numbers {rec.seq1} and {rec.seq2} differ; the newest changes are in "
            "the .LOG1/.LOG2 files)"))
    found["bins"] = _bins_problem(rec.hbins_size, len(buf), log)
    order = (("sig", "checksum", "dirty", "version", "format", "cluster", "bins", "type") if log else
             ("sig", "version", "type", "format", "cluster", "checksum", "dirty", "bins"))
    return [finding for name in order if (finding := found.get(name)) is not None]


def _type_problem(file_type: int, log: bool) -> HiveFinding | None:
    where = BASE_BLOCK.offset["file_type"]
    if log:
        if file_type in LOG_FILE_TYPES:
            return None
        if file_type == FILE_TYPE_PRIMARY:
            return problem("E-HDR-TYPE", where, "file type 0: this is a primary hive, not a transaction log")
        return problem("E-HDR-TYPE", where, f"file type {file_type} is not a transaction log (1, 2 or 6)")
    if file_type == FILE_TYPE_PRIMARY:
        return None
    is_log = "; this is a transaction log: check the hive it belongs to" if file_type in LOG_FILE_TYPES else ""
    return problem("E-HDR-TYPE", where, f"file type {file_type} is not 0 (primary hive){is_log}")


def _bins_problem(declared: int, file_size: int, log: bool) -> HiveFinding | None:
    where = BASE_BLOCK.offset["hbins_size"]
    if declared == 0 or declared % PAGE:
        return problem("E-HDR-BINS-SIZE", where, f"hive-bins size 0x{declared:x} is not a positive multiple of 4096")
    if not log and declared > file_size - BASE_BLOCK_SIZE:
        return problem("E-FILE-TRUNCATED", where, f"header claims 0x{declared:x} bytes of hive bins, the file holds "
                                                  f"0x{file_size - BASE_BLOCK_SIZE:x} after the base block (truncated)")
    return None


class Header(NamedTuple):
    """What the base block claims, plus whether its checksum holds (measured)."""

    seq1: int
    seq2: int
    timestamp: int
    major: int
    minor: int
    file_type: int
    file_format: int
    root_cell: int
    hbins_size: int
    clustering: int
    file_name: str
    flags: int
    stored_checksum: int
    computed_checksum: int

    @property
    def checksum_ok(self) -> bool:
        return self.stored_checksum == self.computed_checksum

    @property
    def dirty(self) -> bool:
        """Dirty per the specification: sequence numbers differ or the checksum is wrong (1.4)."""
        return self.seq1 != self.seq2 or not self.checksum_ok

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"


def read_header(buf: ReadBuffer) -> Header:
    """Decode the base block; raise the first problem a reader cannot go on with."""
    problems = base_block_problems(buf)
    for found in problems:
        if found.code == "E-HDR-SIGNATURE":
            raise HiveFormatError(found.message + ": not a registry hive", 0)
    raise_first(problems, READABLE)
    rec = BASE_BLOCK.unpack(buf, 0)
    claims = {name: getattr(rec, name) for name in Header._fields if name in BASE_BLOCK.offset and name != "file_name"}
    return Header(
        **claims,
        file_name=rec.file_name.decode("utf-16-le", "replace").split("\0", 1)[0],
        stored_checksum=rec.checksum,
        computed_checksum=checksum(buf),
    )


def stamp_clean(buf: bytearray, sequence: int, timestamp: int, hbins_size: int) -> int:
    """Write the fields a save must update (1.5), checksum last.

    When the XOR would hit one of Windows' two special values, the timestamp moves by one
    tick: readers that skip the special cases (hivex, libregf) then agree with Windows.
    Returns the timestamp written.
    """
    BASE_BLOCK.write(buf, 0, "seq1", sequence)
    BASE_BLOCK.write(buf, 0, "seq2", sequence)
    BASE_BLOCK.write(buf, 0, "hbins_size", hbins_size)
    while True:
        BASE_BLOCK.write(buf, 0, "timestamp", timestamp)
        value = raw_xor(buf)
        if value not in (0, 0xFFFFFFFF):
            break
        timestamp += 1
    BASE_BLOCK.write(buf, 0, "checksum", value)
    return timestamp
