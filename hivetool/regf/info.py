"""Facts about a hive file for ``info``: what its header claims and what lies beside it."""
from __future__ import annotations

import os
from typing import Any

from ..errors import HiveFormatError
from ..fileio import read_file
from ..timeutil import filetime_to_iso
from .hive import Hive
from .logfiles import find_logs

FLAG_NAMES = {0x1: "pending transactions (KTM)", 0x2: "defragmented / layered keys supported"}


def hive_info(path: str) -> dict[str, Any]:
    hive = Hive.from_bytes(read_file(path), path)
    h = hive.header
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
        "hive_bins_size": h.hbins_size,
        "bins": len(hive.space.bins),
        "flags": f"0x{h.flags:x}" + (f" ({flags})" if flags else ""),
        "embedded_name": h.file_name,
        "logs": [{"name": log.name, "size": log.stat().st_size} for log in find_logs(path)],
    }
