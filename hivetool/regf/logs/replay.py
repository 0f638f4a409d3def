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

from dataclasses import dataclass
from functools import cmp_to_key

from ...errors import HiveFormatError
from ...progress import QUIET, Progress
from ..records.base_block import BASE_BLOCK, FILE_TYPE_PRIMARY, base_block_problems, checksum
from ..records.bins import HBIN, HBIN_BASE, hbin_problems
from .log import (FORMAT_EMPTY, FORMAT_NEW, FORMAT_OLD, SECTOR, DirtyPage, LogEntry, TransactionLog, sequence_before,
                  sequence_ranges)
from .report import AppliedEntry, ReplayReport

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
    problems = {found.code: found for found in base_block_problems(data)}
    for code, more in (("E-FILE-SHORT", ""), ("E-HDR-SIGNATURE", ": not a registry hive")):
        if code in problems:
            raise HiveFormatError(problems[code].message + more, problems[code].file_offset, name)
    rec = BASE_BLOCK.unpack(data, 0)
    problem = None
    if "E-HDR-CHECKSUM" in problems:  # then nothing else in the header can be trusted either
        problem = f"base block {problems['E-HDR-CHECKSUM'].message}"
    else:
        for code in ("E-HDR-TYPE", "E-HDR-VERSION"):
            if code in problems:
                raise HiveFormatError(problems[code].message, problems[code].file_offset, name)
        if problems.keys() & {"E-HDR-FORMAT", "E-HDR-CLUSTER", "E-HDR-BINS-SIZE"}:
            problem = "base block fields are invalid (file format, clustering factor or hive-bins size)"
    return PrimaryState(rec.seq1, rec.seq2, rec.timestamp, rec.hbins_size, rec.flags, rec.log_id, problem)


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
            assert log.header is not None  # only usable logs get here
            if log.chain.entries:
                recovered = _Outcome(0, 0, log.header.flags, log.header.raw)
                _apply_chain(buf, log, recovered, report)
                report.header_from_log = log.name
                return recovered
            _report_chain_problem(log, report)
        return None
    outcome: _Outcome | None = None
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
        assert log.header is not None  # only usable logs get here
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
        assert log.header is not None  # only usable logs get here
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
    buf: bytearray, log: TransactionLog, pages: list[DirtyPage], report: ReplayReport
) -> tuple[int, int | None]:
    """Write the dirty pages bin by bin; a bin whose header (as it will be) is not sound
    ends the replay before it (9.2). Returns how many pages were written and, when it
    stopped early, the hive-bins offset where it stopped."""
    assert log.header is not None  # old-format logs with pages have a header
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
        if hbin_problems(header.signature, header.offset, size, at, hbins_size):
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
