"""Key last-write times over time: buckets for the chart, and the keys of a range.

Every key of every hive of the target is read once and kept sorted by time, so a bucket count
is two binary searches and zooming costs no new walk. A key is kept as three numbers (its time,
its cell, its parent's position in the walk: 14 bytes, in arrays), and its path is spelled
only when a page of keys is listed: a hive of a million keys must not become a million path
strings. Recovered deleted keys whose time is known are kept beside them and counted per
bucket as well, so the chart can mark them. Keys whose time is 0 (never set: some tools write
hives so) are counted apart and left out of the range, which they would stretch back to 1601.

Times travel as strings of FILETIME ticks: they pass 2**53, where JavaScript numbers stop
being exact, and the page sends them back to zoom.
"""
from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import HiveFormatError
from ..image.target import HiveTarget, Target
from ..regf.hive import Hive
from ..regf.records.bins import file_offset
from ..timeutil import filetime_to_iso
from .nodes import join
from .sources import readable

BUCKETS = 60
MAX_BUCKETS = 400
MAX_KEYS = 1000
RECOVERED = 0xFFFF  # the "hive" of an entry that is a recovered item (its cell: the item's number)


@dataclass
class Walked:
    """The keys of one hive in walk order: cell, parent position (-1: the root), time."""

    hive: Hive
    mount: str  # '' for a hive file: its keys are named by their paths inside it
    cells: array[int] = field(default_factory=lambda: array("I"))
    parents: array[int] = field(default_factory=lambda: array("i"))

    def path(self, position: int) -> str:
        names = []
        engine = self.hive._engine
        while position > 0:  # position 0 is the root key, which the tree names ''
            names.append(engine.key_name(self.cells[position], "key"))
            position = self.parents[position]
        inside = "\\".join(reversed(names))
        return join(self.mount, inside) if self.mount and inside else (self.mount or inside)


def walk(hive: Hive, mount: str, stamps: array[int], where: array[int], hive_number: int) -> Walked:
    """Every key of ``hive``: appends each key's time to ``stamps`` and its (hive, position)
    to ``where``; the walk follows subkey lists as every command does, cycles refused."""
    engine = hive._engine
    walked = Walked(hive, mount)
    stack = [(engine.root_cell, -1)]
    seen = {engine.root_cell}
    while stack:
        cell, parent = stack.pop()
        position = len(walked.cells)
        walked.cells.append(cell)
        walked.parents.append(parent)
        stamps.append(engine.nk(cell).timestamp)
        where.append(hive_number << 32 | position)
        for child in reversed(engine.child_cells(cell)):
            if child in seen:
                raise HiveFormatError(f"subkey lists form a cycle: the nk at cell 0x{child:x} is reached twice",
                                      file_offset(child))
            seen.add(child)
            stack.append((child, position))
    return walked


@dataclass
class Timeline:
    times: array[int]  # sorted FILETIMEs of the dated keys
    where: array[int]  # for each: hive number << 32 | position in that hive's walk
    hives: list[Walked]
    recovered: list[dict[str, Any]]  # the deleted view's items, by number
    recovered_times: list[int]
    undated: int
    problems: list[str]  # hives of an image that could not be read

    def entry(self, index: int) -> dict[str, Any]:
        number, position = self.where[index] >> 32, self.where[index] & 0xFFFFFFFF
        written = self.times[index]
        document: dict[str, Any] = {"last_write": filetime_to_iso(written), "last_write_filetime": str(written)}
        if number == RECOVERED:
            item = self.recovered[position]
            return {**document, "path": item["path"], "offset": item["offset"], "recovered": True,
                    "partial": bool(item.get("partial")), "index": position}
        walked = self.hives[number]
        return {**document, "path": walked.path(position), "offset": file_offset(walked.cells[position]),
                "recovered": False, "partial": False, "index": None}


def build(target: Target, recovered: Iterable[dict[str, Any]] = ()) -> Timeline:
    """The timeline of ``target``'s live keys and of the recovered keys given (items of
    :mod:`.deleted`)."""
    stamps: array[int] = array("Q")
    where: array[int] = array("Q")
    hives = []
    opened, problems = readable(target)
    for number, (slot, hive) in enumerate(opened):
        mount = "" if isinstance(target, HiveTarget) else slot.mount or ""
        hives.append(walk(hive, mount, stamps, where, number))
    items = list(recovered)
    recovered_times = []
    for number, item in enumerate(items):
        stamp = item.get("last_write_filetime")
        if item.get("kind") == "key" and stamp:
            stamps.append(int(stamp))
            where.append(RECOVERED << 32 | number)
            recovered_times.append(int(stamp))
    order = sorted((i for i in range(len(stamps)) if stamps[i]), key=stamps.__getitem__)
    return Timeline(array("Q", (stamps[i] for i in order)), array("Q", (where[i] for i in order)), hives, items,
                    sorted(recovered_times), len(stamps) - len(order), problems)


def _range(timeline: Timeline, start: str | None, end: str | None) -> tuple[int, int]:
    times = timeline.times
    low = int(start) if start else (times[0] if times else 0)
    high = int(end) if end else (times[-1] if times else 0)
    return (low, high) if low <= high else (high, low)


def buckets(timeline: Timeline, start: str | None = None, end: str | None = None,
            count: int = BUCKETS) -> dict[str, Any]:
    """``count`` equal buckets from ``start`` to ``end`` (default: the whole range), each with
    the number of keys written in it and how many of those were recovered."""
    count = max(1, min(count, MAX_BUCKETS))
    low, high = _range(timeline, start, end)
    span = high - low + 1
    width = -(-span // count)  # ceiling: the last bucket ends at ``high``
    rows = []
    for number in range(count):
        first = low + number * width
        if first > high:
            break
        last = min(high, first + width - 1)
        keys = bisect.bisect_right(timeline.times, last) - bisect.bisect_left(timeline.times, first)
        recovered = (bisect.bisect_right(timeline.recovered_times, last)
                     - bisect.bisect_left(timeline.recovered_times, first))
        rows.append({"start": str(first), "end": str(last), "start_iso": filetime_to_iso(first),
                     "end_iso": filetime_to_iso(last), "keys": keys, "recovered": recovered})
    times = timeline.times
    return {
        "start": str(low), "end": str(high), "start_iso": filetime_to_iso(low), "end_iso": filetime_to_iso(high),
        "first": str(times[0]) if times else None, "last": str(times[-1]) if times else None,
        "total": len(times), "recovered": len(timeline.recovered_times), "undated": timeline.undated,
        "buckets": rows, "problems": timeline.problems,
    }


def keys_between(timeline: Timeline, start: str, end: str, offset: int = 0, limit: int = MAX_KEYS) -> dict[str, Any]:
    """The keys written from ``start`` to ``end`` (inclusive), oldest first, a page at a time."""
    low, high = _range(timeline, start, end)
    first = bisect.bisect_left(timeline.times, low)
    last = bisect.bisect_right(timeline.times, high)
    offset = max(0, offset)
    limit = max(1, min(limit, MAX_KEYS))
    keys = [timeline.entry(index) for index in range(first + offset, min(last, first + offset + limit))]
    return {"start": str(low), "end": str(high), "total": last - first, "offset": offset, "keys": keys,
            "more": first + offset + len(keys) < last}


__all__ = ["BUCKETS", "Timeline", "buckets", "build", "keys_between"]
