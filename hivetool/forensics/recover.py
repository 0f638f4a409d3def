"""Recovering deleted keys and values from a hive (``hivetool recover``).

1. The live map (:mod:`.live`): every cell the tree reaches. Nothing in it is ever reported.
2. Candidates (:mod:`.carve`, :mod:`.plausible`): key nodes and value records in free cells, in
   slack, in cells nothing reaches, past the last bin, each with its evidence.
3. Owners: a deleted key's value list (if it survived) names its values; the slack after the
   live entries of a live key's value list names values deleted from it (Windows leaves them
   there; hivetool zeroes the vacated slot, so in hives it edited such values have no key).
4. Paths: a key node names its parent; a path is followed up through live and deleted keys to
   the root, or as far as it goes (``partial``).
5. Data (:mod:`.deleted_data`): intact, partly overwritten or gone.
6. Conflicts: two deleted records whose bytes overlap cannot both be as they were: one was
   written after the other was freed. A record whose signature and every field hold wins over
   value data it overlaps; data overlapping other data is marked partly overwritten on both
   sides, since which came last cannot be told.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ..regf.hive.hive import Hive
from ..regf.records.bins import HBIN_BASE, file_offset
from ..regf.records.cells import CELL_ALIGN, NIL, NK_CELL, SUBKEY_LIST, VALUE_LIST
from ..regf.records.names import utf16_size
from ..regf.records.nk import KEY_HIVE_ENTRY, KEY_PREDEF_HANDLE, NK
from ..regf.records.problems import HiveFinding
from ..regf.records.types import data_json, type_name
from ..timeutil import filetime_to_iso
from .carve import Places, find_candidates
from .deleted_data import GONE, INTACT, PARTLY, read_deleted_data
from .live import LiveCells, live_path
from .plausible import Candidate

KEY, VALUE = "key", "value"
STATES = (INTACT, PARTLY, GONE)


@dataclass
class Recovered:
    """One deleted key or value."""

    kind: str  # KEY or VALUE
    cell: int  # cell offset of its record's cell
    name: str
    found_in: str
    evidence: list[str]
    path: str  # the key (a value's: the key it belonged to), as far as it could be followed
    partial: bool  # the path does not reach the hive's root
    timestamp: int | None  # the key's last write (a value's: its key's), None when unknown
    state: str = INTACT
    damage: str | None = None  # why the state is not intact
    value_type: int | None = None
    raw: bytes | None = None
    size: int | None = None  # the data size the record states
    owner: int | None = None  # nk cell of the key (values)
    regions: list[tuple[int, int]] = field(default_factory=list)  # cell ranges of its data

    @property
    def offset(self) -> int:
        return file_offset(self.cell)


@dataclass
class Recovery:
    items: list[Recovered]
    problems: list[HiveFinding]  # what the live walk could not read
    live_keys: int
    live_values: int

    def counts(self) -> dict[str, int]:
        counts = {"keys": 0, "values": 0, **{state: 0 for state in STATES}}
        for item in self.items:
            counts["keys" if item.kind == KEY else "values"] += 1
            counts[item.state] += 1
        return counts


def recover(hive: Hive) -> Recovery:
    """Every deleted key and value of ``hive`` that can be found (see the module docstring)."""
    live = LiveCells(hive)
    for _ in live.walk(values=True):
        pass
    places = Places(live)
    keys: dict[int, Candidate] = {}
    values: dict[int, Candidate] = {}
    where: dict[int, str] = {}
    for candidate, found_in in find_candidates(live, places):
        (keys if candidate.kind == KEY else values)[candidate.cell] = candidate
        where[candidate.cell] = found_in
    owners = _owners(live, places, keys, values)
    paths = _Paths(live, keys)
    items: list[Recovered] = []
    for cell, candidate in keys.items():
        path, partial, notes = paths.of_deleted(cell)
        item = Recovered(KEY, cell, candidate.name, where[cell], candidate.evidence + notes, path, partial,
                         candidate.fields[1])
        _key_state(item, candidate, live, places, values)
        items.append(item)
    for cell, candidate in values.items():
        items.append(_value(cell, candidate, where[cell], owners.get(cell), paths, live, places))
    _mark_conflicts(items, keys, values)
    items.sort(key=lambda item: item.cell)
    return Recovery(items, live.problems, live.keys, live.values)


# ---------------------------------------------------------------------- owners
def _list_entries(live: LiveCells, places: Places, cell: int, count: int) -> list[int] | None:
    """The ``count`` offsets of a deleted key's value list, or None when its bytes are gone."""
    if cell == NIL or cell % CELL_ALIGN or count > (len(live.buf) - HBIN_BASE - cell) // 4:
        return None
    if not places.same_bin(cell, cell + 4 + 4 * count) or places.overwritten(cell, cell + 4 + 4 * count):
        return None
    return list(struct.unpack_from(f"<{count}I", live.buf, HBIN_BASE + cell + 4))


