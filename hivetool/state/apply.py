"""Bringing a target to a state, in memory: only what differs is changed.

Every entry is checked first and the engine is called only for what is not already so: a
value that holds the type and bytes asked for is not written, an existing key is not created,
and something absent is not deleted. So a target that already holds the state comes out with
no change reported and no hive marked modified, and nothing would be written. Nothing is
saved here: the caller commits the target (all hives, or none) once this returns; after an
error the hives in memory are half changed and must be thrown away, as after ``import``.

Values are stored with the engine's raw call, as ``import`` stores them: a .reg state may
give any size for any type (Windows itself writes 8-byte REG_DWORDs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import HivetoolError
from ..image.target import Location, Target
from ..regf.hive import Hive
from ..regf.hive.model import Key
from ..regfile.patch import Origin
from ..verify import Expect
from .check import Declared, declared_inside, extras_of
from ..regf.records.types import data_json
from .lookup import Lookup
from .model import ABSENT, EXACT, KEY, VALUE, DesiredState
from .plan import located, plan_state
from .planned import Entry, StatePlan

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"
ACTIONS = (CREATED, UPDATED, DELETED)

Data = tuple[int, bytes]


@dataclass(frozen=True)
class Change:
    """One change made: a key created or deleted (``name`` None), a value created, updated or
    deleted, with its type and bytes before and after."""

    path: str  # logical path of the key
    name: str | None
    action: str
    old: Data | None
    new: Data | None
    origin: Origin  # the item (or ports setting) that asked for it
    kind: str  # the entry's kind: VALUE, KEY, ABSENT or EXACT
    setting: str | None = None
    keys: int | None = None  # a deleted key: how many keys went (itself and all below), as ``rm`` says

    def describe(self) -> str:
        where = self.path if self.name is None else f"{self.path} " + ("@" if self.name == "" else repr(self.name))
        what = "key" if self.name is None else "value"
        return f"{self.origin}: {self.action} {what} {where}"

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "origin": str(self.origin), "kind": self.kind, "path": self.path, "name": self.name, "action": self.action,
            "old": data_json(*self.old) if self.old else None, "new": data_json(*self.new) if self.new else None,
        }
        if self.name is not None:
            entry["type_changed"] = bool(self.old and self.new and self.old[0] != self.new[0])
        if self.setting is not None:
            entry["setting"] = self.setting
        if self.keys is not None:
            entry["keys"] = self.keys
        return entry


class _Applier:
    def __init__(self, entry: Entry, changes: list[Change], lookup: Lookup) -> None:
        self.entry = entry
        self.changes = changes
        self.lookup = lookup
        self.hive: Hive = entry.location.hive
        self.slot = entry.location.slot

    def record(self, hive_path: str, name: str | None, action: str, old: Data | None = None,
               new: Data | None = None, keys: int | None = None) -> None:
        entry = self.entry
        self.changes.append(Change(Location(self.slot, hive_path).logical, name, action, old, new, entry.origin,
                                   entry.kind, entry.setting, keys))

    def find(self, path: str) -> Key | None:
        return self.lookup.key(self.hive, path)

    def key(self, path: str) -> Key:
        """The key at ``path``, created (each new key recorded) when missing."""
        key = self.find(path)
        if key is not None:
            return key
        key, created = self.hive.create_key_reporting(path)
        self.lookup.forget_keys()
        for made in created:
            self.record(made, None, CREATED)
        return key

    def set_value(self, key: Key, name: str, data: Data) -> None:
        existing = self.lookup.value(key, name)
        if existing is not None and (existing.type, existing.raw) == data:
            return
        try:
            self.hive.set_raw_value(key, existing.name if existing else name, data[0], data[1])
        finally:
            self.lookup.forget_values(key)
        self.record(key.path, existing.name if existing else name, UPDATED if existing else CREATED,
                    (existing.type, existing.raw) if existing else None, data)

    def delete_value(self, key: Key, name: str) -> None:
        existing = self.lookup.value(key, name)
        if existing is None:
            return
        try:
            self.hive.delete_value(key, existing.name)
        finally:
            self.lookup.forget_values(key)
        self.record(key.path, existing.name, DELETED, (existing.type, existing.raw))

    def delete_key(self, path: str) -> None:
        key = self.find(path)
        if key is None:
            return
        path = key.path
        try:
            removed = self.hive.delete_key(key, recursive=True)
        finally:
            self.lookup.forget_keys()
        self.record(path, None, DELETED, keys=removed)

    def run(self, declared: Declared | None) -> None:
        entry = self.entry
        path = entry.location.path
        if entry.kind == VALUE:
            assert entry.expected is not None
            self.set_value(self.key(path), entry.name or "", entry.expected)
        elif entry.kind == KEY:
            self.key(path)
        elif entry.kind == ABSENT and entry.name is not None:
            key = self.find(path)
            if key is not None:
                self.delete_value(key, entry.name)
        elif entry.kind == ABSENT:
            self.delete_key(path)
        elif entry.kind == EXACT:
            key = self.key(path)
            for extra in extras_of(entry, key, declared or Declared(set(), set(), set(), set())):
                inner = path + ("\\" + extra.relative if extra.relative else "") if path else extra.relative
                if extra.name is None:
                    self.delete_key(inner)
                else:
                    holder = self.find(inner)
                    if holder is not None:
                        self.delete_value(holder, extra.name)


def apply_plan(plan: StatePlan) -> list[Change]:
    """Make the plan's entries hold, in order; returns what changed."""
    declared = declared_inside(plan.entries)
    changes: list[Change] = []
    lookup = Lookup()
    for entry in plan.entries:
        try:
            _Applier(entry, changes, lookup).run(declared.get(id(entry)))
        except HivetoolError as err:
            raise located(err, entry.origin) from None
    return changes


def expectations(plan: StatePlan) -> list[tuple[Location, Expect]]:
    """What ``--verify`` must find in the written hives after :func:`apply_plan`: each value with
    its type and bytes, each required key, each absence (the undeclared content an exact key
    lost is not listed: its key is)."""
    found = []
    for entry in plan.entries:
        path = entry.location.path
        if entry.kind == VALUE and entry.expected is not None:
            expect = Expect(path, entry.name or "", entry.expected[0], entry.expected[1])
        elif entry.kind == ABSENT:
            expect = Expect(path, entry.name, present=False)
        else:
            expect = Expect(path)
        found.append((entry.location, expect))
    return found


def apply_state(target: Target, state: DesiredState, control_set_mode: str | int | None = None,
                skip_foreign: bool = False) -> list[Change]:
    """Change ``target``'s hives in memory until they hold ``state``; returns the changes, in
    the state's order. Empty when the target already holds it (then no hive is modified)."""
    return apply_plan(plan_state(target, state, control_set_mode, skip_foreign))


__all__ = ["ACTIONS", "CREATED", "DELETED", "UPDATED", "Change", "apply_plan", "apply_state", "expectations"]
