"""Value types and the meaning of their bytes (regf-format 6.4).

The hive stores any 32-bit type number and any bytes; these helpers only interpret them
for display and build them from what a user typed. Raw bytes are always the truth.
"""
from __future__ import annotations

import enum
import struct
from typing import Any

from ...errors import BadArgumentType, BadValueData, UsageError
from ...utf16 import DECODE_LE, decode_le, encode_le


class RegType(enum.IntEnum):
    NONE = 0
    SZ = 1
    EXPAND_SZ = 2
    BINARY = 3
    DWORD = 4
    DWORD_BIG_ENDIAN = 5
    LINK = 6
    MULTI_SZ = 7
    RESOURCE_LIST = 8
    FULL_RESOURCE_DESCRIPTOR = 9
    RESOURCE_REQUIREMENTS_LIST = 10
    QWORD = 11


CLI_TYPE_NAMES = {
    "none": RegType.NONE,
    "sz": RegType.SZ,
    "expand_sz": RegType.EXPAND_SZ,
    "binary": RegType.BINARY,
    "dword": RegType.DWORD,
    "dword_be": RegType.DWORD_BIG_ENDIAN,
    "link": RegType.LINK,
    "multi_sz": RegType.MULTI_SZ,
    "qword": RegType.QWORD,
}
STRING_TYPES = (RegType.SZ, RegType.EXPAND_SZ, RegType.LINK)
# The only types whose size is fixed: every reader decodes them as a number of this width.
NUMBER_SIZES: dict[int, int] = {RegType.DWORD: 4, RegType.DWORD_BIG_ENDIAN: 4, RegType.QWORD: 8}


def data_json(value_type: int | None, raw: bytes | None) -> dict[str, Any] | None:
    """A value's type and data as JSON (what ``ls --json``, change reports and state checks
    show): the type's name and number, ``data`` decoded (a number, a string, a list of strings,
    or hex for other types) and the exact ``raw`` bytes in hex, on which comparisons are made."""
    if value_type is None or raw is None:
        return None
    data = decode(value_type, raw)
    return {"type": type_name(value_type), "type_id": value_type,
            "data": data.hex() if isinstance(data, (bytes, bytearray)) else data, "raw": bytes(raw).hex()}


def type_name(value_type: int) -> str:
    """``REG_DWORD`` for known types, ``0xffff0011`` for others."""
    name = _TYPE_NAMES.get(value_type)
    return name if name is not None else f"0x{value_type:x}"


_TYPE_NAMES = {member.value: "REG_" + member.name for member in RegType}  # a dump names every value's type


def encode(value_type: int, value: object) -> bytes:
    """The bytes a value of ``value_type`` stores for ``value``; :func:`decode` reads them back.

    By type: an ``int`` for REG_DWORD and REG_DWORD_BIG_ENDIAN (0 to 2**32-1) and REG_QWORD
    (0 to 2**64-1); a ``str`` for REG_SZ, REG_EXPAND_SZ and REG_LINK (stored as UTF-16LE with one
    terminating NUL); a list of ``str`` for REG_MULTI_SZ. ``bytes`` (or bytearray, memoryview)
    for any type are stored as given, except that a number type takes exactly its width (4 or 8
    bytes). Anything else raises before anything is stored: BadArgumentType (a TypeError) for
    the wrong kind of object, BadValueData (a ValueError) for a wrong range, size or content.

    >>> encode(RegType.DWORD, 1225).hex()
    'c9040000'
    >>> encode(RegType.MULTI_SZ, ["a", "b"]) == "a\\0b\\0\\0".encode("utf-16-le")
    True
    >>> decode(RegType.SZ, encode(RegType.SZ, "text"))
    'text'
    """
    if not isinstance(value_type, int) or isinstance(value_type, bool) or not 0 <= value_type <= 0xFFFFFFFF:
        raise BadArgumentType(f"value type must be an int from 0 to 0xFFFFFFFF such as RegType.DWORD, "
                              f"not {value_type!r}")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _sized(value_type, bytes(value))
    size = NUMBER_SIZES.get(value_type)
    if size is not None:
        return _number(value_type, value, size)
    if value_type in STRING_TYPES:
        return encode_text(_text(value_type, value))
    if value_type == RegType.MULTI_SZ:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise BadArgumentType(f"REG_MULTI_SZ data is a list of str (or bytes), not {type(value).__name__}: "
                                  "a bare string would be read as one list of its characters")
        strings = [_text(value_type, item) for item in value]
        if any(item == "" for item in strings):
            raise BadValueData("REG_MULTI_SZ strings may not be empty: an empty string ends the list")
        return encode_multi(strings)
    raise BadArgumentType(f"{type_name(value_type)} data is bytes (or bytearray, memoryview), "
                          f"not {type(value).__name__}")


def _sized(value_type: int, raw: bytes) -> bytes:
    size = NUMBER_SIZES.get(value_type)
    if size is not None and len(raw) != size:
        raise BadValueData(f"{type_name(value_type)} data must be exactly {size} bytes, got {len(raw)}; nothing was "
                           "changed (use REG_BINARY for other sizes)")
    return raw


