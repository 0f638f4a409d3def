"""Value records (vk) byte for byte: real cells decode to the expected fields, and those
fields encode to the same bytes (regf-format 6.1); where their data lives is read through
``data_problems`` (6.2)."""
from __future__ import annotations

import pytest

from hivebytes import follow, from_corpus, place
from hivetool.regf.records.data import data_problems
from hivetool.regf.records.vk import READ_FIELDS, VALUE_COMP_NAME, VK, new_vk, vk_problems

ISSUE22 = "williballenthin+python-registry/tests/reg_samples/issue22.hive"  # Apache-2.0, version 1.3
UNICODE = "williballenthin+python-registry/tests/reg_samples/UNICODE_TESTS"  # Apache-2.0, version 1.3

# issue22.hive, the cell at file offset 0x11a8: a REG_DWORD kept in the record itself.
INLINE = bytes.fromhex(
    "d8ffffff"  # cell size: -40, allocated
    "766b"  # signature "vk"
    "0c00"  # name_length: 12 bytes
    "04000080"  # data_size: 0x80000000 (inline) | 4 bytes
    "c4ffffff"  # data: the 4 bytes themselves, -60 as a little-endian int32
    "04000000"  # type: REG_DWORD
    "0100"  # flags: VALUE_COMP_NAME, the name is Latin-1
    "0000"  # spare
    "4461796c696768744269617300000000"  # name "DaylightBias", then padding
)
INLINE_FIELDS = dict(signature=b"vk", name_length=12, data_size=0x80000004, data=0xFFFFFFC4, type=4,
                     flags=VALUE_COMP_NAME, spare=0)

# issue22.hive, the cell at file offset 0x1200, and its data cell at 0x1228.
IN_CELL_AT, DATA_CELL_AT = 0x200, 0x228
IN_CELL = bytes.fromhex(
    "d8ffffff"  # cell size: -40, allocated
    "766b"  # signature "vk"
    "0c00"  # name_length: 12 bytes
    "20000000"  # data_size: 32 bytes, in a cell of their own
    "28020000"  # data: that cell, at cell offset 0x228
    "01000000"  # type: REG_SZ
    "0100"  # flags: VALUE_COMP_NAME
    "0000"  # spare
    "4461796c696768744e616d6500000000"  # name "DaylightName", then padding
)
IN_CELL_FIELDS = dict(INLINE_FIELDS, data_size=32, data=DATA_CELL_AT, type=1)
DATA_CELL = bytes.fromhex(
    "d8ffffff"  # cell size: -40, allocated
    "400074007a007200650073002e006400"  # "@tzres.d"
    "6c006c002c002d003300320031000000"  # "ll,-321" and the terminating NUL: 32 bytes of data
    "00000000"  # padding: the cell may hold more than the value (6.2)
)

# UNICODE_TESTS, the cell at file offset 0x16a8: a UTF-16 name, and a spare field that is
# not zero (as in many real values: readers ignore it, a writer keeps it).
UTF16_NAME = "UNICODE_JUMBLE_{H~\u2591\xf4\xab}4"
UTF16 = bytes.fromhex(
    "b8ffffff"  # cell size: -72, allocated
    "766b"  # signature "vk"
    "2e00"  # name_length: 46 bytes, 23 UTF-16 units
    "26000000"  # data_size: 38 bytes
    "f0060000"  # data: the cell at cell offset 0x6f0
    "02000000"  # type: REG_EXPAND_SZ
    "0000"  # flags: none, the name is UTF-16LE
    "ab01"  # spare: 0x01ab
    "55004e00490043004f00440045005f00"  # name, UTF-16LE: "UNICODE_"
    "4a0055004d0042004c0045005f00"  # "JUMBLE_"
    "7b0048007e009125f400ab007d003400"  # "{H~", U+2591, U+00F4, U+00AB, "}4"
    "0000"  # padding
)
UTF16_FIELDS = dict(signature=b"vk", name_length=46, data_size=38, data=0x6F0, type=2, flags=0, spare=0x1AB)

GOLDEN = [(INLINE, INLINE_FIELDS, "DaylightBias"), (IN_CELL, IN_CELL_FIELDS, "DaylightName"),
          (UTF16, UTF16_FIELDS, UTF16_NAME)]
IDS = ["inline", "in-cell", "utf16"]
SOURCES = [(ISSUE22, 0x11A8, INLINE), (ISSUE22, 0x1200, IN_CELL), (ISSUE22, 0x1228, DATA_CELL),
           (UNICODE, 0x16A8, UTF16)]


@pytest.mark.parametrize("source, at, cell", SOURCES, ids=["inline", "in-cell", "data-cell", "utf16"])
def test_transcribed_from_the_corpus(source: str, at: int, cell: bytes) -> None:
    assert from_corpus(source, at, len(cell)) == cell


