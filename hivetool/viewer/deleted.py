"""Deleted keys and values recovered from the target's hives (:mod:`hivetool.forensics.recover`),
with their file offsets, for the deleted view and for the timeline's marks.

An item carries the fields of ``hivetool recover --json`` (``kind``, ``offset``, ``path``,
``partial``, ``name``, ``last_write``, ``type``, ``data``, ``raw``, ``state``, ``evidence``, ...)
and ``hive``, the mount or file of the hive it came from. In an image the path of an item that
reached its hive's root is the full registry path, as the tree names keys.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ..image.target import HiveTarget, Target
from ..regf.hive import Hive
from .nodes import join
from .sources import readable

MAX_ITEMS = 5000
LISTED_RAW_HEX = 2 * 4096  # hex digits of raw data per item in the list; one item alone has all


RECORD_LIMIT = 4096  # bytes of a record's cell shown in hex (a key node with a long name fits)


@dataclass
class Deleted:
    """Every recovered item of a target, in file order per hive (cached per target state)."""

    items: list[dict[str, Any]]
    available: bool = True
    reason: str | None = None
    hives: list[Hive] = field(default_factory=list)  # the hive each item came from, by item
    problems: list[str] = field(default_factory=list)  # hives of an image that could not be read


def recover_all(target: Target) -> Deleted:
    """Run the recovery over every hive of ``target``."""
    try:
        from ..forensics.recover import item_json, recover
    except ImportError as err:  # the forensics layer may be absent from a trimmed install
        return Deleted([], False, f"recovery is not available: {err}")
    items: list[dict[str, Any]] = []
    hives: list[Hive] = []
    opened, problems = readable(target)
    for slot, hive in opened:
        mount = None if isinstance(target, HiveTarget) else slot.mount
        for item in recover(hive).items:
            shown = join(mount, item.path) if mount and not item.partial else item.path
            document = item_json(item, shown)
            document["hive"] = slot.mount or slot.shown
            items.append(document)
            hives.append(hive)
    return Deleted(items, hives=hives, problems=problems)


def listing(deleted: Deleted) -> dict[str, Any]:
    """The deleted view's list: at most :data:`MAX_ITEMS` items, raw data cut short."""
    shown = []
    for index, item in enumerate(deleted.items[:MAX_ITEMS]):
        raw = item.get("raw")
        brief = dict(item, index=index)
        if isinstance(raw, str) and len(raw) > LISTED_RAW_HEX:
            brief["raw"] = raw[:LISTED_RAW_HEX]
            brief["raw_truncated"] = True
        shown.append(brief)
    counts = {"keys": sum(1 for i in deleted.items if i["kind"] == "key"),
              "values": sum(1 for i in deleted.items if i["kind"] == "value")}
    return {"available": deleted.available, "reason": deleted.reason, "counts": counts, "items": shown,
            "truncated": len(deleted.items) > MAX_ITEMS, "problems": deleted.problems}


def item(deleted: Deleted, index: int) -> dict[str, Any]:
    """One item with all its raw data (the hex view)."""
    from ..errors import NotFound

    if not 0 <= index < len(deleted.items):
        raise NotFound(f"no recovered item number {index} (there are {len(deleted.items)})")
    found = dict(deleted.items[index], index=index)
    found["record"] = _record(deleted.hives[index], int(found["offset"])) if deleted.hives else None
    return found


def _record(hive: Hive, offset: int) -> str | None:
    """The bytes of the cell that holds the item's record (its size field first), in hex: what
    an examiner checks the recovery against. A free cell's size is positive, a used one's
    negative; either way its magnitude is the cell's length."""
    buf = hive._engine.buf  # the bytes as read: the public views follow only the live tree
    try:
        size = abs(struct.unpack_from("<i", buf, offset)[0])
    except struct.error:
        return None
    end = min(len(buf), offset + max(8, min(size, RECORD_LIMIT)))
    return bytes(buf[offset:end]).hex()


__all__ = ["Deleted", "item", "listing", "recover_all"]
