"""Compaction (``hivetool compact``) and bulk building.

On every corpus hive marked ``edit``: the compacted hive holds exactly the same keys (with
their timestamps, flags, user-flag bytes, class names and security descriptors) and values
(in the same order, same types, same bytes) as seen by our reader; python-registry,
libregf, hivexml and reglookup (and regipy on the smaller hives) show that content; the
result is no larger than the input, compacting it again gives the same bytes, and our
structural check finds nothing. Built hives then pin down each rule: canonical lists,
shared security cells, big data in each version, the header, and the refusals.
"""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracles
from corpus import corpus_dir, corpus_path, files_with_role, require_corpus, role_params
from hivetool.cli import main
from hivetool.errors import HiveFormatError, RefusedUnsafe
from hivetool.regf.hive import security as skmod
from hivetool.regf.records import lists as sublists
from hivetool.regf.records.sk import new_sk
from hivetool.regf.records.bins import HBIN, HBIN_BASE
from hivetool.regf.check import check_bytes, check_file
from hivetool.regf.compact import TreeSource, build_hive, build_hive_bytes, compact_bytes, compact_hive
from hivetool.regf.records.base_block import BASE_BLOCK, checksum
from hivetool.regf.hive import Hive
from hivetool.regf.records.names import lf_hint, lh_hash, sort_key
from hivetool.regf.records.nk import KEY_COMP_NAME, NK
from hivetool.regf.records.vk import VK
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2024-05-01T12:00:00Z"))
BIG_HIVE = 2_000_000  # larger corpus hives are marked slow (they still run in CI)
REGIPY_LIMIT = 1_000_000  # regipy takes minutes on large hives: only the smaller ones


def snapshot(path: Path | str) -> list[tuple]:
    """Everything compaction must keep, key by key in walk order, values in their order."""
    hive = Hive.open(path)
    rows = []
    for key in hive.walk():
        at, _ = hive._engine.space.payload(key.cell, "key")
        rec = NK.unpack(hive._engine.buf, at)
        rows.append((
            key.path, rec.timestamp, rec.flags & ~KEY_COMP_NAME, rec.access_bits, rec.layered_bits,
            rec.user_flags, rec.debug_flags, key.class_name, skmod.descriptor(hive._engine.space, rec.security),
            [(v.name, v.type, v.raw) for v in key.values()],
        ))
    return rows


def compact_file(source: Path, out: Path, minor: int | None = None) -> None:
    compact_hive(Hive.open(source, CLOCK), out, minor)


# --------------------------------------------------------------------------- the corpus
@pytest.fixture(scope="module", params=role_params("edit", max_bytes=BIG_HIVE))
def compacted(request, tmp_path_factory) -> tuple[Path, Path]:
    if request.param is None:
        require_corpus()
        pytest.skip("no corpus hives with role edit")
    work = tmp_path_factory.mktemp("compact")
    source = work / "input.hiv"
    shutil.copyfile(corpus_path(request.param), source)
    out = work / "compacted.hiv"
    compact_file(source, out)
    return source, out


def test_keeps_every_key_value_and_attribute(compacted):
    source, out = compacted
    assert snapshot(out) == snapshot(source)


def test_is_no_larger_than_the_input(compacted):
    source, out = compacted
    assert out.stat().st_size <= source.stat().st_size


def test_compacting_twice_gives_the_same_bytes(compacted, tmp_path):
    _, out = compacted
    again = tmp_path / "again.hiv"
    compact_file(out, again)
    assert again.read_bytes() == out.read_bytes()


def test_check_finds_nothing(compacted):
    _, out = compacted
    report = check_file(out)
    assert report.clean, "\n".join(f.line() for f in report.problems)


def test_drops_free_space(compacted):
    """Free cells remain only as the unused end of a bin, never between cells."""
    _, out = compacted
    hive = Hive.open(out)
    for index, b in enumerate(hive._engine.space.bins):
        starts, broken_at, _ = hive._engine.space.bin_cells(index)
        assert broken_at is None
        free = [cell for cell in starts if hive._engine.space.raw_size(cell) > 0]
        assert free in ([], [starts[-1]]), f"free cell inside the bin at 0x{b.start:x}"


