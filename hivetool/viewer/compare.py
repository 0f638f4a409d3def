"""The diff view: what changed from ``--compare OTHER`` (before) to TARGET (after), through
:func:`hivetool.forensics.changes.compare_trees`, as ``hivetool diff OTHER TARGET`` reports it.

Paths are named as TARGET's tree names them (a hive file: inside the hive; an image: full
registry paths), so an added or changed key opens in the tree with a click; a deleted key is
only in OTHER. Two hive files are compared root to root; two images hive by hive, matched by
where each is mounted (a hive on one side only is one added or deleted key).

The list stops after :data:`MAX_CHANGES` keys, an added or deleted subtree lists at most
:data:`MAX_CONTENTS` of its keys, and each value carries at most :data:`LISTED_RAW` raw bytes:
two unrelated hives differ everywhere, and the page must still come back.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..errors import UsageError
from ..forensics.changes import ADDED, DELETED, KeyChange, compare_trees, keys_in
from ..image.target import HiveTarget, Target
from ..regf.hive.model import Key, Value
from ..regf.records.types import data_json
from .values import LISTED_RAW, display_text

MAX_CHANGES = 2000
MAX_CONTENTS = 50


def _pairs(old: Target, new: Target) -> Iterator[tuple[Key | None, Key | None, str]]:
    """(before root, after root, mount) for each hive to compare."""
    if isinstance(old, HiveTarget) and isinstance(new, HiveTarget):
        yield old.hive.root, new.hive.root, ""
        return
    if isinstance(old, HiveTarget) or isinstance(new, HiveTarget):
        raise UsageError("--compare: compare a hive file with a hive file, or an image with an image")
    before = {(slot.mount or slot.shown).upper(): slot for slot in old.slots()}
    after = {(slot.mount or slot.shown).upper(): slot for slot in new.slots()}
    for name in sorted(set(before) | set(after)):
        old_slot, new_slot = before.get(name), after.get(name)
        either = new_slot if new_slot is not None else old_slot
        mount = either.mount or "" if either is not None else ""
        yield (old.open(old_slot).root if old_slot else None, new.open(new_slot).root if new_slot else None, mount)


def _value(value: Value | None) -> dict[str, Any] | None:
    if value is None:
        return None
    document = data_json(value.type, value.raw[:LISTED_RAW]) or {}
    document.update(size=len(value.raw), raw_truncated=len(value.raw) > LISTED_RAW,
                    text=display_text(value.data, value.raw))
    return document


def _time(key: Key | None) -> dict[str, Any]:
    if key is None:
        return {"last_write": None, "last_write_filetime": None}
    return {"last_write": key.last_write_iso, "last_write_filetime": str(key.last_write)}


def _path(path: str) -> str:
    """compare_trees joins a hive file's paths to an empty mount: ``\\A`` is ``A`` in the tree."""
    return path.lstrip("\\")


def change_json(change: KeyChange, mount: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "path": _path(change.path), "change": change.change, "old": _time(change.old), "new": _time(change.new),
        "values": [{"name": v.name, "change": v.change, "old": _value(v.old), "new": _value(v.new)}
                   for v in change.values],
    }
    if change.change in (ADDED, DELETED):
        top = change.new if change.change == ADDED else change.old
        assert top is not None  # an added key has its new side, a deleted one its old side
        contents: list[dict[str, Any]] = []
        for below in top.walk():
            if len(contents) == MAX_CONTENTS:
                break
            shown = f"{mount}\\{below.path}" if mount and below.path else (mount or below.path)
            contents.append({"path": shown, **_time(below),
                             "values": [{"name": v.name, **(_value(v) or {})} for v in below.values()]})
        document["keys"] = keys_in(change)
        document["contents"] = contents
    return document


def compare(old: Target, new: Target, touched: bool = True, limit: int = MAX_CHANGES) -> dict[str, Any]:
    """The changes from ``old`` to ``new``; ``touched``: also keys whose last-write time alone
    changed."""
    changes: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    truncated = False
    for before, after, mount in _pairs(old, new):
        for change in compare_trees(before, after, mount):
            if not touched and change.change == "touched":
                continue
            if len(changes) == limit:
                truncated = True
                break
            counts[change.change] = counts.get(change.change, 0) + 1
            changes.append(change_json(change, mount))
        if truncated:
            break
    return {"changes": changes, "counts": counts, "truncated": truncated}


__all__ = ["MAX_CHANGES", "compare"]
