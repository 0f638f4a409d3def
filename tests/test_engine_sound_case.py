"""The engine reads a sound value in one step (``engine.sound_value``) and every other value
through the records' checks (``CellSpace.payload``, ``vk_problems``, ``data_problems``). The
one step must accept only what those checks accept without a problem, and read it the same:
held to them on every value of the corpus hives, and on a hive with a value of every shape
whose every field is set to the values at the edges of the one step's tests, or changed at
random.
"""
from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any, Callable

import pytest

from corpus import corpus_path, role_params
from hivetool.errors import HiveFormatError
from hivetool.regf.hive import Hive
from hivetool.regf.hive.engine import Engine, sound_leaf, sound_value
from hivetool.regf.hive.scan import iter_keys
from hivetool.regf.records.bins import HBIN_BASE
from hivetool.regf.records.cells import NIL
from hivetool.regf.records.data import data_problems
from hivetool.regf.records.lists import subkey_list_problems
from hivetool.regf.records.nk import KEY_PREDEF_HANDLE
from hivetool.regf.records.vk import VK, vk_problems
from hivetool.timeutil import Clock

CLOCK = Clock(0x01D0000000000000)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_hives"
ROUNDS = 200


def checked(engine: Engine, cell: int) -> tuple[str, int, bytes, int] | None:
    """The value at ``cell`` as the checks read it, or None when any of them finds a problem."""
    space = engine.space
    try:
        at, length = space.payload(cell, "value")
        name, fields, problems = vk_problems(space.buf, at, length, "value")
        if name is None or problems:
            return None
        _, _, size_field, data_field, value_type, _ = fields
        data, problems = data_problems(space.buf, size_field, data_field, value_type, engine.minor, at - 4,
                                       space.payload, "value", True)
    except HiveFormatError:
        return None
    if data is None or problems:
        return None
    return name, value_type, data, cell


def one_step(engine: Engine, cell: int) -> tuple[str, int, bytes, int] | None:
    space = engine.space
    return sound_value(space.buf, space.start_marks, space.end, engine.minor, cell)


def value_cells(hive: Hive) -> list[int]:
    """The vk cells of every key's value list, read without the engine's value reader."""
    engine, cells = hive._engine, []
    for _, at, (flags, _, _, count, list_cell) in iter_keys(hive, hive.root):
        if count and list_cell != NIL and not flags & KEY_PREDEF_HANDLE:
            cells.extend(engine.value_list(list_cell, count, at))
    return cells


def agree(hive: Hive, cells: list[int], fast: Callable[[Engine, int], Any] | None = None,
          slow: Callable[[Engine, int], Any] | None = None) -> int:
    """Assert the one step ``fast`` (of a value, by default) and the checks ``slow`` agree on
    ``cells`` wherever the one step reads one; returns how many it read."""
    fast, slow = fast or one_step, slow or checked
    engine = hive._engine
    engine.space.map_all()  # the one step needs the bins tiled, as a walk has them by then
    read = 0
    for cell in cells:
        got = fast(engine, cell)
        if got is not None:
            assert got == slow(engine, cell), f"cell 0x{cell:x}"
            read += 1
    return read


def test_values_read_either_way_are_the_same_values():
    hive = Hive.open(SAMPLES / "SYSTEM")
    cells = value_cells(hive)
    hive._engine.space.map_all()
    assert [one_step(hive._engine, c) or checked(hive._engine, c) for c in cells] == \
        [checked(hive._engine, c) for c in cells]
    assert [tuple(v) for v in hive._engine.read_values(cells)] == [checked(hive._engine, c) for c in cells]


def kinds_of_values() -> Hive:
    """A hive with a value of every shape the one step tells apart, at each edge it tests."""
    hive = Hive.new(clock=CLOCK)
    key = hive.create_key("Values")
    shapes = [("", 1, text("default")), ("Zoë", 1, text("UTF-16 name")), ("sz", 1, text("a string")),
              ("dword", 4, bytes(4)), ("dword8", 4, bytes(8)), ("qword", 11, bytes(8)), ("qword4", 11, bytes(4)),
              ("none", 0, b""), ("empty", 3, b""), ("one", 3, b"\x01"), ("four", 3, b"abcd"), ("five", 3, b"abcde"),
              ("hundred", 3, bytes(range(100))), ("cell max", 3, bytes(16_344)), ("big", 3, bytes(16_345)),
              ("multi", 7, text("a") + text("b") + b"\0\0"), ("odd type", 0x1234, b"xyz12"),
              # data that reads as an allocated cell's size 4 bytes in: a pointer off by 4 must not reach it
              ("looks like a cell", 3, (-4096).to_bytes(4, "little", signed=True) + bytes(60))]
    for name, value_type, raw in shapes:
        hive.set_raw_value(key, name, value_type, raw)
    return Hive.from_bytes(hive.to_bytes())


