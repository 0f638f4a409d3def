"""What a writing command reports: each change with its old and new data, whether anything
changed, and what was written; as text on stderr or as one JSON document (``--json``).

Every writing command (set, mkkey, rm, import, replay, ports set, apply) says ``unchanged`` when
the target already held what was asked: then nothing was written in place, and ``-o`` got an
unchanged copy of the input.
"""
from __future__ import annotations

from typing import Any

from ..regf.records.types import data_json
from .common import emit_json, note
from .targets import Outcome


def change(path: str, name: str | None, action: str, old: tuple[int, bytes] | None = None,
           new: tuple[int, bytes] | None = None) -> dict[str, Any]:
    """One change: ``action`` is created, updated, unchanged, deleted or exists (a key)."""
    entry: dict[str, Any] = {"path": path, "name": name, "action": action,
                             "old": data_json(*old) if old else None, "new": data_json(*new) if new else None}
    if name is not None:
        entry["type_changed"] = bool(old and new and old[0] != new[0])
    return entry


def document(command: str, target: str, outcome: Outcome | None, changes: list[dict[str, Any]],
             in_place: bool, warnings: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "command": command,
        "target": target,
        "in_place": in_place,
        "changed": bool(outcome and outcome.changed),
        "written": outcome.written if outcome else [],
        "changes": changes,
        "warnings": warnings or [],
        **extra,
    }


def say_outcome(outcome: Outcome, what: str, changed_line: str) -> None:
    """The last line of a writing command: ``changed_line``, or that the target already held
    ``what`` (and whether an unchanged copy was handed on)."""
    if outcome.changed:
        note(changed_line)
    elif outcome.written:
        note(f"unchanged: the target already holds {what} -> {', '.join(outcome.written)} (an unchanged copy)")
    else:
        note(f"unchanged: the target already holds {what}; nothing written")


def finish(doc: dict[str, Any], as_json: bool, lines: list[str] | None = None) -> None:
    """Print the report: the JSON document, or the change ``lines`` with what was written at
    the end of the last one (``created X = REG_DWORD (4 bytes) -> OUT``)."""
    if as_json:
        emit_json(doc)
        return
    lines = list(lines or [])
    written = ", ".join(doc["written"])
    if doc["changed"]:
        tail = f" -> {written}"
    elif written:
        tail = f"; unchanged: the target already holds this -> {written} (an unchanged copy)"
    else:
        tail = "; unchanged: the target already holds this, nothing written"
    if lines:
        lines[-1] += tail
    else:
        lines = [tail.lstrip("; ")]
    for line in lines:
        note(line)
