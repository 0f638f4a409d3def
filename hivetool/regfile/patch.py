"""The common currency of hivetool: an ordered list of registry operations.

``.reg`` files parse into a Patch, ``diff`` produces one, the port profiles produce one,
and a Patch applies to a hive or emits as ``.reg`` text. Keys are full registry paths as
a user writes them (``HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\...``); mapping them
into a particular hive is the job of :mod:`hivetool.paths`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

CREATE_KEY = "create_key"
DELETE_KEY = "delete_key"
SET_VALUE = "set_value"
DELETE_VALUE = "delete_value"
KINDS = (CREATE_KEY, DELETE_KEY, SET_VALUE, DELETE_VALUE)


# Slots: a large .reg file becomes millions of operations, and a per-instance __dict__ would
# take more memory than the data they carry.
@dataclass(frozen=True, slots=True)
class Origin:
    """Where an operation came from: a file and 1-based line (0 when generated)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, slots=True)
class Op:
    kind: str
    key: str
    name: str | None = None  # value name; '' is the default value; None for key operations
    type: int | None = None
    data: bytes | None = None
    origin: Origin | None = None

    def describe(self) -> str:
        where = f"  ({self.origin})" if self.origin else ""
        if self.kind == CREATE_KEY:
            return f"create key  {self.key}{where}"
        if self.kind == DELETE_KEY:
            return f"delete key  {self.key}{where}"
        shown = "@" if self.name == "" else repr(self.name)
        if self.kind == DELETE_VALUE:
            return f"delete value {self.key} {shown}{where}"
        return f"set value   {self.key} {shown} type {self.type} ({len(self.data or b'')} bytes){where}"

    def same_effect(self, other: "Op") -> bool:
        """Equal apart from where it came from."""
        return (self.kind, self.key, self.name, self.type, self.data) == (
            other.kind, other.key, other.name, other.type, other.data)


@dataclass
class Patch:
    ops: list[Op] = field(default_factory=list)

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def create_key(self, key: str, origin: Origin | None = None) -> None:
        self.ops.append(Op(CREATE_KEY, key, origin=origin))

    def delete_key(self, key: str, origin: Origin | None = None) -> None:
        self.ops.append(Op(DELETE_KEY, key, origin=origin))

    def set_value(self, key: str, name: str, value_type: int, data: bytes, origin: Origin | None = None) -> None:
        self.ops.append(Op(SET_VALUE, key, name, value_type, bytes(data), origin))

    def delete_value(self, key: str, name: str, origin: Origin | None = None) -> None:
        self.ops.append(Op(DELETE_VALUE, key, name, origin=origin))

    def extend(self, other: "Patch") -> None:
        self.ops.extend(other.ops)
