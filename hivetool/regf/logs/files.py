"""A hive file and its transaction logs: reading both under one lock, replaying, opening the
result as a Hive, and saving it so that the stale logs can never be applied again."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ...errors import HiveIOError, MalformedInput
from ...inputs import DEFAULT_WAIT, EXCLUSIVE, SHARED, InputFile, open_input
from ...progress import QUIET, Progress
from ...timeutil import Clock
from ..hive.files import find_logs
from ..hive.hive import Hive
from .log import read_logs
from .replay import replay
from .report import ReplayReport


@dataclass
class Replayed:
    """A hive file replayed in memory: the recovered image, its report, the logs read."""

    path: str
    image: bytearray
    report: ReplayReport
    log_paths: list[Path]
    data: bytearray  # the primary file's own bytes
    source: InputFile | None = None  # still holding an exclusive lock (for_update)
    identity: tuple[int, int] | None = None  # (device, inode) of the primary file


def replay_file(path: str | os.PathLike[str], log_paths: list[str] | None = None, *, for_update: bool = False,
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
    return Replayed(str(path), image, report, found, data, source if for_update else None, identity)


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
    path: str | os.PathLike[str], clock: Clock | None = None, log_paths: list[str] | None = None, *,
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
        hive = Hive._from_replay(replayed.image, str(path), clock, report.sequence_floor)
    hive.source_identity = replayed.identity
    hive._source = replayed.source
    return hive, report


def save_replayed(hive: Hive, path: str | os.PathLike[str], verify: Callable[[str], None] | None = None, *,
                  in_place: bool = False) -> list[Path]:
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
