"""The base block byte for byte: a real header decodes to the expected fields, those encode
to the same bytes, and its checksum is the XOR of its first 127 words (regf-format 1)."""
from __future__ import annotations

import struct

import pytest

from hivebytes import from_corpus
from hivetool.regf.records.base_block import (
    BASE_BLOCK,
    BASE_BLOCK_SIZE,
    base_block_problems,
    checksum,
    raw_xor,
    read_header,
    stamp_clean,
)

# The ELAM hive of DFIRArtifactMuseum's RathbunVM (MIT), Windows 10: the first 512 bytes of
# the file (the rest of its 4096-byte base block is zeros). Nearly every field is set.
SOURCE = "AndrewRathbun+DFIRArtifactMuseum/_history/a32aa47e43e6/Windows/Registry/Win10/RathbunVM/ELAM"
HEADER = bytes.fromhex(
    "72656766"  # signature "regf"
    "03000000"  # seq1: 3
    "03000000"  # seq2: 3, the same: the hive is clean
    "0000000000000000"  # timestamp: 0, as Windows 8.1 and later leave it
    "01000000"  # major: 1
    "05000000"  # minor: 5
    "00000000"  # file_type: 0, a primary hive
    "01000000"  # file_format: 1, direct memory load
    "20000000"  # root_cell: the root key at cell 0x20
    "00400000"  # hbins_size: 0x4000 bytes of hive bins follow the base block
    "01000000"  # clustering: 1
    "43003a005c00570069006e0064006f00"  # file_name, UTF-16LE: "C:\Windo"
    "770073005c0073007900730074006500"  # "ws\syste"
    "6d00330032005c0043006f006e006600"  # "m32\Conf"
    "690067005c0045006c0061006d000000"  # "ig\Elam" and a NUL: the path Windows loaded it from
    "ab9eb353c418ea11a811000d3aa4692b"  # rm_id: GUID of the KTM resource manager
    "ab9eb353c418ea11a811000d3aa4692b"  # log_id: the same GUID, naming the hive's logs
    "00000000"  # flags: no pending transactions
    "ac9eb353c418ea11a811000d3aa4692b"  # tm_id
    "726d746d"  # guid_signature "rmtm", as from Vista on
    "a2cb4036de1ad801"  # last_reorganized: FILETIME 2022-02-05 22:17:50
    "4f665267"  # offreg_signature "OfRg": offreg.dll serialised the hive
    "01000000"  # offreg_flags: 1
    + "00" * 324  # reserved
    + "9eccb63f"  # checksum: 0x3fb6cc9e
)
GUID = bytes.fromhex("ab9eb353c418ea11a811000d3aa4692b")
FIELDS = dict(
    signature=b"regf", seq1=3, seq2=3, timestamp=0, major=1, minor=5, file_type=0, file_format=1, root_cell=0x20,
    hbins_size=0x4000, clustering=1, file_name="C:\\Windows\\system32\\Config\\Elam\0".encode("utf-16-le"),
    rm_id=GUID, log_id=GUID, flags=0, tm_id=bytes.fromhex("ac9eb353c418ea11a811000d3aa4692b"),
    guid_signature=b"rmtm", last_reorganized=0x01D81ADE3640CBA2, offreg_signature=b"OfRg", offreg_flags=1,
    reserved=bytes(324), checksum=0x3FB6CC9E,
)
# A file the header can stand for: the base block, then as many (zeroed) bytes of bins.
FILE = HEADER + bytes(BASE_BLOCK_SIZE - len(HEADER) + 0x4000)


def test_transcribed_from_the_corpus() -> None:
    assert from_corpus(SOURCE, 0, BASE_BLOCK_SIZE) == FILE[:BASE_BLOCK_SIZE]


def test_decode() -> None:
    assert BASE_BLOCK.unpack(HEADER)._asdict() == FIELDS


def test_encode() -> None:
    assert BASE_BLOCK.pack(**FIELDS) == HEADER


def test_checksum_is_the_xor_of_the_first_127_words() -> None:
    value = 0
    for word in struct.unpack_from("<127I", HEADER):  # bytes 0-507; the checksum is at 508
        value ^= word
    assert value == raw_xor(HEADER) == checksum(HEADER) == 0x3FB6CC9E


