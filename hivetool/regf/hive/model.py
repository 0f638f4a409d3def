"""Read-only views of keys and values. They hold cell offsets and ask the hive's engine when
asked, so a view never shows stale data after an edit."""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterator, Protocol, TypeVar

from ...errors import HiveFormatError, KeyNotFound, UsageError, ValueNotFound
from ...timeutil import filetime_to_iso
from ...utf16 import decode_le
from ..records.bins import file_offset
from ..records.cells import NIL
from ..records.names import upcase
from .engine import Engine
from .security import descriptor
from .value import Value as Value  # re-exported: hivetool.Value lives here

_T = TypeVar("_T")


class HiveOwner(Protocol):
    """What a Key needs of the Hive it belongs to."""

    path: str | None
    _engine: Engine

    def set_value(self, key: "Key | str", name: str, value_type: int, data: object) -> bool: ...

    def _add_subkey(self, parent: "Key", name: str) -> "Key": ...


def split_path(path: str) -> list[str]:
    """``'\\A\\B'``, ``'A\\B'`` -> ``['A', 'B']``; ``''`` or ``'\\'`` -> the root (``[]``)."""
    text = path.lstrip("\\")
    if not text:
        return []
    parts = text.split("\\")
    if any(part == "" for part in parts):
        raise UsageError(f"key path {path!r} has an empty component (two backslashes in a row)")
    return parts


def _join(parent: str, name: str) -> str:
    return f"{parent}\\{name}" if parent else name


