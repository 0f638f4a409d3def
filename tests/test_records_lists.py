"""Subkey lists (lf, lh, li, ri) and value lists byte for byte: real cells decode to the
expected entries, and those entries encode to the same bytes (regf-format 5 and 8)."""
from __future__ import annotations

import pytest

from hivebytes import follow, from_corpus, place
from hivetool.regf.records.cells import cell_size_for, pack_offsets
from hivetool.regf.records.lists import (
    LIST_HEADER,
    Leaf,
    entry_key,
    pack_header,
    pack_root,
    subkey_list_problems,
    value_list_problems,
)
from hivetool.regf.records.names import lf_hint, lh_hash

# Eric Zimmerman's Registry.Test/Hives/BCD (MIT, version 1.3): the root key's subkey list,
# the cell at file offset 0x11d0.
LF_AT = 0x1D0
LF = bytes.fromhex(
    "e8ffffff"  # cell size: -24, allocated
    "6c66"  # signature "lf"
    "0200"  # count: 2 entries
    "08010000"  # entry 0: nk at cell 0x108, "Description"
    "44657363"  # entry 0 hint: "Desc", the name's first four characters
    "78010000"  # entry 1: nk at cell 0x178, "Objects"
    "4f626a65"  # entry 1 hint: "Obje"
)
# The same two subkeys as an li, the oldest leaf kind (no second word): built here, since the
# only li leaves of the corpus hold hundreds of entries.
LI_AT = 0x1D0
LI = bytes.fromhex(
    "f0ffffff"  # cell size: -16, allocated
    "6c69"  # signature "li"
    "0200"  # count: 2 entries
    "08010000"  # entry 0: nk at cell 0x108
    "78010000"  # entry 1: nk at cell 0x178
)
# Eric Zimmerman's Registry.Test/Hives/SECURITYNoRoot (MIT, version 1.5): the root key's
# subkey list, the cell at file offset 0x1120.
LH_AT = 0x120
LH = bytes.fromhex(
    "e8ffffff"  # cell size: -24, allocated
    "6c68"  # signature "lh"
    "0200"  # count: 2 entries
    "38010000"  # entry 0: nk at cell 0x138, "Internet Explorer"
    "5a475658"  # entry 0 hash: 0x5856475a
    "b0010000"  # entry 1: nk at cell 0x1b0, "Software"
    "6314fee9"  # entry 1 hash: 0xe9fe1463
)
# dfwinreg's test_data/UsrClass.dat (Apache-2.0): an index root, the cell at file offset
# 0x250af8. Its leaves are li lists of 638 to 716 entries.
RI_AT = 0x24FAF8
RI_LEAVES = [0xD3020, 0x250020, 0x1C1020, 0x264020]
RI = bytes.fromhex(
    "e8ffffff"  # cell size: -24, allocated
    "7269"  # signature "ri"
    "0400"  # count: 4 leaves
    "20300d00"  # leaf 0 at cell 0xd3020
    "20002500"  # leaf 1 at cell 0x250020
    "20101c00"  # leaf 2 at cell 0x1c1020
    "20402600"  # leaf 3 at cell 0x264020
)
# python-registry's tests/reg_samples/issue22.hive (Apache-2.0): the root key's value list,
# the cell at file offset 0x11d0. No header: the count (10) is the key's.
VALUES_AT = 0x1D0
VALUE_CELLS = [0x1A8, 0x200, 0x250, 0x290, 0x2B8, 0x308, 0x328, 0x368, 0x3C8, 0x400]
VALUES = bytes.fromhex(
    "d0ffffff"  # cell size: -48, allocated
    "a8010000"  # value 0: vk at cell 0x1a8, "DaylightBias"
    "00020000"  # value 1: vk at cell 0x200, "DaylightName"
    "50020000"  # value 2: "DaylightStart"
    "90020000"  # value 3: "StandardBias"
    "b8020000"  # value 4: "StandardName"
    "08030000"  # value 5: "Bias"
    "28030000"  # value 6: "StandardStart"
    "68030000"  # value 7: "TimeZoneKeyName"
    "c8030000"  # value 8: "DynamicDaylightTimeDisabled"
    "00040000"  # value 9: "ActiveTimeBias"
    "00000000"  # padding
)

# (cell bytes, signature, nk cells, second words, subkey names)
LEAVES = [
    (LF, b"lf", [0x108, 0x178], [int.from_bytes(b"Desc", "little"), int.from_bytes(b"Obje", "little")],
     ["Description", "Objects"]),
    (LH, b"lh", [0x138, 0x1B0], [0x5856475A, 0xE9FE1463], ["Internet Explorer", "Software"]),
    (LI, b"li", [0x108, 0x178], [], ["Description", "Objects"]),
]
LEAF_IDS = ["lf", "lh", "li"]


@pytest.mark.parametrize("source, at, cell", [
    ("EricZimmerman+Registry/Registry.Test/Hives/BCD", 0x11D0, LF),
    ("EricZimmerman+Registry/Registry.Test/Hives/SECURITYNoRoot", 0x1120, LH),
    ("log2timeline+dfwinreg/test_data/UsrClass.dat", 0x250AF8, RI),
    ("williballenthin+python-registry/tests/reg_samples/issue22.hive", 0x11D0, VALUES),
], ids=["lf", "lh", "ri", "values"])
def test_transcribed_from_the_corpus(source: str, at: int, cell: bytes) -> None:
    assert from_corpus(source, at, len(cell)) == cell


