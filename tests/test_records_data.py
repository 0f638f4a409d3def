"""Big data byte for byte: a real db record and its segment list decode to the expected
fields, those encode to the same bytes, and the value reads back whole (regf-format 6.3)."""
from __future__ import annotations

import pytest

from hivebytes import follow, from_corpus, place
from hivetool.regf.records.cells import cell_size_for, offsets_at, pack_offsets
from hivetool.regf.records.data import DB, SEGMENT_SIZE, data_problems, uses_big_data
from hivetool.regf.records.vk import VK

# notatin's test_data/NTUSER.DAT (Apache-2.0, version 1.5): the default value of a key, with
# 18,338 bytes of REG_BINARY data in two segments. Three cells, at file offsets 0x47a70 (vk),
# 0x46ee0 (db) and 0x46ff0 (segment list).
SOURCE = "strozfriedberg+notatin/test_data/NTUSER.DAT"
VK_AT, DB_AT, LIST_AT, SEGMENTS = 0x46A70, 0x45EE0, 0x45FF0, (0x47020, 0x4B020)
SIZE = 18_338
VALUE = bytes.fromhex(
    "e8ffffff"  # cell size: -24, allocated
    "766b"  # signature "vk"
    "0000"  # name_length: 0, the default value
    "a2470000"  # data_size: 18,338 bytes, more than one segment holds
    "e05e0400"  # data: the db record at cell 0x45ee0
    "03000000"  # type: REG_BINARY
    "0000"  # flags: 0, as for every default value
    "0000"  # spare
)
BIG_DATA = bytes.fromhex(
    "f0ffffff"  # cell size: -16, allocated: the 8-byte record and 4 bytes of slack
    "6462"  # signature "db"
    "0200"  # segment_count: 2 = ceil(18,338 / 16,344)
    "f05f0400"  # segment_list: the cell at 0x45ff0
    "f05e0400"  # slack: stale bytes, never read
)
SEGMENT_LIST = bytes.fromhex(
    "f0ffffff"  # cell size: -16, allocated
    "20700400"  # segment 0: bytes 0 to 16,343, in the cell at 0x47020
    "20b00400"  # segment 1: bytes 16,344 to 18,337, in the cell at 0x4b020
    "00000000"  # padding
)
DB_FIELDS = dict(signature=b"db", segment_count=2, segment_list=LIST_AT)


@pytest.mark.parametrize("at, cell", [(0x47A70, VALUE), (0x46EE0, BIG_DATA), (0x46FF0, SEGMENT_LIST)],
                         ids=["vk", "db", "segment-list"])
def test_transcribed_from_the_corpus(at: int, cell: bytes) -> None:
    assert from_corpus(SOURCE, at, len(cell)) == cell


def test_decode() -> None:
    assert DB.unpack(BIG_DATA, 4)._asdict() == DB_FIELDS
    assert offsets_at(SEGMENT_LIST, 4, 2) == SEGMENTS
    assert VK.unpack(VALUE, 4)._asdict() == dict(signature=b"vk", name_length=0, data_size=SIZE, data=DB_AT,
                                                 type=3, flags=0, spare=0)


def test_encode() -> None:
    assert DB.pack(**DB_FIELDS) == DB.pack(segment_count=2, segment_list=LIST_AT) == BIG_DATA[4:12]
    assert cell_size_for(DB.size) == len(BIG_DATA)  # the 16-byte db cell of every real hive
    assert pack_offsets(SEGMENTS) == SEGMENT_LIST[4:12]


def test_when_big_data_is_used() -> None:
    assert uses_big_data(SIZE, 5) and uses_big_data(SEGMENT_SIZE + 1, 4)
    assert not uses_big_data(SEGMENT_SIZE, 5)  # one full segment still fits one cell
    assert not uses_big_data(SIZE, 3)  # 1.3 hives have no big data


def segment(index: int, length: int = SEGMENT_SIZE + 4) -> bytes:
    """A segment cell as Windows allocates it (16,352 bytes), with bytes that tell where
    they belong; the real ones are too long to write out here."""
    payload = bytes((index * 7 + i) % 251 for i in range(length))
    return (-(length + 4)).to_bytes(4, "little", signed=True) + payload


def big_value(**cells: bytes) -> bytearray:
    """The value's cells at their places; ``cells`` replaces some (by name: db, segments, ...)."""
    laid = {VK_AT: VALUE, DB_AT: BIG_DATA, LIST_AT: SEGMENT_LIST, SEGMENTS[0]: segment(0), SEGMENTS[1]: segment(1)}
    for name, raw in cells.items():
        laid[{"db": DB_AT, "segments": LIST_AT, "last": SEGMENTS[1]}[name]] = raw
    return place(laid)


def read(buf: bytearray, minor: int = 5) -> tuple:
    return data_problems(buf, SIZE, DB_AT, 3, minor, 0x47A70, follow(buf), "value '' of key 'A'", read=True)


def test_the_value_is_its_segments_in_list_order() -> None:
    data, problems = read(big_value())
    assert not problems
    assert data == segment(0)[4 : 4 + SEGMENT_SIZE] + segment(1)[4 : 4 + SIZE - SEGMENT_SIZE]


def test_a_db_record_in_a_version_1_3_hive() -> None:
    # Windows reads the data field of a 1.3 value as one cell: here the 12-byte db cell.
    data, problems = read(big_value(), minor=3)
    assert data is None
    assert [(p.code, p.file_offset) for p in problems] == [("E-DB-VERSION", 0x47A70)]


def changed(cell: bytes, at: int, raw: bytes) -> bytes:
    return cell[:at] + raw + cell[at + len(raw) :]


@pytest.mark.parametrize("cells, code, where", [
    (dict(db=changed(BIG_DATA, 4, b"dx")), "E-DB-SIGNATURE", 0x46EE0),
    (dict(db=changed(BIG_DATA, 6, b"\x01\x00")), "E-DB-COUNT", 0x46EE0),  # 18,338 bytes need 2
    (dict(segments=changed(SEGMENT_LIST, 0, b"\xf8\xff\xff\xff")), "E-DB-SEGMENT", 0x46FF0),  # room for 1
    (dict(last=segment(1, 1000)), "E-DB-SEGMENT", 0x4C020),  # 1,994 bytes needed
    (dict(segments=changed(SEGMENT_LIST, 8, SEGMENT_LIST[4:8])), "E-CELL-SHARED", 0x46FF0),  # one cell twice
], ids=["signature", "count", "short-list", "short-segment", "shared-segment"])
def test_big_data_problems(cells: dict, code: str, where: int) -> None:
    data, problems = read(big_value(**cells))
    assert data is None
    assert [(p.code, p.file_offset) for p in problems] == [(code, where)]
