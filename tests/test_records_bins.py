"""Hive-bin headers (hbin) byte for byte: real headers decode to the expected fields, those
encode to the same bytes, and the walk over the bins finds them (regf-format 2)."""
from __future__ import annotations

import pytest

from hivebytes import from_corpus
from hivetool.regf.records.bins import HBIN, HBIN_BASE, file_offset, hbin_problems, walk_bins, write_bin_header

# Eric Zimmerman's Registry.Test/Hives/BCD (MIT): the first bin, at file offset 0x1000. Only
# the first bin keeps a timestamp: a copy of the base block's.
FIRST = bytes.fromhex(
    "6862696e"  # signature "hbin"
    "00000000"  # offset: 0, counted from the first bin
    "00100000"  # size: 0x1000, header included
    "0000000000000000"  # reserved
    "8dfec65f449fcc01"  # timestamp: FILETIME 2011-11-10 01:02:10, as in the base block
    "00000000"  # spare
)
FIRST_FIELDS = dict(signature=b"hbin", offset=0, size=0x1000, reserved=0, timestamp=0x01CC9F445FC6FE8D, spare=0)

# The ELAM hive of DFIRArtifactMuseum's RathbunVM (MIT): its second and last bin, three pages
# long, at file offset 0x2000.
SECOND = bytes.fromhex(
    "6862696e"  # signature "hbin"
    "00100000"  # offset: 0x1000, after the first bin
    "00300000"  # size: 0x3000, three 4 KiB pages
    "0000000000000000"  # reserved
    "0000000000000000"  # timestamp: none, this is not the first bin
    "00000000"  # spare
)
SECOND_FIELDS = dict(signature=b"hbin", offset=0x1000, size=0x3000, reserved=0, timestamp=0, spare=0)
GOLDEN = [(FIRST, FIRST_FIELDS), (SECOND, SECOND_FIELDS)]


@pytest.mark.parametrize("source, at, header", [
    ("EricZimmerman+Registry/Registry.Test/Hives/BCD", 0x1000, FIRST),
    ("AndrewRathbun+DFIRArtifactMuseum/_history/a32aa47e43e6/Windows/Registry/Win10/RathbunVM/ELAM", 0x2000, SECOND),
], ids=["first", "second"])
def test_transcribed_from_the_corpus(source: str, at: int, header: bytes) -> None:
    assert from_corpus(source, at, len(header)) == header


@pytest.mark.parametrize("header, fields", GOLDEN, ids=["first", "second"])
def test_decode(header: bytes, fields: dict) -> None:
    assert HBIN.unpack(header)._asdict() == fields


@pytest.mark.parametrize("header, fields", GOLDEN, ids=["first", "second"])
def test_encode(header: bytes, fields: dict) -> None:
    assert HBIN.pack(**fields) == header
    buf = bytearray(HBIN_BASE + fields["offset"] + fields["size"])
    write_bin_header(buf, fields["offset"], fields["size"], fields["timestamp"])
    at = file_offset(fields["offset"])
    assert buf[at : at + HBIN.size] == header


def hive_bins(second: bytes = SECOND) -> bytearray:
    """The ELAM hive's two bin headers at their places (the first has only its size set)."""
    buf = bytearray(HBIN_BASE + 0x4000)
    buf[0x1000:0x1020] = HBIN.pack(size=0x1000)
    buf[0x2000:0x2020] = second
    return buf


def test_walk() -> None:
    bins, pages = walk_bins(hive_bins(), 0x4000)
    assert [(b.start, b.size, b.problem) for b in bins] == [(0, 0x1000, None), (0x1000, 0x3000, None)]
    assert list(pages) == [0, 1, 1, 1]  # 4 KiB page -> bin index
    assert bins.damaged() == []


def test_walk_keeps_a_damaged_bin() -> None:
    # A bad signature, as in Registry.Test/Hives/SAMBadHBinHeader: the bin stays, noted.
    bins, pages = walk_bins(hive_bins(b"gbin" + SECOND[4:]), 0x4000)
    assert [(b.start, b.size) for b in bins.damaged()] == [(0x1000, 0x3000)]
    assert bins[1].problem.startswith("bin signature is b'gbin'")
    assert list(pages) == [0, 1, 1, 1]


@pytest.mark.parametrize("signature, offset, size, code", [
    (b"gbin", 0x1000, 0x3000, "E-BIN-SIGNATURE"),
    (b"hbin", 0x2000, 0x3000, "E-BIN-OFFSET"),
    (b"hbin", 0x1000, 0x2800, "E-BIN-SIZE"),  # not a multiple of 4096
    (b"hbin", 0x1000, 0x4000, "E-BIN-SIZE"),  # past the end of the hive-bins area
], ids=["signature", "offset", "size", "past-end"])
def test_problems(signature: bytes, offset: int, size: int, code: str) -> None:
    assert hbin_problems(b"hbin", 0x1000, 0x3000, 0x1000, 0x4000) == ()
    problems = hbin_problems(signature, offset, size, 0x1000, 0x4000)
    assert [(p.code, p.file_offset) for p in problems] == [(code, 0x2000)]
