"""Read-only views of keys and values. They hold cell offsets and read the hive buffer
when asked, so a view never shows stale data after an edit."""
from __future__ import annotations

import functools
import struct
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

from ..errors import HiveFormatError, KeyNotFound, ValueNotFound
from ..timeutil import filetime_to_iso
from . import nk as nkmod
from . import types
from .bins import file_offset
from .names import upcase
from .nk import NK, NIL

if TYPE_CHECKING:
    from .hive import Hive


def located(method):
    """Name the hive file in any format error raised below a public method."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except HiveFormatError as err:
            path = getattr(self, "path", None) if not hasattr(self, "hive") else self.hive.path
            raise err.with_path(path) if path else err

    return wrapper


class Value(NamedTuple):
    """One value: its stored name ('' = the default value), type number and raw bytes."""

    name: str
    type: int
    raw: bytes
    cell: int

    @property
    def data(self) -> Any:
        return types.decode(self.type, self.raw)

    @property
    def type_name(self) -> str:
        return types.type_name(self.type)


class Key:
    __slots__ = ("hive", "cell", "name", "_path", "_parent")

    def __init__(self, hive: "Hive", cell: int, name: str, path: "str | Key") -> None:
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

    def _fields(self) -> tuple:
        at, _ = self.hive.space.payload(self.cell, "key")
        return NK.struct.unpack_from(self.hive.buf, at)

    @property
    @located
    def last_write(self) -> int:
        """Last-write time as FILETIME ticks."""
        return self._fields()[nkmod.I_TIMESTAMP]

    @property
    def last_write_iso(self) -> str:
        return filetime_to_iso(self.last_write)

    @property
    @located
    def flags(self) -> int:
        return self._fields()[nkmod.I_FLAGS]

    @property
    @located
    def subkey_count(self) -> int:
        return len(self.hive.child_cells(self.cell))

    @property
    @located
    def value_count(self) -> int:
        return len(self.hive.value_cells(self.cell))

    @property
    @located
    def class_name(self) -> str | None:
        rec = NK.tuple._make(self._fields())
        if rec.class_cell == NIL or rec.class_length == 0:
            return None
        at, length = self.hive.space.payload(rec.class_cell, f"class name of {self!r}")
        if rec.class_length > length:
            raise HiveFormatError(f"class name length {rec.class_length} exceeds its cell", at - 4)
        return bytes(self.hive.buf[at : at + rec.class_length]).decode("utf-16-le", "surrogatepass")

    @property
    @located
    def security_cell(self) -> int:
        return self._fields()[nkmod.I_SECURITY]

    @located
    def subkeys(self) -> list["Key"]:
        return [self.hive.key_at(cell, self) for cell in self.hive.child_cells(self.cell)]

    @located
    def subkey(self, name: str) -> "Key":
        cell = self.hive.find_child(self.cell, name)
        if cell is None:
            raise KeyNotFound(f"key {_join(self.path, name)!r} not found")
        return self.hive.key_at(cell, self)

    @located
    def values(self) -> list[Value]:
        return [self.hive.read_value(cell) for cell in self.hive.value_cells(self.cell)]

    @located
    def value(self, name: str) -> Value:
        wanted = upcase(name)
        for cell in self.hive.value_cells(self.cell):
            # Names only: a damaged sibling's data must not keep this value from being read.
            stored = self.hive.value_name(cell)
            if stored == name or upcase(stored) == wanted:
                return self.hive.read_value(cell)
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
        while stack:
            key = stack.pop()
            yield key
            children = key.subkeys()
            for child in reversed(children):
                if child.cell in seen:
                    raise HiveFormatError(
                        f"subkey lists form a cycle: the nk at cell 0x{child.cell:x} is reached twice",
                        file_offset(child.cell),
                    )
                seen.add(child.cell)
                stack.append(child)


def _join(parent: str, name: str) -> str:
    return f"{parent}\\{name}" if parent else name


def u32_list(buf: bytes | bytearray, at: int, count: int) -> tuple[int, ...]:
    return struct.unpack_from(f"<{count}I", buf, at)
