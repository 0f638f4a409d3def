"""Natural Python values for the library: an int for a number type, a str for a string type, a
list of str for REG_MULTI_SZ, bytes for any type; ``encode`` mirrors ``decode``."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from hivetool import Hive, RegType
from hivetool.errors import BadArgumentType, BadValueData, UsageError
from hivetool.regf.records.types import decode, encode

TEXT = st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)))
NATURAL = st.one_of(
    st.tuples(st.sampled_from([RegType.DWORD, RegType.DWORD_BIG_ENDIAN]), st.integers(0, 2**32 - 1)),
    st.tuples(st.just(RegType.QWORD), st.integers(0, 2**64 - 1)),
    st.tuples(st.sampled_from([RegType.SZ, RegType.EXPAND_SZ, RegType.LINK]), TEXT),
    st.tuples(st.just(RegType.MULTI_SZ), st.lists(TEXT.filter(bool), max_size=5)),
    st.tuples(st.sampled_from([RegType.BINARY, RegType.NONE, 0x4000]), st.binary(max_size=64)),
)


@given(NATURAL)
def test_decode_of_encode_is_the_value(case):
    value_type, value = case
    assert decode(value_type, encode(value_type, value)) == value


@given(NATURAL)
def test_set_value_stores_what_encode_gives(case):
    value_type, value = case
    hive = Hive.new()
    key = hive.create_key("K")
    assert key.set("v", value_type, value) is True
    stored = Hive.from_bytes(hive.to_bytes()).key("K").value("v")
    assert (stored.type, stored.raw) == (value_type, encode(value_type, value))
    assert stored.data == value
    assert key.set("V", value_type, value) is False  # already so: nothing changes


@pytest.mark.parametrize("value_type,value,error,words", [
    (RegType.DWORD, -1, BadValueData, "does not fit REG_DWORD (0 to 4294967295)"),
    (RegType.DWORD, 2**32, BadValueData, "does not fit REG_DWORD"),
    (RegType.QWORD, 2**64, BadValueData, "does not fit REG_QWORD"),
    (RegType.DWORD, "1225", BadArgumentType, "REG_DWORD data is an int"),
    (RegType.DWORD, 12.5, BadArgumentType, "not float"),
    (RegType.DWORD, True, BadArgumentType, "not bool"),
    (RegType.SZ, 5, BadArgumentType, "REG_SZ data is a str"),
    (RegType.SZ, "a\0b", BadValueData, "may not contain NUL"),
    (RegType.MULTI_SZ, "ab", BadArgumentType, "a list of str"),
    (RegType.MULTI_SZ, ["a", ""], BadValueData, "may not be empty"),
    (RegType.MULTI_SZ, ["a", 5], BadArgumentType, "not int"),
    (RegType.BINARY, "01", BadArgumentType, "REG_BINARY data is bytes"),
    (RegType.QWORD, b"\0" * 4, BadValueData, "exactly 8 bytes"),
])
def test_what_no_type_takes_is_refused_and_nothing_changes(value_type, value, error, words):
    hive = Hive.new()
    hive.create_key("K")
    hive = Hive.from_bytes(hive.to_bytes())
    before = bytes(hive._engine.buf)
    with pytest.raises(error) as caught:
        hive.set_value("K", "v", value_type, value)
    assert words in str(caught.value)
    assert isinstance(caught.value, UsageError) and not isinstance(caught.value, OverflowError)
    assert isinstance(caught.value, TypeError if error is BadArgumentType else ValueError)
    assert bytes(hive._engine.buf) == before and not hive.modified


def test_lookups_are_lookup_errors():
    hive = Hive.new()
    with pytest.raises(LookupError):
        hive.key("missing")
    with pytest.raises(LookupError):
        hive.root.value("missing")
