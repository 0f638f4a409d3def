"""Timelines of key last-write times (``hivetool timeline``): every live key, with ``deleted``
the keys recovered from free space, with ``logs`` the key states a dirty hive's transaction
logs hold, each as one :class:`Event`; and the three ways to write them.

The Sleuthkit 3 body format (``MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|
crtime``, times in integer Unix seconds) is what ``mactime -b`` reads; a key's last write is its
mtime and every other field is 0, as RegRipper's regtime writes registry keys. mactime shows a
time of 0 as unknown ("Xxx Xxx 00 0000") and leaves it out when given a date range, so a key
gets exactly one row with ``mactime -b FILE -d 1970-01-02``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Iterator

from .. import csvtext
from ..regf.records.bins import file_offset
from ..timeutil import filetime_to_iso
from .live import LiveCells

__all__ = ["DELETED", "FORMATS", "LIVE", "LOG", "Event", "LiveCells", "deleted_events", "in_range", "lines",
           "live_events", "log_events"]

LIVE, DELETED, LOG = "hive", "deleted", "log"
FORMATS = ("bodyfile", "csv", "jsonl")
_EPOCH_TICKS = 116_444_736_000_000_000  # FILETIME of 1970-01-01
CSV_FIELDS = ("time", "filetime", "hive", "path", "partial", "source", "offset", "log", "sequence")


@dataclass(frozen=True)
class Event:
    """One key's last-write time."""

    filetime: int
    hive: str  # the hive file (an image: its path in the image)
    path: str  # the key: its path in the hive (a hive file) or full registry path (an image)
    partial: bool  # a recovered key whose path could not be followed to the root
    source: str  # LIVE, DELETED or LOG
    offset: int | None  # file offset of the key node (in the state it was read from)
    log: str | None = None  # LOG: the log file
    sequence: int | None = None  # LOG: the entry's sequence number
    registry_path: bool = False  # ``path`` is a full registry path (an image), which names the hive itself

    @property
    def time(self) -> str:
        return filetime_to_iso(self.filetime)


def _join(mount: str, path: str) -> str:
    if not mount:
        return path
    return f"{mount}\\{path}" if path else mount


def live_events(live: LiveCells, shown: str, mount: str = "") -> Iterator[Event]:
    """Every key the live tree reaches, in tree order, as the walk meets it (nothing is kept:
    a timeline of a big hive streams); the walk's problems are on ``live`` afterwards."""
    for key in live.walk(values=False, paths=True):
        yield Event(key.timestamp, shown, _join(mount, key.path or ""), False, LIVE, file_offset(key.cell),
                    registry_path=bool(mount))


def deleted_events(items: Iterable[Any], shown: str, mount: str = "") -> list[Event]:
    """The recovered keys (``recover`` items of kind key) as events."""
    return [Event(item.timestamp, shown, item.path if item.partial else _join(mount, item.path), item.partial, DELETED,
                  item.offset, registry_path=bool(mount)) for item in items
            if item.kind == "key" and item.timestamp is not None]


def log_events(states: Iterable[Any], shown: str, mount: str = "") -> list[Event]:
    """Key states held in transaction logs (:mod:`.log_states`) as events."""
    return [Event(state.timestamp, shown, state.path if state.partial else _join(mount, state.path), state.partial,
                  LOG, file_offset(state.cell), state.log, state.sequence, bool(mount)) for state in states]


def in_range(events: Iterable[Event], since: int | None, until: int | None) -> Iterator[Event]:
    for event in events:
        if (since is None or event.filetime >= since) and (until is None or event.filetime <= until):
            yield event


# ---------------------------------------------------------------------- writing
def unix_seconds(filetime: int) -> int:
    """Whole Unix seconds; 0 (unknown to mactime) for times before 1970."""
    return max(0, (filetime - _EPOCH_TICKS) // 10_000_000)


def _body_name(event: Event) -> str:
    """The name column: hive and key, with what kind of state it is. A body file is
    ``|``-separated lines, so ``|`` and control characters in names are written as \\xNN."""
    path = ("...\\" + event.path) if event.partial else event.path
    name = path if event.registry_path and not event.partial else f"{event.hive}:\\{path}"
    if event.source == DELETED:
        name += " (deleted)"
    elif event.source == LOG:
        name += f" (in log {event.log}, sequence {event.sequence})"
    return "".join(f"\\x{ord(ch):02x}" if ch == "|" or ord(ch) < 0x20 or ch == "\x7f" else ch for ch in name)


def bodyfile_line(event: Event) -> str:
    return f"0|{_body_name(event)}|0|0|0|0|0|0|{unix_seconds(event.filetime)}|0|0\n"


def event_json(event: Event) -> dict[str, Any]:
    document = asdict(event)
    document["time"] = event.time
    return {key: document[key] for key in CSV_FIELDS}


def lines(events: Iterable[Event], fmt: str) -> Iterator[str]:
    """The events as ``fmt`` (bodyfile, csv with a header, jsonl), one line at a time."""
    if fmt == "bodyfile":
        for event in events:
            yield bodyfile_line(event)
    elif fmt == "jsonl":
        for event in events:
            yield json.dumps(event_json(event), ensure_ascii=False) + "\n"
    else:
        yield csvtext.line(CSV_FIELDS)  # on its own: a caller joining several timelines keeps one header
        for event in events:
            row = event_json(event)
            yield csvtext.line(row.get(field) for field in CSV_FIELDS)
