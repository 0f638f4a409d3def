"""The base block: the first 4096 bytes of a hive (regf-format section 1)."""
from __future__ import annotations

import struct
from typing import NamedTuple

from ..errors import HiveFormatError
from .layout import Layout

BASE_BLOCK_SIZE = 4096
SIGNATURE = b"regf"
CHECKSUM_OFFSET = 508
FILE_TYPE_PRIMARY = 0
FILE_FORMAT_DIRECT = 1
SUPPORTED_MINORS = (3, 4, 5, 6)

BASE_BLOCK = Layout(
    "BaseBlock",
    ("signature", "4s"),
    ("seq1", "I"),
    ("seq2", "I"),
    ("timestamp", "Q"),
    ("major", "I"),
    ("minor", "I"),
    ("file_type", "I"),
    ("file_format", "I"),
    ("root_cell", "I"),
    ("hbins_size", "I"),
    ("clustering", "I"),
    ("file_name", "64s"),
    ("rm_id", "16s"),
    ("log_id", "16s"),
    ("flags", "I"),
    ("tm_id", "16s"),
    ("guid_signature", "4s"),
    ("last_reorganized", "Q"),
    ("offreg_signature", "4s"),
    ("offreg_flags", "I"),
    ("reserved", "324s"),
    ("checksum", "I"),
)
assert BASE_BLOCK.size == 512

_WORDS = struct.Struct("<127I")


def raw_xor(buf: bytes | bytearray, at: int = 0) -> int:
    value = 0
    for word in _WORDS.unpack_from(buf, at):
        value ^= word
    return value


def checksum(buf: bytes | bytearray, at: int = 0) -> int:
    """XOR of the 127 words before the checksum, with Windows' two special cases (1.2)."""
    value = raw_xor(buf, at)
    if value == 0xFFFFFFFF:
        return 0xFFFFFFFE
    if value == 0:
        return 1
    return value


class Header(NamedTuple):
    """What the base block claims, plus whether its checksum holds."""

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


def read_header(buf: bytes | bytearray) -> Header:
    """Decode the base block; raise when it is not a primary regf header we can use."""
    if len(buf) < BASE_BLOCK_SIZE:
        raise HiveFormatError(f"file is {len(buf)} bytes, shorter than the 4096-byte base block", 0)
    rec = BASE_BLOCK.unpack(buf, 0)
    if rec.signature != SIGNATURE:
        raise HiveFormatError(f"signature is {rec.signature!r}, expected b'regf': not a registry hive", 0)
    name = rec.file_name.decode("utf-16-le", "replace").split("\0", 1)[0]
    header = Header(
        seq1=rec.seq1,
        seq2=rec.seq2,
        timestamp=rec.timestamp,
        major=rec.major,
        minor=rec.minor,
        file_type=rec.file_type,
        file_format=rec.file_format,
        root_cell=rec.root_cell,
        hbins_size=rec.hbins_size,
        clustering=rec.clustering,
        file_name=name,
        flags=rec.flags,
        stored_checksum=rec.checksum,
        computed_checksum=checksum(buf),
    )
    if header.major != 1 or header.minor not in SUPPORTED_MINORS:
        raise HiveFormatError(
            f"format version {header.version} is not supported (expected 1.3 to 1.6)",
            BASE_BLOCK.offset["major"],
        )
    if header.file_type != FILE_TYPE_PRIMARY:
        raise HiveFormatError(
            f"file type {header.file_type} is not a primary hive (1, 2 and 6 are transaction logs)",
            BASE_BLOCK.offset["file_type"],
        )
    if header.hbins_size == 0 or header.hbins_size % 4096:
        raise HiveFormatError(
            f"hive-bins size 0x{header.hbins_size:x} is not a positive multiple of 4096",
            BASE_BLOCK.offset["hbins_size"],
        )
    available = len(buf) - BASE_BLOCK_SIZE
    if header.hbins_size > available:
        raise HiveFormatError(
            f"header claims 0x{header.hbins_size:x} bytes of hive bins but the file holds only "
            f"0x{available:x} after the base block (truncated?)",
            BASE_BLOCK.offset["hbins_size"],
        )
    return header


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