@pytest.mark.parametrize("reader", oracles.FULL_READERS, ids=lambda r: r.name)
def test_independent_readers_see_the_content(compacted, reader):
    source, out = compacted
    content = oracles.read_own(out)
    original = oracles.read_own(source)
    assert content.keys.keys() == original.keys.keys()
    assert content.records() == original.records()
    # What the reader shows of the output is exactly that content (within what it can show).
    oracles.agree(reader, out, content)


def _small_edit_hives() -> list:
    """regipy needs minutes on large hives; the other readers cover those."""
    params = role_params("edit")
    small = [p for p in params if p.values[0] is not None and (corpus_dir() / p.values[0]).stat().st_size <= REGIPY_LIMIT]
    return small or params


@pytest.mark.parametrize("relative", _small_edit_hives())
def test_regipy_sees_the_content(relative, tmp_path):
    if relative is None:
        require_corpus()
        pytest.skip("no corpus hives with role edit")
    source = tmp_path / "input.hiv"
    shutil.copyfile(corpus_path(relative), source)
    out = tmp_path / "compacted.hiv"
    compact_file(source, out)
    content = oracles.read_own(out)
    assert content.records() == oracles.read_own(source).records()
    oracles.agree(oracles.REGIPY, out, content, oracles.regipy_scopes(content, [("", True)]))


# --------------------------------------------------------------------------- built hives
def text(value: str) -> bytes:
    return value.encode("utf-16-le") + b"\0\0"


NAMES = ["Key", "_key", "[k", "ZZ", "a", "Ü", "日本", "key-", "Grüße", "ß"]


def sample_hive(minor: int, subkeys: int = 0) -> Hive:
    """A hive with one key of each kind worth keeping, and ``subkeys`` children of 'many'."""
    hive = Hive.new(minor, clock=CLOCK)
    for name in NAMES:
        hive.create_key(f"mixed\\{name}")
    values = hive.create_key("values")
    for name, value_type, raw in [
        ("zeta", 4, b"\x05\x00\x00\x00"), ("alpha", 1, text("first")), ("", 1, text("default")),
        ("empty", 3, b""), ("two", 3, b"\x01\x02"), ("big", 3, bytes(range(256)) * 160),
        ("値", 0xFFFF0011, b"\x00\xff" * 3), ("exact", 3, b"\x07" * 16_344), ("over", 3, b"\x08" * 16_345),
    ]:
        hive.set_value(values, name, value_type, raw)
    for i in range(subkeys):
        hive.create_key(f"many\\{NAMES[i % len(NAMES)]}{i:04d}")
    return hive


def saved(hive: Hive, path: Path) -> Path:
    hive.save(path)
    return path


def reopened(data: bytes) -> Hive:
    return Hive.from_bytes(data, "compacted", CLOCK)


def list_entries(hive: Hive, key_path: str) -> tuple[sublists.SubkeyList, list[str]]:
    key = hive.key(key_path)
    at, _ = hive._engine.space.payload(key.cell, "key")
    sublist = hive._engine.read_subkey_list(NK.unpack(hive._engine.buf, at).subkeys, at)
    return sublist, [hive._engine.key_name(cell, "subkey") for cell in sublist.offsets()]


@pytest.mark.parametrize("minor,leaf", [(5, b"lh"), (3, b"lf")])
def test_subkey_lists_are_canonical(minor, leaf, tmp_path):
    hive = reopened(compact_bytes(Hive.from_bytes(sample_hive(minor, subkeys=2000).to_bytes(), "in", CLOCK)))
    sublist, names = list_entries(hive, "many")
    assert len(names) == 2000
    assert sublist.root is not None, "above 507 entries an index root (ri) is used"
    assert all(l.signature == leaf and 0 < len(l.offsets) <= sublists.MAX_LEAF_ENTRIES for l in sublist.leaves)
    keys = [sort_key(n) for n in names]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    words = [w for l in sublist.leaves for w in l.keys]
    if leaf == b"lh":
        assert words == [lh_hash(n) for n in names]
    else:
        assert words == [int.from_bytes(lf_hint(n), "little") for n in names]
    small, _ = list_entries(hive, "mixed")
    assert small.root is None and small.leaves[0].signature == leaf
    assert check_bytes(hive._engine.buf).clean


