"""Independent readers agree with what hivetool writes.

Every corpus hive marked ``edit`` and a new hive of each version gets the same scripted
edits through the Hive API: every value type, inline and big data at their boundaries,
UTF-16 and Latin-1 names, 2,000 subkeys (then a third of them deleted), a deleted
subtree, a deleted existing leaf key, a key added to the hive's most crowded subkey list,
an existing value overwritten with another size and a case-variant name update. After saving, python-registry, libregf, hivexml and reglookup
must show exactly the expected content, the untouched rest of the hive included, and
regipy the edited subtrees (see ``oracles`` for what each reader can and cannot show).
"""
from __future__ import annotations

import functools
import random
import shutil
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

import oracles
from corpus import corpus_path, require_corpus, role_params
from hivetool.regf.hive import Hive
from hivetool.regf.records.names import upcase
from hivetool.regf.records.types import NUMBER_SIZES
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2024-05-01T12:00:00Z"))
BIG_HIVE = 2_000_000  # bytes; larger corpus hives are marked slow (they still run in CI)
TEST_KEY = "hivetool-test"
MANY_SUBKEYS = 2_000
SUBKEY_PREFIXES = ("Key", "_key", "[k", "ZZ", "a", "Ü", "日", "key-")

HIVES = [*role_params("edit", max_bytes=BIG_HIVE), pytest.param("new:3", id="new-1.3"),
         pytest.param("new:5", id="new-1.5")]


def text(value: str) -> bytes:
    return value.encode("utf-16-le") + b"\0\0"


def multi(strings: list[str]) -> bytes:
    return b"".join(text(s) for s in strings) + b"\0\0"


def noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def value_ops(key: str) -> list[oracles.Op]:
    """A value of every type and at every size boundary the format has."""
    values = [
        ("none-empty", 0, b""),
        ("none", 0, b"\x01\x02"),
        ("sz", 1, text('héllo wörld, a|b:c %x"q')),
        ("sz-ascii", 1, text("hello")),
        ("sz-inner-nul", 1, "ab\0cd".encode("utf-16-le") + b"\0\0"),
        ("expand", 2, text("%SystemRoot%\\system32")),
        ("binary", 3, bytes(range(256))),
        ("dword", 4, struct.pack("<I", 1225)),
        ("dword-be", 5, struct.pack(">I", 1226)),
        ("link", 6, "\\REGISTRY\\MACHINE\\SYSTEM".encode("utf-16-le")),
        ("multi", 7, multi(["a", "b c", "日本", "x,y|z"])),
        ("qword", 11, struct.pack("<Q", 2**40 + 5)),
        ("custom", 0xFFFF0011, b"custom\x00\xff"),
        ("binary-40k", 3, noise(40 * 1024, 1)),
        ("empty", 3, b""),
        ("exact-16344", 3, noise(16_344, 2)),
        ("exact-16345", 3, noise(16_345, 3)),
        ("multi-big", 7, multi([f"string {i}" for i in range(1200)])),
        ("one", 3, b"\x11"),
        ("three", 1, b"a\0b"),
        ("four", 4, b"\x01\x02\x03\x04"),
        ("five", 3, b"\x01\x02\x03\x04\x05"),
        ("", 1, text("the default value")),
        ("値", 4, struct.pack("<I", 7)),
        ("Grüße-Wert", 1, text("Grüße")),
        ("a/b,c", 3, b"x"),
    ]
    return [("key", key)] + [("set", key, name, t, raw) for name, t, raw in values]


def first_existing_value(original: oracles.Content) -> oracles.Record | None:
    # Not a DWORD or QWORD: it is written back longer, and those take only their own width.
    candidates = [r for r in original.values if r.key and r.raw and r.type not in NUMBER_SIZES]
    return min(candidates, key=lambda r: (r.key, r.name), default=None)


def first_leaf_key(original: oracles.Content, avoid: str) -> str | None:
    parents = {oracles.parent_of(path) for path in original.keys if path}
    leaves = [p for p in original.keys if p and p not in parents and upcase(p) != upcase(avoid)]
    return min(leaves, default=None)


def most_subkeys(original: oracles.Content) -> str | None:
    counts = Counter(oracles.parent_of(path) for path in original.keys if path)
    crowded = [path for path, n in counts.items() if path and n >= 2]
    return max(crowded, key=lambda path: (counts[path], path), default=None)