def _owners(live: LiveCells, places: Places, keys: dict[int, Candidate],
            values: dict[int, Candidate]) -> dict[int, tuple[int, str]]:
    """value cell -> (owning key's nk cell, how the link was found)."""
    owners: dict[int, tuple[int, str]] = {}
    for cell, candidate in keys.items():
        flags, count, list_cell = candidate.fields[0], candidate.fields[5], candidate.fields[6]
        if not count or flags & KEY_PREDEF_HANDLE:
            continue
        for entry in _list_entries(live, places, list_cell, count) or ():
            if entry in values and entry not in owners and _fits(live, cell, values[entry]):
                owners[entry] = (cell, "listed in the value list of the deleted key")
    buf = live.buf
    for list_cell, key_cell in live.list_owner.items():
        if live.kind_at(list_cell) != VALUE_LIST:
            continue
        at = HBIN_BASE + list_cell + 4
        payload = -struct.unpack_from("<i", buf, at - 4)[0] - 4
        used = live.slack[list_cell]
        for entry in struct.unpack_from(f"<{(payload - used) // 4}I", buf, at + used):
            if entry in values and entry not in owners and _fits(live, key_cell, values[entry]):
                owners[entry] = (key_cell, "named in the slack after the live entries of its key's value list")
    return owners


def _fits(live: LiveCells, key: int, value: Candidate) -> bool:
    return could_hold_value(live.buf, key, value.name, value.fields[1] & 0x7FFFFFFF)


def _slack_names_child(live: LiveCells, parent: int, child: int) -> bool:
    """Whether the slack of a live key's subkey leaf still names ``child`` (Windows leaves
    the entries of removed subkeys there)."""
    buf = live.buf
    for list_cell, key_cell in live.list_owner.items():
        if key_cell != parent or live.kind_at(list_cell) != SUBKEY_LIST:
            continue
        at = HBIN_BASE + list_cell + 4
        payload = -struct.unpack_from("<i", buf, at - 4)[0] - 4
        used = live.slack[list_cell]
        if struct.pack("<I", child) in bytes(buf[at + used : at + payload]):
            return True
    return False


