"""The hive engine's rules (what must hold after every edit), each shown on the bytes.

Surgical edits, lazy lookups, Windows ordering, hashes and hints, list types and sizes,
inline and big data, name encodings, the largest-... fields, shared security cells,
sequence numbers and checksum, case-insensitive names, free-space reuse, dirty hives and
deterministic output. Facts are from regf-format.md (section numbers in the test names'
docstrings); expected values are written out, not computed with the engine's helpers.
"""
from __future__ import annotations

import struct

import pytest

from corpus import IN_CI, corpus_path, files_with_role, require_corpus
from hivetool.errors import DirtyHiveError, KeyNotFound
from hivetool.regf.records import lists as sublists
from hivetool.regf.hive.space import CellSpace
from hivetool.regf.records.base_block import BASE_BLOCK, checksum, raw_xor, read_header, stamp_clean
from hivetool.regf.hive import Hive
from hivetool.regf.records.nk import NIL, NK
from hivetool.regf.records.sk import SK, new_sk as new_sk_payload
from hivetool.regf.records.data import DB
from hivetool.regf.records.vk import VK
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2030-01-02T03:04:05Z"))
NTUSER_1_3 = "EricZimmerman+Registry/Registry.Test/Hives/NTUSER1.DAT"
NTUSER_1_5 = "strozfriedberg+notatin/test_data/NTUSER.DAT"
AMCACHE_1_5 = "log2timeline+plaso/test_data/winreg/win10-Amcache.hve"
SYSTEM_1_5 = "mkorman90+regipy/regipy_tests/data/SYSTEM"
BIN0 = 4096  # file offset of the first hive bin: cell offsets count from here


def corpus_hive(corpus_copy, relative: str):
    require_corpus()
    if not corpus_path(relative).is_file():
        message = f"corpus file {relative} is missing"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return corpus_copy(relative)


def nk(hive: Hive, cell: int):
    return NK.unpack(hive._engine.buf, BIN0 + cell + 4)


def vk(hive: Hive, cell: int):
    return VK.unpack(hive._engine.buf, BIN0 + cell + 4)


def cell_size(hive: Hive, cell: int) -> int:
    """Signed size field: negative when allocated."""
    return struct.unpack_from("<i", hive._engine.buf, BIN0 + cell)[0]


def allocated(hive: Hive, cell: int) -> bool:
    return hive._engine.space.is_allocated_cell(cell)


def child_names(hive: Hive, key) -> list[str]:
    return [hive._engine.key_name(cell, "subkey") for cell in hive._engine.child_cells(key.cell)]


def subkey_list(hive: Hive, key) -> sublists.SubkeyList:
    return hive._engine.read_subkey_list(nk(hive, key.cell).subkeys, BIN0 + key.cell + 4)


def reopen(hive: Hive) -> Hive:
    return Hive.from_bytes(hive.to_bytes(), clock=CLOCK)


# ------------------------------------------------------------------------------ 1. surgical
@pytest.mark.parametrize("relative", [NTUSER_1_3, NTUSER_1_5])
def test_changing_one_dword_changes_only_its_cell_the_key_time_and_the_header(corpus_copy, relative):
    """Rule 1 / regf-format 1.5: a save updates seq1, seq2, the timestamp (and the first
    bin's copy of it) and the checksum; an edit touches only the cells it must."""
    path = corpus_hive(corpus_copy, relative)
    before = path.read_bytes()
    hive = Hive.open(path, CLOCK)
    key, value = next(
        (k, v) for k in hive.walk() for v in k.values() if v.type == 4 and len(v.raw) == 4 and k.cell != hive._engine.root_cell
    )
    new = struct.pack("<I", (int.from_bytes(value.raw, "little") + 1) & 0xFFFFFFFF)
    hive.set_value(key, value.name, 4, new)
    after = hive.to_bytes()

    allowed = set(range(4, 20)) | set(range(508, 512)) | set(range(BIN0 + 20, BIN0 + 28))
    nk_at = BIN0 + key.cell + 4
    allowed |= set(range(nk_at + 4, nk_at + 12))  # the key's last-write time
    vk_start = BIN0 + value.cell
    allowed |= set(range(vk_start, vk_start - cell_size(hive, value.cell)))
    changed = {i for i, (a, b) in enumerate(zip(before, after)) if a != b}
    assert len(before) == len(after)
    assert changed <= allowed, sorted(changed - allowed)[:20]
    assert set(range(vk_start + 12, vk_start + 16)) & changed, "the DWORD itself did not change"
    assert hive.key(key.path).value(value.name).raw == new


