"""Applying a Patch to a hive: what ``reg import`` does, but all or nothing.

Every operation is mapped and checked before the first change (:func:`plan_patch`): its key
must lie below the hive's root (else :class:`~hivetool.errors.RefusedUnsafe` lists the
foreign keys, unless they are to be skipped), names must be storable, and
CurrentControlSet must resolve. Only then does :func:`apply_plan` change the hive, in
patch order, through the Hive API. If anything still fails there, the in-memory hive is
half changed and must be discarded: callers save only after a successful apply, so the
file on disk is never touched.

Windows semantics kept (reg-format 4.8, 4.9, 5.8): creating a key creates its parents;
deleting a missing key or value is silent; deleting a key deletes its subtree.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import KeyNotFound, RefusedUnsafe, RegFileError, UsageError, ValueNotFound
from ..gcpause import collector_paused
from ..paths import ControlSetChoice, ForeignPath, PathMapper
from ..progress import QUIET, Progress
from ..regf.hive import Hive
from ..regf.hive.model import Key
from ..regf.records.names import check_key_depth, check_key_name, check_value_name, upcase
from .bulk import BULK_MIN_OPS, apply_bulk, is_empty
from .steps import ApplyCounts, run_steps
from .patch import CREATE_KEY, DELETE_KEY, DELETE_VALUE, SET_VALUE, Op, Patch

MAX_LISTED = 20  # foreign keys named in a refusal before "and N more"


@dataclass(frozen=True, slots=True)  # one per operation of a possibly huge patch
class PlannedOp:
    op: Op
    targets: tuple[str, ...]  # hive-relative key paths ('' = the root key)

    def describe(self) -> str:
        shown = ", ".join(target or "(root)" for target in self.targets)
        return f"{self.op.describe()}  -> {shown}"


@dataclass
class Plan:
    ops: list[PlannedOp]
    foreign: list[Op]
    mapper: PathMapper

    @property
    def control_sets(self) -> ControlSetChoice | None:
        return self.mapper.control_set_choice

    @property
    def warnings(self) -> list[str]:
        return self.mapper.warnings


def _bad_input(op: Op, message: str) -> Exception:
    if op.origin is not None and op.origin.line:
        return RegFileError(message, op.origin.path, op.origin.line, 1)
    return UsageError(message)


def _check_key(op: Op, targets: tuple[str, ...], checked: set[str]) -> None:
    """Refuse a target with a name no key can have; ``checked`` holds the targets found sound,
    so that below one of them (a .reg file names a key after its parent) only the last name
    is read again."""
    for target in targets:
        parent, _, last = target.rpartition("\\")
        parts = [last] if parent in checked else target.split("\\") if target else ()
        for part in parts:
            problem = check_key_name(part)
            if problem:
                raise _bad_input(op, f"{op.key}: {problem}")
        checked.add(target)


def _depth(targets: tuple[str, ...]) -> int:
    """Levels below the hive's root of the deepest target ('' is the root, level 0)."""
    return max((target.count("\\") + 1 for target in targets if target), default=0)


def _check_depth(op: Op, depth: int) -> None:
    # Levels are counted below the hive's root, as MAX_KEY_DEPTH (regf/names.py) says. Only
    # operations that create keys are refused: deleting a key or value that is too deep (it can
    # only be in a damaged or hostile hive) removes it or, as in Windows, silently does nothing.
    if op.kind in (CREATE_KEY, SET_VALUE):
        problem = check_key_depth(depth)
        if problem:
            raise _bad_input(op, f"key {_shorten(op.key)}: {problem}; nothing was written")


def _shorten(path: str) -> str:
    return path if len(path) <= 120 else f"{path[:50]}...{path[-50:]}"


def _check_value(op: Op) -> None:
    if op.kind in (SET_VALUE, DELETE_VALUE):
        problem = check_value_name(op.name or "")
        if problem:
            raise _bad_input(op, f"{op.key}: {problem}")
    if op.kind == SET_VALUE and not 0 <= (op.type or 0) <= 0xFFFFFFFF:
        raise _bad_input(op, f"{op.key}: value type {op.type} does not fit 32 bits")


