"""Log replay: the hive as Windows sees it after loading a dirty primary with its
transaction logs (regf-format sections 1.4 and 9).

A hive is dirty when its base block's sequence numbers differ or its checksum is wrong; only
then are logs read (a clean hive's logs are ignored, as Windows ignores them). The result is
a primary image in memory with a clean base block: both sequence numbers set to the last
applied sequence number, the hive-bins size of the last entry, file type 0, checksum
recomputed. :class:`~hivetool.regf.hive.Hive` opens it like any clean hive.

New format (Windows 8.1+): entries are applied from the earlier log on, starting at the
sequence number in its header, each next entry the next number, continuing into the other
log when it starts right after; the first bad entry (signature, size, hash, sequence) ends
the replay. Old format (Vista .. 8.0): the one log whose header timestamp equals the
primary's is applied page by page, each touched hive bin checked first.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cmp_to_key
from pathlib import Path
from typing import Any

from ..errors import HiveFormatError, HiveIOError, MalformedInput
from ..inputs import DEFAULT_WAIT, EXCLUSIVE, SHARED, open_input
from ..progress import QUIET, Progress
from ..timeutil import Clock
from .bins import HBIN, HBIN_BASE, HBIN_SIGNATURE, PAGE
from .header import BASE_BLOCK, BASE_BLOCK_SIZE, FILE_TYPE_PRIMARY, SIGNATURE, SUPPORTED_MINORS, checksum
from .hive import Hive
from .logfiles import find_logs
from .logs import (
    FORMAT_EMPTY,
    FORMAT_NEW,
    FORMAT_OLD,
    SECTOR,
    LogEntry,
    TransactionLog,
    read_logs,
    sequence_before,
    sequence_ranges,
)

NO_GUID = bytes(16)
FLAG_KTM_LOCKED = 0x1  # the base-block flag bit a log entry carries (9.3)


@dataclass(frozen=True)
class PrimaryState:
    """What the primary's base block says, checked the way a loader checks it."""

    seq1: int
    seq2: int
    timestamp: int
    hbins_size: int
    flags: int
    log_id: bytes
    header_problem: str | None  # None: the header can be trusted

    @property
    def dirty(self) -> bool:
        return self.seq1 != self.seq2 or self.header_problem is not None


def primary_state(data: bytes | bytearray, name: str) -> PrimaryState:
    """Read the primary's base block without trusting it; raise only when the file is not a
    primary hive at all (too short, another signature, a log file, an unknown version)."""
    if len(data) < BASE_BLOCK_SIZE:
        raise HiveFormatError(f"file is {len(data)} bytes, shorter than the 4096-byte base block", 0, name)
    rec = BASE_BLOCK.unpack(data, 0)
    if rec.signature != SIGNATURE:
        raise HiveFormatError(f"signature is {rec.signature!r}, expected b'regf': not a registry hive", 0, name)
    problem = None
    if rec.checksum != checksum(data):
        problem = f"base block checksum 0x{rec.checksum:08x} is wrong (expected 0x{checksum(data):08x})"
    elif rec.file_type != FILE_TYPE_PRIMARY:
        raise HiveFormatError(
            f"file type {rec.file_type} is not a primary hive (1, 2 and 6 are transaction logs)",
            BASE_BLOCK.offset["file_type"], name,
        )
    elif rec.major != 1 or rec.minor not in SUPPORTED_MINORS:
        raise HiveFormatError(f"format version {rec.major}.{rec.minor} is not supported", BASE_BLOCK.offset["major"], name)
    elif rec.file_format != 1 or rec.clustering != 1 or rec.hbins_size == 0 or rec.hbins_size % PAGE:
        problem = "base block fields are invalid (file format, clustering factor or hive-bins size)"
    return PrimaryState(rec.seq1, rec.seq2, rec.timestamp, rec.hbins_size, rec.flags, rec.log_id, problem)


@dataclass(frozen=True)
class AppliedEntry:
    log: str
    sequence: int
    pages: int
    hbins_size: int


