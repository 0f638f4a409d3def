"""UTF-16 as hives store it, through the codec functions themselves.

``bytes.decode("utf-16-le")`` and ``str.encode("utf-16-le")`` look their codec up by name on
every call (CPython's shortcuts cover UTF-8, Latin-1 and ASCII, not UTF-16 with a byte order):
about 0.4 microseconds a call here, three times what converting a typical name or string
costs. A dump decodes every string value of a hive, an import encodes every name and string,
and sorting compares names as big-endian UTF-16, so these call the codec functions directly.

The result is exactly what the named codec gives (it is the same function): lone surrogates
pass through both ways ("surrogatepass", as everywhere in hivetool), and decoding is final, so
an odd trailing byte is an error for the caller to have removed.
"""
from __future__ import annotations

import codecs

DECODE_LE = codecs.utf_16_le_decode  # (raw, errors, final) -> (text, bytes used): for the hottest loops
_ENCODE_LE = codecs.utf_16_le_encode
_ENCODE_BE = codecs.utf_16_be_encode


def decode_le(raw: bytes | bytearray | memoryview) -> str:
    """``raw.decode("utf-16-le", "surrogatepass")``."""
    return DECODE_LE(raw, "surrogatepass", True)[0]


def encode_le(text: str) -> bytes:
    """``text.encode("utf-16-le", "surrogatepass")``."""
    return _ENCODE_LE(text, "surrogatepass")[0]


def encode_be(text: str) -> bytes:
    """``text.encode("utf-16-be", "surrogatepass")``."""
    return _ENCODE_BE(text, "surrogatepass")[0]