def test_an_unsorted_list_comes_out_sorted_and_duplicates_are_refused():
    hive = Hive.from_bytes(sample_hive(5).to_bytes(), "in", CLOCK)
    sublist, names = list_entries(hive, "mixed")
    leaf = sublist.leaves[0]
    at = HBIN_BASE + leaf.cell + 4
    pairs = list(zip(leaf.offsets, leaf.keys))[::-1]
    struct.pack_into(f"<{2 * len(pairs)}I", hive._engine.buf, at + 4, *[w for p in pairs for w in p])
    assert [k.name for k in hive.key("mixed").subkeys()] == names[::-1]
    out = reopened(compact_bytes(hive))
    assert [k.name for k in out.key("mixed").subkeys()] == names
    # Rename 'ZZ' to 'A': now two subkeys ('a' and 'A') have the same name for Windows.
    zz_at = HBIN_BASE + hive.key("mixed\\ZZ").cell + 4
    hive._engine.buf[zz_at + NK.size : zz_at + NK.size + 1] = b"A"
    NK.write(hive._engine.buf, zz_at, "name_length", 1)
    with pytest.raises(HiveFormatError, match="same name"):
        compact_bytes(hive)


def add_security_cell(hive: Hive, descriptor: bytes) -> int:
    """Append an sk cell (refcount 0 until keys point at it) to the hive's ring."""
    ring_head = hive.root.security_cell
    cell = hive._engine.space.alloc(skmod.SK.size + len(descriptor))
    hive._engine.buf[HBIN_BASE + cell + 4 : HBIN_BASE + cell + 4 + skmod.SK.size + len(descriptor)] = new_sk(
        cell, descriptor, refcount=0
    )
    head_at = HBIN_BASE + ring_head + 4
    last = skmod.SK.read(hive._engine.buf, head_at, "blink")
    skmod.SK.write(hive._engine.buf, HBIN_BASE + cell + 4, "flink", ring_head)
    skmod.SK.write(hive._engine.buf, HBIN_BASE + cell + 4, "blink", last)
    skmod.SK.write(hive._engine.buf, HBIN_BASE + last + 4, "flink", cell)
    skmod.SK.write(hive._engine.buf, head_at, "blink", cell)
    return cell


def point_at(hive: Hive, key_path: str, cell: int) -> None:
    key = hive.key(key_path)
    skmod.drop_reference(hive._engine.space, key.security_cell)
    skmod.add_reference(hive._engine.space, cell)
    NK.write(hive._engine.buf, HBIN_BASE + key.cell + 4, "security", cell)


def sk_ring(hive: Hive) -> list[int]:
    start = hive.root.security_cell
    ring, cell = [start], skmod.SK.read(hive._engine.buf, HBIN_BASE + start + 4, "flink")
    while cell != start:
        assert cell not in ring and len(ring) < 10_000
        assert skmod.SK.read(hive._engine.buf, HBIN_BASE + cell + 4, "blink") == ring[-1]
        ring.append(cell)
        cell = skmod.SK.read(hive._engine.buf, HBIN_BASE + cell + 4, "flink")
    assert skmod.SK.read(hive._engine.buf, HBIN_BASE + start + 4, "blink") == ring[-1]
    return ring


def test_security_descriptors_are_shared_with_exact_counts():
    hive = Hive.from_bytes(sample_hive(5).to_bytes(), "in", CLOCK)
    shared = skmod.descriptor(hive._engine.space, hive.root.security_cell)
    twin = add_security_cell(hive, shared)  # same bytes as the root's: must merge
    other = shared[:-1] + b"\x21"  # another descriptor (last byte of the group SID differs)
    distinct = add_security_cell(hive, other)
    add_security_cell(hive, other)  # nobody uses it: must go
    point_at(hive, "mixed\\Key", twin)
    point_at(hive, "mixed\\ZZ", distinct)
    point_at(hive, "values", distinct)
    before = snapshot_of(hive)
    out = reopened(compact_bytes(hive))
    assert snapshot_of(out) == before
    ring = sk_ring(out)
    assert sorted(skmod.descriptor(out._engine.space, c) for c in ring) == sorted([shared, other])
    users = {}
    for key in out.walk():
        users[key.security_cell] = users.get(key.security_cell, 0) + 1
    assert set(users) == set(ring)
    for cell in ring:
        assert skmod.SK.read(out._engine.buf, HBIN_BASE + cell + 4, "refcount") == users[cell]
    assert check_bytes(out._engine.buf).clean


