"""``--salvage`` for the reading commands (ls, export, find, timeline, recover): damaged hives
are read as far as they go, and what could not be read is said with its file offset (on
standard error for text output, in the JSON document's ``problems`` list)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

import click

from ..errors import UsageError
from ..image.target import Target
from .common import warn

_F = TypeVar("_F", bound=Callable[..., Any])


def salvage_option(func: _F) -> _F:
    return click.option(
        "--salvage", is_flag=True,
        help="Read a damaged hive (cut short, damaged bins, a bad base block) as far as it goes, never for writing; "
        "what could not be read is reported with its file offset.",
    )(func)


def refuse_with_replay(salvage: bool, replay_logs: bool, log_paths: Iterable[str] = ()) -> None:
    if salvage and (replay_logs or tuple(log_paths)):
        raise UsageError("--salvage reads the primary file as it is: it does not combine with --replay-logs or --log")


def problem_json(hive: str, found: Any) -> dict[str, Any]:
    return {"hive": hive, "offset": found.file_offset, "message": found.message}


def salvage_problems(target: Target) -> list[dict[str, Any]]:
    """What the salvaged hives of ``target`` could not read, as JSON objects."""
    problems: list[dict[str, Any]] = []
    for slot in target.opened():
        log = getattr(slot.hive, "salvage", None)
        if log is None:
            continue
        problems.extend(problem_json(slot.shown, found) for found in log.problems)
        if log.dropped:
            problems.append({"hive": slot.shown, "offset": None,
                             "message": f"{log.dropped} more problems not listed"})
    return problems


def warn_problems(problems: list[dict[str, Any]]) -> None:
    """One warning line per problem: ``HIVE: 0x1a020: message``."""
    for found in problems:
        where = "-" if found["offset"] is None else f"0x{found['offset']:x}"
        warn(f"{found['hive']}: {where}: {found['message']}")


def report_salvage(target: Target, salvage: bool, as_json: bool = False) -> list[dict[str, Any]]:
    """With ``salvage``: what could not be read, said on standard error unless the output is
    JSON (where it goes into the document's ``problems``)."""
    if not salvage:
        return []
    problems = salvage_problems(target)
    if not as_json:
        warn_problems(problems)
    return problems
