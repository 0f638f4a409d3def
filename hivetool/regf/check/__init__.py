"""Structural checker for hives (``hivetool check``), in the spirit of fsck.

It checks what Windows checks when it loads a hive, plus what strict readers (yarp,
libregf) reject (regf-format sections 1-8 and 12), and never raises for malformed content:
every problem becomes a finding with a stable code, a level, a file offset and a message
(the codes and their meanings: :mod:`hivetool.regf.records.check_codes`). Each record's own
rules are its record module's problem function, shared with the engine; the parts here add
the rules between records. The walk is iterative, follows each cell once and loops only over
what cells hold, so hostile counts and cycles end quickly; at most 200 findings per code are
listed.

==============  ===========================================================================
``header``      the base block, and how much of the file can be checked
``context``     what the parts share: the claim of each cell, the decoded keys
``space``       bin headers, cell tiling, cells nothing reaches
``tree``        keys and subkey lists
``values``      value lists, values and their data
``security``    the ring of security cells, reference counts, descriptors
``report``      the findings collected into a :class:`CheckReport`
==============  ===========================================================================
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...errors import DirtyHiveError, HiveFormatError
from ...inputs import open_input
from ...progress import QUIET, Progress
from ..hive.space import CellSpace
from ..records.base_block import BASE_BLOCK_SIZE, SIGNATURE
from ..records.bins import HBIN_SIGNATURE
from ..records.problems import HiveFinding
from ..records.record import ReadBuffer
from .context import Context
from .header import Readable, check_header
from .report import CheckReport, Collector
from .security import check_security
from .space import check_bins, check_cells, report_unreached
from .tree import check_tree

if TYPE_CHECKING:
    from ..hive.hive import Hive

__all__ = ["CheckReport", "HiveFinding", "check_bytes", "check_file", "check_hive"]


def check_file(path: str | os.PathLike[str], progress: Progress = QUIET) -> CheckReport:
    """Check a hive file. Only OS errors and files that are not regular raise; bad content
    becomes findings. A file that has neither a ``regf`` base block nor a hive bin after it
    is judged on its first 4 KiB alone: a 4 GB file of something else is never read."""
    with open_input(path, "hive") as source:
        head = source.read_head(BASE_BLOCK_SIZE + len(HBIN_SIGNATURE))
        if head[:4] != SIGNATURE and head[BASE_BLOCK_SIZE:] != HBIN_SIGNATURE:
            return check_bytes(head[:BASE_BLOCK_SIZE], str(path))
        return check_bytes(source.read_all(), str(path), progress)


def check_hive(hive: "Hive", progress: Progress = QUIET) -> CheckReport:
    """Check an open hive; one that was edited or recovered from its logs as it would be saved."""
    data: ReadBuffer = hive._engine.buf
    if hive.modified or hive.modified_by_replay:
        try:
            data = hive.to_bytes()
        except DirtyHiveError:
            pass  # nothing recovered it: check the bytes as they are, the header will say dirty
    return check_bytes(data, hive.path, progress)


def check_bytes(data: ReadBuffer, path: str | None = None, progress: Progress = QUIET) -> CheckReport:
    buf = data if isinstance(data, bytearray) else bytearray(data)
    out = Collector(path)
    readable = check_header(buf, out)
    if readable is not None:
        try:
            _check_structure(buf, readable, out, progress)
        except HiveFormatError as err:
            out.add("E-STOPPED", err.file_offset, f"checking stopped early: {err.detail}")
    return out.report()


def _check_structure(buf: bytearray, readable: Readable, out: Collector, progress: Progress) -> None:
    space = CellSpace(buf, readable.hbins_size)
    space.map_all()
    ctx = Context(buf, space, readable.minor, out, progress)
    check_bins(ctx)
    check_cells(ctx)
    root = check_tree(ctx, readable.root_cell)
    if root is not None:
        check_security(ctx, root)
    report_unreached(ctx)
