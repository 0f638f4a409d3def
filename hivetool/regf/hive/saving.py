"""What a save writes, and where it may write it.

A save is the file as it is in memory with a stamped copy of its head: the base block marked
clean with fresh sequence numbers (regf-format 1.5) and the first bin's copy of the time.
Everything else goes out as it is, so an edit's untouched bytes stay identical on disk.
"""
from __future__ import annotations

import os

from ...errors import UsageError
from ...fileio import Chunk, OutputIsInput, refuse_output_over_inputs
from .files import find_logs
from ..records.base_block import stamp_clean
from ..records.bins import HBIN, HBIN_BASE
from .engine import Engine


def saved_chunks(engine: Engine, now: int, sequence_floor: int) -> list[Chunk]:
    """The file as it would be saved now, as chunks: a stamped copy of the base block and
    first bin header, then the rest of the buffer as is (no copy of the bulk)."""
    buf = engine.buf
    head = bytearray(buf[: HBIN_BASE + HBIN.size])
    sequence = max(engine.header.seq1, engine.header.seq2, sequence_floor) + 1
    if sequence > 0xFFFFFFFF:
        sequence = 1
    timestamp = stamp_clean(head, sequence, now, engine.space.end)
    # The first bin keeps a copy of the base block's last-written time (regf-format 2.1).
    HBIN.write(head, HBIN_BASE, "timestamp", timestamp)
    return [head, memoryview(buf)[len(head) :]]


def save_path(opened_from: str | None, identity: tuple[int, int] | None, path: str | os.PathLike[str] | None,
              in_place: bool) -> str:
    """Where ``save(path, in_place=...)`` of a hive opened from ``opened_from`` (the file with
    ``identity``, device and inode) may write; raises when that would replace an input."""
    if path is None:
        if not (in_place and opened_from):
            raise UsageError("save() needs a path, or in_place=True for a hive opened from a file")
        return opened_from
    if opened_from is None or identity is None:
        return os.fspath(path)
    opened = _is_file(path, identity)
    if in_place and not opened:
        raise UsageError(f"save(in_place=True) names {path}, which is not the file this hive was opened from "
                         f"({opened_from})")
    if not opened:
        refuse_output_over_inputs(path, [opened_from, *find_logs(opened_from)])
    elif not in_place:
        raise OutputIsInput(f"{path} is the file this hive was opened from; pass in_place=True to replace it")
    return os.fspath(path)


def _is_file(path: str | os.PathLike[str], identity: tuple[int, int]) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == identity
