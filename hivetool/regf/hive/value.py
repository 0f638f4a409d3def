"""A value as read: its name, type and raw bytes (the bytes are the truth; ``data`` is the
meaning of its type for display)."""
from __future__ import annotations

from typing import NamedTuple

from ..records import types


class Value(NamedTuple):
    """One value: its stored name ('' = the default value), type number and raw bytes."""

    name: str
    type: int
    raw: bytes
    cell: int

    @property
    def data(self) -> int | str | list[str] | bytes:
        return types.decode(self.type, self.raw)

    @property
    def type_name(self) -> str:
        return types.type_name(self.type)
