"""A ``[[value]]``'s ``type`` and ``data`` as TOML gives them, turned into the bytes to store.

The rules are those of ``hivetool set --type T --data D`` (README), with TOML's own values in
place of command-line text: an integer for dword, dword_be and qword; a string for sz,
expand_sz and link; a list of strings for multi_sz; hex text for every other type.

Without ``type`` the type follows the data: an integer is a REG_DWORD, a string a REG_SZ, a
list of strings a REG_MULTI_SZ. An integer never becomes a REG_QWORD by being large: the type
is what the program reading the value expects, and a number that outgrows 32 bits is far more
often a typo than a wish for another type, so it is refused and ``type = "qword"`` must be said.
A boolean is not a number here (TOML has both; ``true`` as 1 would hide a mistake), and floats,
dates and tables are no value data at all.
"""
from __future__ import annotations

import struct
from typing import Any

from ..errors import UsageError
from ..regf.records.types import RegType, STRING_TYPES, encode_multi, encode_text, parse_hex_bytes, parse_type, type_name

INT_TYPES = {RegType.DWORD: ("<I", 32), RegType.DWORD_BIG_ENDIAN: (">I", 32), RegType.QWORD: ("<Q", 64)}


class DataProblem(ValueError):
    """What is wrong with a value's type or data; the loader adds the file and line."""

    def __init__(self, message: str, field: str = "data") -> None:
        super().__init__(message)
        self.field = field


def _kind(data: Any) -> str:
    """TOML's name for the kind of ``data``, for messages."""
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int):
        return "an integer"
    if isinstance(data, float):
        return "a float"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, list):
        return "an array"
    if isinstance(data, dict):
        return "a table"
    return "a date or time"


def parse_value_type(given: Any) -> int:
    """``type``: a name (``dword``, ``reg_dword``) or a number 0..2**32-1."""
    if isinstance(given, bool) or not isinstance(given, (int, str)):
        raise DataProblem(f"type must be a name such as \"dword\" or a number, not {_kind(given)}", "type")
    if isinstance(given, int):
        if not 0 <= given <= 0xFFFFFFFF:
            raise DataProblem(f"type {given} does not fit 32 bits (0 to 4294967295)", "type")
        return given
    try:
        return parse_type(given)
    except UsageError as err:
        raise DataProblem(str(err), "type") from None


def infer_type(data: Any) -> int:
    """The type of data given without ``type``."""
    if isinstance(data, bool):
        raise DataProblem("a boolean is not value data: write 1 or 0 (a REG_DWORD), or a string")
    if isinstance(data, int):
        if data < 0:
            raise DataProblem(f"{data} is negative: registry numbers are unsigned (a REG_DWORD is 0 to 4294967295)")
        if data > 0xFFFFFFFF:
            raise DataProblem(f"{data} does not fit a REG_DWORD (0 to 4294967295); an integer is a REG_DWORD unless "
                              "type says otherwise: add type = \"qword\" for a 64-bit value")
        return RegType.DWORD
    if isinstance(data, str):
        return RegType.SZ
    if isinstance(data, list):
        return RegType.MULTI_SZ
    raise DataProblem(f"data cannot be {_kind(data)}: use an integer (REG_DWORD), a string (REG_SZ), a list of "
                      "strings (REG_MULTI_SZ), or give type with hex data")


def encode_data(value_type: int, data: Any) -> bytes:
    """The bytes to store for ``data`` as a value of ``value_type``."""
    shown = type_name(value_type)
    if value_type in INT_TYPES:
        fmt, bits = INT_TYPES[RegType(value_type)]
        if isinstance(data, bool) or not isinstance(data, int):
            raise DataProblem(f"{shown} data must be an integer, not {_kind(data)}")
        if not 0 <= data < 1 << bits:
            raise DataProblem(f"{data} does not fit {shown} (0 to {(1 << bits) - 1})")
        return struct.pack(fmt, data)
    if value_type in STRING_TYPES:
        if not isinstance(data, str):
            raise DataProblem(f"{shown} data must be a string, not {_kind(data)}")
        return encode_text(data)
    if value_type == RegType.MULTI_SZ:
        if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
            what = _kind(data) if not isinstance(data, list) else "an array holding " + next(
                _kind(item) for item in data if not isinstance(item, str))
            raise DataProblem(f"{shown} data must be an array of strings, not {what}")
        for item in data:
            if "\0" in item:
                raise DataProblem(f"{shown} strings cannot hold a NUL character: it ends the string for Windows")
        return encode_multi(data)
    if not isinstance(data, str):
        raise DataProblem(f"{shown} data must be hex bytes in a string (\"01 02 ab\", \"01,02,ab\" or "
                          f"\"0102ab\"), not {_kind(data)}")
    try:
        return parse_hex_bytes(data)
    except UsageError as err:
        raise DataProblem(str(err)) from None


def value_bytes(given_type: Any, data: Any) -> tuple[int, bytes]:
    """(type, bytes) of a ``[[value]]`` from its ``type`` (None: inferred) and ``data``."""
    value_type = infer_type(data) if given_type is None else parse_value_type(given_type)
    return value_type, encode_data(value_type, data)


__all__ = ["DataProblem", "encode_data", "infer_type", "parse_value_type", "value_bytes"]