@dataclass
class ReplayReport:
    """What a replay did and did not do; printed by the CLI, and as JSON."""

    hive: str
    dirty: bool
    primary_sequences: tuple[int, int]
    hbins_size_before: int
    logs: list[dict[str, Any]] = field(default_factory=list)
    format: str | None = None
    applied: list[AppliedEntry] = field(default_factory=list)
    old_format_pages: int = 0
    used_logs: list[str] = field(default_factory=list)
    header_from_log: str | None = None
    sequence: int | None = None  # in the recovered base block
    hbins_size_after: int | None = None
    sequence_floor: int = 0  # a save must write sequence numbers above this
    notes: list[str] = field(default_factory=list)  # normal facts (an older log, a clean hive)
    skipped: list[str] = field(default_factory=list)  # damage or mismatches: worth a warning

    @property
    def applied_anything(self) -> bool:
        return bool(self.applied or self.old_format_pages)

    def summary(self, planned: bool = False) -> str:
        """One line; ``planned`` words it as what a replay would do (for ``info``)."""
        if not self.dirty:
            return "not needed: the hive is clean, so Windows ignores its logs"
        if not self.applied_anything:
            if not self.logs:
                return "no transaction log beside it" + (": the hive can only be read as it is (stale)" if planned else "")
            return "nothing usable in the logs" + (": the hive can only be read as it is (stale)" if planned else "")
        if self.format == FORMAT_OLD:
            what = f"{self.old_format_pages} dirty 512-byte pages"
        else:
            count = len(self.applied)
            numbers = sequence_ranges([entry.sequence for entry in self.applied])
            what = f"{count} log entr{'y' if count == 1 else 'ies'} (sequence {numbers})"
        sizes = f"hive bins 0x{self.hbins_size_before:x}"
        if self.hbins_size_after != self.hbins_size_before:
            sizes += f" -> 0x{self.hbins_size_after:x}"
        header = f"; base block taken from {Path(self.header_from_log).name}" if self.header_from_log else ""
        used = ", ".join(Path(name).name for name in self.used_logs)
        verb = "would replay" if planned else "replayed"
        return f"{verb} {what} from {used}: sequence {self.sequence}, {sizes}{header}"

    def to_json(self) -> dict[str, Any]:
        return {
            "hive": self.hive,
            "dirty": self.dirty,
            "primary_sequences": list(self.primary_sequences),
            "format": self.format,
            "applied": [
                {"log": e.log, "sequence": e.sequence, "pages": e.pages, "hive_bins_size": e.hbins_size}
                for e in self.applied
            ],
            "old_format_pages": self.old_format_pages,
            "used_logs": self.used_logs,
            "header_from_log": self.header_from_log,
            "sequence": self.sequence,
            "hive_bins_size_before": self.hbins_size_before,
            "hive_bins_size_after": self.hbins_size_after,
            "sequence_floor": self.sequence_floor,
            "logs": self.logs,
            "notes": self.notes,
            "skipped": self.skipped,
            "summary": self.summary(),
        }


@dataclass
class _Outcome:
    """The running state of a replay: what the recovered base block will say."""

    sequence: int
    hbins_size: int
    flags: int
    header_raw: bytes | None = None  # a log's header that replaces a broken primary header


def replay(data: bytes | bytearray, logs: list[TransactionLog], name: str,
           progress: Progress = QUIET) -> tuple[bytearray, ReplayReport]:
    """Apply ``logs`` to the primary image ``data`` (not modified); return the recovered
    image and the report. A clean hive comes back unchanged (a bytearray ``data`` as the
    same object); when nothing could be applied the image is the primary as it was and
    ``report.applied_anything`` is False."""
    state = primary_state(data, name)
    report = ReplayReport(name, state.dirty, (state.seq1, state.seq2), state.hbins_size)
    report.logs = [log.describe() for log in logs]
    report.sequence_floor = max([state.seq1, state.seq2] + [log.max_sequence for log in logs])
    if not state.dirty:
        report.notes.append("the hive is clean: Windows ignores its logs")
        # Nothing changes: hand back the caller's own bytearray rather than a copy of it.
        return (data if isinstance(data, bytearray) else bytearray(data)), report
    buf = bytearray(data)
    if state.header_problem:
        report.notes.append(f"the primary's {state.header_problem}: its base block must come from a log")
    candidates = []
    for log in logs:
        if log.format == FORMAT_EMPTY:
            report.notes.append(f"{log.name}: empty")
        elif not log.usable:
            report.skipped.append(f"{log.name}: skipped: {log.problem}")
        elif _other_hive(state, log):
            report.skipped.append(
                f"{log.name}: skipped: its LogId GUID differs from the hive's, so it belongs to another hive"
            )
        else:
            candidates.append(log)
    new_logs = [log for log in candidates if log.format == FORMAT_NEW]
    old_logs = [log for log in candidates if log.format == FORMAT_OLD]
    if new_logs:
        progress.stage("checking log entries", sum(len(log.data) for log in new_logs), "B")
        for log in new_logs:
            log.walk_chain(progress)
    outcome = _replay_new(buf, state, new_logs, report)
    if outcome is None and old_logs:
        outcome = _replay_old(buf, state, old_logs, report)
    if outcome is not None:
        _stamp_recovered(buf, outcome)
        report.sequence = outcome.sequence
        report.hbins_size_after = outcome.hbins_size
    return buf, report


