"""Security cells (sk) byte for byte: a real cell decodes to the expected fields and a
structurally valid descriptor, and those encode to the same bytes (regf-format 7)."""
from __future__ import annotations

import pytest

from hivebytes import from_corpus, place
from hivetool.regf.records.sk import SK, descriptor_problem, new_sk, sk_problems

# plaso's test_data/NTUSER.DAT (Apache-2.0): the cell at file offset 0x7cca0. Its descriptor
# is the smallest in the corpus: SYSTEM full control, owner Administrators.
SK_CELL = 0x7BCA0
DESCRIPTOR = bytes.fromhex(
    "01"  # revision 1
    "00"  # sbz1
    "0480"  # control 0x8004: SE_SELF_RELATIVE | SE_DACL_PRESENT
    "30000000"  # owner SID at descriptor offset 0x30
    "40000000"  # group SID at 0x40
    "00000000"  # SACL: none
    "14000000"  # DACL at 0x14
    "02"  # DACL revision 2 (ACL_REVISION)
    "00"  # sbz1
    "1c00"  # DACL size: 28 bytes, header and one ACE
    "0100"  # ACE count: 1
    "0000"  # sbz2
    "00"  # ACE 0 type: ACCESS_ALLOWED
    "02"  # ACE 0 flags: CONTAINER_INHERIT
    "1400"  # ACE 0 size: 20 bytes
    "3f000f00"  # ACE 0 mask: KEY_ALL_ACCESS
    "0101" "000000000005" "12000000"  # ACE 0 SID: revision 1, 1 sub-authority, S-1-5-18 (SYSTEM)
    "0102" "000000000005" "20000000" "20020000"  # owner: S-1-5-32-544 (Administrators)
    "0101" "000000000005" "12000000"  # group: S-1-5-18
)
CELL = bytes.fromhex(
    "98ffffff"  # cell size: -104, allocated
    "736b"  # signature "sk"
    "0000"  # reserved
    "b87b0300"  # flink: the next sk of the hive's ring, cell 0x37bb8
    "40ba0700"  # blink: the previous one, cell 0x7ba40
    "09000000"  # refcount: 9 keys use this descriptor
    "4c000000"  # descriptor_size: 76 bytes
) + DESCRIPTOR + bytes.fromhex(
    "00000000"  # padding
)
FIELDS = dict(signature=b"sk", reserved=0, flink=0x37BB8, blink=0x7BA40, refcount=9, descriptor_size=76)


def test_transcribed_from_the_corpus() -> None:
    assert from_corpus("log2timeline+plaso/test_data/NTUSER.DAT", 0x7CCA0, len(CELL)) == CELL


def test_decode() -> None:
    assert SK.unpack(CELL, 4)._asdict() == FIELDS
    rec, descriptor, problems = sk_problems(CELL, 4, len(CELL) - 4, "the sk")
    assert (rec._asdict(), descriptor, problems) == (FIELDS, DESCRIPTOR, ())
    assert descriptor_problem(DESCRIPTOR) is None


def test_encode() -> None:
    assert SK.pack(**FIELDS) + DESCRIPTOR == CELL[4 : 4 + SK.size + 76]
    # Alone in its ring, a security cell points at itself both ways.
    alone = SK.pack(**dict(FIELDS, flink=SK_CELL, blink=SK_CELL)) + DESCRIPTOR
    assert new_sk(SK_CELL, DESCRIPTOR, refcount=9) == alone


def with_descriptor_bytes(at: int, raw: bytes) -> bytearray:
    """The cell at its place in the hive, ``raw`` written at descriptor offset ``at``."""
    cell = bytearray(CELL)
    cell[4 + SK.size + at : 4 + SK.size + at + len(raw)] = raw
    return place({SK_CELL: bytes(cell)})


@pytest.mark.parametrize("at, raw, why", [
    (0x00, b"\x02", "descriptor revision 2, expected 1"),
    (0x02, b"\x04\x00", "descriptor is not self-relative (control bit 0x8000 clear)"),
    (0x04, b"\x4c", "owner offset 76 lies outside the 76-byte descriptor"),
    (0x31, b"\x10", "owner SID: 16 sub-authorities, at most 15 allowed"),
    (0x14, b"\x05", "DACL: revision 5, expected 2 to 4"),
    (0x18, b"\x02", "DACL: ACE 1 of 2 lies outside the ACL"),
    (0x1E, b"\x30", "DACL: ACE 0 has size 48, which does not fit the ACL"),
    (0x24, b"\x02", "DACL: SID of ACE 0: revision 2, expected 1"),
], ids=["revision", "not-self-relative", "owner-outside", "sub-authorities", "acl-revision", "ace-count",
        "ace-size", "ace-sid"])
def test_a_malformed_descriptor(at: int, raw: bytes, why: str) -> None:
    rec, descriptor, problems = sk_problems(with_descriptor_bytes(at, raw), 0x7CCA4, 100, "the sk")
    assert rec.refcount == 9 and descriptor is not None  # still read: the ring can be walked on
    assert [(p.code, p.file_offset, p.message) for p in problems] == [("E-SK-DESCRIPTOR", 0x7CCA0, why)]


@pytest.mark.parametrize("size", [0, 77], ids=["zero", "past-cell"])  # 20 + 77 > the 96-byte payload
def test_a_descriptor_size_that_cannot_be(size: int) -> None:
    cell = bytearray(CELL)
    SK.write(cell, 4, "descriptor_size", size)
    rec, descriptor, problems = sk_problems(place({SK_CELL: bytes(cell)}), 0x7CCA4, 96, "the sk")
    assert rec is not None and descriptor is None
    assert [(p.code, p.file_offset) for p in problems] == [("E-SK-DESCRIPTOR", 0x7CCA0)]


@pytest.mark.parametrize("code", ["E-SK-REF", "E-SK-RING"])
def test_no_sk_is_a_fault_of_the_pointer(code: str) -> None:
    cell = bytearray(CELL)
    cell[4:6] = b"nk"
    rec, descriptor, problems = sk_problems(place({SK_CELL: bytes(cell)}), 0x7CCA4, 100, "key 'A'", code, 0x2020)
    assert (rec, descriptor) == (None, None)
    assert [(p.code, p.file_offset) for p in problems] == [(code, 0x2020)]  # where the pointer is
    assert problems[0].message == "key 'A' points at file offset 0x7cca0, which is not a security cell (sk)"
