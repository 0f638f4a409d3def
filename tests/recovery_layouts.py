"""Hives with known deletions, for measuring ``recover`` against the truth (tests and
bench/recover.py share them).

Each layout builds a hive with hivetool's own library, deletes known keys and values, and
keeps for every deleted item what it was (path, name, type, bytes, last-write time) and a
snapshot of the bytes of its record and data, taken just before the deletion. After the last
edit, an item is *intact* when those bytes are still as they were in the saved file: then
``recover`` must report it (recall), with its name, type and data. Everything ``recover``
reports must be one of the deleted items, at its record's offset, never a live record, and
whatever it claims (a path that reaches the root, data it calls intact) must be true
(precision).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from hivetool.regf.hive import Hive
from hivetool.regf.records.bins import HBIN_BASE
from hivetool.regf.records.data import DB, INLINE, SEGMENT_SIZE, uses_big_data
from hivetool.regf.records.nk import NK
from hivetool.regf.records.types import RegType, encode
from hivetool.regf.records.vk import VK
from hivetool.timeutil import Clock

BUILT = Clock(0x01DA_9B8C_0000_0000)  # 2024-05-01: when the hive was built
EDITED = Clock(0x01DA_A000_0000_0000)  # a little later: when the deletions happened

TYPED_VALUES: list[tuple[str, int, bytes]] = [
    ("none", RegType.NONE, b"\x01\x02\x03"),
    ("empty none", RegType.NONE, b""),
    ("sz", RegType.SZ, encode(RegType.SZ, "C:\\Windows\\evil.exe")),
    ("expand", RegType.EXPAND_SZ, encode(RegType.EXPAND_SZ, "%SystemRoot%\\system32\\x.dll")),
    ("binary", RegType.BINARY, bytes(range(256)) * 3),
    ("binary 1", RegType.BINARY, b"\xff"),
    ("binary 4", RegType.BINARY, b"\x01\x02\x03\x04"),
    ("binary 5", RegType.BINARY, b"\x01\x02\x03\x04\x05"),
    ("dword", RegType.DWORD, encode(RegType.DWORD, 1225)),
    ("dword zero", RegType.DWORD, encode(RegType.DWORD, 0)),
    ("dword be", RegType.DWORD_BIG_ENDIAN, encode(RegType.DWORD_BIG_ENDIAN, 0x01020304)),
    ("link", RegType.LINK, "\\REGISTRY\\MACHINE\\SOFTWARE\\X".encode("utf-16-le")),
    ("multi", RegType.MULTI_SZ, encode(RegType.MULTI_SZ, ["a.example", "b.example", "Ünïcödé"])),
    ("resource list", RegType.RESOURCE_LIST, bytes(40)),
    ("full resource", RegType.FULL_RESOURCE_DESCRIPTOR, bytes(range(36))),
    ("requirements", RegType.RESOURCE_REQUIREMENTS_LIST, bytes(range(48))),
    ("qword", RegType.QWORD, encode(RegType.QWORD, 2**40 + 7)),
    ("odd type", 0x12345678, b"odd"),
    ("device property", 0xFFFF0007, b"\x10\x00\x00\x00"),
    ("", RegType.SZ, encode(RegType.SZ, "the default value")),
    ("Ωmega 名前", RegType.SZ, encode(RegType.SZ, "a UTF-16 name")),
    ("big one cell", RegType.BINARY, bytes(i % 251 for i in range(16_344))),
]
BIG = ("big data", RegType.BINARY, bytes((i * 7) % 253 for i in range(40_000)))


@dataclass
class Deleted:
    """One deleted key or value, as it was."""

    kind: str  # "key" or "value"
    offset: int  # file offset of its record's cell
    path: str  # the key (a value's: its key's path)
    name: str
    timestamp: int | None = None  # keys
    value_type: int | None = None  # values
    raw: bytes | None = None
    regions: list[tuple[int, bytes]] = field(default_factory=list)  # (file offset, bytes): record first

    def intact(self, final: bytes) -> bool:
        return all(final[at : at + len(data)] == data for at, data in self.regions)

    def record_intact(self, final: bytes) -> bool:
        at, data = self.regions[0]
        return final[at : at + len(data)] == data


def _payload(buf: bytes | bytearray, cell: int, length: int) -> tuple[int, bytes]:
    at = HBIN_BASE + cell + 4
    return at, bytes(buf[at : at + length])


def snapshot_value(hive: Hive, key_path: str, name: str) -> Deleted:
    value = hive.key(key_path).value(name)
    buf = hive._engine.buf
    at = HBIN_BASE + value.cell + 4
    name_length, size_field, data_field = (VK.read(buf, at, f) for f in ("name_length", "data_size", "data"))
    regions = [_payload(buf, value.cell, VK.size + name_length)]
    length = size_field & 0x7FFFFFFF
    if not size_field & INLINE and length:
        if uses_big_data(length, hive.minor):
            count, seglist = DB.read(buf, HBIN_BASE + data_field + 4, "segment_count"), DB.read(
                buf, HBIN_BASE + data_field + 4, "segment_list")
            regions += [_payload(buf, data_field, DB.size), _payload(buf, seglist, 4 * count)]
            for index in range(count):
                segment = int.from_bytes(buf[HBIN_BASE + seglist + 4 + 4 * index:][:4], "little")
                regions.append(_payload(buf, segment, min(SEGMENT_SIZE, length - SEGMENT_SIZE * index)))
        else:
            regions.append(_payload(buf, data_field, length))
    return Deleted("value", HBIN_BASE + value.cell, hive.key(key_path).path, value.name, None, value.type,
                   value.raw, regions)


def snapshot_key(hive: Hive, key_path: str) -> list[Deleted]:
    """The key and everything below it."""
    found = []
    buf = hive._engine.buf
    for key in hive.key(key_path).walk():
        name_length = NK.read(buf, HBIN_BASE + key.cell + 4, "name_length")
        found.append(Deleted("key", HBIN_BASE + key.cell, key.path, key.name, key.last_write,
                             regions=[_payload(buf, key.cell, NK.size + name_length)]))
        found.extend(snapshot_value(hive, key.path, name) for name in key.value_names())
    return found


# ---------------------------------------------------------------------- building
def base_hive(minor: int = 5, keys: int = 40, seed: int = 0) -> Hive:
    """A tree of vendors, apps and settings with values of many kinds and sizes."""
    rng = random.Random(seed)
    hive = Hive.new(minor, clock=BUILT)
    for index in range(keys):
        path = f"Software\\Vendor{index % 7}\\App{index}"
        hive.create_key(path)
        for number in range(rng.randint(1, 6)):
            kind = rng.choice(("dword", "sz", "binary", "multi"))
            if kind == "dword":
                hive.set_value(path, f"Setting{number}", RegType.DWORD, rng.randrange(2**32))
            elif kind == "sz":
                hive.set_value(path, f"Path{number}", RegType.SZ, "C:\\Program Files\\" + "x" * rng.randint(0, 90))
            elif kind == "binary":
                hive.set_value(path, f"Blob{number}", RegType.BINARY, rng.randbytes(rng.randint(0, 300)))
            else:
                hive.set_value(path, f"List{number}", RegType.MULTI_SZ, [f"item{i}" for i in range(rng.randint(1, 5))])
        if rng.random() < 0.5:
            sub = f"{path}\\Sub{index}\\Deeper"
            hive.create_key(sub)
            hive.set_value(sub, "Leaf", RegType.SZ, f"leaf of {index}")
    return hive


def _reopen(hive: Hive) -> Hive:
    """The saved bytes, opened again with the clock of the edits (as a later session would)."""
    return Hive.from_bytes(hive.to_bytes(), clock=EDITED)


def _live_values(hive: Hive, rng: random.Random, below: str = "Software") -> list[tuple[str, str]]:
    pairs = [(key.path, name) for key in hive.key(below).walk() for name in key.value_names()]
    rng.shuffle(pairs)
    return pairs


def _deletable_keys(hive: Hive, rng: random.Random) -> list[str]:
    paths = [key.path for key in hive.key("Software").walk() if key.path.count("\\") >= 2]
    rng.shuffle(paths)
    return paths


def delete_values(hive: Hive, rng: random.Random, count: int, truth: list[Deleted]) -> None:
    for path, name in _live_values(hive, rng)[:count]:
        truth.append(snapshot_value(hive, path, name))
        hive.delete_value(path, name)


def delete_keys(hive: Hive, rng: random.Random, count: int, truth: list[Deleted]) -> None:
    done = 0
    for path in _deletable_keys(hive, rng):
        if done == count:
            break
        if not hive.has_key(path):
            continue  # below a key deleted before
        truth.extend(snapshot_key(hive, path))
        hive.delete_key(path, recursive=True)
        done += 1


def reuse(hive: Hive, rng: random.Random, count: int) -> None:
    """New keys and values of sizes like the deleted ones: they take freed cells."""
    for index in range(count):
        path = f"Software\\New{index % 5}\\Fresh{index}"
        hive.create_key(path)
        hive.set_value(path, "Value", RegType.BINARY, rng.randbytes(rng.choice((0, 4, 12, 40, 100, 200))))
        if rng.random() < 0.5:
            hive.set_value(path, "Text", RegType.SZ, "y" * rng.randint(1, 60))


# ---------------------------------------------------------------------- layouts
@dataclass
class Layout:
    name: str
    what: str
    make: Callable[[int], tuple[bytes, list[Deleted]]]  # seed -> (final file bytes, truth)


def _freed_untouched(seed: int) -> tuple[bytes, list[Deleted]]:
    rng, truth = random.Random(seed), []
    hive = _reopen(base_hive(seed=seed))
    delete_values(hive, rng, 25, truth)
    delete_keys(hive, rng, 6, truth)
    return hive.to_bytes(), truth


def _partly_reused(seed: int) -> tuple[bytes, list[Deleted]]:
    rng, truth = random.Random(seed), []
    hive = _reopen(base_hive(seed=seed))
    delete_values(hive, rng, 25, truth)
    delete_keys(hive, rng, 6, truth)
    hive = _reopen(hive)
    reuse(hive, rng, 12)
    return hive.to_bytes(), truth


def _interleaved(seed: int) -> tuple[bytes, list[Deleted]]:
    """Deletions and new writes in turns, over several sessions: freed cells are taken, freed
    again and merged, as on a machine in use."""
    rng, truth = random.Random(seed), []
    hive = base_hive(seed=seed)
    for round_ in range(4):
        hive = _reopen(hive)
        delete_values(hive, rng, 8, truth)
        delete_keys(hive, rng, 2, truth)
        reuse(hive, rng, 6 + round_)
    return hive.to_bytes(), truth


def _grown_lists(seed: int) -> tuple[bytes, list[Deleted]]:
    """Keys that gain values session after session while others lose theirs: value lists
    outgrow their cells and move, leaving freed old lists (pointer lists, no records)
    wherever deleted data was."""
    rng, truth = random.Random(seed), []
    hive = base_hive(seed=seed, keys=20)
    for round_ in range(5):
        hive = _reopen(hive)
        delete_values(hive, rng, 6, truth)
        for key in ("Software\\Growing0", "Software\\Growing1", "Software\\Growing2"):
            hive.create_key(key)
            for number in range(rng.randint(2, 9)):
                hive.set_value(key, f"Added{round_}_{number}", RegType.BINARY, rng.randbytes(rng.randint(5, 64)))
        if round_ % 2:
            delete_keys(hive, rng, 1, truth)
    return hive.to_bytes(), truth


def _coalesced(seed: int) -> tuple[bytes, list[Deleted]]:
    """Every value of some keys deleted one after the other, then the keys: neighbouring
    cells are freed in turn and merge into larger free cells."""
    rng, truth = random.Random(seed), []
    hive = _reopen(base_hive(seed=seed))
    for path in _deletable_keys(hive, rng)[:8]:
        if not hive.has_key(path):
            continue
        for name in hive.key(path).value_names():
            truth.append(snapshot_value(hive, path, name))
            hive.delete_value(path, name)
        truth.extend(snapshot_key(hive, path))
        hive.delete_key(path, recursive=True)
    return hive.to_bytes(), truth


def _subtrees(seed: int) -> tuple[bytes, list[Deleted]]:
    """Whole subtrees, four levels deep, deleted at once."""
    hive = base_hive(seed=seed, keys=10)
    for top in range(3):
        for a in range(3):
            for b in range(3):
                path = f"Software\\Tree{top}\\A{a}\\B{b}\\C"
                hive.create_key(path)
                hive.set_value(path, "Where", RegType.SZ, path)
                hive.set_value(f"Software\\Tree{top}\\A{a}", f"n{b}", RegType.DWORD, b)
    hive, truth = _reopen(hive), []
    for top in range(3):
        truth.extend(snapshot_key(hive, f"Software\\Tree{top}"))
        hive.delete_key(f"Software\\Tree{top}", recursive=True)
    return hive.to_bytes(), truth


def _every_type(minor: int) -> Callable[[int], tuple[bytes, list[Deleted]]]:
    def make(seed: int) -> tuple[bytes, list[Deleted]]:
        hive = base_hive(minor, seed=seed, keys=5)
        values = TYPED_VALUES + [BIG]
        for name, value_type, raw in values:
            hive.set_raw_value(hive.create_key("Software\\Types\\One"), name, value_type, raw)
            hive.set_raw_value(hive.create_key("Software\\Types\\Whole"), name, value_type, raw)
        hive, truth = _reopen(hive), []
        for name, _, _ in values:  # one by one from a key that stays
            truth.append(snapshot_value(hive, "Software\\Types\\One", name))
            hive.delete_value("Software\\Types\\One", name)
        truth.extend(snapshot_key(hive, "Software\\Types\\Whole"))  # a whole key with them all
        hive.delete_key("Software\\Types\\Whole", recursive=True)
        return hive.to_bytes(), truth

    return make


def _big_reused(seed: int) -> tuple[bytes, list[Deleted]]:
    """Big data (db and segments) deleted, then part of its space taken again."""
    rng = random.Random(seed)
    hive = base_hive(5, seed=seed, keys=5)
    for index in range(3):
        hive.set_raw_value(hive.create_key(f"Software\\Big{index}"), "Blob", RegType.BINARY,
                           rng.randbytes(16_345 + 20_000 * index))
    hive, truth = _reopen(hive), []
    for index in range(3):
        truth.extend(snapshot_key(hive, f"Software\\Big{index}"))
        hive.delete_key(f"Software\\Big{index}", recursive=True)
    hive = _reopen(hive)
    hive.set_raw_value(hive.create_key("Software\\Taker"), "Blob", RegType.BINARY, rng.randbytes(9_000))
    return hive.to_bytes(), truth


LAYOUTS = [
    Layout("freed-untouched", "values and keys deleted; nothing written after", _freed_untouched),
    Layout("partly-reused", "then 12 new keys with 1-2 values each take freed cells", _partly_reused),
    Layout("interleaved", "4 sessions of deletions and new writes in turns", _interleaved),
    Layout("grown-lists", "5 sessions: values deleted while 3 keys gain values (their value lists move)",
           _grown_lists),
    Layout("coalesced", "all values of 8 keys deleted one by one, then the keys: freed neighbours merge",
           _coalesced),
    Layout("subtrees", "3 subtrees of 4 levels (40 keys, 63 values) deleted whole", _subtrees),
    Layout("every-type-1.5", "values of every type and size (inline, 0-5 bytes, 16,344 bytes, 40,000 bytes as big "
           "data), UTF-16 names, the default value; one by one and as a whole key", _every_type(5)),
    Layout("every-type-1.3", "the same in a 1.3 hive (40,000 bytes in one cell)", _every_type(3)),
    Layout("big-data-reused", "3 big values (db + segments) deleted, then 9,000 bytes written", _big_reused),
]


# ---------------------------------------------------------------------- scoring
@dataclass
class Score:
    """How ``recover`` did on one hive against its truth."""

    deleted: int = 0  # items deleted
    intact: int = 0  # of those, still intact in the file
    found_intact: int = 0  # intact ones reported (recall = found_intact / intact)
    reported_intact_state: int = 0  # intact ones reported with state "intact"
    reported: int = 0  # items reported
    correct: int = 0  # reported items that match a deleted one in all they claim
    rooted: int = 0  # intact items reported with a path that reaches the root
    wrong: list[str] = field(default_factory=list)  # what was invented or false
    missed: list[str] = field(default_factory=list)  # intact items not reported

    def add(self, other: "Score") -> None:
        for name in ("deleted", "intact", "found_intact", "reported_intact_state", "reported", "correct", "rooted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wrong += other.wrong
        self.missed += other.missed


def live_offsets(hive: Hive) -> set[int]:
    """File offsets of every live key node and value record."""
    found = set()
    for key in hive.walk():
        found.add(HBIN_BASE + key.cell)
        found.update(HBIN_BASE + value.cell for value in key.values())
    return found


def score(final: bytes, truth: list[Deleted]) -> Score:
    from hivetool.forensics.recover import recover

    hive = Hive.from_bytes(final)
    items = recover(hive).items
    live = live_offsets(hive)
    by_offset = {(item.kind, item.offset): item for item in truth}
    result = Score(deleted=len(truth))
    reported = {(item.kind, item.offset): item for item in items}
    result.reported = len(items)
    for item in items:
        expected = by_offset.get((item.kind, item.offset))
        label = f"{item.kind} {item.name!r} at 0x{item.offset:x}"
        if item.offset in live:
            result.wrong.append(f"{label}: a live record reported as deleted")
            continue
        if expected is None:
            result.wrong.append(f"{label}: no such item was deleted (invented)")
            continue
        problems = []
        if item.name != expected.name:
            problems.append(f"name {item.name!r}, was {expected.name!r}")
        if item.kind == "value" and item.value_type != expected.value_type:
            problems.append(f"type {item.value_type}, was {expected.value_type}")
        if item.state == "intact":
            if item.kind == "value" and item.raw != expected.raw:
                problems.append("data called intact but differs")
            if item.kind == "key" and item.timestamp != expected.timestamp:
                problems.append("last write differs")
        if not item.partial and item.path != expected.path:
            problems.append(f"path {item.path!r}, was {expected.path!r}")
        if problems:
            result.wrong.append(f"{label}: " + "; ".join(problems))
        else:
            result.correct += 1
    for expected in truth:
        if not expected.intact(final) or expected.offset in live:
            continue  # overwritten, or its cell holds a live record again (with the same bytes, even)
        result.intact += 1
        item = reported.get((expected.kind, expected.offset))
        if item is None:
            result.missed.append(f"{expected.kind} {expected.path}\\{expected.name} at 0x{expected.offset:x}")
            continue
        result.found_intact += 1
        result.reported_intact_state += item.state == "intact"
        result.rooted += not item.partial
    return result