def plan_patch(hive: Hive, patch: Patch, root: str, control_set_mode: str | int = "auto",
               skip_foreign: bool = False) -> Plan:
    """Map and check every operation; nothing in the hive changes."""
    with collector_paused():  # an operation or more per line of the file, no cycles
        return _plan_patch(hive, patch, root, control_set_mode, skip_foreign)


def _plan_patch(hive: Hive, patch: Patch, root: str, control_set_mode: str | int, skip_foreign: bool) -> Plan:
    mapper = PathMapper(hive, root, control_set_mode)
    planned: list[PlannedOp] = []
    foreign: list[Op] = []
    # A key's operations mostly come in a row: map and check each key once. None: foreign.
    mapped: dict[str, tuple[tuple[str, ...], int] | None] = {}
    checked: set[str] = set()  # targets whose every name is sound
    for op in patch:
        if op.key not in mapped:
            try:
                targets = tuple(mapper.map(op.key))
            except ForeignPath:
                mapped[op.key] = None
            else:
                _check_key(op, targets, checked)
                mapped[op.key] = (targets, _depth(targets))
        known = mapped[op.key]
        if known is None:
            foreign.append(op)
            continue
        targets, depth = known
        _check_depth(op, depth)
        _check_value(op)
        planned.append(PlannedOp(op, targets))
    if foreign and not skip_foreign:
        keys = list(dict.fromkeys(op.key for op in foreign))
        listed = "; ".join(keys[:MAX_LISTED]) + (f"; and {len(keys) - MAX_LISTED} more" if len(keys) > MAX_LISTED else "")
        raise RefusedUnsafe(
            f"{len(keys)} key(s) lie outside {mapper.root}, the part of the registry this hive holds: {listed}. "
            "Nothing was written; skip_foreign=True applies the rest and lists these"
        )
    return Plan(planned, foreign, mapper)


class _KeyCache:
    """Keys already looked up or created during one apply.

    A .reg file names each key in full, and its keys come in tree order, so remembering the
    keys seen turns a walk from the root per operation into dictionary lookups. Each key is
    remembered once, by its parent's cell and its upcased name, never by its whole path: the
    prefixes of a path n names deep would take memory that grows with n squared. A key created
    here gets all its subkeys through here too, so a miss below it needs no search of the hive.
    Deleting a key frees cells, so everything is forgotten then.
    """

    def __init__(self, hive: Hive) -> None:
        self.hive = hive
        self.root: Key | None = None
        self.children: dict[tuple[int, str], Key] = {}  # (parent cell, upcased name) -> key
        self.exact: dict[str, Key] = {}  # by path as written: the usual hit, with no upcasing
        self.created: set[int] = set()  # cells of the keys created here

    def clear(self) -> None:
        self.children.clear()
        self.exact.clear()
        self.created.clear()

    def find(self, path: str) -> Key:
        """The existing key at ``path``; raises KeyNotFound."""
        return self._resolve(path, create=False)[0]

    def create(self, path: str) -> tuple[Key, int]:
        """The key at ``path``, created with missing parents; also how many keys were made."""
        return self._resolve(path, create=True)

    def _resolve(self, path: str, create: bool) -> tuple[Key, int]:
        known = self.exact.get(path)
        if known is not None:
            return known, 0
        if self.root is None:
            self.root = self.hive.root
        key = self.root
        made = 0
        for name in path.split("\\") if path else ():
            slot = (key.cell, upcase(name))
            child = self.children.get(slot)
            if child is None:
                child = None if key.cell in self.created else _subkey_or_none(key, name)
                if child is None:
                    if not create:
                        raise KeyNotFound(f"key {path!r} not found")
                    child = key.add_subkey(name)
                    self.created.add(child.cell)
                    made += 1
                self.children[slot] = child
            key = child
        self.exact[path] = key
        return key, made


def _subkey_or_none(key: Key, name: str) -> Key | None:
    try:
        return key.subkey(name)
    except KeyNotFound:
        return None


