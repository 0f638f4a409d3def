"""Fixed-size little-endian records, each declared once.

A :class:`Layout` is built from ``(field, struct code)`` pairs. Unpack and pack come from
that single declaration, so a record's shape is written in exactly one place.
"""
from __future__ import annotations

import struct
from collections import namedtuple
from typing import Any


class Layout:
    def __init__(self, name: str, *fields: tuple[str, str]) -> None:
        self.name = name
        self.struct = struct.Struct("<" + "".join(code for _, code in fields))
        self.size = self.struct.size
        self.fields = tuple(field for field, _ in fields)
        self.tuple = namedtuple(name, self.fields)  # type: ignore[misc]
        self.offset: dict[str, int] = {}
        self._field_struct: dict[str, struct.Struct] = {}
        at = 0
        for field, code in fields:
            self.offset[field] = at
            one = struct.Struct("<" + code)
            self._field_struct[field] = one
            at += one.size

    def unpack(self, buf: Any, at: int) -> Any:
        return self.tuple._make(self.struct.unpack_from(buf, at))

    def pack(self, **values: Any) -> bytes:
        return self.struct.pack(*(values[field] for field in self.fields))

    def pack_into(self, buf: bytearray, at: int, record: Any) -> None:
        self.struct.pack_into(buf, at, *record)

    def read(self, buf: Any, at: int, field: str) -> Any:
        return self._field_struct[field].unpack_from(buf, at + self.offset[field])[0]

    def write(self, buf: bytearray, at: int, field: str, value: Any) -> None:
        self._field_struct[field].pack_into(buf, at + self.offset[field], value)
