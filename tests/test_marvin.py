"""Marvin32, the hash of HvLE log entries (regf-format Appendix C)."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import corpus_path
from hivetool.regf.logs import marvin
from hivetool.regf.logs.marvin import LOG_ENTRY_SEED, marvin32

TEST_SEED = 0x004FB61A001BDBCC  # the usual Marvin32 test seed


def textbook_marvin32(data: bytes, seed: int) -> int:
    """Appendix C written out step by step, as an independent reference."""

    def rotl(x: int, n: int) -> int:
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    lo, hi = seed & 0xFFFFFFFF, seed >> 32

    def mix(v: int) -> None:
        nonlocal lo, hi
        lo = (lo + v) & 0xFFFFFFFF
        hi ^= lo
        lo = (rotl(lo, 20) + hi) & 0xFFFFFFFF
        hi = rotl(hi, 9) ^ lo
        lo = (rotl(lo, 27) + hi) & 0xFFFFFFFF
        hi = rotl(hi, 19)

    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        mix(struct.unpack("<I", data[i : i + 4])[0])
    final = 0x80
    for byte in reversed(data[whole:]):
        final = final << 8 | byte
    mix(final)
    mix(0)
    return hi << 32 | lo


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", 0x30ED35C100CD3C7D),
        (b"\xaf", 0x48E73FC77D75DDC1),
        (b"\xe7\x0f", 0xB5F6E1FC485DBFF8),
        (b"\x37\xf4\x95", 0xF0B07C789B8CF7E8),
    ],
)
def test_published_check_vectors(data: bytes, expected: int) -> None:
    assert marvin32(data, TEST_SEED) == expected
    assert textbook_marvin32(data, TEST_SEED) == expected


def test_the_log_seed_is_the_documented_byte_string() -> None:
    assert LOG_ENTRY_SEED.to_bytes(8, "big") == bytes.fromhex("82EF4D887A4E55C5")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=2**64 - 1))
def test_agrees_with_the_textbook_form(data: bytes, seed: int) -> None:
    assert marvin32(data, seed) == textbook_marvin32(data, seed)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_the_portable_word_path_gives_the_same_hash(data: bytes) -> None:
    fast = marvin32(data)
    saved = marvin._NATIVE_WORDS
    marvin._NATIVE_WORDS = False
    try:
        assert marvin32(data) == fast
    finally:
        marvin._NATIVE_WORDS = saved


def test_accepts_memoryview_slices_without_copying() -> None:
    data = bytes(range(256)) * 4
    assert marvin32(memoryview(data)[40:800]) == marvin32(data[40:800])


def test_every_bit_matters() -> None:
    data = bytearray(4096)
    base = marvin32(data)
    for at in (0, 1, 2047, 4095):
        data[at] ^= 0x01
        assert marvin32(data) != base
        data[at] ^= 0x01


def test_reproduces_both_hashes_of_real_log_entries() -> None:
    """Windows computed these: hash-2 over the first 32 bytes of each entry, hash-1 over
    bytes 40 to the end of the entry (regf-format 9.3)."""
    log = corpus_path("msuhanov+yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive.LOG2").read_bytes()
    at, checked = 512, 0
    while log[at : at + 4] == b"HvLE":
        size = struct.unpack_from("<I", log, at + 4)[0]
        hash1, hash2 = struct.unpack_from("<QQ", log, at + 24)
        assert marvin32(log[at : at + 32]) == hash2
        assert marvin32(log[at + 40 : at + size]) == hash1
        at += size
        checked += 1
    assert checked == 3
