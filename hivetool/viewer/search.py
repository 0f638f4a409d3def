"""The search box: :mod:`hivetool.forensics.find` over every hive of the target, as ``hivetool
find`` searches, with matches named by their paths in the tree so a click opens them.

A search stops after :data:`MAX_MATCHES` matches (the page says the list was cut); a pattern
such as ``e`` would otherwise send every key of a big hive to the browser.
"""
from __future__ import annotations

from typing import Any, Callable

from ..forensics.find import Search, compile_pattern
from ..image.target import HiveTarget, Target
from ..regf.hive.model import Key
from .nodes import join
from .sources import readable
from .values import display_text

MAX_MATCHES = 500


def trees(target: Target) -> tuple[list[tuple[Key, Callable[[Key], str]]], list[str]]:
    """Each readable hive's root and how its keys are named in the tree; why others were left out."""
    if isinstance(target, HiveTarget):
        return [(target.hive.root, lambda key: key.path)], []
    opened, problems = readable(target)
    return [(hive.root, _shown_below(slot.mount or "")) for slot, hive in opened], problems


def _shown_below(mount: str) -> Callable[[Key], str]:
    """How a key of the hive mounted at ``mount`` is named: its full registry path."""
    def shown(key: Key) -> str:
        return join(mount, key.path) if key.path else mount

    return shown


def search(target: Target, pattern: str, *, regex: bool = False, case_sensitive: bool = False,
           names: bool = True, data: bool = True, limit: int = MAX_MATCHES) -> dict[str, Any]:
    """Matches of ``pattern`` in key names, value names and value data (see ``hivetool find``)."""
    finder = Search(compile_pattern(pattern, regex, case_sensitive), names=names, data=data)
    limit = max(1, min(limit, MAX_MATCHES))
    matches: list[dict[str, Any]] = []
    truncated = False
    found, problems = trees(target)
    for match in finder.in_trees(found):
        if len(matches) == limit:
            truncated = True
            break
        document: dict[str, Any] = {"kind": match.kind, "path": match.path, "matched": match.matched,
                                    "last_write": match.key.last_write_iso}
        if match.value is not None:
            value = match.value
            document["value"] = value.name
            document["type"] = value.type_name
            try:
                document["text"] = display_text(value.data, value.raw)
            except Exception:  # noqa: BLE001 - damaged data still matched as raw bytes
                document["text"] = value.raw[:48].hex(" ")
        matches.append(document)
    return {"pattern": pattern, "regex": regex, "count": len(matches), "truncated": truncated,
            "matches": matches, "problems": problems}


__all__ = ["MAX_MATCHES", "search", "trees"]