# ------------------------------------------------------------------------------ 1. laziness
def test_finding_a_deep_key_decodes_about_one_node_per_path_component(corpus_copy):
    """Rule 1: a lookup follows hashes along its path, never walks the tree."""
    path = corpus_hive(corpus_copy, SYSTEM_1_5)
    target = "ControlSet001\\Services\\Tcpip\\Parameters"
    hive = Hive.open(path)
    assert hive._engine.nk_decodes == 0
    key = hive.key(target.upper())
    assert key.path.lower() == target.lower()
    components = target.count("\\") + 1
    assert hive._engine.nk_decodes <= 2 * components + 1, hive._engine.nk_decodes  # root, then hash match + view
    hive._engine.nk_decodes = 0
    with pytest.raises(KeyNotFound):
        hive.key("ControlSet001\\Services\\NoSuchService\\Parameters")
    assert hive._engine.nk_decodes <= 2 * components + 16  # a miss adds one binary search


class CountingList(list):
    """A list that counts how often it is walked from start to end."""

    walks = 0

    def __iter__(self):
        CountingList.walks += 1
        return super().__iter__()


def test_an_edit_does_not_walk_every_bin(corpus_copy):
    """Regression: each edit used to look for damaged bins by scanning the whole bin list,
    which made every edit O(hive) (2,700 bins in this SYSTEM hive)."""
    hive = Hive.open(corpus_hive(corpus_copy, SYSTEM_1_5), CLOCK)
    hive._engine.space.bins = CountingList(hive._engine.space.bins)
    CountingList.walks = 0
    for i in range(20):
        hive.set_value("ControlSet001\\Services\\Tcpip\\Parameters", f"v{i}", 4, struct.pack("<I", i))
    hive.create_key("ControlSet001\\Services\\hivetool")
    hive.delete_key("ControlSet001\\Services\\hivetool")
    assert CountingList.walks == 0


def test_lookup_in_a_1_3_hive_is_a_binary_search_not_a_scan_of_shared_hints():
    """Regression: lf hints of Key0000..Key0599 are all 'Key0', and the lookup used to
    decode every child whose hint matched, i.e. the whole list, per path component."""
    hive = Hive.new(3, clock=CLOCK)
    for i in range(600):
        hive.create_key(f"P\\Key{i:04d}")
    hive = reopen(hive)
    hive._engine.nk_decodes = 0
    assert hive.key("P\\key0300").name == "Key0300"
    assert hive._engine.nk_decodes <= 16, hive._engine.nk_decodes  # root, P, ~log2(600) probes, the view


# ------------------------------------------------------------------------------ 2. ordering
# Windows upcase order over UTF-16 code units (regf-format 5.4): a-z sort as A-Z, so they
# come before the six characters between Z and a; µ ß ı ς have no Windows upper case; a
# supplementary-plane character (surrogates D83D DE00) sorts before U+E000 and U+FF41.
WINDOWS_ORDER = ["a", "B", "c", "Z", "[", "^", "_", "`", "µ", "ß", "ı", "σ", "ς", "\U0001F600", "\uE000", "ａ"]
# h = h * 37 + upcase(unit) over code units (regf-format 5.5), computed by hand.
LH_HASHES = {"a": 0x41, "c": 0x43, "_": 0x5F, "µ": 0xB5, "ß": 0xDF, "ı": 0x131, "σ": 0x3A3, "ς": 0x3C2,
             "ａ": 0xFF21, "\U0001F600": (0xD83D * 37 + 0xDE00) & 0xFFFFFFFF, "ab": 0x41 * 37 + 0x42, "é": 0xC9}


