"""Keys that read past damage: what ``ls``, ``find`` and ``export`` walk with ``--salvage``.

A :class:`~hivetool.regf.hive.Key` raises at the first pointer it cannot follow, which is right
for editing. A :class:`TolerantKey` has the same reading interface (name, path, last-write time,
class name, subkeys, values, walk) but skips what it cannot read (one subkey list leaf, one value,
one subkey) and notes each loss with its file offset in the hive's :class:`~.salvage.SalvageLog`.
The commands render it exactly as they render a Key.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..errors import HiveFormatError
from ..regf.hive.model import Key
from ..regfile.export import ExportStream
from ..regf.hive.value import Value
from ..regf.records.cells import NIL
from ..regf.records.lists import subkey_list_problems, value_list_problems
from ..regf.records.nk import KEY_PREDEF_HANDLE, NK
from ..regf.records.bins import file_offset
from ..regf.records.problems import Described, problem
from ..timeutil import filetime_to_iso
from .salvage import SalvageLog

_LISTS = NK.view("flags", "subkey_count", "subkeys", "value_count", "values")


def tolerant_key(key: Key) -> "Key | TolerantKey":
    """``key`` as a TolerantKey when its hive was salvaged; otherwise the Key itself."""
    log = getattr(key.hive, "salvage", None)
    return TolerantKey(key, log) if log is not None else key


class TolerantKey:
    """A Key that skips and notes what it cannot read (see the module docstring)."""

    __slots__ = ("key", "log")

    def __init__(self, key: Key, log: SalvageLog) -> None:
        self.key = key
        self.log = log

    def __repr__(self) -> str:
        return f"<TolerantKey {self.key!r}>"

    @property
    def hive(self) -> Any:
        return self.key.hive

    @property
    def cell(self) -> int:
        return self.key.cell

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def path(self) -> str:
        return self.key.path

    def _try(self, read: Any, default: Any) -> Any:
        try:
            return read()
        except HiveFormatError as err:
            self.log.error(err)
            return default

    @property
    def last_write(self) -> int:
        return int(self._try(lambda: self.key.last_write, 0))

    @property
    def last_write_iso(self) -> str:
        return filetime_to_iso(self.last_write)

    @property
    def class_name(self) -> str | None:
        name: str | None = self._try(lambda: self.key.class_name, None)
        return name

    def _follow(self, cell: int, what: Described, kind: int, where: int | None) -> tuple[int, int] | None:
        try:
            return self.key.hive._engine.space.payload(cell, what)
        except HiveFormatError as err:
            self.log.add(problem("E-REF", err.file_offset if err.file_offset is not None else where, err.detail))
            return None

    def _lists(self) -> tuple[int, ...] | None:
        engine = self.key.hive._engine
        lists: tuple[int, ...] | None = self._try(lambda: _LISTS(engine.buf, engine.space.payload(self.key.cell, "key")[0]),
                                                  None)
        return lists

    def subkeys(self) -> list["TolerantKey"]:
        lists = self._lists()
        if lists is None or not lists[1] or lists[2] == NIL:
            return []
        engine = self.key.hive._engine
        where = engine.space.payload(self.key.cell, "key")[0] - 4
        owner = f"key {self.key.path or '(root)'!r}"
        sublist, found = subkey_list_problems(engine.buf, lists[2], self._follow, owner, where, engine.minor)
        for each in found:
            if each.level == "error":
                self.log.add(each)
        children = []
        for cell in sublist.offsets() if sublist is not None else []:
            try:
                children.append(TolerantKey(self.key._child(cell), self.log))
            except HiveFormatError as err:  # the entry's own offset when the error names none
                self.log.add(problem("E-REF", err.file_offset if err.file_offset is not None else where,
                                     f"subkey of {owner}: {err.detail}"))
        return children

    def values(self) -> list[Value]:
        lists = self._lists()
        if lists is None or not lists[3] or lists[4] == NIL or lists[0] & KEY_PREDEF_HANDLE:
            return []
        engine = self.key.hive._engine
        where = engine.space.payload(self.key.cell, "key")[0] - 4
        owner = f"key {self.key.path or '(root)'!r}"
        cells, found = value_list_problems(engine.buf, lists[4], lists[3], self._follow, owner, where)
        for each in found:
            self.log.add(each)
        out = []
        for cell in cells or ():
            try:
                out.append(engine.read_value(cell))
            except HiveFormatError as err:
                self.log.add(problem("E-REF", err.file_offset if err.file_offset is not None else where,
                                     f"value of {owner}: {err.detail}"))
        return out

    def walk(self) -> Iterator["TolerantKey"]:
        """This key and every key below it that can be read, depth-first; a key reached twice
        (a cycle) is noted and not entered again."""
        stack = [self]
        seen = {self.cell}
        while stack:
            key = stack.pop()
            yield key
            children = key.subkeys()
            for child in reversed(children):
                if child.cell in seen:
                    self.log.add(problem("E-CELL-SHARED", file_offset(child.cell), (
                        f"subkey lists form a cycle: the key at file offset 0x{file_offset(child.cell):x} is reached "
                        "twice; not entered again")))
                    continue
                seen.add(child.cell)
                stack.append(child)


class SalvagedExport(ExportStream):
    """``export --salvage``: an :class:`~hivetool.regfile.export.ExportStream` (iterate once for
    the encoded file; ``top``, ``keys``, ``values``, ``losses`` after) over what a TolerantKey
    walk can read of each part (hive, mount path, key below which to export)."""

    def __init__(self, parts: list[tuple[Any, str, str]], dialect: str, regedit_compat: bool, codepage: str) -> None:
        from ..regfile.emit import RegWriter

        self.tolerant_parts = [(root, tolerant_key(hive.key(start))) for hive, root, start in parts]
        self.top = ", ".join(f"{root}\\{key.path}" if key.path else root for root, key in self.tolerant_parts)
        self.writer = RegWriter(dialect, regedit_compat, codepage)

    def __iter__(self) -> Iterator[bytes]:
        from ..regfile.emit import CHUNK_CHARS

        writer = self.writer
        for root, start in self.tolerant_parts:
            for key in start.walk():
                path = f"{root}\\{key.path}" if key.path else root
                writer.key(path)
                for value in key.values():
                    writer.value(path, value.name, value.type, value.raw)
                if writer.pending >= CHUNK_CHARS:
                    yield writer.take()
        yield from writer.chunks()