def snapshot_of(hive: Hive) -> list[tuple]:
    return [(k.path, skmod.descriptor(hive._engine.space, k.security_cell), [(v.name, v.type, v.raw) for v in k.values()])
            for k in hive.walk()]


def big_data_cells(hive: Hive, key: str, name: str) -> bytes:
    value = hive.key(key).value(name)
    at = HBIN_BASE + value.cell + 4
    vk = VK.unpack(hive._engine.buf, at)
    data_at, _ = hive._engine.space.payload(vk.data, "data")
    return bytes(hive._engine.buf[data_at : data_at + 2])


@pytest.mark.parametrize("source_minor", [5, 3])
def test_version_conversion_keeps_content_and_uses_each_versions_big_data(source_minor, tmp_path):
    source = Hive.from_bytes(sample_hive(source_minor, subkeys=600).to_bytes(), "in", CLOCK)
    target = 3 if source_minor == 5 else 5
    out = reopened(compact_bytes(source, target))
    assert out.minor == target
    assert snapshot_of(out) == snapshot_of(source)
    assert (big_data_cells(out, "values", "big") == b"db") == (target == 5)
    assert big_data_cells(out, "values", "exact") != b"db" or target == 3
    sublist, _ = list_entries(out, "many")
    assert {leaf.signature for leaf in sublist.leaves} == {b"lh" if target == 5 else b"lf"}
    path = tmp_path / "converted.hiv"
    path.write_bytes(out._engine.buf)
    assert check_file(path).clean
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, path, oracles.read_own(path))


def test_more_than_one_mebibyte_cannot_go_to_version_1_3(tmp_path):
    hive = Hive.new(5, clock=CLOCK)
    hive.set_value(hive.create_key("big"), "blob", 3, b"\x01" * (1024 * 1024 + 1))
    source = saved(hive, tmp_path / "big15.hiv")
    with pytest.raises(RefusedUnsafe, match="1.3"):
        compact_bytes(Hive.open(source, CLOCK), 3)
    out = tmp_path / "big13.hiv"
    assert main(["compact", str(source), "-o", str(out), "--hive-version", "1.3"]) == 4
    assert not out.exists()
    assert main(["compact", str(source), "-o", str(out), "--hive-version", "1.5"]) == 0
    assert Hive.open(out).key("big").value("blob").raw == b"\x01" * (1024 * 1024 + 1)


def test_flags_user_flag_bytes_class_names_and_times_are_kept():
    hive = Hive.new(5, clock=CLOCK)
    hive.create_key("plain")
    key = hive.create_key("flagged")
    at = HBIN_BASE + key.cell + 4
    NK.write(hive._engine.buf, at, "user_flags", 0xA1)  # virtualisation + Wow64 flag nibbles (4.1)
    NK.write(hive._engine.buf, at, "debug_flags", 0x02)
    NK.write(hive._engine.buf, at, "access_bits", 0x02)
    NK.write(hive._engine.buf, at, "timestamp", 0x01D1_2345_6789_ABCD)
    NK.write(hive._engine.buf, at, "flags", NK.read(hive._engine.buf, at, "flags") | 0x1000)  # XP-era user flag
    class_text = "JD-class".encode("utf-16-le")
    cell = hive._engine.space.alloc(len(class_text))
    hive._engine.buf[HBIN_BASE + cell + 4 : HBIN_BASE + cell + 4 + len(class_text)] = class_text
    NK.write(hive._engine.buf, at, "class_cell", cell)
    NK.write(hive._engine.buf, at, "class_length", len(class_text))
    out = reopened(compact_bytes(hive))
    got = out.key("flagged")
    rec = NK.unpack(out._engine.buf, HBIN_BASE + got.cell + 4)
    assert (rec.user_flags, rec.debug_flags, rec.access_bits) == (0xA1, 0x02, 0x02)
    assert rec.timestamp == 0x01D1_2345_6789_ABCD and rec.flags & 0x1000
    assert got.class_name == "JD-class"
    root = NK.unpack(out._engine.buf, HBIN_BASE + out._engine.root_cell + 4)
    assert root.max_subkey_class == len(class_text) and root.max_subkey_name == len("flagged") * 2
    assert check_bytes(out._engine.buf).clean



