"""``hivetool apply``: make a target hold a desired state, idempotently; or check that it does."""
from __future__ import annotations

import hashlib
import os
from contextlib import closing
from typing import TYPE_CHECKING, Any

import click

from ..errors import EXIT_FINDINGS, UsageError
from ..fileio import atomic_write
from .common import emit_json, guard_output, json_option, replay_option, warn, write_options
from .reports import say_outcome
from .targets import (
    commit, control_set_option, open_for_read, open_for_write, refuse_over_target_files, say_control_sets,
    user_option, warn_dirty, write_target_for,
)

if TYPE_CHECKING:
    from ..image.target import Target
    from ..state.apply import Change
    from ..state.check import ItemResult
    from ..state.model import DesiredState
    from .common import WriteTarget
    from .targets import Outcome


@click.command(name="apply")
@click.argument("hive_path", metavar="TARGET")
@click.argument("state_paths", metavar="STATE...", nargs=-1, required=True)
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing: exit 0 when TARGET holds the state, 1 when it drifts (takes neither -o nor "
              "--in-place).")
@click.option("--diff", "show_diff", is_flag=True, help="Print each change (with --check: each it would make), "
              "old -> new.")
@click.option("--fix-reg", metavar="FILE.reg", help="With --check: write the .reg that brings a running machine "
              "to the state (CurrentControlSet paths, regedit's layout).")
@click.option("--receipt", metavar="FILE.json", help="Write what was done: tool version, command, every target "
              "file with sha256 and size before and after, every change, the timestamp used.")
@click.option("--encoding", metavar="CP", help="Code page of .reg states without a UTF-16 byte-order mark.")
@user_option
@control_set_option
@write_options
@replay_option
@json_option
def apply(hive_path: str, state_paths: tuple[str, ...], check_only: bool, show_diff: bool, fix_reg: str | None,
          receipt: str | None, encoding: str | None, user: str | None, control_set: str, output: str | None,
          in_place: bool, timestamp: str | None, verify: bool, replay_logs: bool, log_paths: tuple[str, ...],
          as_json: bool) -> None:
    """Make TARGET hold STATE (TOML or .reg files, later files win): only what differs is
    written, and a target that already holds it is not written at all (-o gets an unchanged
    copy). With --check nothing changes; each item is reported ok, differs, missing or
    unexpected."""
    from ..paths import parse_control_set_mode
    from ..state import load_states

    mode = parse_control_set_mode(control_set)
    states = [str(p) for p in state_paths]
    if check_only:
        if output is not None or in_place:
            raise UsageError("--check changes nothing: give neither -o nor --in-place")
        if receipt:
            raise UsageError("--receipt records a write; --check writes nothing")
        guard_output(fix_reg, (hive_path,), states)
        state = load_states(states, encoding)
        _check(hive_path, state, mode, user, replay_logs, log_paths, show_diff, fix_reg, as_json)
        return
    if fix_reg:
        raise UsageError("--fix-reg goes with --check (it is the .reg for a machine that drifted)")
    write = write_target_for(hive_path, output, in_place, timestamp, verify, (*states, *log_paths))
    if receipt:
        guard_output(receipt, (hive_path,), (*states, *log_paths))
        if write.path and os.path.exists(receipt) and os.path.exists(write.path) and os.path.samefile(receipt,
                                                                                                       write.path):
            raise UsageError(f"--receipt {receipt} is the output")
    state = load_states(states, encoding)
    for message in state.warnings:
        warn(message)
    _apply(hive_path, state, write, mode, user, replay_logs, log_paths, show_diff, receipt, states, as_json)