def text(value: str) -> bytes:
    return (value + "\0").encode("utf-16-le")


INLINE = 0x80000000
SIGNATURE, NAME_LENGTH, DATA_SIZE, DATA, TYPE, FLAGS = (4 + VK.offset[field] for field in
                                                        ("signature", "name_length", "data_size", "data", "type",
                                                         "flags"))


def edges(buf: bytearray, cell: int, data_cell: int | None) -> list[tuple[int, str, object]]:
    """(file offset, struct code, value) of each change tried on the value at ``cell``: every
    field the one step reads, set to the values at and around the edges of its tests."""
    at = HBIN_BASE + cell
    name_length, data_size, data = struct.unpack_from("<HII", buf, at + NAME_LENGTH)
    cell_size = struct.unpack_from("<i", buf, at)[0]
    out = [(at, "i", v) for v in (-8, -16, -20, -24, -28, -32, cell_size + 8, cell_size - 8, 8, 24, 0, -4096)]
    out += [(at + SIGNATURE, "2s", v) for v in (b"vK", b"nk", b"\0\0")]
    out += [(at + NAME_LENGTH, "H", v) for v in {0, 1, 2, 3, name_length + 1, max(name_length - 1, 0), 100, 0xFFFF}]
    out += [(at + DATA_SIZE, "I", v) for v in {*(INLINE | n for n in range(9)), 0, 1, 3, 4, 5, 8, 9, 16_344, 16_345,
                                                0x7FFFFFFF, (data_size + 1) & 0xFFFFFFFF, max(data_size - 1, 0)}]
    out += [(at + DATA, "I", v) for v in {0, 8, 0x20, NIL, 0x7FFFFFF8, (data + 4) & 0xFFFFFFFF,
                                          (data + 8) & 0xFFFFFFFF, max(data - 8, 0)}]
    out += [(at + TYPE, "I", v) for v in (0, 1, 2, 3, 4, 5, 7, 11, 0xFFFFFFFF)]
    out += [(at + FLAGS, "H", v) for v in (0, 1, 2, 3, 0xFFFF)]
    if data_cell is not None:
        data_at = HBIN_BASE + data_cell
        size = struct.unpack_from("<i", buf, data_at)[0]
        out += [(data_at, "i", v) for v in (-8, -16, size + 8, size - 8, 8, 0, -16_352, -16_360, 16)]
    return out


def test_the_one_step_refuses_what_a_check_would_find_wrong():
    """Each field of each value changed to each of its edge values, in place: wherever the one
    step still reads the value, the checks read the same and find nothing wrong."""
    hive = kinds_of_values()
    engine, cells = hive._engine, value_cells(hive)
    engine.space.map_all()
    buf = engine.space.buf
    assert isinstance(buf, bytearray)
    read = tried = 0
    for cell in cells:
        at = HBIN_BASE + cell
        fields = VK.unpack(buf, at + 4)
        data_cell = fields.data if fields.data_size and not fields.data_size & INLINE else None
        changes = edges(buf, cell, data_cell)
        read += agree_after_each(engine, cell, changes, one_step, checked)
        tried += len(changes)
    assert tried > 1000 and read > tried // 10