@pytest.mark.parametrize("cell, signature, offsets, keys, names", LEAVES, ids=LEAF_IDS)
def test_decode_a_leaf(cell: bytes, signature: bytes, offsets: list, keys: list, names: list) -> None:
    assert LIST_HEADER.unpack(cell, 4)._asdict() == dict(signature=signature, count=2)
    buf = place({0x1D0: cell})
    found, problems = subkey_list_problems(buf, 0x1D0, follow(buf), "key 'A'", 0x1020, 5)
    assert problems == [] and found.root is None and found.cell == 0x1D0 and found.count == 2
    (leaf,) = found.leaves
    assert (leaf.signature, leaf.offsets, leaf.keys) == (signature, offsets, keys)
    if keys:  # the second word is computed from the name, the way Windows does
        assert [entry_key(signature, name) for name in names] == keys


def test_the_second_words() -> None:
    assert [lf_hint(name) for name in ("Description", "Objects")] == [b"Desc", b"Obje"]
    assert [lh_hash(name) for name in ("Internet Explorer", "Software")] == [0x5856475A, 0xE9FE1463]


@pytest.mark.parametrize("cell, signature, offsets, keys, names", LEAVES, ids=LEAF_IDS)
def test_encode_a_leaf(cell: bytes, signature: bytes, offsets: list, keys: list, names: list) -> None:
    leaf = Leaf(0x1D0, signature, offsets, keys)
    assert LIST_HEADER.pack(signature=signature, count=2) == pack_header(signature, 2) == cell[4:8]
    assert pack_header(signature, 2) + leaf.pack() == cell[4:]
    assert leaf.pack(first=1) == cell[4 + 4 + leaf.entry_size :]  # the entries from the second on
    assert cell_size_for(len(cell) - 4) == len(cell)


def ri_with_leaves() -> bytearray:
    """The ri at its place, each of its leaves the short li above (the real ones are long)."""
    return place({RI_AT: RI, **{cell: LI for cell in RI_LEAVES}})


def test_decode_an_index_root() -> None:
    assert LIST_HEADER.unpack(RI, 4)._asdict() == dict(signature=b"ri", count=4)
    buf = ri_with_leaves()
    found, problems = subkey_list_problems(buf, RI_AT, follow(buf), "key 'A'", 0x1020, 3)
    assert problems == [] and found.root == found.cell == RI_AT
    assert [leaf.cell for leaf in found.leaves] == RI_LEAVES
    assert found.offsets() == [0x108, 0x178] * 4 and found.count == 8


def test_encode_an_index_root() -> None:
    assert pack_root(RI_LEAVES) == RI[4:]


def test_value_list() -> None:
    buf = place({VALUES_AT: VALUES})
    assert value_list_problems(buf, VALUES_AT, 10, follow(buf), "key 'A'", 0x1020) == (tuple(VALUE_CELLS), ())
    assert pack_offsets(VALUE_CELLS) + bytes(4) == VALUES[4:]


def leaf_problems(cell: bytes, minor: int = 5) -> list:
    buf = place({0x1D0: cell})
    return subkey_list_problems(buf, 0x1D0, follow(buf), "key 'A'", 0x1020, minor)[1]


def changed(cell: bytes, at: int, raw: bytes) -> bytes:
    return cell[:at] + raw + cell[at + len(raw) :]


@pytest.mark.parametrize("cell, minor, code", [
    (changed(LF, 4, b"lx"), 3, "E-LIST-SIGNATURE"),
    (changed(LF, 6, b"\x00\x00"), 3, "E-LIST-EMPTY"),
    (changed(LF, 6, b"\x03\x00"), 3, "E-LIST-SIZE"),  # 3 entries claimed, 2 fit the cell
    (LH, 3, "I-LIST-TYPE"),  # Windows writes lf before version 1.5
    (changed(LF, 0, b"\xfc\xff\xff\xff"), 3, "E-LIST-SIZE"),  # no room for the header
], ids=["signature", "empty", "count-past-cell", "lh-in-1.3", "no-header"])
def test_leaf_problems(cell: bytes, minor: int, code: str) -> None:
    assert [(p.code, p.file_offset) for p in leaf_problems(cell, minor)] == [(code, 0x11D0)]


@pytest.mark.parametrize("leaf_1, code, where", [
    (RI_AT, "E-LIST-CYCLE", 0x250AF8),  # the ri lists itself
    (RI_LEAVES[0], "E-CELL-SHARED", 0x250AF8),  # one leaf listed twice
], ids=["itself", "twice"])
def test_index_root_cycles(leaf_1: int, code: str, where: int) -> None:
    buf = ri_with_leaves()
    buf[0x250AF8 + 12 : 0x250AF8 + 16] = leaf_1.to_bytes(4, "little")
    found, problems = subkey_list_problems(buf, RI_AT, follow(buf), "key 'A'", 0x1020, 3)
    assert [(p.code, p.file_offset) for p in problems] == [(code, where)]
    assert len(found.leaves) == 3  # each leaf is read once


def test_an_index_root_under_an_index_root() -> None:
    buf = place({RI_AT: RI, **{cell: LI for cell in RI_LEAVES[1:]}, RI_LEAVES[0]: RI})
    _, problems = subkey_list_problems(buf, RI_AT, follow(buf), "key 'A'", 0x1020, 3)
    assert [(p.code, p.file_offset) for p in problems] == [("E-LIST-NESTING", 0xD4020)]


def test_a_value_list_shorter_than_the_count() -> None:
    buf = place({VALUES_AT: VALUES})
    offsets, problems = value_list_problems(buf, VALUES_AT, 12, follow(buf), "key 'A'", 0x1020)
    assert offsets == (*VALUE_CELLS, 0)  # read as far as the cell goes: 11 words
    assert [(p.code, p.file_offset) for p in problems] == [("E-VALUE-LIST", 0x11D0)]
