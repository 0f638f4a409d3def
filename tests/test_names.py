"""Windows name rules: the upcase table, sort order, lh hashes, lf hints, storage encoding.

Facts from regf-format.md Appendix A (the upcase table), 4.3 (name encoding), 5.4 (sort
order and its traps), 5.5 (lh hash) and 5.6 (lf hint).
"""
from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path

import pytest

from hivetool.regf.records._upcase_data import PAIR_COUNT
from hivetool.regf.records.names import (
    UPCASE_TABLE,
    check_key_name,
    decode_name,
    encode_name,
    lf_hint,
    lh_hash,
    same_name,
    sort_key,
    upcase,
    utf16_size,
)

GENERATOR = Path(__file__).resolve().parent.parent / "tools" / "gen_upcase.py"


def generator():
    """tools/gen_upcase.py: the Appendix A recipe that produced the stored table."""
    spec = importlib.util.spec_from_file_location("gen_upcase", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "lower, upper",
    [("a", "A"), ("z", "Z"), ("é", "É"), ("ÿ", "\u0178"), ("ä", "Ä"), ("σ", "Σ"), ("\u1fb3", "\u1fbc"),
     ("ａ", "Ａ"), ("A", "A"), ("_", "_")],
)
def test_upcase_maps(lower, upper):
    assert upcase(lower) == upper


@pytest.mark.parametrize("unchanged", ["µ", "ß", "ı", "ς", "ſ", "\u10d0", "\U0001F600", "\ud83d", "日"])
def test_upcase_leaves_what_windows_leaves(unchanged):
    assert upcase(unchanged) == unchanged


def test_the_table_has_973_pairs_all_within_the_bmp():
    assert len(UPCASE_TABLE) == PAIR_COUNT == 973
    assert all(lower != upper and lower <= 0xFFFF and upper <= 0xFFFF for lower, upper in UPCASE_TABLE.items())
    assert not any(0xD800 <= unit <= 0xDFFF for unit in UPCASE_TABLE)


@pytest.mark.skipif(unicodedata.unidata_version != "14.0.0",
                    reason="the Appendix A recipe reproduces Windows 10 with Unicode 14.0 data only")
def test_the_stored_table_is_what_the_appendix_a_recipe_gives_today():
    gen = generator()
    units = [item.partition("-") for item in gen.UNCHANGED_BY_WINDOWS.split()]
    assert sum(int(last or first, 16) - int(first, 16) + 1 for first, _, last in units) == 217
    assert gen.windows_pairs() == UPCASE_TABLE


def test_sort_order_traps():
    """regf-format 5.4: upper- not lower-casing; not Python's upper(); code units, not points."""
    assert sort_key("C") < sort_key("_") and sort_key("c") < sort_key("_")  # c sorts as C
    assert sorted(["_", "c", "[", "B"], key=sort_key) == ["B", "c", "[", "_"]
    assert sort_key("Lovelace(C:_)") < sort_key("Lovelace(__?_GLOBALROOT)")
    assert sort_key("ß") != sort_key("SS") and not same_name("ß", "SS")
    assert sort_key("\U0001F600") < sort_key("\uE000") < sort_key("\uFFFD")  # surrogates first
    assert sort_key("ab") < sort_key("abc")  # a prefix sorts first
    assert sort_key("Abc") == sort_key("aBC") and same_name("Abc", "aBC")
    assert sort_key("ς") != sort_key("σ") and sort_key("σ") == sort_key("Σ")


@pytest.mark.parametrize(
    "name, expected",
    [("é", 0xC9), ("É", 0xC9), ("a", 0x41), ("ab", 0x41 * 37 + 0x42), ("", 0),
     ("\U0001F600", (0xD83D * 37 + 0xDE00) & 0xFFFFFFFF), ("ß", 0xDF)],
)
def test_lh_hash(name, expected):
    """h = h * 37 + upcase(unit) over UTF-16 code units, mod 2**32 (regf-format 5.5)."""
    assert lh_hash(name) == expected


def test_lh_hash_wraps_at_32_bits():
    h = 0
    for ch in "Z" * 40:
        h = (h * 37 + ord(ch)) % 2**32
    assert lh_hash("z" * 40) == h


@pytest.mark.parametrize(
    "name, hint",
    [("Grüße", b"Gr\xfc\xdf"), ("ab", b"ab\0\0"), ("aBcDe", b"aBcD"), ("x", b"x\0\0\0")],
)
def test_lf_hint(name, hint):
    """First four characters as stored, case kept, zero padded (regf-format 5.6)."""
    assert lf_hint(name) == hint


@pytest.mark.parametrize("name", ["日本", "a日", "abc\u0100", "\U0001F600"])
def test_lf_hint_of_a_name_beyond_latin_1_starts_with_zero(name):
    assert lf_hint(name)[0] == 0


@pytest.mark.parametrize(
    "name, stored, compressed",
    [("Grüße", b"Gr\xfc\xdfe", True), ("plain", b"plain", True), ("日本", "日本".encode("utf-16-le"), False),
     ("\U0001F600", b"\x3d\xd8\x00\xde", False), ("ÿĀ", "ÿĀ".encode("utf-16-le"), False)],
)
def test_names_are_stored_latin_1_when_possible(name, stored, compressed):
    assert encode_name(name) == (stored, compressed)
    assert decode_name(stored, compressed) == name


def test_largest_name_fields_count_utf16_bytes():
    assert utf16_size("Grüße") == 10 and utf16_size("日本") == 4 and utf16_size("\U0001F600") == 4


@pytest.mark.parametrize("bad", ["", "a\\b", "x" * 256])
def test_key_names_that_cannot_be_stored(bad):
    assert check_key_name(bad)


def test_key_names_that_can_be_stored():
    assert check_key_name("x" * 255) is None and check_key_name("a/b") is None
