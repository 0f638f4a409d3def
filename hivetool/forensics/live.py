"""The live cells of a hive: every cell the tree reaches from the root key, with what each is
used as and how much of it is used.

Recovery must never report live data as deleted, and a record reachable from the live tree is
live (whatever else its bytes look like), so this map is computed first. The walk is tolerant:
a pointer that cannot be followed is noted as a problem (with its file offset) and the walk goes
on with the rest, so a damaged or salvaged hive yields as much of its live tree as can be read.

Memory stays near the size of the hive's bins divided by eight: one byte per 8-byte cell slot
says what a live cell starting there is used as, and only cells whose unused tail ("slack") is
8 bytes or more are remembered with their used length, since only such a tail can hold a
remnant worth reading.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from ..errors import HiveFormatError
from ..regf.hive.hive import Hive
from ..regf.records.bins import HBIN_BASE, file_offset
from ..regf.records.cells import (
    BIG_DATA, CELL_ALIGN, CLASS, DATA, NIL, NK_CELL, SEGMENT, SEGMENT_LIST, SK_CELL, VK_CELL,
)
from ..regf.records.data import DB, INLINE, SEGMENT_SIZE, uses_big_data
from ..regf.records.lists import subkey_list_problems, value_list_problems
from ..regf.records.names import decode_name
from ..regf.records.nk import KEY_COMP_NAME, KEY_PREDEF_HANDLE, NK, nk_problems
from ..regf.records.problems import Described, HiveFinding, describe, problem
from ..regf.records.sk import SK
from ..regf.records.vk import VK, vk_problems

MIN_SLACK = CELL_ALIGN  # a tail shorter than one cell slot holds nothing worth reading
MAX_PROBLEMS = 1000  # problems listed per hive; the rest are counted
_KEY_FIELDS = NK.view("flags", "timestamp", "parent", "subkey_count", "subkeys", "value_count", "values", "security",
                      "class_cell", "name_length", "class_length")


@dataclass(frozen=True)
class LiveKey:
    """A key of the live tree, as the walk meets it (parents before children)."""

    cell: int
    name: str
    timestamp: int
    parent: int  # the cell of the key whose subkey list holds it; NIL for the root
    path: str | None  # inside the hive ('' for the root); None when paths were not asked for


class LiveCells:
    """What the live tree uses: :meth:`kind_at` a cell start, :meth:`used` its used length."""

    def __init__(self, hive: Hive) -> None:
        engine = hive._engine
        self.hive = hive
        self.space = engine.space
        self.buf = engine.space.buf
        self.minor = engine.minor
        self.root = engine.root_cell
        self.end = engine.space.end
        self.kinds = bytearray(self.end // CELL_ALIGN + 1)  # per 8-byte slot: the live cell's use
        self.slack: dict[int, int] = {}  # cell -> used payload bytes, where the tail is >= MIN_SLACK
        self.list_owner: dict[int, int] = {}  # value list or subkey leaf with slack -> its key's nk cell
        self.problems: list[HiveFinding] = []
        self.dropped = 0  # problems beyond MAX_PROBLEMS
        self.keys = 0
        self.values = 0

    # ------------------------------------------------------------------ queries
    def kind_at(self, cell: int) -> int:
        """What the live cell starting at ``cell`` is used as (cells.NK_CELL, ...), 0 if none."""
        if 0 <= cell < self.end and not cell % CELL_ALIGN:
            return self.kinds[cell // CELL_ALIGN]
        return 0

    def used(self, cell: int, payload: int) -> int:
        """Used payload bytes of the live cell ``cell`` whose payload has ``payload`` bytes."""
        return self.slack.get(cell, payload)

    def note(self, found: HiveFinding) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(found)
        else:
            self.dropped += 1

    # ------------------------------------------------------------------ the walk
    def follow(self, cell: int, what: Described, kind: int, where: int | None) -> tuple[int, int] | None:
        """A ``records.cells.Follow`` that marks what it reaches and never raises: a pointer that
        does not lead to an allocated cell, or to one already used otherwise, is a problem."""
        if 0 <= cell < self.end and not cell % CELL_ALIGN:
            used_as = self.kinds[cell // CELL_ALIGN]
            if used_as:
                if used_as == kind == SK_CELL:
                    return None  # shared security cells are the rule: read once
                self.note(problem("E-CELL-SHARED", where, f"{describe(what)} points at file offset "
                                                          f"0x{file_offset(cell):x}, which is already in use"))
                return None
        try:
            got = self.space.payload(cell, what)
        except HiveFormatError as err:
            self.note(problem("E-REF", err.file_offset if err.file_offset is not None else where, err.detail))
            return None
        self.kinds[cell // CELL_ALIGN] = kind
        return got

    def _slack(self, cell: int, payload: int, used: int, owner: int | None = None) -> None:
        if payload - used >= MIN_SLACK:
            self.slack[cell] = max(used, 0)
            if owner is not None:
                self.list_owner[cell] = owner

    def walk(self, values: bool = True, paths: bool = False) -> Iterator[LiveKey]:
        """Every key reachable from the root, parents first; with ``values`` their values and
        data are marked too (recovery needs them, a timeline does not)."""
        buf = self.buf
        stack: list[tuple[int, int, str | None]] = [(self.root, NIL, "" if paths else None)]
        first = True
        while stack:
            cell, parent, parent_path = stack.pop()
            what = "root key offset in the base block" if first else "subkey list entry"
            got = self.follow(cell, what, NK_CELL, None if first else file_offset(parent))
            first = False
            if got is None:
                continue
            at, length = got
            name, found = nk_problems(buf, at, length, what)
            if name is None:
                self.note(found[0])
                continue
            (flags, timestamp, _, subkey_count, subkeys, value_count, values_cell, security, class_cell, name_length,
             class_length) = _KEY_FIELDS(buf, at)
            self.keys += 1
            self._slack(cell, length, NK.size + name_length)
            if parent_path is None:
                path = None
            elif cell == self.root:
                path = ""
            else:
                path = f"{parent_path}\\{name}" if parent_path else name
            yield LiveKey(cell, name, timestamp, parent, path)
            owner = (_key_at, at - 4)
            if subkey_count and subkeys != NIL:
                children = self._subkeys(subkeys, owner, at - 4, cell)
                stack.extend((child, cell, path) for child in reversed(children))
            if values and value_count and values_cell != NIL and not flags & KEY_PREDEF_HANDLE:
                self._values(values_cell, value_count, owner, at - 4, cell)
            if security != NIL:
                self._security(security, at - 4)
            if class_cell != NIL and class_length:
                got = self.follow(class_cell, ("class name of", owner), CLASS, at - 4)
                if got is not None:
                    self._slack(class_cell, got[1], class_length)

    def _subkeys(self, list_cell: int, owner: Described, where: int, key_cell: int) -> list[int]:
        sublist, found = subkey_list_problems(self.buf, list_cell, self._list_follow(key_cell), owner, where,
                                              self.minor)
        for each in found:
            if each.level == "error":
                self.note(each)
        if sublist is None:
            return []
        children = []
        for leaf in sublist.leaves:
            children.extend(leaf.offsets)
        return children

    def _list_follow(self, key_cell: int) -> Callable[..., tuple[int, int] | None]:
        """Follow for a subkey list: remembers each leaf's slack, which may name deleted keys."""

        def follow(cell: int, what: Described, kind: int, where: int | None) -> tuple[int, int] | None:
            got = self.follow(cell, what, kind, where)
            if got is not None:
                at, length = got
                signature, count = bytes(self.buf[at : at + 2]), int.from_bytes(self.buf[at + 2 : at + 4], "little")
                step = 4 if signature in (b"li", b"ri") else 8
                self._slack(cell, length, 4 + step * count, key_cell)
            return got

        return follow

    def _values(self, list_cell: int, count: int, owner: Described, where: int, key_cell: int) -> None:
        buf = self.buf
        cells, found = value_list_problems(buf, list_cell, count, self.follow, owner, where)
        for each in found:
            self.note(each)
        if cells is None:
            return
        list_payload = self.space.payload(list_cell, "value list")[1]
        self._slack(list_cell, list_payload, 4 * count, key_cell)
        for vk_cell in cells:
            got = self.follow(vk_cell, ("value of", owner), VK_CELL, file_offset(list_cell))
            if got is None:
                continue
            at, length = got
            name, fields, problems = vk_problems(buf, at, length, ("value of", owner))
            if name is None:
                self.note(problems[0])
                continue
            self.values += 1
            _, name_length, size_field, data_field, _, _ = fields
            self._slack(vk_cell, length, VK.size + name_length)
            self._data(size_field, data_field, at - 4)

    def _data(self, size_field: int, data_field: int, vk_at: int) -> None:
        """Mark a value's data cells (one cell, or a db record with its segment list and
        segments) with their used lengths; nothing is decoded."""
        length = size_field & 0x7FFFFFFF
        if size_field & INLINE or length == 0:
            return
        what = f"data of the value at file offset 0x{vk_at:x}"
        if not uses_big_data(length, self.minor):
            got = self.follow(data_field, what, DATA, vk_at)
            if got is not None:
                self._slack(data_field, got[1], length)
            return
        got = self.follow(data_field, what, BIG_DATA, vk_at)
        if got is None:
            return
        at, payload = got
        if payload < DB.size or self.buf[at : at + 2] != b"db":
            self.note(problem("E-DB-SIGNATURE", at - 4, f"{what}: big data without a db record"))
            return
        count = DB.read(self.buf, at, "segment_count")
        segment_list = DB.read(self.buf, at, "segment_list")
        self._slack(data_field, payload, DB.size)
        got = self.follow(segment_list, f"segment list of {what}", SEGMENT_LIST, at - 4)
        if got is None:
            return
        list_at, list_payload = got
        count = min(count, list_payload // 4)
        self._slack(segment_list, list_payload, 4 * count)
        remaining = length
        for index in range(count):
            segment = int.from_bytes(self.buf[list_at + 4 * index : list_at + 4 * index + 4], "little")
            got = self.follow(segment, f"big-data segment of {what}", SEGMENT, list_at - 4)
            if got is not None:
                self._slack(segment, got[1], min(SEGMENT_SIZE, max(remaining, 0)))
            remaining -= SEGMENT_SIZE

    def _security(self, cell: int, where: int) -> None:
        """Security cells are shared: each is marked once, then its ring neighbours, which are
        live too (Windows walks the whole ring when it loads a hive)."""
        while self.kind_at(cell) != SK_CELL:
            got = self.follow(cell, "security cell", SK_CELL, where)
            if got is None:
                return
            at, length = got
            if length < SK.size or self.buf[at : at + 2] != b"sk":
                return
            self._slack(cell, length, SK.size + SK.read(self.buf, at, "descriptor_size"))
            where, cell = at - 4, SK.read(self.buf, at, "flink")


def _key_at(where: int) -> str:
    return f"the key at file offset 0x{where:x}"


def live_cells(hive: Hive) -> LiveCells:
    """The live map of ``hive``, its keys and values walked once."""
    live = LiveCells(hive)
    for _ in live.walk(values=True):
        pass
    return live


def live_path(live: LiveCells, cell: int, cache: dict[int, str]) -> str | None:
    """The path of the live key at ``cell``, read up its parent pointers (each a live key
    node); None when the chain does not reach the root."""
    names: list[str] = []
    seen: set[int] = set()
    buf = live.buf
    while cell not in cache:
        if cell == live.root:
            cache[cell] = ""
            break
        if live.kind_at(cell) != NK_CELL or cell in seen or len(seen) > 600:
            return None
        seen.add(cell)
        at = HBIN_BASE + cell + 4
        flags, parent, name_length = NK.read(buf, at, "flags"), NK.read(buf, at, "parent"), NK.read(buf, at, "name_length")
        names.append(decode_name(bytes(buf[at + NK.size : at + NK.size + name_length]), bool(flags & KEY_COMP_NAME)))
        cell = parent
    base = cache[cell]
    for name in reversed(names):
        base = f"{base}\\{name}" if base else name
    return base
