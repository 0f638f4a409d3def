"""Key nodes (nk) byte for byte: real cells decode to the expected fields, and those fields
encode to the same bytes (regf-format 4.1)."""
from __future__ import annotations

import pytest

from hivebytes import from_corpus, place
from hivetool.regf.records.cells import NIL, cell_size_for
from hivetool.regf.records.nk import (
    KEY_COMP_NAME,
    KEY_HIVE_ENTRY,
    KEY_NO_DELETE,
    NK,
    ROOT_FLAGS,
    new_nk,
    nk_problems,
)

# The root key of python-registry's tests/reg_samples/issue22.hive (Apache-2.0): the whole
# cell at file offset 0x1020 (cell offset 0x20, where the base block's root pointer leads).
ROOT_CELL = 0x20
ROOT = bytes.fromhex(
    "98ffffff"  # cell size: -104, allocated
    "6e6b"  # signature "nk"
    "2c00"  # flags 0x2C: HIVE_ENTRY | NO_DELETE | COMP_NAME, as every root key has
    "0409ba6d663dd101"  # timestamp: FILETIME 2015-12-23 09:43:50
    "00"  # access_bits
    "00"  # layered_bits
    "0000"  # spare
    "ffffffff"  # parent: NIL, the root has none
    "00000000"  # subkey_count
    "00000000"  # volatile_subkey_count
    "ffffffff"  # subkeys: NIL, no subkey list
    "ffffffff"  # volatile_subkeys: NIL
    "0a000000"  # value_count: 10
    "d0010000"  # values: the value list at cell 0x1d0
    "88000000"  # security: the sk at cell 0x88
    "ffffffff"  # class_cell: NIL, no class name
    "0000"  # max_subkey_name
    "00"  # user_flags
    "00"  # debug_flags
    "00000000"  # max_subkey_class
    "36000000"  # max_value_name: 54 bytes, "DynamicDaylightTimeDisabled" as UTF-16
    "30000000"  # max_value_data: 48
    "57000000"  # workvar: 0x57, left over from a running system (old hives keep it)
    "1300"  # name_length: 19 bytes
    "0000"  # class_length
    "54696d655a6f6e65496e666f726d6174696f6e"  # name "TimeZoneInformation", Latin-1
    "0000000000"  # padding up to the 8-byte cell size
)
ROOT_FIELDS = dict(
    signature=b"nk", flags=KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME, timestamp=0x01D13D666DBA0904,
    access_bits=0, layered_bits=0, spare=0, parent=NIL, subkey_count=0, volatile_subkey_count=0, subkeys=NIL,
    volatile_subkeys=NIL, value_count=10, values=0x1D0, security=0x88, class_cell=NIL, max_subkey_name=0,
    user_flags=0, debug_flags=0, max_subkey_class=0, max_value_name=54, max_value_data=48, workvar=0x57,
    name_length=19, class_length=0,
)

# A key with a UTF-16 name: python-registry's tests/reg_samples/UNICODE_TESTS (Apache-2.0),
# the cell at file offset 0x1ad0. U+2591 does not fit a byte, so the name is not compressed.
UTF16_CELL = 0xAD0
UTF16_NAME = "UNICODE_JUMBLE_{H~\u2591\xf4\xab}"
UTF16 = bytes.fromhex(
    "80ffffff"  # cell size: -128, allocated
    "6e6b"  # signature "nk"
    "0000"  # flags: none, so the name is UTF-16LE
    "6b4acb3cc81bd101"  # timestamp: FILETIME 2015-11-10 14:58:19
    "00"  # access_bits
    "00"  # layered_bits
    "0000"  # spare
    "20000000"  # parent: the root key at cell 0x20
    "00000000"  # subkey_count
    "00000000"  # volatile_subkey_count
    "ffffffff"  # subkeys: NIL
    "ffffffff"  # volatile_subkeys: NIL
    "08000000"  # value_count: 8
    "700e0000"  # values: the value list at cell 0xe70
    "80000000"  # security: the sk at cell 0x80
    "ffffffff"  # class_cell: NIL
    "0000"  # max_subkey_name
    "00"  # user_flags
    "00"  # debug_flags
    "00000000"  # max_subkey_class
    "30000000"  # max_value_name: 48
    "32000000"  # max_value_data: 50
    "00000000"  # workvar
    "2c00"  # name_length: 44 bytes, 22 UTF-16 units
    "0000"  # class_length
    "55004e00490043004f00440045005f00"  # name, UTF-16LE: "UNICODE_"
    "4a0055004d0042004c0045005f00"  # "JUMBLE_"
    "7b0048007e009125f400ab007d00"  # "{H~", U+2591, U+00F4, U+00AB, "}"
    "00000000"  # padding
)
UTF16_FIELDS = dict(ROOT_FIELDS, flags=0, timestamp=0x01D11BC83CCB4A6B, parent=0x20, value_count=8, values=0xE70,
                    security=0x80, max_value_name=48, max_value_data=50, workvar=0, name_length=44)

GOLDEN = [(ROOT, ROOT_FIELDS, "TimeZoneInformation"), (UTF16, UTF16_FIELDS, UTF16_NAME)]
SOURCES = [
    ("williballenthin+python-registry/tests/reg_samples/issue22.hive", 0x1020, ROOT),
    ("williballenthin+python-registry/tests/reg_samples/UNICODE_TESTS", 0x1AD0, UTF16),
]