def _check(hive_path: str, state: DesiredState, mode: str | int, user: str | None, replay_logs: bool,
           log_paths: tuple[str, ...], show_diff: bool, fix_reg: str | None, as_json: bool) -> None:
    from ..state import check_state, fix_reg_bytes

    target = open_for_read(hive_path, replay_logs, log_paths, user)
    target.options.control_set_mode = mode
    refuse_over_target_files(fix_reg, target)
    with closing(target):
        results = check_state(target, state, mode)
        warn_dirty(target)
        say_control_sets(target)
    drifted = [r for r in results if not r.ok]
    if fix_reg:
        atomic_write(fix_reg, fix_reg_bytes(results))
    if as_json:
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        emit_json({"command": "apply --check", "target": hive_path, "ok": not drifted, "counts": counts,
                   "results": [r.to_json() for r in results], "fix_reg": fix_reg})
    else:
        for result in results:
            if not result.ok or show_diff is False:
                if not result.ok:
                    click.echo(result.describe())
        if show_diff:
            for result in drifted:
                click.echo(f"would change: {_would(result)}")
        click.echo(f"{len(results) - len(drifted)} ok, {len(drifted)} drifted" +
                   (f"; fix: {fix_reg}" if fix_reg else ""))
    if drifted:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _would(result: ItemResult) -> str:
    from ..state.check import _shown

    where = result.path if result.name is None else f"{result.path} " + ("@" if result.name == "" else repr(result.name))
    return f"{where}: {_shown(result.actual) if result.actual else '(none)'} -> " + (
        _shown(result.expected) if result.expected else "(absent)" if result.status == "unexpected" else "(key)")


def _apply(hive_path: str, state: DesiredState, write: WriteTarget, mode: str | int, user: str | None,
           replay_logs: bool, log_paths: tuple[str, ...], show_diff: bool, receipt: str | None, states: list[str],
           as_json: bool) -> None:
    from ..state import apply_plan, expectations, plan_state

    target = open_for_write(hive_path, write, replay_logs, log_paths, user, mode)
    refuse_over_target_files(receipt, target)
    with closing(target):
        before = _fingerprints(target) if receipt else []
        plan = plan_state(target, state, mode)  # a ports validation error is exit 4 here, as in ports set
        changes = apply_plan(plan)
        warn_dirty(target)
        if not as_json:
            say_control_sets(target)
        outcome = commit(target, write, expectations(plan))
        after = _fingerprints(target, outcome.written) if receipt else []
    document = {"command": "apply", "target": hive_path, "states": states, "in_place": write.in_place,
                "changed": outcome.changed, "written": outcome.written,
                "changes": [change.to_json() for change in changes], "warnings": list(plan.warnings)}
    if receipt:
        atomic_write(receipt, _receipt(hive_path, states, write, changes, before, after, outcome))
    if as_json:
        emit_json(document)
        return
    if show_diff:
        for change in changes:
            click.echo(_diff_line(change))
    say_outcome(outcome, "the state", f"{len(changes)} change(s) -> {', '.join(outcome.written)}")


def _diff_line(change: Change) -> str:
    from ..state.check import _shown

    if change.name is None:
        return f"{change.action} key {change.path}  [{change.origin}]"
    where = f"{change.path} " + ("@" if change.name == "" else repr(change.name))
    old = _shown(change.old) if change.old else "(none)"
    new = _shown(change.new) if change.new else "(none)"
    return f"{change.action} value {where}: {old} -> {new}  [{change.origin}]"


def _fingerprints(target: Target, written: list[str] | None = None) -> list[dict[str, Any]]:
    """sha256 and size of every hive file of the target (before), or of what was written."""
    from ..image.spec import WIM

    if written is None:
        spec = getattr(target, "spec", None)
        if spec is not None and spec.kind == WIM:
            paths = [spec.path]
        else:
            paths = [str(slot.local) for slot in target.slots()]
    else:
        paths = [path.rsplit(":", 1)[0] if not os.path.exists(path) else path for path in written]
    return [_fingerprint(path) for path in paths]


def _fingerprint(path: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return {"path": path, "sha256": digest.hexdigest(), "size": size}


def _receipt(hive_path: str, states: list[str], write: WriteTarget, changes: list[Change],
             before: list[dict[str, Any]], after: list[dict[str, Any]], outcome: Outcome) -> bytes:
    """The receipt: the same inputs, state and --timestamp give the same bytes."""
    import json
    from importlib.metadata import version

    from ..timeutil import filetime_to_iso

    from . import invoked_args

    argv = _argv_without_receipt(invoked_args())
    document = {
        "tool": "hivetool",
        "version": version("hivetool"),
        "command": argv,
        "target": hive_path,
        "states": [_fingerprint(path) for path in states if path != "-"],
        "timestamp": filetime_to_iso(write.clock.now()),
        "changed": outcome.changed,
        "files_before": before,
        "files_after": after,
        "changes": [change.to_json() for change in changes],
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _argv_without_receipt(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--receipt":
            skip = True
            continue
        if arg.startswith("--receipt="):
            continue
        out.append(arg)
    return out
