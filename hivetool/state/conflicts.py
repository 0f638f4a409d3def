"""Contradictions inside one TOML state file.

A TOML file is a set of facts, not a script: within one file the order of its tables means
nothing, so two items that cannot both hold are an error naming both lines, whichever comes
first. (Between files, and inside a .reg file, which is a script, the later one wins: see
:mod:`.fold`.) Contradictions:

* one value (path and name, compared case-insensitively after the root names are made long)
  given twice with different type or data, or given and declared absent;
* a value or key required inside a key declared absent (the key itself included);
* one ``[[ports]]`` setting given twice with different values, or an option (os, force,
  reserve) given differently in two items of one profile; a setting is also a value, so a
  ``[[value]]`` at its path must agree with it.

The same item given twice is allowed, with a warning: copies of a block are common when state
files are assembled, and they cannot disagree. An absence inside an absent key is redundant and
also a warning.
"""
from __future__ import annotations

from typing import Any

from ..profiles import catalog
from ..regf.records.names import upcase
from ..regf.records.types import type_name
from ..regfile.patch import Origin
from .address import text_address
from .model import ABSENT, KEY, PORTS, VALUE, Item, StateError
from .ports_load import OPTIONS, setting_path, setting_value

Address = tuple[str, tuple[str, ...]]


class _Fact:
    """One claim for comparison: a value (with its data or None for absent), or a key."""

    def __init__(self, what: str, origin: Origin, data: tuple[int, bytes] | None = None) -> None:
        self.what = what
        self.origin = origin
        self.data = data


def _shown(data: tuple[int, bytes] | None) -> str:
    if data is None:
        return "absent"
    from ..regf.records.types import decode

    decoded = decode(*data)
    shown = decoded.hex(" ") if isinstance(decoded, bytes) else repr(decoded)
    return f"{type_name(data[0])} {shown}"


def _conflict(one: _Fact, other: _Fact, why: str | None = None) -> StateError:
    """The error, at the later of the two lines, naming the earlier; without ``why``, the two
    values' data (``... here, ... there``)."""
    first, second = sorted((one, other), key=lambda f: f.origin.line)
    reason = why or f"{_shown(second.data)} here, {_shown(first.data)} there"
    return StateError(f"{second.what} contradicts line {first.origin.line} ({first.what}): {reason}",
                      second.origin.path, second.origin.line)


def _facts(items: list[Item]) -> list[tuple[Address, str | None, _Fact]]:
    """(address, value name or None for a key, fact) of every value, key and ports setting;
    ports items of one profile are compared here too."""
    facts: list[tuple[Address, str | None, _Fact]] = []
    profiles: dict[str, dict[str, tuple[Any, Origin]]] = {}
    for item in items:
        if item.kind == VALUE:
            facts.append((text_address(item.path), upcase(item.name or ""),
                          _Fact(item.describe(), item.origin, (item.type or 0, item.data or b""))))
        elif item.kind == KEY:
            facts.append((text_address(item.path), None, _Fact(item.describe(), item.origin)))
        elif item.kind == PORTS and item.ports is not None:
            spec = item.ports
            profile = catalog.profile(spec.profile)
            seen = profiles.setdefault(profile.name, {})
            for option in OPTIONS:
                chosen = getattr(spec, option)
                if chosen is None:
                    continue
                earlier = seen.get(option)
                if earlier is not None and earlier[0] != chosen:
                    raise StateError(f"[[ports]] {profile.name}: {option} = {chosen!r} contradicts line "
                                     f"{earlier[1].line} ({option} = {earlier[0]!r})", item.origin.path, item.origin.line)
                seen[option] = (chosen, item.origin)
            for setting in spec.settings:
                entry = profile.setting(setting.name)
                data = setting_value(profile.name, setting.name, setting.text)
                what = f"[[ports]] {profile.name} {setting.name} = {setting.text}"
                facts.append((text_address(setting_path(profile, entry)), upcase(entry.value),
                              _Fact(what, setting.origin, data)))
    return facts


def check_conflicts(items: list[Item]) -> list[str]:
    """Raise StateError for the first contradiction; return warnings for duplicates."""
    facts = _facts(items)
    warnings: list[str] = []
    absent_keys: dict[Address, _Fact] = {}
    absent_values: dict[tuple[Address, str], _Fact] = {}
    for item in items:
        if item.kind != ABSENT:
            continue
        address = text_address(item.path)
        fact = _Fact(item.describe(), item.origin)
        table = absent_keys if item.name is None else absent_values
        slot: Any = address if item.name is None else (address, upcase(item.name))
        if slot in table:
            warnings.append(f"{item.origin}: {item.describe()} repeats line {table[slot].origin.line}")
        else:
            table[slot] = fact
    redundant = [(fact, _covering(absent_keys, address, strictly=True)) for address, fact in absent_keys.items()]
    redundant += [(fact, _covering(absent_keys, address, strictly=False))
                  for (address, _), fact in absent_values.items()]
    for fact, covering in redundant:
        if covering is not None:
            warnings.append(f"{fact.origin}: {fact.what} adds nothing: line {covering.origin.line} declares "
                            f"{covering.what.removeprefix('[[absent]] ')} absent with all below it")
    values: dict[tuple[Address, str], _Fact] = {}
    keys: dict[Address, _Fact] = {}
    for address, name, fact in facts:
        covering = _covering(absent_keys, address, strictly=False)
        if covering is not None:
            raise _conflict(fact, covering, "that key and all below it must not exist")
        if name is None:
            if address in keys:
                warnings.append(f"{fact.origin}: {fact.what} repeats line {keys[address].origin.line}")
            keys.setdefault(address, fact)
            continue
        absent = absent_values.get((address, name))
        if absent is not None:
            raise _conflict(fact, absent, "one item requires the value, the other forbids it")
        earlier = values.get((address, name))
        if earlier is None:
            values[(address, name)] = fact
        elif earlier.data != fact.data:
            raise _conflict(fact, earlier)
        else:
            warnings.append(f"{fact.origin}: {fact.what} repeats line {earlier.origin.line}")
    return warnings


def _covering(absent_keys: dict[Address, _Fact], address: Address, strictly: bool) -> _Fact | None:
    """The absent key at or above ``address`` (strictly above when ``strictly``), if any."""
    root, parts = address
    for depth in range(len(parts) - 1 if strictly else len(parts), -1, -1):
        found = absent_keys.get((root, parts[:depth]))
        if found is not None:
            return found
    return None


__all__ = ["check_conflicts"]
