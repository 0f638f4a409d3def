"""Random edit sequences against a dict model.

Hypothesis draws sequences of key creations and (subtree) deletions, value sets of every
type and size (inline, one cell, both sides of the big-data limit) and value deletions,
with names from a small set full of case traps (ä/Ä, σ/Σ but ς, ß, a character
outside the BMP). Each sequence runs on a Hive and on ``oracles.ContentModel``; the hive
is saved and re-opened every few steps and at the end, and must then hold exactly what
the model holds. The final file is also read by python-registry and libregf. The same
runs on small corpus hives, with edits aimed at their existing keys and values.
"""
from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

import oracles
from corpus import corpus_path, require_corpus
from hivetool.errors import BadValueData, KeyNotFound, ValueNotFound
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import NUMBER_SIZES
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2025-06-07T08:09:10Z"))
REOPEN_EVERY = 8
# Few names, many of them case variants of each other, so that edits keep colliding.
NAMES = ["a", "A", "ab", "aB", "AB", "ä", "Ä", "ß", "SS", "ss", "σ", "Σ", "ς", "日本", "_x", "[x", "\U0001F600"]
TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 11, 0x1F4, 0xFFFF0011]
SIZES = [0, 1, 2, 3, 4, 5, 8, 100, 4000, 16_344, 16_345, 40_000]

names = st.sampled_from(NAMES)
key_paths = st.lists(names, min_size=1, max_size=3).map("\\".join)
value_names = st.one_of(st.just(""), names)
data = st.tuples(st.sampled_from(SIZES), st.integers(0, 2**32))  # (size, seed): short to print
# Sets outnumber deletions, so that hives fill up between the subtree deletions.
KINDS = ["set"] * 6 + ["key"] * 2 + ["del-value"] * 2 + ["del-key"]


@st.composite
def operations(draw) -> oracles.Op:
    kind = draw(st.sampled_from(KINDS))
    if kind in ("key", "del-key"):
        return (kind, draw(key_paths))
    key = draw(st.one_of(st.just(""), key_paths))
    if kind == "del-value":
        return (kind, key, draw(value_names))
    return (kind, key, draw(value_names), draw(st.sampled_from(TYPES)), draw(data))


def step(hive: Hive, model: oracles.ContentModel, op: oracles.Op) -> None:
    """Apply one drawn operation; one that names something missing must fail alike."""
    kind = op[0]
    if kind == "set":
        size, seed = op[4]
        op = op[:4] + (random.Random(seed).randbytes(size),)
        if model.key_path(op[1]) is None:
            oracles.apply(hive, model, ("key", op[1]))
        if NUMBER_SIZES.get(op[3], size) != size:
            # The API refuses a number of the wrong width and changes nothing; the engine
            # stores any size (Windows itself writes some), so the sequence goes on with it.
            before = bytes(hive._engine.buf), hive.modified
            with pytest.raises(BadValueData):
                hive.set_value(*op[1:])
            assert (bytes(hive._engine.buf), hive.modified) == before
            hive.set_raw_value(hive.key(op[1]), op[2], op[3], op[4])
            model.set_value(*op[1:])
            return
    if kind == "del-key" and model.key_path(op[1]) is None:
        try:
            hive.delete_key(op[1], recursive=True)
        except KeyNotFound:
            return
        raise AssertionError(f"deleting the missing key {op[1]!r} did not fail")
    if kind == "del-value" and model.key_path(op[1]) is None:
        try:
            hive.delete_value(op[1], op[2])
        except KeyNotFound:
            return
        raise AssertionError(f"deleting a value of the missing key {op[1]!r} did not fail")
    if kind == "del-value" and model.value(model.key_path(op[1]) or "", op[2]) is None:
        try:
            hive.delete_value(op[1], op[2])
        except ValueNotFound:
            return
        raise AssertionError(f"deleting the missing value {op[2]!r} did not fail")
    oracles.apply(hive, model, op)


def same_content(hive: Hive, model: oracles.ContentModel) -> None:
    problems = oracles.compare(oracles.OWN.expect(oracles.read_own(hive)), oracles.OWN.expect(model.content()))
    assert not problems, "\n".join(problems)