def agree_after_each(engine: Engine, cell: int, changes: list[tuple[int, str, object]],
                     fast: Callable[[Engine, int], Any], slow: Callable[[Engine, int], Any]) -> int:
    """Make each change to the hive's bytes in place (file offset, struct code, value), assert
    ``fast`` and ``slow`` agree on ``cell`` wherever ``fast`` reads it, and undo the change;
    returns how many changes ``fast`` read through."""
    buf = engine.space.buf
    assert isinstance(buf, bytearray)
    read = 0
    for where, code, value in changes:
        saved = bytes(buf[where : where + struct.calcsize("<" + code)])
        struct.pack_into("<" + code, buf, where, value)
        got = fast(engine, cell)
        if got is not None:
            assert got == slow(engine, cell), (f"cell 0x{cell:x}", where - HBIN_BASE - cell, code, value)
            read += 1
        buf[where : where + len(saved)] = saved
    return read


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_in_values_leave_the_two_ways_agreeing(seed):
    """Random bytes changed in and around value records and their data, the hive then opened
    again (its cells tiled anew): the two ways agree on every value."""
    original = kinds_of_values().to_bytes()
    hive = Hive.from_bytes(original)
    cells = value_cells(hive)
    rng = random.Random(seed)
    for _ in range(ROUNDS):
        image = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            cell = rng.choice(cells)
            where = HBIN_BASE + cell + rng.randrange(4 + VK.size + 8)
            image[where] = rng.choice((0, 0xFF, rng.randrange(256), image[where] ^ (1 << rng.randrange(8))))
        try:
            mutated = Hive.from_bytes(bytes(image))
        except HiveFormatError:
            continue
        agree(mutated, cells)


# --------------------------------------------------------------------------- subkey lists
def checked_leaf(engine: Engine, cell: int) -> list[int] | None:
    """The entries of the subkey list at ``cell`` as the checks read them, or None when they
    find any problem (the one step reads no index root, so none is compared here)."""
    try:
        sublist, problems = subkey_list_problems(engine.space.buf, cell, engine.space.payload, "key", None,
                                                 engine.minor)
    except HiveFormatError:
        return None
    if sublist is None or problems or sublist.root is not None:  # the one step reads no index root
        return None
    return sublist.offsets()


def one_step_leaf(engine: Engine, cell: int) -> list[int] | None:
    space = engine.space
    return sound_leaf(space.buf, space.start_marks, space.end, engine.minor, cell)


def list_cells(hive: Hive) -> list[int]:
    """The subkey list cell of every key that has one."""
    return [lists[2] for _, _, lists in iter_keys(hive, hive.root) if lists[1] and lists[2] != NIL]


# What each one step reads, how the checks read the same, and the share of the sound records
# it must read: every sound leaf; values with Latin-1 names, the rule (UTF-16 names go the
# long way), so at least half.
KINDS = {"value": (value_cells, one_step, checked, 0.5), "subkey list": (list_cells, one_step_leaf, checked_leaf, 1.0)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("relative", role_params("edit", max_bytes=2_000_000) + role_params("read-only"))
def test_the_one_step_reads_what_the_checks_read_on_every_corpus_hive(relative, kind):
    if relative is None:
        pytest.skip("no corpus files of this role")
    cells_of, fast, slow, share = KINDS[kind]
    hive = Hive.open(corpus_path(relative))
    cells = cells_of(hive)
    read = agree(hive, cells, fast, slow)
    sound = sum(slow(hive._engine, cell) is not None for cell in cells)
    assert read >= share * sound  # not a path that is never taken



def lists_of_every_kind(minor: int) -> Hive:
    """Keys with one subkey, a few, and more than one leaf holds (an index root above)."""
    hive = Hive.new(minor, clock=CLOCK)
    for parent, count in (("one", 1), ("few", 5), ("many", 600)):
        for i in range(count):
            hive.create_key(f"{parent}\\k{i:04d}")
    return Hive.from_bytes(hive.to_bytes())


@pytest.mark.parametrize("minor", [3, 5])
def test_the_one_step_refuses_a_list_the_checks_would_find_wrong(minor):
    hive = lists_of_every_kind(minor)
    engine, cells = hive._engine, list_cells(hive)
    engine.space.map_all()
    buf = engine.space.buf
    read = tried = 0
    for cell in cells:
        at = HBIN_BASE + cell
        size, signature, count = struct.unpack_from("<i2sH", buf, at)
        changes = [(at, "i", v) for v in (-8, -12, -16, size + 8, size - 8, 8, 0)]
        changes += [(at + 4, "2s", v) for v in (b"li", b"lf", b"lh", b"ri", b"nk", b"\0\0")]
        changes += [(at + 6, "H", v) for v in {0, 1, max(count - 1, 0), count + 1, 0xFFFF}]
        read += agree_after_each(engine, cell, changes, one_step_leaf, checked_leaf)
        tried += len(changes)
    assert tried > 50 and read > 10
