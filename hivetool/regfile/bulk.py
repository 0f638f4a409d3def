"""Applying a large patch to an empty hive by laying the result out in one go.

Building a hive from a .reg file (``hivetool new`` then ``import``) is a common job, and
the sequential path pays for every key and value through the editing engine. When the
target holds nothing but its root key, the patch is first replayed on a small tree model
with exactly the semantics of the sequential path (parents created, case-insensitive
names keeping their first spelling, value order kept, silent deletes of what is missing),
and the model is then laid out by the bulk builder, which writes canonical lists and no
slack. The base block of the target is kept (flags, GUIDs, sequence numbers), so saving
behaves as after any edit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..gcpause import collector_paused
from ..progress import QUIET, Progress
from ..regf.compact import TreeSource, rebuild
from ..regf.compact.source import KeyRecord, ValueRecord, make_value
from ..regf.hive import Hive
from ..regf.records.names import upcase
from .steps import ApplyCounts, run_steps

if TYPE_CHECKING:
    from .apply import Plan

BULK_MIN_OPS = 256  # below this the sequential path is as fast and keeps edits surgical


class _Model(TreeSource):
    """Keys as handles into flat lists; children by upcased name; values in order."""

    def __init__(self, root_name: str, minor: int, timestamp: int, descriptor: bytes) -> None:
        super().__init__(timestamp, descriptor)
        self.minor = minor
        self.root_name = root_name
        self.names: list[str] = [root_name]
        self.kids: list[dict[str, int]] = [{}]
        # Each key's values as the layout reads them (name, type, length, flags 0, the data):
        # made once here, not again in each of the layout's two passes.
        self.vals: list[list[ValueRecord]] = [[]]
        self.index: list[dict[str, int]] = [{}]
        # The keys create() reached, by path as given: a .reg file sets a key's values one
        # after another and names a key after its parent, so a path is mostly found here, or its
        # parent is, instead of walked name by name from the root.
        self._known: dict[str, int] = {"": 0}

    # -- the TreeSource side
    def name(self, handle: int) -> str:
        return self.names[handle]

    def child_handles(self, handle: int) -> Iterable[int]:
        return self.kids[handle].values()

    def value_items(self, handle: int) -> Iterable[tuple[str, int, bytes]]:
        return [(value.name, value.type, value.ref) for value in self.vals[handle]]

    def values(self, handle: int, key: KeyRecord) -> list[ValueRecord]:
        return self.vals[handle]  # the layout only reads it

    # -- the patch side
    def find(self, path: str) -> int | None:
        handle = 0
        for part in path.split("\\") if path else ():
            child = self.kids[handle].get(upcase(part))
            if child is None:
                return None
            handle = child
        return handle

    def create(self, path: str) -> tuple[int, int]:
        known = self._known.get(path)
        if known is not None:
            return known, 0
        handle, made, rest = 0, 0, path
        parent_path, _, name = path.rpartition("\\")
        parent = self._known.get(parent_path) if parent_path else None
        if parent is not None and name:
            handle, rest = parent, name
        for part in rest.split("\\") if rest else ():
            key = upcase(part)
            child = self.kids[handle].get(key)
            if child is None:
                child = len(self.names)
                self.names.append(part)
                self.kids.append({})
                self.vals.append([])
                self.index.append({})
                self.kids[handle][key] = child
                made += 1
            handle = child
        self._known[path] = handle
        return handle, made

    def set_value(self, handle: int, name: str, value_type: int, data: bytes) -> None:
        key = upcase(name)
        at = self.index[handle].get(key)
        if at is None:
            self.index[handle][key] = len(self.vals[handle])
            self.vals[handle].append(make_value((name, value_type, len(data), 0, data)))
        else:
            stored = self.vals[handle][at].name  # an existing value keeps its spelling
            self.vals[handle][at] = make_value((stored, value_type, len(data), 0, data))

    def delete_value(self, handle: int, name: str) -> bool:
        at = self.index[handle].pop(upcase(name), None)
        if at is None:
            return False
        del self.vals[handle][at]
        self.index[handle] = {upcase(v.name): i for i, v in enumerate(self.vals[handle])}
        return True

    def delete_key(self, path: str) -> int:
        self._known = {"": 0}  # a path known may be the key deleted, or lie below it
        parent_path, _, name = path.rpartition("\\")
        parent = self.find(parent_path)
        if parent is None:
            return 0
        child = self.kids[parent].pop(upcase(name), None)
        if child is None:
            return 0
        removed, stack = 0, [child]
        while stack:
            removed += 1
            stack.extend(self.kids[stack.pop()].values())
        return removed


def is_empty(hive: Hive) -> bool:
    """Only a root key with no subkeys, values or class (what ``hivetool new`` makes)."""
    root = hive.root
    return root.subkey_count == 0 and root.value_count == 0 and root.class_name is None


def apply_bulk(hive: Hive, plan: Plan, counts: ApplyCounts, progress: Progress = QUIET) -> None:
    """Apply ``plan`` (from :func:`~hivetool.regfile.apply.plan_patch`) to the empty ``hive``,
    replacing its image; ``counts`` (an ApplyCounts) is filled as the sequential path would."""
    def fill(root_name: str, minor: int, timestamp: int, descriptor: bytes) -> _Model:
        model = _Model(root_name, minor, timestamp, descriptor)
        run_steps(plan.ops, model, counts, progress)
        return model

    # The target's base block (sequence numbers, flags, GUIDs, name) is kept; the save that
    # follows stamps it as usual. The model holds an object or more per key and value, no cycles.
    with collector_paused():
        rebuild(hive, "import into it", fill, progress)


__all__ = ["BULK_MIN_OPS", "apply_bulk", "is_empty"]