def test_value_flags_are_kept_but_the_name_bit_is_decided_anew():
    """Value records keep every flag bit (0x0002 is a tombstone in newer hives) but the one
    that says the name is Latin-1, which follows the name as written: sound values (read in
    one step) and values read the long way (a UTF-16 name) alike."""
    hive = Hive.new(5, clock=CLOCK)
    key = hive.create_key("values")
    for name, raw in (("inline", b"\x01\x00\x00\x00"), ("in a cell", bytes(40)), ("Zoë€", bytes(40))):
        hive.set_raw_value(key, name, 3 if raw[0] == 0 else 4, raw)
    buf = hive._engine.buf
    kept = {}
    for value in key.values():
        at = HBIN_BASE + value.cell + 4
        extra = 0x0002 | 0xA500
        VK.write(buf, at, "flags", VK.read(buf, at, "flags") | extra)
        kept[value.name] = VK.read(buf, at, "flags")
    out = reopened(compact_bytes(hive))
    for value in out.key("values").values():
        flags = VK.read(out._engine.buf, HBIN_BASE + value.cell + 4, "flags")
        assert flags == kept[value.name], value.name
        assert flags & 0x0001 == (value.name != "Zoë€")  # Latin-1 names are stored compressed
    assert check_bytes(out._engine.buf).clean
def test_header_and_bins():
    source = Hive.from_bytes(sample_hive(5, subkeys=50).to_bytes(), "in", CLOCK)
    data = compact_bytes(source)
    head = BASE_BLOCK.unpack(data, 0)
    assert head.seq1 == head.seq2 == source._engine.header.seq1
    assert head.timestamp == CLOCK.now()
    assert head.root_cell == 0x20, "the root is the first cell, where Windows (and regipy) expect it"
    assert head.hbins_size == len(data) - 4096
    assert head.checksum == checksum(data)
    first = HBIN.unpack(data, HBIN_BASE)
    assert first.timestamp == head.timestamp and first.offset == 0
    hive = reopened(data)
    assert [b.problem for b in hive._engine.space.bins if b.problem] == []


def test_default_time_comes_from_source_date_epoch(tmp_path, monkeypatch):
    source = saved(sample_hive(5), tmp_path / "in.hiv")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["compact", str(source), "-o", str(tmp_path / "a.hiv")]) == 0
    assert main(["compact", str(source), "-o", str(tmp_path / "b.hiv")]) == 0
    assert (tmp_path / "a.hiv").read_bytes() == (tmp_path / "b.hiv").read_bytes()


# --------------------------------------------------------------------------- the command
def test_cli_compacts_verifies_and_reports(tmp_path, capsys):
    source = saved(sample_hive(5, subkeys=30), tmp_path / "in.hiv")
    out = tmp_path / "out.hiv"
    assert main(["compact", str(source), "-o", str(out), "--timestamp", "2024-05-01T12:00:00Z", "--verify"]) == 0
    err = capsys.readouterr().err
    assert f"-> {out}" in err and "keys" in err
    assert snapshot(out) == snapshot(source)


def test_cli_refusals(tmp_path, capsys):
    source = saved(sample_hive(5), tmp_path / "in.hiv")
    assert main(["compact", str(source), "-o", str(source)]) == 2
    assert main(["compact", str(source), "-o", str(tmp_path / "missing" / "out.hiv")]) == 6
    assert main(["compact", str(source)]) == 2
    dirty = tmp_path / "dirty.hiv"
    data = bytearray(source.read_bytes())
    BASE_BLOCK.write(data, 0, "seq1", BASE_BLOCK.read(data, 0, "seq1") + 1)
    dirty.write_bytes(data)
    assert main(["compact", str(dirty), "-o", str(tmp_path / "d.hiv")]) == 4
    assert "replayed" in capsys.readouterr().err
    assert not (tmp_path / "d.hiv").exists()


@pytest.mark.parametrize("relative", [p for p in files_with_role("broken")] or [None])
def test_cli_broken_input_is_exit_3_and_writes_nothing(relative, tmp_path, capsys):
    if relative is None:
        require_corpus()
        pytest.skip("no broken corpus hives")
    out = tmp_path / "out.hiv"
    assert main(["compact", str(corpus_path(relative)), "-o", str(out)]) == 3
    assert "file offset 0x" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- bulk building