@pytest.mark.parametrize("source, at, cell", SOURCES, ids=["root", "utf16"])
def test_transcribed_from_the_corpus(source: str, at: int, cell: bytes) -> None:
    assert from_corpus(source, at, len(cell)) == cell


@pytest.mark.parametrize("cell, fields, name", GOLDEN, ids=["root", "utf16"])
def test_decode(cell: bytes, fields: dict, name: str) -> None:
    assert NK.unpack(cell, 4)._asdict() == fields
    assert nk_problems(cell, 4, len(cell) - 4, "the nk") == (name, ())


@pytest.mark.parametrize("cell, fields, name", GOLDEN, ids=["root", "utf16"])
def test_encode(cell: bytes, fields: dict, name: str) -> None:
    stored = cell[4 : 4 + NK.size + fields["name_length"]]
    assert NK.pack(**fields) + cell[4 + NK.size : 4 + NK.size + fields["name_length"]] == stored
    rest = {k: v for k, v in fields.items() if k not in ("signature", "name_length")}
    compressed = bool(fields["flags"] & KEY_COMP_NAME)
    name_bytes = name.encode("latin-1" if compressed else "utf-16-le")
    assert new_nk(name_bytes, compressed, **rest) == stored
    assert -int.from_bytes(cell[:4], "little", signed=True) == cell_size_for(len(stored)) == len(cell)


def test_layout_matches_the_format_table() -> None:
    # Payload offsets of regf-format 4.1, written out once more by hand.
    assert NK.offset == {
        "signature": 0, "flags": 2, "timestamp": 4, "access_bits": 12, "layered_bits": 13, "spare": 14,
        "parent": 16, "subkey_count": 20, "volatile_subkey_count": 24, "subkeys": 28, "volatile_subkeys": 32,
        "value_count": 36, "values": 40, "security": 44, "class_cell": 48, "max_subkey_name": 52,
        "user_flags": 54, "debug_flags": 55, "max_subkey_class": 56, "max_value_name": 60,
        "max_value_data": 64, "workvar": 68, "name_length": 72, "class_length": 74,
    }


def test_a_new_key_takes_the_declared_defaults() -> None:
    # A new key points nowhere: no parent, lists, security or class yet.
    fields = NK.unpack(new_nk(b"A", True), 0)
    assert fields.signature == b"nk" and fields.flags == KEY_COMP_NAME and fields.name_length == 1
    assert (fields.parent, fields.subkeys, fields.values, fields.security, fields.class_cell) == (NIL,) * 5
    assert ROOT_FLAGS == ROOT_FIELDS["flags"]


def test_single_fields_in_place() -> None:
    buf = bytearray(ROOT)
    assert NK.read(buf, 4, "value_count") == 10
    NK.write(buf, 4, "max_subkey_name", 0xFFFF)  # only the low 16 bits: user and debug flags stay
    assert buf[4 + 52 : 4 + 56] == b"\xff\xff\x00\x00"
    assert NK.view("signature", "flags", "name_length")(ROOT, 4) == (b"nk", 0x2C, 19)


def mutated(**fields: int | bytes) -> bytearray:
    """The root key's cell with some fields changed, at its file offset in issue22.hive."""
    cell = bytearray(ROOT)
    for name, value in fields.items():
        NK.write(cell, 4, name, value)
    return place({ROOT_CELL: bytes(cell)})


@pytest.mark.parametrize("fields, length, code", [
    (dict(signature=b"kn"), 100, "E-NK-SIGNATURE"),
    (dict(name_length=0), 100, "E-NK-NAME"),
    (dict(name_length=25), 100, "E-NK-NAME"),  # 76 + 25 > the 100-byte payload
    ({}, 75, "E-NK-SIZE"),  # the cell cannot hold the 76 fixed bytes
], ids=["signature", "empty-name", "name-past-cell", "short-cell"])
def test_a_record_that_cannot_be_read(fields: dict, length: int, code: str) -> None:
    name, problems = nk_problems(mutated(**fields), 0x1024, length, "subkey 1 of key 'A'")
    assert name is None
    assert [(p.code, p.file_offset) for p in problems] == [(code, 0x1020)]  # the cell, size field included
    assert problems[0].message.startswith("subkey 1 of key 'A': ")


def test_the_root_pointer_names_its_own_code() -> None:
    _, problems = nk_problems(mutated(signature=b"sk"), 0x1024, 100, "root key", not_nk="E-ROOT")
    assert [(p.code, p.file_offset) for p in problems] == [("E-ROOT", 0x1020)]


def test_problems_in_a_readable_name() -> None:
    buf = mutated()
    buf[0x1024 + 76 + 4] = ord("\\")  # "Time\oneInformation"
    name, problems = nk_problems(buf, 0x1024, 100, "the nk")
    assert name == "Time\\oneInformation"
    assert [(p.code, p.file_offset) for p in problems] == [("E-NK-NAME-CHAR", 0x1020)]

    # The same 19 bytes taken as UTF-16: one byte too many (the last shows as U+FFFD).
    name, problems = nk_problems(mutated(flags=0), 0x1024, 100, "the nk", owner=lambda n: "key 'X'")
    assert name.endswith("\ufffd")
    assert [(p.code, p.file_offset, p.level) for p in problems] == [("W-NAME-ODD", 0x1020, "warning")]
    assert problems[0].message.startswith("key 'X': ")