def _other_hive(state: PrimaryState, log: TransactionLog) -> bool:
    """A log names its hive by the LogId GUID in its header copy (EMP: equal in every
    primary/log pair of the corpus). Compared only when both are set and the primary's
    header is trustworthy."""
    header = log.header
    if header is None or state.header_problem or state.log_id == NO_GUID or header.log_id == NO_GUID:
        return False
    return header.log_id != state.log_id


def _by_sequence(a: TransactionLog, b: TransactionLog) -> int:
    if sequence_before(a.sequence, b.sequence):
        return -1
    return 1 if sequence_before(b.sequence, a.sequence) else 0


def _replay_new(buf: bytearray, state: PrimaryState, logs: list[TransactionLog], report: ReplayReport) -> _Outcome | None:
    if not logs:
        return None
    ordered = sorted(logs, key=cmp_to_key(_by_sequence))
    if state.header_problem:
        # Without a trustworthy primary header, only the log with the latest entries is
        # used, and its header replaces the primary's (9.3, as Windows does).
        for log in reversed(ordered):
            if log.chain.entries:
                outcome = _Outcome(0, 0, log.header.flags, log.header.raw)
                _apply_chain(buf, log, outcome, report)
                report.header_from_log = log.name
                return outcome
            _report_chain_problem(log, report)
        return None
    outcome = None
    for log in ordered:
        if sequence_before(log.sequence, state.seq2):
            report.notes.append(
                f"{log.name}: starts at sequence {log.sequence}, before the hive's {state.seq2}: already in the primary"
            )
            continue
        if outcome is not None and log.sequence != (outcome.sequence + 1) & 0xFFFFFFFF:
            report.skipped.append(
                f"{log.name}: skipped: starts at sequence {log.sequence}, but the entries applied end at "
                f"{outcome.sequence} (a gap: its entries cannot follow them)"
            )
            break
        if not log.chain.entries:
            _report_chain_problem(log, report)
            break
        if outcome is None:
            outcome = _Outcome(0, 0, state.flags)
        _apply_chain(buf, log, outcome, report)
        if log.chain.damage:
            _report_chain_problem(log, report)
    return outcome


def _report_chain_problem(log: TransactionLog, report: ReplayReport) -> None:
    chain = log.chain
    if chain.damage:
        left = f"; entries {sequence_ranges(chain.left_out)} not applied" if chain.left_out else ""
        report.skipped.append(f"{log.name}: stopped at {chain.damage}{left}")
    elif not chain.entries:
        report.skipped.append(f"{log.name}: skipped: no entry with its header's sequence number {log.sequence}")


def _apply_chain(buf: bytearray, log: TransactionLog, outcome: _Outcome, report: ReplayReport) -> None:
    source = memoryview(log.data)
    for entry in log.chain.entries:
        _apply_entry(buf, source, entry)
        outcome.sequence = entry.sequence
        outcome.hbins_size = entry.hbins_size
        # The entry carries base-block flag bit 0 as it was when the entry was written.
        outcome.flags = outcome.flags & ~FLAG_KTM_LOCKED | entry.flags & FLAG_KTM_LOCKED
        report.applied.append(AppliedEntry(log.name, entry.sequence, len(entry.pages), entry.hbins_size))
    report.format = FORMAT_NEW
    report.used_logs.append(log.name)


def _apply_entry(buf: bytearray, source: memoryview, entry: LogEntry) -> None:
    end = HBIN_BASE + entry.hbins_size
    if len(buf) < end:
        buf.extend(bytes(end - len(buf)))  # the hive grew: the file grows with it (9.3)
    for page in entry.pages:
        at = HBIN_BASE + page.offset
        buf[at : at + page.size] = source[page.data_at : page.data_at + page.size]