# ---------------------------------------------------------------------- paths
class _Paths:
    """Key paths, followed up through live and deleted key nodes."""

    def __init__(self, live: LiveCells, keys: dict[int, Candidate]) -> None:
        self.live = live
        self.keys = keys
        self.live_cache: dict[int, str] = {}
        self.cache: dict[int, tuple[str, bool, list[str]]] = {}

    def of_live(self, cell: int) -> str | None:
        return live_path(self.live, cell, self.live_cache)

    def of_deleted(self, cell: int) -> tuple[str, bool, list[str]]:
        """(path, partial, evidence) of the deleted key at ``cell``."""
        if cell in self.cache:
            return self.cache[cell]
        chain: list[int] = []
        at = cell
        while at in self.keys and at not in self.cache and at not in chain:
            if chain and not could_hold_subkey(self.live.buf, at, self.keys[chain[-1]].name):
                break  # that cell was taken by another key since
            chain.append(at)
            at = self.keys[at].fields[2]  # its parent
        top_note: str | None = None
        if at in self.cache:
            base, partial, _ = self.cache[at]
        elif at in chain:
            base, partial, top_note = None, True, "its parents form a loop"
        else:
            base, partial, top_note = self._top(at, chain[-1])
        for index in range(len(chain) - 1, -1, -1):
            node = chain[index]
            name = self.keys[node].name
            path = name if not base else f"{base}\\{name}"
            parent = self.keys[node].fields[2]
            if index == len(chain) - 1 and top_note is not None:
                notes = [top_note]
            else:
                notes = [f"parent: the deleted key at file offset 0x{file_offset(parent):x}"]
            self.cache[node] = (path, partial, notes)
            base = path
        return self.cache[cell]

    def _top(self, parent: int, child: int) -> tuple[str | None, bool, str]:
        """Where the chain of deleted keys ends: under a live key, at the root, or nowhere."""
        name = self.keys[child].name
        if parent == NIL:
            flags = self.keys[child].fields[0]
            if flags & KEY_HIVE_ENTRY:
                return None, True, "it was the root key of a hive (a former root)"
            return None, True, "its parent pointer is NIL"
        where = f"its parent at file offset 0x{file_offset(parent):x}"
        if parent in self.keys:
            return None, True, f"{where}, a deleted key, cannot have held it ({_TOO_SHORT})"
        if self.live.kind_at(parent) != NK_CELL:
            return None, True, f"{where} is no key any more"
        if not could_hold_subkey(self.live.buf, parent, name):
            return None, True, f"{where} is a live key that cannot have held it ({_TOO_SHORT}): its cell was taken again"
        path = self.of_live(parent)
        if path is None:
            return None, True, f"{where} is a live key whose own path cannot be followed"
        shown = path or "(root)"
        if _slack_names_child(self.live, parent, child):
            return path, False, f"parent: the live key {shown}, whose subkey list slack still names it"
        return path, False, f"parent: the live key {shown} (its largest-subkey-name field covers the name)"


_TOO_SHORT = "its largest-subkey-name field is shorter than the name, and Windows never lowers it"


def could_hold_subkey(buf: Any, parent: int, name: str) -> bool:
    """Whether the key node at cell ``parent`` can have had a subkey ``name``: the "largest
    subkey name" field of a key only grows (regf-format 4.4), so it covers every name the key
    ever held; a cell taken by another key since usually has a smaller one."""
    return bool(NK.read(buf, HBIN_BASE + parent + 4, "max_subkey_name") >= utf16_size(name))


def could_hold_value(buf: Any, key: int, name: str, size: int) -> bool:
    """The same for a value: the largest value name and data fields only grow."""
    at = HBIN_BASE + key + 4
    return bool(NK.read(buf, at, "max_value_name") >= utf16_size(name) and NK.read(buf, at, "max_value_data") >= size)


# ---------------------------------------------------------------------- states
def _key_state(item: Recovered, candidate: Candidate, live: LiveCells, places: Places,
               values: dict[int, Candidate]) -> None:
    """A key's state says whether its value list still leads to its values."""
    item.regions = [(candidate.cell, candidate.cell + candidate.record_size)]
    flags, count, list_cell = candidate.fields[0], candidate.fields[5], candidate.fields[6]
    if not count or flags & KEY_PREDEF_HANDLE:
        item.evidence.append("it had no values")
        return
    entries = _list_entries(live, places, list_cell, count)
    if entries is None:
        item.state, item.damage = GONE, f"its value list ({count} values) is no longer there"
        return
    found = sum(1 for entry in entries if entry in values)
    item.evidence.append(f"{found} of its {count} values found through its value list")
    if found < count:
        item.state, item.damage = PARTLY, f"{count - found} of its {count} values are no longer there"