@pytest.mark.parametrize("plain, stored", [(0, 1), (0xFFFFFFFF, 0xFFFFFFFE)])
def test_checksum_special_cases(plain: int, stored: int) -> None:
    # Changing seq1 by the XOR of all words turns their XOR into 0; then into plain.
    buf = bytearray(FILE)
    BASE_BLOCK.write(buf, 0, "seq1", 3 ^ 0x3FB6CC9E ^ plain)
    assert raw_xor(buf) == plain and checksum(buf) == stored
    # A checksum stored without Windows' special cases (as hivex and libregf write it) is wrong.
    BASE_BLOCK.write(buf, 0, "checksum", plain)
    problems = [p for p in base_block_problems(buf) if p.code == "E-HDR-CHECKSUM"]
    assert [p.file_offset for p in problems] == [508] and "without Windows' special cases" in problems[0].message


def test_defaults_of_a_new_header() -> None:
    zeros = {name: bytes(len(value)) if isinstance(value, bytes) else 0 for name, value in FIELDS.items()}
    expected = dict(zeros, signature=b"regf", major=1, minor=5, file_format=1, clustering=1)
    assert BASE_BLOCK.unpack(BASE_BLOCK.pack())._asdict() == expected


def test_read_header() -> None:
    header = read_header(FILE)
    assert (header.version, header.root_cell, header.hbins_size) == ("1.5", 0x20, 0x4000)
    assert header.file_name == "C:\\Windows\\system32\\Config\\Elam"
    assert header.checksum_ok and not header.dirty


def mutated(**fields: int | bytes) -> bytearray:
    """The header with some fields changed and its checksum made right again."""
    buf = bytearray(FILE)
    for name, value in fields.items():
        BASE_BLOCK.write(buf, 0, name, value)
    BASE_BLOCK.write(buf, 0, "checksum", checksum(buf))
    return buf


@pytest.mark.parametrize("fields, code, offset", [
    (dict(signature=b"regx"), "E-HDR-SIGNATURE", 0),
    (dict(seq2=4), "W-HDR-DIRTY", 4),
    (dict(minor=7), "E-HDR-VERSION", 20),  # the version is reported where it starts
    (dict(file_type=6), "E-HDR-TYPE", 28),
    (dict(file_format=2), "E-HDR-FORMAT", 32),
    (dict(hbins_size=0x4100), "E-HDR-BINS-SIZE", 40),
    (dict(hbins_size=0x5000), "E-FILE-TRUNCATED", 40),
    (dict(clustering=2), "E-HDR-CLUSTER", 44),
], ids=["signature", "dirty", "version", "type", "format", "bins-size", "truncated", "clustering"])
def test_problems(fields: dict, code: str, offset: int) -> None:
    assert [(p.code, p.file_offset) for p in base_block_problems(mutated(**fields))] == [(code, offset)]


def test_a_wrong_checksum() -> None:
    buf = bytearray(FILE)
    BASE_BLOCK.write(buf, 0, "checksum", 0x3FB6CC9F)
    assert [(p.code, p.file_offset) for p in base_block_problems(buf)] == [("E-HDR-CHECKSUM", 508)]
    assert read_header(buf).dirty  # readable, but dirty by the specification's rule (1.4)


def test_a_short_file_and_a_log() -> None:
    assert [(p.code, p.file_offset) for p in base_block_problems(FILE[:4095])] == [("E-FILE-SHORT", 0)]
    assert base_block_problems(mutated(file_type=6), log=True) == []
    problems = base_block_problems(FILE, log=True)  # a primary's header where a log's belongs
    assert [(p.code, p.file_offset) for p in problems] == [("E-HDR-TYPE", 28)]
    assert "primary hive" in problems[0].message


def test_stamp_clean() -> None:
    buf = bytearray(FILE)
    assert stamp_clean(buf, 9, 0x01DA000000000000, 0x4000) == 0x01DA000000000000
    assert buf == mutated(seq1=9, seq2=9, timestamp=0x01DA000000000000)


def test_stamp_clean_sidesteps_the_special_checksums() -> None:
    # With this timestamp the XOR would be 0: the timestamp moves one tick instead, so that
    # readers without Windows' special cases still agree with Windows.
    buf = mutated(seq1=9, seq2=9, timestamp=0)
    special = raw_xor(buf)
    assert stamp_clean(buf, 9, special, 0x4000) == special + 1
    assert raw_xor(buf) == BASE_BLOCK.read(buf, 0, "checksum") == checksum(buf) not in (0, 0xFFFFFFFF)
