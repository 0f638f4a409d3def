"""Key and value names: storage encoding, Windows ordering, lh hashes and lf hints.

Windows compares names case-insensitively by mapping every UTF-16 *code unit* through
its own upcase table (not Python's ``upper()``, not lower-casing) and comparing the
results as unsigned 16-bit numbers (regf-format 5.4). Lookups, sorting, hashes and
duplicate detection all go through :func:`upcase`, so they can never disagree.
"""
from __future__ import annotations

import sys
from array import array
from functools import lru_cache

from ...utf16 import decode_le, encode_be, encode_le
from ._upcase_data import PAIRS

MAX_KEY_NAME_CHARS = 255  # API limit (regf-format 4.3)
MAX_VALUE_NAME_CHARS = 16_383
# How deep a key may lie, in levels below the root key of its hive. Counting: the hive's root
# key is level 0, its subkeys level 1, so a key whose hive-relative path has n names ("A\B"
# has 2) is at level n; the logical mount point (HKEY_LOCAL_MACHINE\SOFTWARE) does not count.
# That is how Windows counts when it loads a hive: its key check (CmpCheckKey, regf-format
# 12.1) walks at most 512 levels down from the hive's root, and Microsoft documents "a registry
# tree can be 512 levels deep" (Registry Element Size Limits, ms724872). So level 512 is
# accepted and 513 is not: check_tree warns (W-NK-DEPTH) from 513 on, and edit.create_key and
# the .reg import refuse to create a key there.
MAX_KEY_DEPTH = 512


def _build_table() -> dict[int, int]:
    # The hex digits as big-endian 16-bit numbers, decoded in C (a Python loop over the 973
    # pairs would add a millisecond to every command's start).
    units = array("H", bytes.fromhex(PAIRS.replace(" ", "")))
    if sys.byteorder == "little":
        units.byteswap()
    return dict(zip(units[0::2], units[1::2]))


UPCASE_TABLE: dict[int, int] = _build_table()


def upcase(name: str) -> str:
    """Windows upcase; characters outside the BMP stay as they are (surrogates map to themselves).

    For ASCII the Windows table maps exactly a-z to A-Z, which ``str.upper`` does far faster.
    """
    if name.isascii():
        return name.upper()
    return name.translate(UPCASE_TABLE)


def sort_key(name: str) -> bytes:
    """Bytes that order like Windows orders names: upcased UTF-16 code units, big-endian.

    Big-endian code units compare byte-wise exactly as unsigned 16-bit numbers, and a
    prefix sorts first, which is the Windows rule.
    """
    return encode_be(upcase(name))


def same_name(a: str, b: str) -> bool:
    return a == b or upcase(a) == upcase(b)


@lru_cache(maxsize=4096)
def lh_hash(name: str) -> int:
    """``h = h * 37 + upcase(unit)`` over UTF-16 code units, modulo 2**32 (regf-format 5.5).

    The reduction is done once at the end: the low 32 bits of the exact sum are the same.
    Cached: a hive repeats its key names (every control set holds the same keys), and a check
    or a rewrite hashes every key's name, a character at a time.
    """
    upper = upcase(name)
    try:
        units: bytes | array[int] = upper.encode("latin-1")  # every code unit fits a byte
    except UnicodeEncodeError:
        units = array("H", encode_le(upper))
        if sys.byteorder == "big":
            units.byteswap()
    h = 0
    for unit in units:
        h = h * 37 + unit
    return h & 0xFFFFFFFF


def lf_hint(name: str) -> bytes:
    """The first four characters as stored, one byte each, zero-padded (regf-format 5.6).

    A code unit above U+00FF cannot be put in a byte; then Windows writes an all-zero hint
    (seen in a Windows 7 NTUSER.DAT), whose zero first byte makes it compare the full name.
    """
    raw = encode_le(name)[:8]
    units = [raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2)]
    if any(unit > 0xFF for unit in units):
        return bytes(4)
    return bytes(units).ljust(4, b"\0")


def encode_name(name: str) -> tuple[bytes, bool]:
    """Latin-1 ("compressed") whenever every code unit fits a byte, else UTF-16LE."""
    try:
        return name.encode("latin-1"), True
    except UnicodeEncodeError:
        return encode_le(name), False


def decode_name(raw: bytes, compressed: bool) -> str:
    """A UTF-16 name of odd length (no Windows API writes one; ``check`` reports it) reads
    with its stray last byte shown as U+FFFD, so the rest of the hive stays readable."""
    if compressed:
        return raw.decode("latin-1")
    if len(raw) % 2:
        return decode_le(raw[:-1]) + "\ufffd"
    return decode_le(raw)


def utf16_size(name: str) -> int:
    """Bytes the name takes as UTF-16: the unit of the nk "largest name" fields."""
    if name.isascii():
        return 2 * len(name)  # one code unit a character, without encoding
    return len(encode_le(name))


def check_key_name(name: str) -> str | None:
    """Why a key name cannot be stored, or None when it can."""
    if not name:
        return "a key name cannot be empty"
    if "\\" in name:
        return f"key name {name!r} contains a backslash (the path separator)"
    if len(name) > MAX_KEY_NAME_CHARS:
        return f"key name is {len(name)} characters long; Windows allows {MAX_KEY_NAME_CHARS}"
    return None


def check_key_depth(depth: int) -> str | None:
    """Why a key ``depth`` levels below the hive's root (see MAX_KEY_DEPTH) cannot be created,
    or None when it can."""
    if depth > MAX_KEY_DEPTH:
        return (f"the key would lie {depth} levels below the hive's root key; Windows allows at most "
                f"{MAX_KEY_DEPTH} levels (regf-format 12.1)")
    return None


def check_value_name(name: str) -> str | None:
    if len(name) > MAX_VALUE_NAME_CHARS:
        return f"value name is {len(name)} characters long; Windows allows {MAX_VALUE_NAME_CHARS}"
    return None