@pytest.mark.parametrize("cell, fields, name", GOLDEN, ids=IDS)
def test_decode(cell: bytes, fields: dict, name: str) -> None:
    assert VK.unpack(cell, 4)._asdict() == fields
    read = tuple(fields[f] for f in READ_FIELDS)  # what readers take: all but the spare field
    assert vk_problems(cell, 4, len(cell) - 4, "value") == (name, read, ())


@pytest.mark.parametrize("cell, fields, name", GOLDEN, ids=IDS)
def test_encode(cell: bytes, fields: dict, name: str) -> None:
    stored = cell[4 : 4 + VK.size + fields["name_length"]]
    assert VK.pack(**fields) + stored[VK.size :] == stored
    compressed = bool(fields["flags"] & VALUE_COMP_NAME)
    rest = {k: v for k, v in fields.items() if k not in ("signature", "name_length")}
    assert new_vk(name.encode("latin-1" if compressed else "utf-16-le"), compressed, **rest) == stored


def test_the_default_value_has_no_name_flag() -> None:
    # Windows writes the unnamed value with flags 0, even though "no name" fits Latin-1 (6.1).
    assert VK.unpack(new_vk(b"", True, data_size=0x80000000, data=0), 0).flags == 0


def read_data(buf: bytes | bytearray, cell: bytes, vk_at: int, minor: int = 3) -> tuple:
    fields = VK.unpack(cell, 4)
    return data_problems(buf, fields.data_size, fields.data, fields.type, minor, vk_at, follow(buf), "value", read=True)


def test_inline_data_is_the_data_field() -> None:
    assert read_data(b"", INLINE, 0x11A8) == ((-60).to_bytes(4, "little", signed=True), ())


def test_data_in_a_cell_of_its_own() -> None:
    buf = place({IN_CELL_AT: IN_CELL, DATA_CELL_AT: DATA_CELL})
    assert read_data(buf, IN_CELL, 0x1200) == ("@tzres.dll,-321\0".encode("utf-16-le"), ())


def with_fields(cell: bytes, **fields: int | bytes) -> bytes:
    out = bytearray(cell)
    for name, value in fields.items():
        VK.write(out, 4, name, value)
    return bytes(out)


@pytest.mark.parametrize("fields, length, code", [
    (dict(signature=b"nk"), 36, "E-VK-SIGNATURE"),
    (dict(name_length=17), 36, "E-VK-NAME"),  # 20 + 17 > the 36-byte payload
    ({}, 19, "E-VK-SIZE"),
], ids=["signature", "name-past-cell", "short-cell"])
def test_a_record_that_cannot_be_read(fields: dict, length: int, code: str) -> None:
    buf = place({IN_CELL_AT: with_fields(IN_CELL, **fields)})
    name, _, problems = vk_problems(buf, 0x1204, length, "value 3 of key 'A'")
    assert name is None
    assert [(p.code, p.file_offset) for p in problems] == [(code, 0x1200)]
    assert problems[0].message.startswith("value 3 of key 'A': ")


def test_an_odd_utf16_name_is_read_and_reported() -> None:
    buf = place({0x6A8: with_fields(UTF16, name_length=45)})
    name, _, problems = vk_problems(buf, 0x16AC, 68, "value", owner=lambda n: f"value {n!r} of key 'A'")
    assert name == UTF16_NAME[:-1] + "\ufffd"
    assert [(p.code, p.file_offset, p.level) for p in problems] == [("W-NAME-ODD", 0x16A8, "warning")]


@pytest.mark.parametrize("fields, code", [
    (dict(data_size=0x80000005, type=3), "E-VK-INLINE"),  # 5 bytes of REG_BINARY cannot be inline
    (dict(data_size=0x80000002), "I-VK-TYPE-SIZE"),  # a 2-byte REG_DWORD: Windows loads it
], ids=["inline-too-long", "dword-size"])
def test_data_problems_are_reported_at_the_value(fields: dict, code: str) -> None:
    _, problems = read_data(b"", with_fields(INLINE, **fields), 0x11A8)
    assert [(p.code, p.file_offset) for p in problems] == [(code, 0x11A8)]


def test_data_larger_than_its_cell() -> None:
    cell = with_fields(IN_CELL, data_size=40)  # the data cell holds 36 bytes
    buf = place({IN_CELL_AT: cell, DATA_CELL_AT: DATA_CELL})
    data, problems = read_data(buf, cell, 0x1200)
    assert data is None
    assert [(p.code, p.file_offset) for p in problems] == [("E-VK-DATA-SIZE", 0x1200)]
