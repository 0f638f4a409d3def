"""hivetool.utf16 calls the UTF-16 codec functions directly: it must give exactly what the
named codecs give, lone surrogates and odd lengths included."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hivetool.utf16 import decode_le, encode_be, encode_le

# Any code points, lone surrogates among them (hives hold such names and strings).
texts = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()))


@settings(max_examples=500, deadline=None)
@given(texts)
def test_encoding_is_the_named_codecs(text):
    assert encode_le(text) == text.encode("utf-16-le", "surrogatepass")
    assert encode_be(text) == text.encode("utf-16-be", "surrogatepass")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64).map(lambda raw: raw[: len(raw) & ~1]))
def test_decoding_is_the_named_codec(raw):
    assert decode_le(raw) == raw.decode("utf-16-le", "surrogatepass")
    assert decode_le(bytearray(raw)) == decode_le(memoryview(raw)) == decode_le(raw)


def test_lone_surrogates_round_trip():
    text = "a\ud800b\udfff"
    assert decode_le(encode_le(text)) == text
    assert encode_le(text) == b"a\x00\x00\xd8b\x00\xff\xdf"


def test_an_odd_length_is_an_error_as_with_the_named_codec():
    with pytest.raises(UnicodeDecodeError):
        b"a\x00b".decode("utf-16-le", "surrogatepass")
    with pytest.raises(UnicodeDecodeError):
        decode_le(b"a\x00b")