def located(method: Callable[..., _T]) -> Callable[..., _T]:
    """Name the hive file in any format error raised below a public method."""

    @functools.wraps(method)
    def wrapper(self: "Key", *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except HiveFormatError as err:
            path = self.hive.path
            raise err.with_path(path) if path else err

    return wrapper


class Key:
    __slots__ = ("hive", "cell", "name", "_path", "_parent")

    def __init__(self, hive: HiveOwner, cell: int, name: str, path: "str | Key") -> None:
        """``path`` is the key's path inside the hive, or its parent Key: then the path is
        joined only when asked for, so walking a chain of 100,000 keys stays linear."""
        self.hive = hive
        self.cell = cell
        self.name = name
        if isinstance(path, Key):
            self._path: str | None = None
            self._parent: Key | None = path
        else:
            self._path = path
            self._parent = None

    @property
    def path(self) -> str:
        """Inside the hive, ``\\``-separated; ``''`` for the root."""
        if self._path is None:
            names = []
            key: Key | None = self
            while key is not None and key._path is None:
                names.append(key.name)
                key = key._parent
            base = key._path if key is not None else ""
            if base:
                names.append(base)
            self._path = "\\".join(reversed(names))
            self._parent = None
        return self._path

    def __repr__(self) -> str:
        return f"<Key {self.path or '(root)'} at file offset 0x{file_offset(self.cell):x}>"

    def _child(self, cell: int) -> "Key":
        """The subkey whose nk is at ``cell`` (a cell this key's subkey list holds)."""
        return Key(self.hive, cell, self.hive._engine.key_name(cell, "a subkey list entry"), self)

    @property
    @located
    def last_write(self) -> int:
        """Last-write time as FILETIME ticks."""
        timestamp: int = self.hive._engine.nk(self.cell).timestamp
        return timestamp

    @property
    def last_write_iso(self) -> str:
        return filetime_to_iso(self.last_write)

    @property
    @located
    def flags(self) -> int:
        flags: int = self.hive._engine.nk(self.cell).flags
        return flags

    @property
    @located
    def subkey_count(self) -> int:
        return len(self.hive._engine.child_cells(self.cell))

    @property
    @located
    def value_count(self) -> int:
        return len(self.hive._engine.value_cells(self.cell))

    @property
    @located
    def class_name(self) -> str | None:
        engine = self.hive._engine
        rec = engine.nk(self.cell)
        if rec.class_cell == NIL or rec.class_length == 0:
            return None
        at, length = engine.space.payload(rec.class_cell, f"class name of {self!r}")
        if rec.class_length > length:
            raise HiveFormatError(f"class name length {rec.class_length} exceeds its cell", at - 4)
        return decode_le(engine.buf[at : at + rec.class_length])

    @property
    @located
    def security_cell(self) -> int:
        security: int = self.hive._engine.nk(self.cell).security
        return security

    @property
    @located
    def security_descriptor(self) -> bytes:
        """The key's self-relative security descriptor, as stored in its sk cell."""
        return descriptor(self.hive._engine.space, self.security_cell)

    @located
    def subkeys(self) -> list["Key"]:
        return [self._child(cell) for cell in self.hive._engine.child_cells(self.cell)]

    @located
    def subkey(self, name: str) -> "Key":
        cell = self.hive._engine.find_child(self.cell, name)
        if cell is None:
            raise KeyNotFound(f"key {_join(self.path, name)!r} not found")
        return self._child(cell)

    def add_subkey(self, name: str) -> "Key":
        """Create the direct subkey ``name``; UsageError when one of that name exists."""
        return self.hive._add_subkey(self, name)

    @located
    def values(self) -> list[Value]:
        engine = self.hive._engine
        return engine.read_values(engine.value_cells(self.cell))

    @located
    def value_names(self) -> list[str]:
        """The names of the values, in enumeration order, without reading any data (a value
        with damaged data still has a name)."""
        engine = self.hive._engine
        return [engine.value_name(cell) for cell in engine.value_cells(self.cell)]

    @located
    def value_at(self, index: int) -> Value:
        """The value at ``index`` in enumeration order (as RegEnumValue numbers them)."""
        engine = self.hive._engine
        return engine.read_value(engine.value_cells(self.cell)[index])

    @located
    def value(self, name: str) -> Value:
        engine = self.hive._engine
        wanted = upcase(name)
        for cell in engine.value_cells(self.cell):
            # Names only: a damaged sibling's data must not keep this value from being read.
            stored = engine.value_name(cell)
            if stored == name or upcase(stored) == wanted:
                return engine.read_value(cell)
        shown = "the default value" if name == "" else f"value {name!r}"
        raise ValueNotFound(f"{shown} not found in key {self.path or '(root)'!r}")

    def set(self, name: str, value_type: int, data: object) -> bool:
        r"""Set the value ``name`` of this key (see :meth:`Hive.set_value` for ``data``): reading
        and writing use the same noun. True when the value was created.

        >>> from hivetool import Hive, RegType
        >>> key = Hive.new().create_key(r"Services\Tcpip")
        >>> key.set("Hostname", RegType.SZ, "build01")
        True
        >>> key.value("hostname").data
        'build01'
        """
        return self.hive.set_value(self, name, value_type, data)

    def walk(self) -> Iterator["Key"]:
        """This key and every key below it, depth-first, without recursion."""
        try:
            yield from self._walk()
        except HiveFormatError as err:
            raise err.with_path(self.hive.path) if self.hive.path else err

    def _walk(self) -> Iterator["Key"]:
        stack = [self]
        seen = {self.cell}
        hive = self.hive
        while stack:
            key = stack.pop()
            yield key
            # key.subkeys(), inlined (walk() names the file in errors itself): a walk makes
            # every Key of the hive here, so each call saved counts a hundred thousand times.
            engine = hive._engine
            decode = engine.decode_key
            children = [Key(hive, cell, decode(cell, "a subkey list entry")[1], key)
                        for cell in engine.child_cells(key.cell)]
            for child in reversed(children):
                if child.cell in seen:
                    raise HiveFormatError(
                        f"subkey lists form a cycle: the nk at cell 0x{child.cell:x} is reached twice",
                        file_offset(child.cell),
                    )
                seen.add(child.cell)
                stack.append(child)