def _number(value_type: int, value: object, size: int) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgumentType(f"{type_name(value_type)} data is an int (0 to {(1 << 8 * size) - 1}) or "
                              f"{size} bytes, not {type(value).__name__}")
    if not 0 <= value < 1 << (8 * size):
        raise BadValueData(f"{value} does not fit {type_name(value_type)} (0 to {(1 << 8 * size) - 1})")
    return value.to_bytes(size, "big" if value_type == RegType.DWORD_BIG_ENDIAN else "little")


def _text(value_type: int, value: object) -> str:
    if not isinstance(value, str):
        raise BadArgumentType(f"{type_name(value_type)} data is a str (or bytes), not {type(value).__name__}")
    if "\0" in value:
        raise BadValueData(f"{type_name(value_type)} text may not contain NUL: it would end the string "
                           "(store bytes to keep one)")
    return value


def parse_type(text: str) -> int:
    key = text.strip().lower()
    if key.startswith("reg_"):
        key = key[4:]
    if key in CLI_TYPE_NAMES:
        return int(CLI_TYPE_NAMES[key])
    try:
        number = int(key, 0)
    except ValueError:
        raise UsageError(
            f"unknown value type {text!r}: use one of {', '.join(CLI_TYPE_NAMES)} or a number such as 0x4000"
        ) from None
    if not 0 <= number <= 0xFFFFFFFF:
        raise UsageError(f"value type {text} does not fit 32 bits")
    return number


def _parse_int(text: str, bits: int) -> int:
    try:
        number = int(text.strip(), 0)
    except ValueError:
        raise UsageError(f"{text!r} is not a number (use decimal, 0x.. hex, 0o.. or 0b..)") from None
    if not 0 <= number < 1 << bits:
        raise UsageError(f"{text} does not fit an unsigned {bits}-bit value (0 to {(1 << bits) - 1})")
    return number


def parse_hex_bytes(text: str) -> bytes:
    """Hex bytes with optional spaces and commas: ``01 02``, ``01,02``, ``0102``."""
    cleaned = text.replace(",", " ").split()
    if len(cleaned) > 1 and all(len(part) <= 2 for part in cleaned):
        cleaned = [part.zfill(2) for part in cleaned]
    joined = "".join(cleaned)
    if joined.lower().startswith("0x"):
        joined = joined[2:]
    try:
        return bytes.fromhex(joined)
    except ValueError:
        raise UsageError(f"{text!r} is not hex bytes (pairs of hex digits, spaces or commas between)") from None


def encode_text(text: str) -> bytes:
    """UTF-16LE with one terminating NUL, as Windows stores strings."""
    return encode_le(text) + b"\0\0"


def encode_multi(strings: list[str]) -> bytes:
    """Each string NUL-terminated, then one more NUL; an empty list is a lone terminator."""
    if not strings:
        return b"\0\0"
    return b"".join(encode_text(s) for s in strings) + b"\0\0"


def data_from_cli(value_type: int, items: tuple[str, ...]) -> bytes:
    """Build raw bytes from ``--data`` arguments, following the documented rules per type."""
    if value_type == RegType.MULTI_SZ:
        return encode_multi(list(items))
    if len(items) != 1:
        raise UsageError(f"{type_name(value_type)} takes exactly one --data (got {len(items)})")
    if value_type in (RegType.DWORD, RegType.DWORD_BIG_ENDIAN, RegType.QWORD):
        if value_type == RegType.QWORD:
            return struct.pack("<Q", _parse_int(items[0], 64))
        fmt = ">I" if value_type == RegType.DWORD_BIG_ENDIAN else "<I"
        return struct.pack(fmt, _parse_int(items[0], 32))
    if value_type in STRING_TYPES:
        return encode_text(items[0])
    return parse_hex_bytes(items[0])


def decode_text(raw: bytes) -> str:
    """Text of a string value, cut at the first NUL as Windows APIs show it."""
    if len(raw) % 2:
        raw = raw[:-1]
    text = DECODE_LE(raw, "surrogatepass", True)[0]  # decode_le, without its call: a dump decodes every string
    end = text.find("\0")  # not split(): no list made for every string value a dump shows
    return text if end < 0 else text[:end]


def decode_multi(raw: bytes) -> list[str]:
    if len(raw) % 2:
        raw = raw[:-1]
    text = decode_le(raw)
    if text.endswith("\0\0"):
        text = text[:-2]
    elif text.endswith("\0"):
        text = text[:-1]
    return text.split("\0") if text else []


# decode() runs for every value a walk shows: plain ints, not enum members (each access to
# RegType.X is an attribute lookup on the enum class), and one compiled struct per number type.
_TEXT_TYPES = frozenset(int(t) for t in STRING_TYPES)
_MULTI_SZ = int(RegType.MULTI_SZ)
_NUMBERS = {int(RegType.DWORD): struct.Struct("<I"), int(RegType.DWORD_BIG_ENDIAN): struct.Struct(">I"),
            int(RegType.QWORD): struct.Struct("<Q")}


def decode(value_type: int, raw: bytes) -> int | str | list[str] | bytes:
    """A display value: str, int or list[str]; bytes for everything else or odd sizes."""
    if value_type in _TEXT_TYPES:
        return decode_text(raw)
    if value_type == _MULTI_SZ:
        return decode_multi(raw)
    number = _NUMBERS.get(value_type)
    if number is not None and len(raw) == number.size:
        value: int = number.unpack(raw)[0]
        return value
    return raw