def scripted_ops(original: oracles.Content) -> tuple[list[oracles.Op], list[tuple[str, bool]]]:
    """The edits, and the regipy scopes that cover everything they touch."""
    ops = value_ops(f"{TEST_KEY}\\values")
    scopes = [(TEST_KEY, True)]
    for name in ("日本", "Grüße"):
        ops += [("key", f"{TEST_KEY}\\{name}"), ("set", f"{TEST_KEY}\\{name}", name, 1, text(name))]
    many = f"{TEST_KEY}\\many"
    names = [f"{SUBKEY_PREFIXES[i % len(SUBKEY_PREFIXES)]}{i:04d}" for i in range(MANY_SUBKEYS)]
    ops += [("key", f"{many}\\{name}") for name in names]
    ops += [("del-key", f"{many}\\{name}") for name in names[::3]]
    gone = f"{TEST_KEY}\\gone"
    ops += [("key", f"{gone}\\a\\b"), ("set", f"{gone}\\a", "v", 4, b"\1\0\0\0"),
            ("set", f"{gone}\\a\\b", "big", 3, noise(20_000, 4)), ("del-key", gone)]
    params = f"{TEST_KEY}\\Parameters"
    ops += [("key", params), ("set", params, "TCP/IP port", 4, struct.pack("<I", 1225)),
            ("set", params, "TCP/IP Port", 4, struct.pack("<I", 1226))]
    crowded = most_subkeys(original)
    if crowded is not None:  # insert into a real hive's biggest list (ri, li, lf or lh)
        ops.append(("key", f"{crowded}\\hivetool-added"))
        scopes.append((crowded, False))
    existing = first_existing_value(original)
    if existing is not None:
        longer = existing.raw + noise(13, 5)
        ops.append(("set", existing.key, existing.name, existing.type, longer))
        scopes.append((existing.key, False))
    leaf = first_leaf_key(original, avoid=existing.key if existing else "")
    if leaf is not None:
        ops.append(("del-key", leaf))
        scopes.append((oracles.parent_of(leaf), False))
    return ops, scopes


@dataclass
class Edited:
    source: str
    original: Path
    path: Path
    expected: oracles.Content
    scopes: list[tuple[str, bool]]


@pytest.fixture(scope="module", params=HIVES)
def edited(request, tmp_path_factory) -> Edited:
    source = request.param
    if source is None:
        require_corpus()
        pytest.skip("no corpus hives with role edit")
    work = tmp_path_factory.mktemp("edited")
    start = work / "original.hiv"
    if source.startswith("new:"):
        Hive.new(int(source[4:]), clock=CLOCK).save(start)
    else:
        shutil.copyfile(corpus_path(source), start)
    original = oracles.read_own(start)
    model = oracles.ContentModel(original)
    ops, scopes = scripted_ops(original)
    hive = Hive.open(start, CLOCK)
    for op in ops:
        oracles.apply(hive, model, op)
    out = work / "edited.hiv"
    hive.save(out)
    expected = oracles.adopt_layout(model.content(), oracles.read_own(out))
    return Edited(source, start, out, expected, scopes)


def test_hivetool_reads_back_the_edits(edited: Edited) -> None:
    oracles.agree(oracles.OWN, edited.path, edited.expected)
    values = oracles.ContentModel(edited.expected)
    port = values.value(f"{TEST_KEY}\\Parameters", "tcp/ip PORT")
    assert port is not None and port.name == "TCP/IP port" and port.raw == struct.pack("<I", 1226)
    assert values.key_path(f"{TEST_KEY}\\gone") is None


@pytest.mark.parametrize("reader", oracles.FULL_READERS, ids=lambda r: r.name)
def test_reader_sees_exactly_the_edited_hive(edited: Edited, reader: oracles.Reader) -> None:
    oracles.agree(reader, edited.path, edited.expected)


def test_regipy_sees_the_edited_subtrees(edited: Edited) -> None:
    scopes = oracles.regipy_scopes(edited.expected, [s for s in edited.scopes if s[0] in edited.expected.keys])
    oracles.agree(oracles.REGIPY, edited.path, edited.expected, scopes)


def test_our_check_finds_nothing_new(edited: Edited) -> None:
    """Clean, apart from what the original hive already had (a Windows-written corpus hive
    can have, say, a largest-name field below the truth; editing elsewhere keeps it)."""
    check = pytest.importorskip("hivetool.regf.check", reason="the structural checker is not there yet")
    before = {(f.code, f.message) for f in check.check_file(edited.original).problems}
    new = [f.line() for f in check.check_file(edited.path).problems if (f.code, f.message) not in before]
    assert not new, new[:10]


@functools.lru_cache(maxsize=1)  # the readers of one hive run one after another
def original_content(source: str) -> oracles.Content:
    return oracles.read_own(corpus_path(source))


@pytest.mark.parametrize("reader", oracles.FULL_READERS, ids=lambda r: r.name)
@pytest.mark.parametrize("source", role_params("edit", max_bytes=BIG_HIVE))
def test_reader_agrees_with_hivetool_on_the_original(source: str | None, reader: oracles.Reader) -> None:
    """The reader models themselves, checked on hives no one has edited."""
    if source is None:
        require_corpus()
        pytest.skip("no corpus hives with role edit")
    oracles.agree(reader, corpus_path(source), original_content(source))