@pytest.mark.parametrize("minor", [3, 5])
def test_subkeys_are_sorted_by_windows_upcase_over_code_units(minor):
    hive = Hive.new(minor, clock=CLOCK)
    for name in reversed(WINDOWS_ORDER[::2] + WINDOWS_ORDER[1::2]):
        hive.create_key(f"P\\{name}")
    assert child_names(hive, hive.key("P")) == WINDOWS_ORDER
    hive = reopen(hive)
    assert child_names(hive, hive.key("P")) == WINDOWS_ORDER
    assert hive.create_key("P\\A").name == "a"  # a case variant finds the existing key
    assert len(child_names(hive, hive.key("P"))) == len(WINDOWS_ORDER)


def test_lh_hashes_follow_windows_upcase():
    hive = Hive.new(5, clock=CLOCK)
    for name in LH_HASHES:
        hive.create_key(f"P\\{name}")
    (leaf,) = subkey_list(hive, hive.key("P")).leaves
    assert leaf.signature == b"lh"
    seen = {hive._engine.key_name(child, "subkey"): word for child, word in zip(leaf.offsets, leaf.keys)}
    assert seen == LH_HASHES


def test_lf_hints_are_the_first_four_characters_as_stored():
    """regf-format 5.6: case kept, zero padded; a character above U+00FF: first byte 0."""
    hive = Hive.new(3, clock=CLOCK)
    for name in ("Grüße", "ab", "aBcDe", "日本"):
        hive.create_key(f"P\\{name}")
    (leaf,) = subkey_list(hive, hive.key("P")).leaves
    assert leaf.signature == b"lf"
    hints = {hive._engine.key_name(c, "subkey"): w.to_bytes(4, "little") for c, w in zip(leaf.offsets, leaf.keys)}
    assert hints["Grüße"] == b"Gr\xfc\xdf"
    assert hints["ab"] == b"ab\0\0"
    assert hints["aBcDe"] == b"aBcD"
    assert hints["日本"][0] == 0


@pytest.mark.parametrize("minor, leaf_type", [(3, b"lf"), (5, b"lh")])
def test_list_type_follows_the_version(minor, leaf_type):
    hive = Hive.new(minor, clock=CLOCK)
    hive.create_key("P\\child")
    assert [leaf.signature for leaf in subkey_list(hive, hive.key("P")).leaves] == [leaf_type]
    assert [leaf.signature for leaf in subkey_list(hive, hive.root).leaves] == [leaf_type]


@pytest.mark.parametrize("minor", [3, 5])
def test_2000_subkeys_use_an_index_root_over_small_leaves_and_emptied_lists_are_freed(minor):
    """regf-format 5.3: leaves of at most 507 entries below an ri; 5.1: no empty leaf, the
    ri and the last leaf are freed and the list offset becomes nil."""
    hive = Hive.new(minor, clock=CLOCK)
    names = [f"{('Key', '_k', 'zz', 'A')[i % 4]}{i:04d}" for i in range(2000)]
    for name in names:
        hive.create_key(f"P\\{name}")
    parent = hive.key("P")
    full = subkey_list(hive, parent)
    assert full.root is not None and allocated(hive, full.root)
    assert all(0 < len(leaf.offsets) <= 507 for leaf in full.leaves)
    assert child_names(hive, parent) == sorted(names, key=str.upper)  # ASCII: Windows = str.upper
    assert nk(hive, parent.cell).subkey_count == 2000

    keep = set(names[::400])
    for name in names:
        if name not in keep:
            hive.delete_key(f"P\\{name}")
    left = subkey_list(hive, parent)
    assert child_names(hive, parent) == sorted(keep, key=str.upper)
    assert all(len(leaf.offsets) > 0 for leaf in left.leaves)
    still = {leaf.cell for leaf in left.leaves}
    assert all(not allocated(hive, leaf.cell) for leaf in full.leaves if leaf.cell not in still)

    for name in keep:
        hive.delete_key(f"P\\{name}")
    fields = nk(hive, parent.cell)
    assert (fields.subkey_count, fields.subkeys) == (0, NIL)
    assert not any(allocated(hive, cell) for cell in [full.root, *(leaf.cell for leaf in left.leaves)])
    assert reopen(hive).key("P").subkey_count == 0


