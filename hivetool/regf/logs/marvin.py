"""Marvin32, the 64-bit keyed hash that guards each ``HvLE`` log entry (regf-format
section 9.3 and Appendix C).

The state is two 32-bit words seeded from a 64-bit key; every little-endian input word is
mixed in, then a final word carrying the 0-3 trailing bytes behind a 0x80 marker, then a
zero word. The result is ``hi << 32 | lo``.
"""
from __future__ import annotations

import struct
import sys
from itertools import chain

# The seed Windows uses for both hashes of a log entry (bytes 82 EF 4D 88 7A 4E 55 C5).
LOG_ENTRY_SEED = 0x82EF4D887A4E55C5

_MASK = 0xFFFFFFFF
# For a 32-bit x, x * (2**32 + 1) holds x twice side by side, so (x * _TWICE) >> (32 - n)
# has rotl(x, n) in its low 32 bits: one multiply and one shift per rotation.
_TWICE = 0x1_0000_0001
# A native 4-byte word view is zero-copy; elsewhere the words are unpacked explicitly.
_NATIVE_WORDS = sys.byteorder == "little" and struct.calcsize("I") == 4


def marvin32(data: bytes | bytearray | memoryview, seed: int = LOG_ENTRY_SEED) -> int:
    """The Marvin32 hash of ``data`` under ``seed``.

    This loop is the hot path of log replay (megabytes of entries), so it works on a
    zero-copy word view and keeps the mixing step inline. Bits above 32 that a rotation
    leaves behind are harmless until masked, because additions only carry upward.
    """
    mask, twice = _MASK, _TWICE  # locals: the loop below runs once per 4 input bytes
    view = memoryview(data).cast("B")
    whole = len(view) - len(view) % 4
    lo, hi = seed & _MASK, (seed >> 32) & _MASK
    tail = int.from_bytes(bytes(view[whole:]) + b"\x80", "little")
    if not whole:
        words: "memoryview | tuple[int, ...]" = ()
    elif _NATIVE_WORDS:
        words = view[:whole].cast("I")
    else:
        words = struct.unpack_from(f"<{whole // 4}I", view)
    # The words, then the tail word, then a zero word.
    for word in chain(words, (tail, 0)):
        lo = (lo + word) & mask
        hi ^= lo
        lo = (((lo * twice) >> 12) + hi) & mask  # rotl(lo, 20) + hi
        hi = ((hi * twice) >> 23) & mask ^ lo  # rotl(hi, 9) ^ lo
        lo = (((lo * twice) >> 5) + hi) & mask  # rotl(lo, 27) + hi
        hi = ((hi * twice) >> 13) & mask  # rotl(hi, 19)
    return hi << 32 | lo
