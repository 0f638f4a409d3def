"""A desired state against a target: every item mapped to the places a write would go.

Each item's path goes through :meth:`Target.locate` with ``write=True``, the one function
every command uses, so ``CurrentControlSet`` means the control set(s) a write would change
(``auto``: Select\\Default's set, plus Select\\Current's when it differs), ``HKCU`` the
``--user``'s hive, ``HKCR`` the hive a write would go to. Checking compares exactly the places
applying would write. The places are then folded again with the rules of :mod:`.fold`: two
items that spell one place differently (``CurrentControlSet`` and ``ControlSet001``, ``HKCU``
and ``HKU\\<SID>``, a ``[[ports]]`` setting and a ``[[value]]``) meet there, the later winning,
so that applying twice changes nothing the second time.

Errors name the item (``file:line: ...``) and keep their exit codes: a path outside a single
hive is 4 (ForeignPath) unless ``skip_foreign``, a hive the image lacks 5, HKCU without a user 2.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..errors import HivetoolError, KeyNotFound
from ..image.target import Location, Target
from ..paths import ForeignPath, parse_control_set_mode
from ..regf.records.names import upcase
from .fold import C_ABSENT_KEY, C_ABSENT_VALUE, C_EXACT, C_KEY, C_VALUE, Claim, fold
from .model import ABSENT, EXACT, KEY, PORTS, VALUE, DesiredState, Item, StateError
from .planned import Entry, StatePlan
from .ports_plan import NotHere, plan_ports

_CLAIM_KIND = {VALUE: C_VALUE, KEY: C_KEY, EXACT: C_EXACT}
_ENTRY_KIND = {C_VALUE: VALUE, C_KEY: KEY, C_EXACT: EXACT, C_ABSENT_KEY: ABSENT, C_ABSENT_VALUE: ABSENT}


def located(err: HivetoolError, origin: object) -> HivetoolError:
    """``err`` with the item's ``file:line`` in front, its class (and exit code) kept."""
    err.message = f"{origin}: {err.message}"
    err.args = (err.message,)
    return err


@contextmanager
def using_control_set_mode(target: Target, mode: str | int | None) -> Iterator[str | int]:
    """The target used with ``mode`` (None: the mode it was opened with) for the duration."""
    saved = target.options.control_set_mode
    chosen = saved if mode is None else parse_control_set_mode(mode)
    target.options.control_set_mode = chosen
    try:
        yield chosen
    finally:
        target.options.control_set_mode = saved


def plan_state(target: Target, state: DesiredState, control_set_mode: str | int | None = None,
               skip_foreign: bool = False) -> StatePlan:
    """Map every item of ``state`` onto ``target`` and fold the places; nothing changes.

    ``control_set_mode`` is ``auto``, ``default``, ``current``, ``all`` or a set number (None:
    the target's own, ``auto`` unless it was opened otherwise). ``skip_foreign``: items outside
    the target's hives are listed in :attr:`StatePlan.foreign` instead of refused. Warnings (a
    second control set written, the ports rules' warnings) go to the plan and to
    ``target.warnings``, which the command line prints."""
    plan = StatePlan(target)
    known = len(target.warnings)
    with using_control_set_mode(target, control_set_mode) as mode:
        entries: list[Entry] = []
        located_at: dict[str, list[Location]] = {}  # a key's values share its path: map it once
        for item in state.items:
            try:
                entries.extend(_entries(plan, item, mode, skip_foreign, located_at))
            except HivetoolError as err:
                raise located(err, item.origin) from None
    plan.entries = _fold(entries)
    for entry in plan.entries:
        if entry.kind == ABSENT and entry.name is None and entry.location.path == "":
            raise StateError(f"{entry.item.describe()}: {entry.path} is the root key of a hive, which cannot be "
                             "absent", entry.origin.path, entry.origin.line)
    ports_warnings = plan.warnings
    plan.warnings = target.warnings[known:]  # what locating said (a second control set written)
    for message in ports_warnings:
        if message not in target.warnings:
            target.warnings.append(message)
        if message not in plan.warnings:
            plan.warnings.append(message)
    return plan


def _entries(plan: StatePlan, item: Item, mode: str | int, skip_foreign: bool,
             located_at: dict[str, list[Location]]) -> list[Entry]:
    if item.kind == PORTS:
        try:
            profile_plan, entries, warnings = plan_ports(plan.target, item, mode)
        except NotHere as elsewhere:
            if skip_foreign:
                plan.foreign.append((item, str(elsewhere.error)))
                return []
            raise elsewhere.error from None
        plan.ports.append((item, profile_plan))
        plan.warnings.extend(w for w in warnings if w not in plan.warnings)
        return entries
    locations = located_at.get(item.path)
    if locations is None:
        try:
            locations = located_at[item.path] = plan.target.locate(item.path, write=True)
        except (ForeignPath, KeyNotFound) as err:  # outside the hive; a hive the image does not have
            if skip_foreign:
                plan.foreign.append((item, err.message))
                return []
            raise
    expected = (item.type or 0, item.data or b"") if item.kind == VALUE else None
    return [Entry(item, item.kind, location, item.path, item.name, expected, item.seq, item.origin)
            for location in locations]


def _fold(entries: list[Entry]) -> list[Entry]:
    """Entries folded by the place they name: hive and path, compared case-insensitively."""
    claims = []
    upcased: dict[tuple[int, str], tuple[str, ...]] = {}
    for entry in entries:
        if entry.kind == ABSENT:
            kind = C_ABSENT_KEY if entry.name is None else C_ABSENT_VALUE
        else:
            kind = _CLAIM_KIND[entry.kind]
        path = entry.location.path
        parts = upcased.get((id(entry.location.slot), path))
        if parts is None:
            parts = tuple(upcase(part) for part in path.split("\\")) if path else ()
            upcased[(id(entry.location.slot), path)] = parts
        name = upcase(entry.name) if entry.name is not None else None
        claims.append(Claim(kind, id(entry.location.slot), parts, name, entry.seq, entry))
    kept, _ = fold(claims)
    result = []
    for claim in kept:
        kept_entry = claim.payload
        assert isinstance(kept_entry, Entry)
        kept_entry.kind = _ENTRY_KIND[claim.kind]
        result.append(kept_entry)
    return result


__all__ = ["located", "using_control_set_mode", "plan_state"]
