"""Carrying out a planned patch, step by step, on whatever holds the keys.

The same loop serves the hive itself (through the editing engine) and the tree model the
bulk path builds, so both follow one set of rules: creating a key creates its parents,
setting a value creates its key, deleting what is missing is silent, and the root key
cannot be deleted (reg-format 4.8, 4.9, 5.8).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from ..progress import QUIET, Progress
from .patch import CREATE_KEY, DELETE_KEY, DELETE_VALUE, SET_VALUE

if TYPE_CHECKING:
    from .apply import PlannedOp


@dataclass
class ApplyCounts:
    keys_created: int = 0
    keys_deleted: int = 0
    values_set: int = 0
    values_deleted: int = 0
    values_unchanged: int = 0  # set operations that found the value already so
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        unchanged = f", {self.values_unchanged} already so" if self.values_unchanged else ""
        return (f"{self.keys_created} key(s) created, {self.keys_deleted} deleted; "
                f"{self.values_set} value(s) set, {self.values_deleted} deleted{unchanged}")

    def to_json(self) -> dict[str, int]:
        return {"keys_created": self.keys_created, "keys_deleted": self.keys_deleted, "values_set": self.values_set,
                "values_deleted": self.values_deleted, "values_unchanged": self.values_unchanged}


class KeyStore(Protocol):
    """Keys addressed by hive path; a handle is whatever the store uses for a key."""

    def create(self, path: str) -> tuple[Any, int]: ...  # (handle, keys made)
    def find(self, path: str) -> Any | None: ...
    def set_value(self, handle: Any, name: str, value_type: int, data: bytes) -> None: ...
    def delete_value(self, handle: Any, name: str) -> bool: ...  # False when it was missing
    def delete_key(self, path: str) -> int: ...  # keys removed (0 when missing)


def run_steps(planned: Iterable[PlannedOp], store: KeyStore, counts: ApplyCounts, progress: Progress = QUIET) -> ApplyCounts:
    """Apply each PlannedOp (an op and its hive-relative targets) in order."""
    for item in planned:
        progress.advance()
        op = item.op
        for target in item.targets:
            if op.kind == CREATE_KEY:
                counts.keys_created += store.create(target)[1]
            elif op.kind == SET_VALUE:
                handle, made = store.create(target)
                counts.keys_created += made
                store.set_value(handle, op.name or "", op.type or 0, op.data or b"")
                counts.values_set += 1
            elif op.kind == DELETE_VALUE:
                handle = store.find(target)
                if handle is not None and store.delete_value(handle, op.name or ""):
                    counts.values_deleted += 1
            elif op.kind == DELETE_KEY:
                if target == "":
                    counts.notes.append(f"{op.key} is the hive's root key, which cannot be deleted; skipped")
                    continue
                counts.keys_deleted += store.delete_key(target)
    return counts
