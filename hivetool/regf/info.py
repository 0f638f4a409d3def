"""Facts about a hive file for ``info``: what its header claims, the transaction logs
beside it, and what a replay of them would apply."""
from __future__ import annotations

import os
from typing import Any

from ..errors import HiveFormatError
from ..timeutil import filetime_to_iso
from .hive import Hive
from .logs import replay_file, require_replayed

FLAG_NAMES = {0x1: "pending transactions (KTM)", 0x2: "defragmented / layered keys supported"}


def hive_info(path: str, replay_logs: bool = False, log_paths: list[str] | None = None) -> dict[str, Any]:
    """The facts; with ``replay_logs`` those of the hive after replaying its logs."""
    replayed = replay_file(path, log_paths)
    report = replayed.report
    if replay_logs and report.dirty:
        require_replayed(replayed)
        hive = Hive._from_replay(replayed.image, path, None, report.sequence_floor)
    else:
        hive = Hive(replayed.data, path)  # the file's own bytes are what we show
    del replayed
    h = hive._engine.header
    try:
        root_name = hive.root.name
    except HiveFormatError as err:
        root_name = f"(unreadable: {err.detail})"
    flags = ", ".join(name for bit, name in FLAG_NAMES.items() if h.flags & bit)
    return {
        "file": path,
        "size": os.path.getsize(path),
        "version": h.version,
        "root_name": root_name,
        "sequence_1": h.seq1,
        "sequence_2": h.seq2,
        "dirty": h.dirty,
        "checksum_ok": h.checksum_ok,
        "checksum": f"0x{h.stored_checksum:08x}",
        "last_written": filetime_to_iso(h.timestamp),
        "last_written_filetime": h.timestamp,
        "hive_bins_size": h.hbins_size,
        "bins": len(hive._engine.space.bins),
        "flags": f"0x{h.flags:x}" + (f" ({flags})" if flags else ""),
        "embedded_name": h.file_name,
        "logs": report.logs,
        "replay": report.summary(planned=not replay_logs),
        "replay_problems": report.skipped,
    }