class _HiveStore:
    """The hive itself as a KeyStore, with the key cache above in front of it."""

    def __init__(self, hive: Hive) -> None:
        self.hive = hive
        self.cache = _KeyCache(hive)

    def create(self, path: str) -> tuple[Key, int]:
        return self.cache.create(path)

    def find(self, path: str) -> Key | None:
        try:
            return self.cache.find(path)
        except KeyNotFound:
            return None

    def set_value(self, key: Key, name: str, value_type: int, data: bytes) -> None:
        # A .reg file may give any size for any type (hex(4) of 8 bytes), and Windows stores
        # it as given: the engine's raw call, not the size contract of Hive.set_value.
        self.hive.set_raw_value(key, name, value_type, data)

    def delete_value(self, key: Key, name: str) -> bool:
        try:
            self.hive.delete_value(key, name)
            return True
        except ValueNotFound:
            return False

    def delete_key(self, path: str) -> int:
        key = self.find(path)
        if key is None:
            return 0
        removed = self.hive.delete_key(key, recursive=True)
        self.cache.clear()  # cells were freed and may be reused
        return removed


def apply_plan(hive: Hive, plan: Plan, progress: Progress = QUIET) -> ApplyCounts:
    """Change the hive as the plan says, in order. On an exception, discard the hive."""
    counts = ApplyCounts()
    progress.stage("applying", len(plan.ops), "operations")
    if len(plan.ops) >= BULK_MIN_OPS and is_empty(hive):
        apply_bulk(hive, plan, counts, progress)
        return counts
    before = hive.unchanged_sets
    run_steps(plan.ops, _HiveStore(hive), counts, progress)
    counts.values_unchanged = hive.unchanged_sets - before
    counts.values_set -= counts.values_unchanged
    return counts


def apply_patch(hive: Hive, patch: Patch, root: str, control_set_mode: str | int = "auto",
                skip_foreign: bool = False) -> tuple[Plan, ApplyCounts]:
    """Plan, then apply. Save the hive only when this returns."""
    plan = plan_patch(hive, patch, root, control_set_mode, skip_foreign)
    return plan, apply_plan(hive, plan)


@dataclass(frozen=True)
class Effect:
    """One fact the hive must show after a plan was applied (for read-back checks)."""

    key: str  # hive-relative
    name: str | None = None  # None: the key itself
    type: int | None = None
    data: bytes | None = None
    present: bool = True


def final_effects(plan: Plan) -> list[Effect]:
    """What the plan leaves behind, later operations overriding earlier ones: each key
    created, each value set (type and bytes), each value or key deleted."""
    keys: dict[str, Effect] = {}
    values: dict[tuple[str, str], Effect] = {}
    gone: set[str] = set()  # the keys of ``keys`` recorded as deleted

    def below(upper: str, path: str) -> bool:
        return path == upper or path.startswith(upper + "\\")

    for item in plan.ops:
        op = item.op
        for target in item.targets:
            upper = upcase(target)
            if op.kind == DELETE_KEY:
                if target == "":
                    continue
                for path in [path for path in keys if below(upper, path)]:
                    del keys[path]
                    gone.discard(path)
                for pair in [pair for pair in values if below(upper, pair[0])]:
                    del values[pair]
                keys[upper] = Effect(target, present=False)
                gone.add(upper)
                continue
            if op.kind == DELETE_VALUE:
                values[(upper, upcase(op.name or ""))] = Effect(target, op.name or "", present=False)
                continue
            # Creating a key (or setting a value in it) brings back a deleted ancestor.
            for ancestor in _deleted_ancestors(upper, gone) if gone else ():
                del keys[ancestor]
                gone.discard(ancestor)
            gone.discard(upper)
            keys[upper] = Effect(target)
            if op.kind == SET_VALUE:
                values[(upper, upcase(op.name or ""))] = Effect(target, op.name or "", op.type, op.data)
    return list(keys.values()) + list(values.values())


def _deleted_ancestors(upper: str, gone: set[str]) -> list[str]:
    """The keys in ``gone`` that lie above the key ``upper``. Each deleted key is tried when
    there are fewer of them than levels, else each ancestor: building every prefix of a path n
    names deep would cost n squared for every operation on it."""
    if len(gone) <= upper.count("\\"):
        return [path for path in gone
                if len(path) < len(upper) and upper[len(path)] == "\\" and upper.startswith(path)]
    found = []
    at = upper.find("\\")
    while at > 0:
        if upper[:at] in gone:
            found.append(upper[:at])
        at = upper.find("\\", at + 1)
    return found
