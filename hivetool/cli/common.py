"""Options and helpers shared by the commands (the WRITE group, --json, opening hives)."""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, NamedTuple

import click

from ..fileio import check_output_target
from ..regf.hive import Hive
from ..timeutil import Clock


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")(func)


def write_options(func: Callable) -> Callable:
    """WRITE = (-o OUT | --in-place) [--timestamp TS] [--verify]."""
    func = click.option(
        "--verify",
        is_flag=True,
        help="Re-read the output with python-registry and regipy before it replaces anything; "
        "refuse (exit 4) if either disagrees.",
    )(func)
    func = click.option(
        "--timestamp",
        metavar="TS",
        help="Fix every timestamp written (ISO 8601, UTC when no zone, or @epoch). "
        "Default: SOURCE_DATE_EPOCH, then now.",
    )(func)
    func = click.option("--in-place", is_flag=True, help="Replace the input atomically.")(func)
    func = click.option("-o", "--output", metavar="OUT", help="Write a new file; the input is left untouched.")(func)
    return func


class WriteTarget(NamedTuple):
    path: str
    clock: Clock
    verify: bool


def write_target(hive_path: str, output: str | None, in_place: bool, timestamp: str | None, verify: bool) -> WriteTarget:
    """Validate the WRITE options before any work is done."""
    path = check_output_target(hive_path, output, in_place)
    return WriteTarget(path, Clock.resolve(timestamp), verify)


def replay_option(func: Callable) -> Callable:
    """--replay-logs [--log FILE ...]: read a dirty hive through its transaction logs."""
    func = click.option(
        "--log",
        "log_paths",
        multiple=True,
        metavar="FILE",
        help="Replay this transaction log (repeat for several) instead of the logs found beside "
        "HIVE; implies --replay-logs.",
    )(func)
    func = click.option(
        "--replay-logs",
        is_flag=True,
        help="If HIVE is dirty, replay its transaction logs (HIVE.LOG1/.LOG2 beside it) in memory "
        "first, as Windows does when it loads a hive. Nothing is written unless the command writes; "
        "with --in-place the stale logs are emptied once the clean hive is safely in place.",
    )(func)
    return func


def open_hive(
    path: str, clock: Clock | None = None, replay_logs: bool = False, logs: tuple[str, ...] | list[str] | None = None
) -> Hive:
    """Open a hive; with ``replay_logs`` (or explicit ``logs``) a dirty one is replayed first,
    and what the replay skipped is said on stderr."""
    if not (replay_logs or logs):
        return Hive.open(path, clock)
    from ..regf.replay import open_replayed

    hive, report = open_replayed(path, clock, list(logs) if logs else None)
    for problem in report.skipped:
        warn(problem)
    if report.applied_anything:
        note(report.summary())
    return hive


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def warn(message: str) -> None:
    click.echo(f"hivetool: warning: {message}", err=True)


def note(message: str) -> None:
    click.echo(message, err=True)


def save(hive: Hive, target: WriteTarget, expectations: list | None = None) -> list:
    """Save atomically; with --verify the independent readers must agree first.
    Returns the stale transaction logs emptied (a replayed hive saved in place)."""
    verify = None
    if target.verify:
        from ..verify import verify_hive_file

        def verify(temp_path: str) -> None:
            verify_hive_file(temp_path, expectations or [])

    if hive.modified_by_replay:
        from ..regf.replay import save_replayed

        emptied = save_replayed(hive, target.path, verify=verify)
        for log in emptied:
            note(f"emptied the stale transaction log {log}")
        return emptied
    hive.save(target.path, verify=verify)
    return []


def stdout_binary(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
