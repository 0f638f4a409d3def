"""What ``recover`` found, as a .reg file that ``hivetool import`` (and regedit) read back.

Each item is preceded by a ``;`` comment saying what it is (a deleted key or value, its file
offset, its state and where it was found), so the file documents itself. Keys go under the
registry path their hive is mounted at. Items whose path could not be followed to the root go
under ``ROOT\\(orphaned)\\<path as far as it was followed>``, values of no known key under
``ROOT\\(orphaned)\\(unknown key)``: importing never mixes them into real keys. A value whose
data is gone is a comment only; one whose data is partly overwritten is written as read, and
its comment says so.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..regf.records.types import type_name
from ..regfile.emit import DIALECT_5, RegWriter
from ..timeutil import filetime_to_iso
from .deleted_data import GONE, INTACT
from .recover import KEY, Recovered

ORPHANS = "(orphaned)"
UNKNOWN_KEY = "(unknown key)"


def reg_key(root: str, item: Recovered) -> str:
    """The .reg key an item goes under (see the module docstring)."""
    if not item.partial:
        return f"{root}\\{item.path}" if item.path else root
    return f"{root}\\{ORPHANS}\\{item.path or UNKNOWN_KEY}"


def _comment(item: Recovered) -> str:
    what = "deleted key" if item.kind == KEY else f"deleted value {item.name!r} ({type_name(item.value_type or 0)})"
    when = f", last write {filetime_to_iso(item.timestamp)}" if item.timestamp is not None else ""
    state = item.state if item.state == INTACT else f"{item.state}: {item.damage}"
    path = f"; path followed only to {item.path!r}" if item.partial and item.path else ""
    return f"{what} at file offset 0x{item.offset:x}{when}; {state}; found in: {item.found_in}{path}"


def recovered_reg(groups: Iterable[tuple[str, list[Recovered]]]) -> Iterator[bytes]:
    """The .reg file (version 5.00, UTF-16LE with a BOM) for ``groups`` of (the registry path
    a hive is mounted at, the items recovered from it), as encoded chunks."""
    writer = RegWriter(DIALECT_5)
    for root, items in groups:
        section: str | None = None
        for item in sorted(items, key=lambda i: (reg_key(root, i).upper(), i.kind != KEY, i.cell)):
            key = reg_key(root, item)
            if item.kind == KEY or section != key:
                writer.key(key)
                section = key
            writer.comment(_comment(item))
            if item.kind == KEY:
                continue
            if item.state == GONE or item.raw is None or item.value_type is None:
                writer.comment("  (its data is gone: the value is not written)")
                continue
            writer.value(key, item.name, item.value_type, item.raw)
    yield from writer.chunks()
