"""What changed between two hives, for a person to read: per key, the values added, deleted
and changed (old and new type and data) and the last-write times on both sides; a deleted or
added key with everything it held.

The .reg form of a difference (``regfile.diff``) says how to get from one hive to the other;
this says what the difference is. Keys and values are matched by their exact names, as the
.reg form matches them. A key whose last-write time changed while its values did not is
"touched": a subkey was added or deleted below it (listed on its own), or something was
written and undone, or its values were reordered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..regf.hive.model import Key, Value
from ..regf.records.types import data_json
from ..timeutil import filetime_to_iso

ADDED, DELETED, CHANGED, TOUCHED = "added", "deleted", "changed", "touched"


@dataclass
class ValueChange:
    name: str
    change: str  # ADDED, DELETED or CHANGED
    old: Value | None
    new: Value | None


@dataclass
class KeyChange:
    path: str  # as the .reg form names it: the mount path and the path in the hive
    change: str  # ADDED, DELETED, CHANGED or TOUCHED
    old: Key | None
    new: Key | None
    values: list[ValueChange] = field(default_factory=list)


def _logical(root: str, path: str) -> str:
    return f"{root}\\{path}" if path else root


def _value_changes(old: Key, new: Key) -> list[ValueChange]:
    before = {value.name: value for value in old.values()}
    after = {value.name: value for value in new.values()}
    changes = [ValueChange(name, DELETED, value, None) for name, value in before.items() if name not in after]
    for name, value in after.items():
        previous = before.get(name)
        if previous is None:
            changes.append(ValueChange(name, ADDED, None, value))
        elif (previous.type, previous.raw) != (value.type, value.raw):
            changes.append(ValueChange(name, CHANGED, previous, value))
    return changes


def compare_trees(old: Key | None, new: Key | None, root: str) -> Iterator[KeyChange]:
    """Every changed key below ``old`` and ``new`` (the same key of two hives, mounted at
    ``root``), in pre-order; an added or deleted key comes once, at the top of its subtree."""
    stack: list[tuple[Key | None, Key | None]] = [(old, new)]
    while stack:
        before, after = stack.pop()
        if before is None and after is not None:
            yield KeyChange(_logical(root, after.path), ADDED, None, after)
            continue
        if after is None and before is not None:
            yield KeyChange(_logical(root, before.path), DELETED, before, None)
            continue
        assert before is not None and after is not None
        values = _value_changes(before, after)
        if values:
            yield KeyChange(_logical(root, after.path), CHANGED, before, after, values)
        elif before.last_write != after.last_write:
            yield KeyChange(_logical(root, after.path), TOUCHED, before, after)
        old_children = {child.name: child for child in before.subkeys()}
        new_children = after.subkeys()
        names = {child.name for child in new_children}
        pairs: list[tuple[Key | None, Key | None]] = [(old_children.get(c.name), c) for c in new_children]
        pairs += [(child, None) for name, child in old_children.items() if name not in names]
        # one order for both sides, as regedit lists keys: deleted keys among the others
        pairs.sort(key=lambda pair: _name_of(pair).upper())
        stack.extend(reversed(pairs))


def _name_of(pair: tuple[Key | None, Key | None]) -> str:
    key = pair[1] if pair[1] is not None else pair[0]
    assert key is not None
    return key.name


def _time(key: Key | None) -> dict[str, Any]:
    if key is None:
        return {"last_write": None, "last_write_filetime": None}
    return {"last_write": key.last_write_iso, "last_write_filetime": key.last_write}


def _data(value: Value | None) -> dict[str, Any] | None:
    return None if value is None else data_json(value.type, value.raw)


def _contents(key: Key, root: str) -> list[dict[str, Any]]:
    return [{"path": _logical(root, below.path), **_time(below),
             "values": [{"name": value.name, **(_data(value) or {})} for value in below.values()]}
            for below in key.walk()]


def keys_in(change: KeyChange) -> int:
    """How many keys ``change`` covers (an added or deleted subtree counts every key in it)."""
    key = change.new if change.change == ADDED else change.old if change.change == DELETED else None
    return sum(1 for _ in key.walk()) if key is not None else 1


def change_json(change: KeyChange, root: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "path": change.path, "change": change.change,
        "old": _time(change.old), "new": _time(change.new),
        "values": [{"name": v.name, "change": v.change, "old": _data(v.old), "new": _data(v.new)}
                   for v in change.values],
    }
    if change.change in (ADDED, DELETED):
        key = change.new if change.change == ADDED else change.old
        assert key is not None
        document["contents"] = _contents(key, root)
    return document


def change_lines(change: KeyChange, root: str, value_line: Callable[[Value], str]) -> list[str]:
    """Text lines: ``+``/``-``/``~`` in front of keys and values, ``old -> new`` for changes.
    ``value_line(value)`` renders one value (``"name" = TYPE data``)."""
    old_time = filetime_to_iso(change.old.last_write) if change.old is not None else None
    new_time = filetime_to_iso(change.new.last_write) if change.new is not None else None
    if change.change in (ADDED, DELETED):
        sign = "+" if change.change == ADDED else "-"
        key = change.new if change.change == ADDED else change.old
        assert key is not None
        lines = []
        for below in key.walk():
            lines.append(f"{sign} [{_logical(root, below.path)}]  ({change.change}; last write {below.last_write_iso})")
            lines.extend(f"{sign}     {value_line(value)}" for value in below.values())
        return lines
    times = f"last write {old_time} -> {new_time}" if old_time != new_time else f"last write {new_time}"
    if change.change == TOUCHED:
        return [f"~ [{change.path}]  {times} (values unchanged)"]
    lines = [f"~ [{change.path}]  {times}"]
    for value in change.values:
        if value.change == ADDED:
            assert value.new is not None
            lines.append(f"+     {value_line(value.new)}")
        elif value.change == DELETED:
            assert value.old is not None
            lines.append(f"-     {value_line(value.old)}")
        else:
            assert value.new is not None and value.old is not None
            new_text = value_line(value.new).split(" = ", 1)[1]
            lines.append(f"~     {value_line(value.old)} -> {new_text}")
    return lines