def _replay_old(buf: bytearray, state: PrimaryState, logs: list[TransactionLog], report: ReplayReport) -> _Outcome | None:
    # An old-format log applies only to the write it was made for: same last-written time
    # (the first bin's copy stands in for a broken primary header) (9.2).
    if state.header_problem is None:
        reference = state.timestamp
    elif len(buf) >= HBIN_BASE + HBIN.size:
        reference = HBIN.read(buf, HBIN_BASE, "timestamp")
    else:
        reference = None
    matching = []
    for log in logs:
        if log.header.timestamp != reference:
            report.skipped.append(
                f"{log.name}: skipped: its timestamp 0x{log.header.timestamp:x} differs from the hive's "
                f"0x{reference or 0:x}: it was written for another state of this hive, or for another hive"
            )
        else:
            matching.append(log)
    matching.sort(key=cmp_to_key(_by_sequence), reverse=True)
    for log in matching:
        pages, why = log.dirty_pages()
        if why:
            report.skipped.append(f"{log.name}: skipped: {why}")
            continue
        written, stopped_at = _apply_dirty_pages(buf, log, pages, report)
        if written:
            report.format = FORMAT_OLD
            report.used_logs.append(log.name)
            report.old_format_pages = written
            raw = log.header.raw if state.header_problem else None
            hbins_size = log.header.hbins_size
            if stopped_at is not None:
                # Bins from the stop on were not brought up to date: the hive ends where
                # sound bins end, unless the primary's own bins reach further.
                hbins_size = max(stopped_at, 0 if state.header_problem else min(state.hbins_size, hbins_size))
            return _Outcome(max(log.sequence, state.seq1), hbins_size, log.header.flags, raw)
    return None


def _apply_dirty_pages(
    buf: bytearray, log: TransactionLog, pages: list, report: ReplayReport
) -> tuple[int, int | None]:
    """Write the dirty pages bin by bin; a bin whose header (as it will be) is not sound
    ends the replay before it (9.2). Returns how many pages were written and, when it
    stopped early, the hive-bins offset where it stopped."""
    hbins_size = log.header.hbins_size
    data = log.data
    if len(buf) < HBIN_BASE + hbins_size:
        buf.extend(bytes(HBIN_BASE + hbins_size - len(buf)))
    by_offset = {page.offset: page for page in pages}
    written = 0
    index = 0  # next page (pages are in bitmap order, so sorted by offset)
    at = 0
    stopped_at = None
    while at < hbins_size and index < len(pages):
        first = by_offset.get(at)
        if first is not None and first.data_at + SECTOR > len(data):
            report.skipped.append(f"{log.name}: stopped: the log is cut short before the page for hive-bins offset 0x{at:x}")
            stopped_at = at
            break
        header = HBIN.unpack(data, first.data_at) if first is not None else HBIN.unpack(buf, HBIN_BASE + at)
        size = header.size
        if header.signature != HBIN_SIGNATURE or header.offset != at or size < PAGE or size % PAGE or at + size > hbins_size:
            where = "in the log" if first is not None else "in the primary"
            report.skipped.append(
                f"{log.name}: stopped at the hive bin at offset 0x{at:x}: its header {where} is not sound "
                f"(signature {header.signature!r}, offset 0x{header.offset:x}, size 0x{size:x})"
            )
            stopped_at = at
            break
        end = at + size
        bin_pages = []
        while index < len(pages) and pages[index].offset < end:
            bin_pages.append(pages[index])
            index += 1
        if any(page.data_at + SECTOR > len(data) for page in bin_pages):
            report.skipped.append(f"{log.name}: stopped: the log is cut short inside the hive bin at offset 0x{at:x}")
            stopped_at = at
            break
        for page in bin_pages:
            target = HBIN_BASE + page.offset
            buf[target : target + SECTOR] = data[page.data_at : page.data_at + SECTOR]
        written += len(bin_pages)
        at = end
    return written, stopped_at


def _stamp_recovered(buf: bytearray, outcome: _Outcome) -> None:
    """The base block after recovery (9.3): sequence numbers, size and flags from the last
    entry applied, file type 0, checksum last."""
    if outcome.header_raw is not None:
        buf[:SECTOR] = outcome.header_raw
    BASE_BLOCK.write(buf, 0, "seq1", outcome.sequence)
    BASE_BLOCK.write(buf, 0, "seq2", outcome.sequence)
    BASE_BLOCK.write(buf, 0, "hbins_size", outcome.hbins_size)
    BASE_BLOCK.write(buf, 0, "flags", outcome.flags)
    BASE_BLOCK.write(buf, 0, "file_type", FILE_TYPE_PRIMARY)
    BASE_BLOCK.write(buf, 0, "checksum", checksum(buf))


