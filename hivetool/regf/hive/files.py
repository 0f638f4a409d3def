"""Finding a hive's transaction logs: ``<hive>.LOG``, ``.LOG1``, ``.LOG2`` beside it,
matched case-insensitively (Windows file names are; images copied to Linux keep any case)."""
from __future__ import annotations

import os
from pathlib import Path

LOG_SUFFIXES = (".LOG", ".LOG1", ".LOG2")


def find_logs(hive_path: str | os.PathLike[str]) -> list[Path]:
    hive = Path(hive_path)
    folder = hive.parent if str(hive.parent) else Path(".")
    wanted = {(hive.name + suffix).upper(): suffix for suffix in LOG_SUFFIXES}
    found: dict[str, Path] = {}
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    for entry in entries:
        suffix = wanted.get(entry.upper())
        if suffix and suffix not in found and (folder / entry).is_file():
            found[suffix] = folder / entry
    return [found[s] for s in LOG_SUFFIXES if s in found]