def run_sequence(hive: Hive, model: oracles.ContentModel, ops: list[oracles.Op]) -> None:
    """Apply ``ops`` with a save and re-open every few steps, then save to a file and compare
    it with the model through our reader, python-registry and libregf, and run our check
    (nothing may be found that the starting hive did not already have)."""
    known = problems(hive)
    for done, op in enumerate(ops, 1):
        step(hive, model, op)
        if done % REOPEN_EVERY == 0:
            hive = Hive.from_bytes(hive.to_bytes(), clock=CLOCK)
            same_content(hive, model)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.hiv"
        hive.save(path)
        same_content(Hive.open(path), model)
        for reader in (oracles.PYTHON_REGISTRY, oracles.LIBREGF):
            oracles.agree(reader, path, model.content())
        new = problems(Hive.open(path)) - known
        assert not new, sorted(new)[:10]


def problems(hive: Hive) -> set[tuple[str, str]]:
    try:
        from hivetool.regf.check import check_hive
    except ImportError:  # the checker is optional here; the readers still judge the result
        return set()
    return {(f.code, f.message) for f in check_hive(hive).problems}


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(minor=st.sampled_from([3, 5]), ops=st.lists(operations(), min_size=20, max_size=80))
def run_random_edits(minor: int, ops: list[oracles.Op]) -> None:
    hive = Hive.new(minor, clock=CLOCK)
    run_sequence(hive, oracles.ContentModel(oracles.read_own(hive)), ops)


def test_random_edit_sequences_match_a_dict_model_and_the_readers() -> None:
    for reader in (oracles.PYTHON_REGISTRY, oracles.LIBREGF):
        oracles.require(reader)
    run_random_edits()


# Small corpus hives of both versions with real lists (lf, lh, li), big data and Windows' own
# descriptors: the random edits also hit their existing keys and values.
SMALL_CORPUS = [
    "AndrewRathbun+DFIRArtifactMuseum/_history/a32aa47e43e6/Windows/Registry/Win10/RathbunVM/BCD-Template",
    "mkorman90+regipy/regipy_tests/data/BCD",
    "log2timeline+plaso/test_data/regf/100_sub_keys.hiv",
    "libguestfs+hivex/images/special",
    "EricZimmerman+Registry/Registry.Test/Hives/SECURITYNoRoot",
    "williballenthin+python-registry/tests/reg_samples/UNICODE_TESTS",
]


@st.composite
def corpus_operations(draw, original: oracles.Content) -> oracles.Op:
    """Edits aimed at what the hive already holds, mixed with the generic ones."""
    paths = sorted(p for p in original.keys if p)
    records = sorted(original.values, key=lambda r: (r.key, r.name))
    choice = draw(st.integers(0, 4))
    if choice == 0 and records:
        record = draw(st.sampled_from(records))
        return ("set", record.key, record.name.upper(), draw(st.sampled_from(TYPES)), draw(data))
    if choice == 1 and records:
        record = draw(st.sampled_from(records))
        return ("del-value", record.key, record.name)
    if choice == 2 and paths:
        return ("del-key", draw(st.sampled_from(paths)))
    if choice == 3 and paths:
        return ("key", draw(st.sampled_from(paths)) + "\\" + draw(names))
    return draw(operations())


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=st.sampled_from(SMALL_CORPUS), draw=st.data())
def run_random_edits_on_corpus(source: str, draw: st.DataObject) -> None:
    original = oracles.read_own(corpus_path(source))
    ops = draw.draw(st.lists(corpus_operations(original), min_size=10, max_size=50), label="ops")
    run_sequence(Hive.open(corpus_path(source), CLOCK), oracles.ContentModel(original), ops)


def test_random_edits_of_real_hives_match_a_dict_model_and_the_readers() -> None:
    require_corpus()
    for reader in (oracles.PYTHON_REGISTRY, oracles.LIBREGF):
        oracles.require(reader)
    run_random_edits_on_corpus()