# ---------------------------------------------------------------------- files


@dataclass
class Replayed:
    """A hive file replayed in memory: the recovered image, its report, the logs read."""

    path: str
    image: bytearray
    report: ReplayReport
    log_paths: list[Path]
    data: bytearray | None = None  # the primary file's own bytes
    source: object = None  # the InputFile still holding an exclusive lock (for_update)
    identity: tuple[int, int] | None = None  # (device, inode) of the primary file


def replay_file(path: str | os.PathLike, log_paths: list[str] | None = None, *, for_update: bool = False,
                wait: float = DEFAULT_WAIT, progress: Progress = QUIET) -> Replayed:
    """Read ``path`` and its logs (found beside it by name unless given) and replay them.

    The primary and its logs are read under one lock on the primary (shared; exclusive and
    kept in ``source`` with ``for_update``), so an in-place writer cannot empty the logs
    between the two reads."""
    source = open_input(path, "hive", EXCLUSIVE if for_update else SHARED, wait)
    try:
        data = source.read_hive(map_big=False)
        found = [Path(p) for p in log_paths] if log_paths else find_logs(path)
        image, report = replay(data, read_logs(found), str(path), progress)
    except BaseException:
        source.close()
        raise
    identity = source.identity
    if not for_update:
        source.close()
        source = None
    return Replayed(str(path), image, report, found, data, source, identity)


def require_replayed(replayed: Replayed) -> None:
    """Raise (exit 3) when a dirty hive got nothing from its logs."""
    report = replayed.report
    if not report.dirty or report.applied_anything:
        return
    if not replayed.log_paths:
        why = "no transaction log (.LOG, .LOG1, .LOG2) was found beside it"
    else:
        why = "; ".join(report.skipped + report.notes) or "its logs hold nothing to apply"
    raise MalformedInput(
        f"{replayed.path}: the hive is dirty and nothing usable was found in its logs: {why}"
    )


def open_replayed(
    path: str | os.PathLike, clock: Clock | None = None, log_paths: list[str] | None = None, *,
    for_update: bool = False, wait: float = DEFAULT_WAIT, progress: Progress = QUIET,
) -> tuple[Hive, ReplayReport]:
    """The hive at ``path`` as Windows would load it: replayed when dirty, as is when clean.
    ``for_update`` keeps an exclusive lock on the file, as :meth:`Hive.open` does."""
    replayed = replay_file(path, log_paths, for_update=for_update, wait=wait, progress=progress)
    try:
        require_replayed(replayed)
    except BaseException:
        if replayed.source is not None:
            replayed.source.close()
        raise
    report = replayed.report
    if not report.dirty:
        hive = Hive(replayed.image, str(path), clock)
    else:
        hive = Hive.from_replay(replayed.image, str(path), clock, report.sequence_floor)
    hive.source_identity = replayed.identity
    hive._source = replayed.source
    return hive, report


def save_replayed(hive: Hive, path: str | os.PathLike, verify=None, *, in_place: bool = False) -> list[Path]:
    """Save ``hive`` atomically; when that replaced the replayed hive's own file
    (``in_place``), then (and only then) truncate the stale logs beside it. Returns the logs
    truncated.

    Order matters for a crash: until the rename, the old primary and its logs are intact
    (still dirty, still replayable); after it, the primary is clean, so Windows ignores the
    logs, and its sequence numbers are above every one in them, so no stale entry can ever
    follow it. A crash between the steps therefore leaves one consistent state or the other.
    """
    hive.save(path, verify=verify, in_place=in_place)
    if not (hive.modified_by_replay and hive.path and in_place):
        return []
    logs = find_logs(hive.path)
    for log in logs:
        _truncate_log(log)
    return logs


def _truncate_log(path: Path) -> None:
    try:
        with open(path, "r+b") as handle:
            handle.truncate(0)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise HiveIOError(
            f"{path}: the hive was saved clean, but this stale log could not be emptied "
            f"({err.strerror or err}); Windows ignores the logs of a clean hive, so it is harmless"
        ) from None