def _value(cell: int, candidate: Candidate, found_in: str, owner: tuple[int, str] | None, paths: _Paths,
           live: LiveCells, places: Places) -> Recovered:
    name_length, size_field, data_field, value_type, _ = candidate.fields
    evidence = list(candidate.evidence)
    path, partial, timestamp, key_cell = "", True, None, None
    if owner is not None:
        key_cell, how = owner
        evidence.append(f"key: {how}")
        if live.kind_at(key_cell) == NK_CELL:
            live_key = paths.of_live(key_cell)
            if live_key is not None:
                path, partial = live_key, False
            timestamp = struct.unpack_from("<Q", live.buf, HBIN_BASE + key_cell + 8)[0]
        elif key_cell in paths.keys:
            path, partial, _ = paths.of_deleted(key_cell)
            timestamp = paths.keys[key_cell].fields[1]
    else:
        evidence.append("key: unknown (nothing that survived names this value)")
    data = read_deleted_data(places, size_field, data_field, value_type)
    evidence.append(f"data: {data.where}")
    item = Recovered(VALUE, cell, candidate.name, found_in, evidence, path, partial, timestamp, data.state,
                     data.damage, value_type, data.raw, size_field & 0x7FFFFFFF, key_cell, data.regions)
    item.regions.insert(0, (cell, cell + candidate.record_size))
    return item


def _mark_conflicts(items: list[Recovered], keys: dict[int, Candidate], values: dict[int, Candidate]) -> None:
    """Overlapping claims of two deleted items (module docstring, step 6). Each item's first
    region is its record; the others are its data."""
    spans = []
    for index, item in enumerate(items):
        for number, (start, end) in enumerate(item.regions):
            spans.append((start, end, index, number == 0))
    spans.sort()
    active: list[tuple[int, int, bool]] = []  # (end, item index, is a record) of spans still open
    for start, end, index, is_record in spans:
        active = [span for span in active if span[0] > start]
        for _, other, other_is_record in active:
            if other == index:
                continue
            if is_record and not other_is_record:
                _doubt(items[other], items[index])
            elif other_is_record and not is_record:
                _doubt(items[index], items[other])
            else:
                _doubt(items[index], items[other])
                _doubt(items[other], items[index])
        active.append((end, index, is_record))


def _doubt(item: Recovered, other: Recovered) -> None:
    """``item``'s bytes overlap ``other``'s: one of them was written over the other."""
    if item.state == GONE:
        return
    item.state = PARTLY
    item.damage = (f"its bytes overlap those of the deleted {other.kind} at file offset 0x{other.offset:x}: one was "
                   "written after the other was freed")


# ---------------------------------------------------------------------- output
def item_json(item: Recovered, shown_path: str | None = None) -> dict[str, Any]:
    """One item as JSON; a value's fields as ``ls --json`` shows them (type, type_id, size,
    data decoded, raw hex), all null for a key and data and raw null when the data is gone."""
    value: dict[str, Any] = {"type": None, "type_id": None, "size": None, "data": None, "raw": None}
    if item.kind == VALUE:
        assert item.value_type is not None
        value = {"type": type_name(item.value_type), "type_id": item.value_type, "size": item.size,
                 "data": None, "raw": None}
        if item.raw is not None:
            decoded = data_json(item.value_type, item.raw) or {}
            value["data"], value["raw"] = decoded.get("data"), decoded.get("raw")
    return {
        "kind": item.kind, "offset": item.offset, "path": item.path if shown_path is None else shown_path,
        "partial": item.partial, "name": item.name,
        "last_write": filetime_to_iso(item.timestamp) if item.timestamp is not None else None,
        "last_write_filetime": item.timestamp, **value, "state": item.state, "damage": item.damage,
        "found_in": item.found_in, "evidence": item.evidence,
    }