class Numbers(TreeSource):
    """root -> 3 groups -> 700 items each (so each group needs an ri), two values each."""

    def name(self, handle: int) -> str:
        return f"group{handle}" if handle <= 3 else f"Item{(handle - 4) % 700:04d}"

    def child_handles(self, handle: int):
        if handle == 0:
            return [3, 1, 2]  # any order: the layout sorts
        if handle <= 3:
            return range(4 + (handle - 1) * 700, 4 + handle * 700)
        return ()

    def value_items(self, handle: int):
        if handle <= 3:
            return []
        return [("n", 4, handle.to_bytes(4, "little")), ("text", 1, text(f"item {handle}"))]


@pytest.mark.parametrize("minor", [5, 3])
def test_bulk_building(minor, tmp_path):
    tree = Numbers(timestamp=CLOCK.now())
    tree.minor = minor
    path = tmp_path / "built.hiv"
    summary = build_hive(tree, path, CLOCK)
    assert summary.keys == 1 + 3 + 2100 and summary.values == 4200
    assert path.read_bytes() == build_hive_bytes(tree, CLOCK)
    hive = Hive.open(path)
    assert [k.name for k in hive.root.subkeys()] == ["group1", "group2", "group3"]
    assert hive.key("group2\\Item0005").value("n").raw == (4 + 700 + 5).to_bytes(4, "little")
    assert check_file(path).clean
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, path, oracles.read_own(path))


class Fickle(Numbers):
    """Answers differently once the layout has planned: a value grows, or one more appears."""

    def __init__(self, change: str) -> None:
        super().__init__(timestamp=CLOCK.now())
        self.change, self.calls = change, 0

    def value_items(self, handle: int):
        items = list(super().value_items(handle))
        if handle == 1000:
            self.calls += 1
            if self.calls > 1:  # the second pass
                if self.change == "longer":
                    items[1] = ("text", 1, text("a longer text than planned"))
                else:
                    items.append(("extra", 4, bytes(4)))
        return items


@pytest.mark.parametrize("change", ["longer", "more"])
def test_a_source_that_changes_between_the_passes_is_refused_and_nothing_is_written(change, tmp_path):
    path = tmp_path / "built.hiv"
    with pytest.raises(HiveFormatError, match="changed while it was being compacted"):
        build_hive(Fickle(change), path, CLOCK)
    assert list(tmp_path.iterdir()) == []


class _TupleBestFit:
    """The bin layout rule as first written, on (free bytes, bin number) pairs: the model the
    writer's packed-int bookkeeping must place every cell exactly like."""

    def __init__(self) -> None:
        self.end, self.first_open = 0, 0
        self.cursors: list[int] = []
        self.ends: list[int] = []
        self.room: list[tuple[int, int]] = []

    def put(self, length: int) -> int:
        import bisect

        size = (length + 11) & ~7
        i = bisect.bisect_left(self.room, (size,))
        if i < len(self.room):
            free, number = self.room.pop(i)
        else:
            if len(self.cursors) - self.first_open >= 64:
                number = self.first_open
                self.first_open += 1
                if self.ends[number] - self.cursors[number] >= 8:
                    self.room.remove((self.ends[number] - self.cursors[number], number))
            bin_size = max(4096, -(-(size + 32) // 4096) * 4096)
            number = len(self.cursors)
            self.cursors.append(self.end + 32)
            self.ends.append(self.end + bin_size)
            self.end += bin_size
            free = bin_size - 32
        cell = self.cursors[number]
        self.cursors[number] = cell + size
        if free - size >= 8:
            bisect.insort(self.room, (free - size, number))
        return cell


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([1, 4, 12, 20, 52, 60, 100, 1000, 4052]) | st.integers(min_value=1, max_value=20_000),
                min_size=1, max_size=3_000))
def test_bin_writer_places_cells_as_the_best_fit_rule(lengths):
    from hivetool.regf.compact.bins import BinPlanner

    writer, model = BinPlanner(), _TupleBestFit()
    assert [writer.put(length) for length in lengths] == [model.put(length) for length in lengths]
    assert writer.finish() == model.end
