"""Comparing a target with a state, changing nothing.

One :class:`ItemResult` per entry, i.e. per item and place (an item through
``CurrentControlSet`` on a SYSTEM hive whose Select\\Current differs from Select\\Default gives
two, one per control set, each naming the path it compared):

* ``ok``: the target holds what the item says;
* ``differs``: the value exists with another type or other bytes (expected and actual given);
* ``missing``: the value, its key, or a required key is not there;
* ``unexpected``: something that must be absent is present (for an exact key: what it holds
  beyond what the state declares, listed in ``extras``).

Values compare by type and raw bytes, names case-insensitively, as Windows does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..image.target import Target
from ..regf.hive.model import Key
from ..regf.records.names import upcase
from ..regfile.patch import Origin
from ..regf.records.types import data_json
from .lookup import Lookup
from .model import ABSENT, EXACT, KEY, PORTS, VALUE, DesiredState, Item
from .plan import plan_state
from .planned import Entry, StatePlan

OK = "ok"
DIFFERS = "differs"
MISSING = "missing"
UNEXPECTED = "unexpected"
STATUSES = (OK, DIFFERS, MISSING, UNEXPECTED)

Data = tuple[int, bytes]


@dataclass(frozen=True)
class Extra:
    """Something inside an exact key that the state does not declare."""

    path: str  # logical path of the extra key, or of the key holding the extra value
    relative: str  # the same below the exact key, stored spelling ('' = the exact key itself)
    name: str | None  # the value's stored name; None for an extra key
    actual: Data | None  # the value's type and bytes

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "name": self.name, "actual": data_json(*self.actual) if self.actual else None}


@dataclass(frozen=True)
class ItemResult:
    item: Item
    kind: str  # VALUE, KEY, ABSENT or EXACT (a ports setting is a VALUE)
    path: str  # the logical path compared (HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\...)
    given: str  # the path as the state gives it (CurrentControlSet kept)
    name: str | None  # value name ('' default; the stored spelling when found); None for keys
    status: str
    origin: Origin
    expected: Data | None = None
    actual: Data | None = None
    setting: str | None = None  # a ports entry's setting
    extras: tuple[Extra, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == OK

    def describe(self) -> str:
        """One line for people: ``file:line: differs: PATH 'name': REG_DWORD 5, expected REG_DWORD 7``."""
        where = self.path if self.name is None else f"{self.path} " + ("@" if self.name == "" else repr(self.name))
        line = f"{self.origin}: {self.status}: {where}"
        if self.status == DIFFERS:
            line += f": {_shown(self.actual)}, expected {_shown(self.expected)}"
        elif self.status == MISSING and self.expected is not None:
            line += f" (expected {_shown(self.expected)})"
        elif self.status == UNEXPECTED and self.actual is not None:
            line += f" ({_shown(self.actual)})"
        elif self.extras:
            line += f": {len(self.extras)} undeclared: " + ", ".join(
                (e.relative or ".") + ("" if e.name is None else " " + ("@" if e.name == "" else repr(e.name)))
                for e in self.extras[:5]) + (", ..." if len(self.extras) > 5 else "")
        return line

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "origin": str(self.origin), "kind": self.kind, "path": self.path, "given": self.given,
            "name": self.name, "status": self.status,
            "expected": data_json(*self.expected) if self.expected else None,
            "actual": data_json(*self.actual) if self.actual else None,
            "extras": [extra.to_json() for extra in self.extras],
        }
        if self.item.kind == PORTS and self.item.ports is not None:
            entry["ports"] = {"profile": self.item.ports.profile, "setting": self.setting}
        return entry


def _shown(data: Data | None) -> str:
    if data is None:
        return "(none)"
    from ..regf.records.types import decode, type_name

    decoded = decode(*data)
    text = decoded.hex(" ") if isinstance(decoded, bytes) else repr(decoded)
    return f"{type_name(data[0])} {text if len(text) <= 60 else text[:57] + '...'}"


# ---------------------------------------------------------------------------- exact keys
@dataclass
class Declared:
    """What the state declares inside one exact key, relative to it (upcased names)."""

    keys: set[tuple[str, ...]]  # keys that must exist (and their parents)
    values: set[tuple[tuple[str, ...], str]]  # values that must exist
    own: set[tuple[str, ...]]  # keys below with an entry of their own (absent, exact): not walked
    absent_values: set[tuple[tuple[str, ...], str]]  # reported by their own entries


def _parts(path: str) -> tuple[str, ...]:
    return tuple(upcase(part) for part in path.split("\\")) if path else ()


def declared_inside(entries: list[Entry]) -> dict[int, Declared]:
    """For each exact entry (by id), what the later entries declare inside it."""
    exact = {(id(e.location.slot), _parts(e.location.path)): e for e in entries if e.kind == EXACT}
    found = {id(e): Declared(set(), set(), set(), set()) for e in exact.values()}
    if not exact:
        return found
    for entry in entries:
        parts = _parts(entry.location.path)
        slot = id(entry.location.slot)
        for depth in range(len(parts), -1, -1):
            owner = exact.get((slot, parts[:depth]))
            if owner is None or owner is entry:
                continue
            rel = parts[depth:]
            into = found[id(owner)]
            if entry.kind in (VALUE, KEY, EXACT):
                for size in range(1, len(rel) + 1):
                    into.keys.add(rel[:size])
            if entry.kind == VALUE:
                into.values.add((rel, upcase(entry.name or "")))
            elif entry.kind == ABSENT and entry.name is not None:
                into.absent_values.add((rel, upcase(entry.name)))
            elif entry.kind in (ABSENT, EXACT) and rel:
                into.own.add(rel)
            break  # the innermost exact key owns it
    return found


def extras_of(entry: Entry, key: Key, declared: Declared) -> list[Extra]:
    """What ``key`` (the exact entry's key) holds beyond ``declared``, in hive order."""
    found: list[Extra] = []
    base = entry.path

    def walk(node: Key, rel: tuple[str, ...], spelled: str) -> None:
        for value in node.values():
            upper = upcase(value.name)
            if (rel, upper) in declared.values or (rel, upper) in declared.absent_values:
                continue
            found.append(Extra(base + ("\\" + spelled if spelled else ""), spelled, value.name, (value.type, value.raw)))
        for sub in node.subkeys():
            below = rel + (upcase(sub.name),)
            sub_spelled = spelled + "\\" + sub.name if spelled else sub.name
            if below in declared.own:
                continue
            if below in declared.keys:
                walk(sub, below, sub_spelled)
            else:
                found.append(Extra(base + "\\" + sub_spelled, sub_spelled, None, None))

    walk(key, (), "")
    return found


# ---------------------------------------------------------------------------- checking
def check_entry(entry: Entry, declared: Declared | None = None, lookup: Lookup | None = None) -> ItemResult:
    lookup = lookup or Lookup()
    key = lookup.key(entry.location.hive, entry.location.path)

    def result(status: str, actual: Data | None = None, name: str | None = entry.name,
               extras: tuple[Extra, ...] = ()) -> ItemResult:
        return ItemResult(entry.item, entry.kind, entry.path, entry.given, name, status, entry.origin,
                          entry.expected, actual, entry.setting, extras)

    if entry.kind == VALUE:
        value = lookup.value(key, entry.name or "")
        if value is None:
            return result(MISSING)
        actual = (value.type, value.raw)
        return result(OK if actual == entry.expected else DIFFERS, actual, value.name)
    if entry.kind == KEY:
        return result(OK if key is not None else MISSING)
    if entry.kind == ABSENT:
        if entry.name is None:
            return result(OK if key is None else UNEXPECTED)
        value = lookup.value(key, entry.name)
        return result(OK) if value is None else result(UNEXPECTED, (value.type, value.raw), value.name)
    if key is None:  # EXACT
        return result(MISSING)
    extras = tuple(extras_of(entry, key, declared or Declared(set(), set(), set(), set())))
    return result(UNEXPECTED if extras else OK, extras=extras)


def check_plan(plan: StatePlan) -> list[ItemResult]:
    declared = declared_inside(plan.entries)
    lookup = Lookup()
    return [check_entry(entry, declared.get(id(entry)), lookup) for entry in plan.entries]


def check_state(target: Target, state: DesiredState, control_set_mode: str | int | None = None,
                skip_foreign: bool = False) -> list[ItemResult]:
    """Compare ``target`` with ``state`` without changing anything: one result per item and
    place, in the state's order (places in the order :meth:`~hivetool.image.target.Target.locate` gives them)."""
    return check_plan(plan_state(target, state, control_set_mode, skip_foreign))


__all__ = ["DIFFERS", "MISSING", "OK", "STATUSES", "UNEXPECTED", "Extra", "ItemResult", "check_entry", "check_plan",
           "check_state", "declared_inside", "extras_of"]
