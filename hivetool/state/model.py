"""The desired-state model: items, each with where it was declared, and the error they raise.

An :class:`Item` is one fact a target must show. Its ``path`` is a full registry path with the
long root name and the rest as written (``CurrentControlSet`` kept: it is resolved against a
target only when the state is planned, see :mod:`.plan`). Items are ordered; ``seq`` is their
declaration order over all the state files, which is what "later wins" compares.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import MalformedInput
from ..regfile.patch import Origin
from ..regf.records.types import data_json

VALUE = "value"  # the value must exist with this type and data
KEY = "key"  # the key must exist
ABSENT = "absent"  # the value (name given) or the key and all below it (name None) must not exist
EXACT = "exact"  # the key must exist and hold nothing but what later items declare inside it
PORTS = "ports"  # a static-port profile's settings, planned as ``ports set`` plans them
KINDS = (VALUE, KEY, ABSENT, EXACT, PORTS)


class StateError(MalformedInput):
    """A state file that cannot be accepted; the message starts with ``file:line`` (exit 3)."""

    def __init__(self, message: str, path: str, line: int = 0, col: int = 0) -> None:
        self.detail = message
        self.path = path
        self.line = line
        self.col = col
        where = path + (f":{line}" if line else "") + (f":{col}" if line and col else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class PortSetting:
    """One ``SETTING = VALUE`` of a ``[[ports]]`` item, as ``ports set`` would take it."""

    name: str  # the catalog's setting name (lower case)
    text: str  # the value as ``ports set`` reads it after ``=``
    origin: Origin
    seq: int


@dataclass(frozen=True)
class PortsSpec:
    """A profile and its settings; options as ``ports set --os/--force/--reserve`` (None: not
    given, so an earlier item's choice stands when items are merged; unset means no)."""

    profile: str
    settings: tuple[PortSetting, ...]
    os: str | None = None
    force: bool | None = None
    reserve: bool | None = None

    def arguments(self) -> list[str]:
        """The SETTING=VALUE words ``ports set`` would be given."""
        return [f"{s.name}={s.text}" for s in self.settings]


@dataclass(frozen=True)
class Item:
    kind: str
    path: str  # full registry path, long root name ('' for PORTS)
    origin: Origin
    seq: int
    name: str | None = None  # value name ('' = the default value); None for keys
    type: int | None = None  # VALUE only
    data: bytes | None = None  # VALUE only: the bytes to store
    ports: PortsSpec | None = None  # PORTS only

    def describe(self) -> str:
        """How messages name the item: ``[[value]] PATH 'name'``."""
        if self.kind == PORTS and self.ports is not None:
            return f"[[ports]] {self.ports.profile} {' '.join(self.ports.arguments())}"
        shown = self.path if self.name is None else f"{self.path} " + ("@" if self.name == "" else repr(self.name))
        return f"[[{self.kind}]] {shown}"

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"origin": str(self.origin), "kind": self.kind, "path": self.path, "name": self.name}
        if self.kind == VALUE:
            entry["value"] = data_json(self.type, self.data)
        if self.kind == PORTS and self.ports is not None:
            entry["ports"] = {
                "profile": self.ports.profile, "os": self.ports.os, "force": bool(self.ports.force),
                "reserve": bool(self.ports.reserve),
                "settings": [{"setting": s.name, "value": s.text, "origin": str(s.origin)} for s in self.ports.settings],
            }
        return entry


@dataclass
class DesiredState:
    """What the state files say, folded: later files win (the module ``fold`` says how)."""

    items: list[Item] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the files, in the order given
    warnings: list[str] = field(default_factory=list)  # duplicates, redundant items, .reg warnings

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_json(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "items": [item.to_json() for item in self.items],
                "warnings": list(self.warnings)}


__all__ = ["ABSENT", "EXACT", "KEY", "KINDS", "PORTS", "VALUE", "DesiredState", "Item", "Origin", "PortSetting",
           "PortsSpec", "StateError"]