# ------------------------------------------------------------------------------ 2. data
@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5])
def test_data_of_0_to_4_bytes_is_inline(size):
    """regf-format 6.2: size field 0x80000000 | n, bytes left-aligned, the rest zero."""
    hive = Hive.new(5, clock=CLOCK)
    raw = bytes(range(0x11, 0x11 + size))
    hive.set_value("", "v", 3, raw)
    fields = vk(hive, hive.root.value("v").cell)
    if size <= 4:
        assert fields.data_size == 0x80000000 | size
        assert struct.pack("<I", fields.data) == raw.ljust(4, b"\0")
    else:
        assert fields.data_size == size
        at = BIN0 + fields.data + 4
        assert hive._engine.buf[at : at + size] == raw


@pytest.mark.parametrize("minor", [3, 5])
def test_big_data_above_16344_bytes_in_1_5_and_one_cell_in_1_3(minor):
    """regf-format 6.2/6.3: db with ceil(n/16344) segments, each a 16,352-byte cell."""
    hive = Hive.new(minor, clock=CLOCK)
    exact = bytes(range(256)) * 63 + bytes(216)  # 16,344 bytes
    assert len(exact) == 16_344
    for name, raw in (("exact", exact), ("over", exact + b"!"), ("big", exact * 2 + b"tail")):
        hive.set_value("", name, 3, raw)
    hive = reopen(hive)
    for name, raw in (("exact", exact), ("over", exact + b"!"), ("big", exact * 2 + b"tail")):
        fields = vk(hive, hive.root.value(name).cell)
        assert fields.data_size == len(raw)
        payload = bytes(hive._engine.buf[BIN0 + fields.data + 4 : BIN0 + fields.data + 4 + len(raw)])
        if minor == 3 or len(raw) <= 16_344:
            assert payload == raw
            continue
        signature, count, segment_list = DB.struct.unpack_from(hive._engine.buf, BIN0 + fields.data + 4)
        assert (signature, count) == (b"db", -(-len(raw) // 16_344))
        segments = struct.unpack_from(f"<{count}I", hive._engine.buf, BIN0 + segment_list + 4)
        assert [cell_size(hive, s) for s in segments] == [-16_352] * count
        joined = b"".join(bytes(hive._engine.buf[BIN0 + s + 4 : BIN0 + s + 4 + 16_344]) for s in segments)
        assert joined[: len(raw)] == raw
        assert hive.root.value(name).raw == raw


# ------------------------------------------------------------------------------ 2. names
def test_names_are_latin_1_when_possible_else_utf_16():
    """regf-format 4.3/6.1: nk flag 0x20, vk flag 0x1; the default value has flags 0."""
    hive = Hive.new(5, clock=CLOCK)
    latin = hive.create_key("Grüße")
    wide = hive.create_key("日本")
    assert nk(hive, latin.cell).flags & 0x20 and nk(hive, latin.cell).name_length == 5
    assert hive._engine.buf[BIN0 + latin.cell + 4 + 76 : BIN0 + latin.cell + 4 + 81] == "Grüße".encode("latin-1")
    assert not nk(hive, wide.cell).flags & 0x20 and nk(hive, wide.cell).name_length == 4
    assert hive._engine.buf[BIN0 + wide.cell + 4 + 76 : BIN0 + wide.cell + 4 + 80] == "日本".encode("utf-16-le")
    for name, flags, stored in (("Grüße", 1, "Grüße".encode("latin-1")), ("値", 0, "値".encode("utf-16-le")),
                                ("", 0, b"")):
        hive.set_value("", name, 1, b"x\0\0\0")
        fields = vk(hive, hive.root.value(name).cell)
        assert (fields.flags, fields.name_length) == (flags, len(stored))
        at = BIN0 + hive.root.value(name).cell + 4 + 20
        assert hive._engine.buf[at : at + len(stored)] == stored


def test_largest_name_and_data_fields_cover_the_truth_and_keep_the_flag_bytes(corpus_copy):
    """regf-format 4.1/4.4: maxima in UTF-16 bytes, high-water marks; offset 54/55 hold
    user/virtualisation and debug flags that must survive (only 16 bits are the maximum)."""
    hive = Hive.new(5, clock=CLOCK)
    for name in ("a", "Grüße", "日本"):
        hive.create_key(f"P\\{name}")
    for name, size in (("v", 100), ("値値値", 3)):
        hive.set_value("P", name, 3, bytes(size))
    fields = nk(hive, hive.key("P").cell)
    assert (fields.max_subkey_name, fields.max_value_name, fields.max_value_data) == (10, 6, 100)
    hive.delete_key("P\\Grüße")
    hive.delete_value("P", "v")
    fields = nk(hive, hive.key("P").cell)
    assert fields.max_subkey_name >= 4 and fields.max_value_name >= 6 and fields.max_value_data >= 3

    hive = Hive.open(corpus_hive(corpus_copy, AMCACHE_1_5), CLOCK)
    key = next(k for k in hive.walk() if nk(hive, k.cell).user_flags and k.cell != hive._engine.root_cell)
    before = nk(hive, key.cell)
    hive.create_key(f"{key.path}\\{'x' * 200}")
    hive.set_value(key, "y" * 300, 3, bytes(5000))
    after = nk(hive, key.cell)
    assert (after.user_flags, after.debug_flags) == (before.user_flags, before.debug_flags)
    assert (after.max_subkey_name, after.max_value_name, after.max_value_data) == (
        max(before.max_subkey_name, 400), max(before.max_value_name, 600), max(before.max_value_data, 5000))


# ------------------------------------------------------------------------------ 2. security
def sk_fields(hive: Hive, cell: int):
    return SK.unpack(hive._engine.buf, BIN0 + cell + 4)


def sk_ring(hive: Hive) -> list[int]:
    """The ring from the root key's sk, checking flink/blink agree (regf-format 7)."""
    start = nk(hive, hive._engine.root_cell).security
    ring, cell = [], start
    while True:
        ring.append(cell)
        nxt = sk_fields(hive, cell).flink
        assert sk_fields(hive, nxt).blink == cell
        cell = nxt
        if cell == start:
            return ring
        assert len(ring) < 100_000


def test_new_keys_share_the_parents_security_cell_and_deleting_releases_it():
    hive = Hive.new(5, clock=CLOCK)
    root_sk = nk(hive, hive._engine.root_cell).security
    assert sk_fields(hive, root_sk).refcount == 1
    a = hive.create_key("A\\B")
    assert nk(hive, a.cell).security == root_sk
    assert sk_fields(hive, root_sk).refcount == 3
    hive.delete_key("A", recursive=True)
    assert sk_fields(hive, root_sk).refcount == 1

    # A key with a descriptor of its own: at zero references its sk leaves the ring.
    hive.create_key("Own")
    own = hive.key("Own")
    cell = hive._engine.space.alloc(len(new_sk_payload(0, b"\x01" * 40)))
    payload = bytearray(new_sk_payload(cell, bytes.fromhex("0100048014000000") + bytes(32)))
    struct.pack_into("<II", payload, 4, root_sk, root_sk)  # link: root_sk <-> cell
    hive._engine.buf[BIN0 + cell + 4 : BIN0 + cell + 4 + len(payload)] = payload
    SK.write(hive._engine.buf, BIN0 + root_sk + 4, "flink", cell)
    SK.write(hive._engine.buf, BIN0 + root_sk + 4, "blink", cell)
    SK.write(hive._engine.buf, BIN0 + root_sk + 4, "refcount", 1)  # Own no longer uses it
    NK.write(hive._engine.buf, BIN0 + own.cell + 4, "security", cell)
    hive.create_key("Own\\child")
    assert nk(hive, hive.key("Own\\child").cell).security == cell
    assert sk_fields(hive, cell).refcount == 2
    assert sorted(sk_ring(hive)) == sorted([root_sk, cell])
    hive.delete_key("Own", recursive=True)
    assert sk_ring(hive) == [root_sk] and not allocated(hive, cell)
    assert sk_fields(hive, root_sk).refcount == 1


def test_deleting_the_last_user_of_a_corpus_descriptor_frees_it(corpus_copy):
    hive = Hive.open(corpus_hive(corpus_copy, NTUSER_1_5), CLOCK)
    ring = sk_ring(hive)
    leaf = next(
        k for k in hive.walk()
        if k.cell != hive._engine.root_cell and nk(hive, k.cell).subkey_count == 0
        and sk_fields(hive, nk(hive, k.cell).security).refcount == 1
    )
    lonely = nk(hive, leaf.cell).security
    parent_sk = nk(hive, hive.key(leaf.path.rpartition("\\")[0]).cell).security
    users = sk_fields(hive, parent_sk).refcount
    hive.create_key(f"{leaf.path.rpartition(chr(92))[0]}\\hivetool-new")
    assert sk_fields(hive, parent_sk).refcount == users + 1
    hive.delete_key(leaf.path)
    assert not allocated(hive, lonely)
    assert sorted(sk_ring(reopen(hive))) == sorted(set(ring) - {lonely})


# ------------------------------------------------------------------------------ 2. header
def test_both_sequence_numbers_are_equal_and_higher_after_a_save(corpus_copy):
    hive = Hive.open(corpus_hive(corpus_copy, NTUSER_1_3), CLOCK)
    old = hive._engine.header
    hive.set_value("", "x", 4, b"\1\0\0\0")
    saved = read_header(hive.to_bytes())
    assert saved.seq1 == saved.seq2 == max(old.seq1, old.seq2) + 1
    assert saved.checksum_ok and not saved.dirty
    assert saved.timestamp == CLOCK.now()
    hive._sequence_floor = 5000  # numbers found in log files
    assert read_header(hive.to_bytes()).seq1 == read_header(hive.to_bytes()).seq2 == 5001


@pytest.mark.parametrize("special, stored", [(0, 1), (0xFFFFFFFF, 0xFFFFFFFE)])
def test_checksum_special_values(special, stored):
    """regf-format 1.2: XOR 0 is stored as 1, 0xFFFFFFFF as 0xFFFFFFFE; a save moves the
    timestamp by one tick instead, so that readers without the rule agree too."""
    buf = bytearray(Hive.new(5, clock=CLOCK).to_bytes())
    BASE_BLOCK.write(buf, 0, "timestamp", 0)
    BASE_BLOCK.write(buf, 0, "seq1", 7)
    BASE_BLOCK.write(buf, 0, "seq2", 7)
    low = raw_xor(buf) ^ special  # this low timestamp word makes the XOR hit the value
    BASE_BLOCK.write(buf, 0, "timestamp", low)
    assert raw_xor(buf) == special
    assert checksum(buf) == stored
    BASE_BLOCK.write(buf, 0, "checksum", stored)
    assert read_header(buf).checksum_ok

    written = stamp_clean(buf, 7, low, BASE_BLOCK.read(buf, 0, "hbins_size"))
    assert written == low + 1
    assert raw_xor(buf) not in (0, 0xFFFFFFFF)
    assert BASE_BLOCK.read(buf, 0, "checksum") == raw_xor(buf) == checksum(buf)


# ------------------------------------------------------------------------------ 3. names
def test_value_names_are_case_insensitive_and_keep_their_stored_spelling():
    hive = Hive.new(5, clock=CLOCK)
    hive.create_key("P")
    assert hive.set_value("P", "TCP/IP port", 4, struct.pack("<I", 1225)) is True
    assert hive.set_value("P", "TCP/IP Port", 4, struct.pack("<I", 1226)) is False
    assert hive.set_value("P", "ärger", 1, b"a\0\0\0") is True
    assert hive.set_value("P", "ÄRGER", 1, b"b\0\0\0") is False  # ä upcases to Ä
    assert hive.set_value("P", "SS", 1, b"c\0\0\0") and hive.set_value("P", "ß", 1, b"d\0\0\0")
    values = {v.name: v.raw for v in reopen(hive).key("p").values()}
    assert values == {"TCP/IP port": struct.pack("<I", 1226), "ärger": b"b\0\0\0", "SS": b"c\0\0\0", "ß": b"d\0\0\0"}
    hive.delete_value("P", "tcp/ip PORT")
    assert "TCP/IP port" not in {v.name for v in hive.key("P").values()}


# ------------------------------------------------------------------------------ 4. free space
@pytest.mark.parametrize("minor", [3, 5])
def test_a_thousand_rounds_of_set_delete_resize_grow_the_hive_by_at_most_one_bin(minor):
    hive = Hive.new(minor, clock=CLOCK)
    hive.create_key("churn")
    start = hive._engine.space.end
    for i in range(1000):
        name = "ab"[i % 2]
        if i % 5 == 4:
            if name in {v.name for v in hive.key("churn").values()}:
                hive.delete_value("churn", name)
        else:
            hive.set_value("churn", name, 3, bytes([i % 251]) * ((i * 397) % 1500 + 1))
    assert hive._engine.space.end - start <= 4096
    assert len(reopen(hive).to_bytes()) - 4096 - start <= 4096
    for name in {v.name for v in hive.key("churn").values()}:
        hive.delete_value("churn", name)
    assert (nk(hive, hive.key("churn").cell).value_count, nk(hive, hive.key("churn").cell).values) == (0, NIL)


def test_freed_neighbours_coalesce():
    hive = Hive.new(5, clock=CLOCK)
    space: CellSpace = hive._engine.space
    a, b, c = (space.alloc(100) for _ in range(3))
    assert b == a + 104 and c == b + 104  # carved one after another from the same free cell
    bin_end = space.bins[space.bin_index(a)].start + space.bins[space.bin_index(a)].size
    space.free(a)
    space.free(c)
    assert cell_size(hive, a) == 104 and cell_size(hive, c) == bin_end - c  # c joined the free tail
    space.free(b)
    cells = dict(space.iter_cells())
    assert cells[a] == bin_end - a and b not in cells and c not in cells


# ------------------------------------------------------------------------------ 6. dirty
def test_dirty_hives_are_refused_for_editing_with_a_hint_to_replay_the_logs(corpus_copy):
    replay = files_with_role("replay")
    if not replay:
        require_corpus()
        pytest.skip("no corpus hive with role replay")
    path = corpus_copy(min(replay, key=lambda rel: corpus_path(rel).stat().st_size), with_logs=True)
    before = path.read_bytes()
    hive = Hive.open(path, CLOCK)
    assert hive.dirty
    for action in (lambda: hive.set_value("", "x", 4, b"\0\0\0\0"), lambda: hive.create_key("new"),
                   lambda: hive.to_bytes(), lambda: hive.save(path, in_place=True)):
        with pytest.raises(DirtyHiveError) as caught:
            action()
        assert caught.value.exit_code == 4
        assert "replay" in str(caught.value).lower() and "log" in str(caught.value).lower()
    assert path.read_bytes() == before


# ------------------------------------------------------------------------------ determinism
@pytest.mark.parametrize("source", ["new", NTUSER_1_3])
def test_same_edits_and_same_clock_give_the_same_bytes(corpus_copy, source):
    outputs = []
    for _ in range(2):
        hive = Hive.new(5, clock=CLOCK) if source == "new" else Hive.open(corpus_hive(corpus_copy, source), CLOCK)
        for i in range(50):
            hive.create_key(f"d\\k{i % 7}\\x{i}")
            hive.set_value(f"d\\k{i % 7}", f"v{i % 5}", 3, bytes(i * 31 % 700))
        hive.delete_key("d\\k3", recursive=True)
        outputs.append(hive.to_bytes())
    assert outputs[0] == outputs[1]
