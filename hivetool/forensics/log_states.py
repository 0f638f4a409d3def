"""The key states a dirty hive's transaction logs hold (``timeline --logs``).

A dirty hive's newest changes are still in its .LOG1/.LOG2 (regf-format 9): each log entry
writes whole pages of the hive bins. Which entries Windows would apply, and in which order, is
what the replay decides (:func:`hivetool.regf.logs.replay`, whose report lists them); here they
are applied again one at a time to a copy of the primary, and after each entry every key node
in the pages it wrote whose bytes differ from the state before it is a key that entry changed:
its name, its last-write time and the log's sequence number. Its path is read up its parent
pointers in the state right after that entry, so an examiner sees changes that are not yet in
the primary file, in the order Windows made them.

A clean hive's logs are ignored by Windows and hold nothing to show.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..regf.hive.files import find_logs
from ..regf.logs import ReplayReport, read_logs, replay
from ..regf.logs.log import FORMAT_OLD, SECTOR, TransactionLog
from ..regf.records.bins import HBIN_BASE
from ..regf.records.cells import CELL_ALIGN, NIL
from ..regf.records.names import decode_name
from ..regf.records.nk import KEY_COMP_NAME, NK
from .plausible import key_candidate

MAX_DEPTH = 512  # a parent chain longer than the deepest key Windows allows is a loop
_NK = re.compile(rb"nk")


@dataclass(frozen=True)
class LogKeyState:
    """A key as one log entry wrote it."""

    log: str  # the log file's name
    sequence: int  # the entry's sequence number (an old-format log: the log's)
    cell: int
    name: str
    timestamp: int
    path: str  # inside the hive, as far as its parents could be followed
    partial: bool


@dataclass
class _Entry:
    log: TransactionLog
    sequence: int
    pages: list[tuple[int, int, int]]  # (offset in the hive bins, size, where its bytes are in the log)
    hbins_size: int


def log_key_states(hive_path: str | os.PathLike[str], primary: bytes | bytearray, root: int,
                   log_paths: list[str] | None = None) -> tuple[list[LogKeyState], list[str]]:
    """The keys each applicable log entry changes, in replay order, and notes (why nothing is
    shown, what the replay skipped)."""
    logs = read_logs([Path(p) for p in log_paths] if log_paths else find_logs(hive_path))
    if not logs:
        return [], [f"{hive_path}: no transaction log beside it"]
    _, report = replay(primary, logs, str(hive_path))
    notes = list(report.skipped)
    if not report.dirty:
        return [], notes + [f"{hive_path} is clean: Windows ignores its logs, so they hold no pending state"]
    if not report.applied_anything:
        return [], notes + [f"{hive_path}: nothing in its logs can be applied"]
    work = bytearray(primary)
    states: list[LogKeyState] = []
    for entry in _entries(logs, report):
        end = HBIN_BASE + entry.hbins_size
        if len(work) < end:
            work.extend(bytes(end - len(work)))
        data = entry.log.data
        before = []  # each page as it was before the entry, to compare with
        for offset, size, data_at in entry.pages:
            start = HBIN_BASE + offset
            before.append((start, bytes(work[start : start + size])))
            work[start : start + size] = data[data_at : data_at + size]
        for start, old in before:
            states.extend(_changed_keys(work, start, old, root, entry))
    return states, notes


def _entries(logs: list[TransactionLog], report: ReplayReport) -> list[_Entry]:
    """The entries the replay applied, in its order, with their pages."""
    by_name = {log.name: log for log in logs}
    if report.format == FORMAT_OLD:
        log = by_name[report.used_logs[0]]
        pages, _ = log.dirty_pages()
        size = report.hbins_size_after or (log.header.hbins_size if log.header is not None else 0)
        return [_Entry(log, log.sequence, [(p.offset, SECTOR, p.data_at) for p in pages
                                           if p.data_at + SECTOR <= len(log.data)], size)]
    entries = []
    for applied in report.applied:
        log = by_name[applied.log]
        for entry in log.chain.entries:
            if entry.sequence == applied.sequence:
                entries.append(_Entry(log, entry.sequence, [(p.offset, p.size, p.data_at) for p in entry.pages],
                                      entry.hbins_size))
                break
    return entries


def _changed_keys(work: bytearray, start: int, old: bytes, root: int, entry: _Entry) -> list[LogKeyState]:
    """The key nodes in the page at file offset ``start`` (``old``: its bytes before the entry)
    that the entry wrote differently."""
    found = []
    stop = start + len(old)
    for match in _NK.finditer(work, start, stop):
        at = match.start()
        if (at - HBIN_BASE) % CELL_ALIGN != 4:
            continue
        cell = at - 4 - HBIN_BASE
        if int.from_bytes(work[at - 4 : at], "little", signed=True) >= 0:
            continue  # a free cell: an old record, not a state of a key
        candidate = key_candidate(work, cell, len(work) - HBIN_BASE)
        if candidate is None:
            continue
        first, last = at - 4, min(at - 4 + candidate.record_size, stop)
        if work[first:last] == old[first - start : last - start]:
            continue  # written with its page, unchanged
        path, partial = _path(work, cell, root)
        found.append(LogKeyState(Path(entry.log.name).name, entry.sequence, cell, candidate.name,
                                 candidate.fields[1], path, partial))
    return found


def _path(work: bytearray, cell: int, root: int) -> tuple[str, bool]:
    """The key's path in the state ``work``, read up its parent pointers."""
    names: list[str] = []
    for _ in range(MAX_DEPTH + 1):
        if cell == root:
            return "\\".join(reversed(names)), False
        at = HBIN_BASE + cell + 4
        if cell == NIL or cell % CELL_ALIGN or at + NK.size > len(work) or work[at : at + 2] != b"nk":
            break
        flags, name_length, parent = NK.read(work, at, "flags"), NK.read(work, at, "name_length"), NK.read(work, at, "parent")
        names.append(decode_name(bytes(work[at + NK.size : at + NK.size + name_length]), bool(flags & KEY_COMP_NAME)))
        cell = parent
    return "\\".join(reversed(names)), True
