"""Commands that change a target: set, mkkey, rm; and new, which makes an empty hive."""
from __future__ import annotations

from contextlib import closing
from typing import Any

import click

from ..errors import UsageError, ValueNotFound
from ..fileio import atomic_write, read_file
from ..image.target import HiveTarget, Location, Target
from ..paths import parse_control_set_mode
from ..regf.hive import Hive
from ..regf.hive.model import Key, Value
from ..regf.records.types import data_from_cli, parse_type, type_name
from ..timeutil import Clock
from ..verify import Expect
from . import render, reports
from .common import WriteTarget, emit_json, guard_output, json_option, note, replay_option, warn, write_options
from .completion import complete_key
from .targets import Outcome, commit, control_set_option, open_for_write, user_option, write_target_for


def _stored(key: Key, name: str) -> Value | None:
    """The value ``name`` of ``key`` as stored now (its spelling and type); None when absent."""
    try:
        return key.value(name)
    except ValueNotFound:
        return None


def _shown(target: Target, location: Location, key_path: str) -> str:
    """A key as messages name it: its path in the hive file, or its full registry path."""
    if isinstance(target, HiveTarget):
        return key_path
    return location.slot.mounted_at + ("\\" + key_path if key_path else "")


def _edit(hive_path: str, output: str | None, in_place: bool, timestamp: str | None, verify: bool,
          replay_logs: bool, log_paths: tuple[str, ...], user: str | None,
          control_set: str) -> tuple[WriteTarget, Target]:
    """The WRITE options checked (before anything is read), then the target opened to edit."""
    mode = parse_control_set_mode(control_set)
    write = write_target_for(hive_path, output, in_place, timestamp, verify, log_paths)
    return write, open_for_write(hive_path, write, replay_logs, log_paths, user, mode)


@click.command(name="set")
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="VALUE")
@click.option("--type", "type_text", required=True, metavar="T",
              help="sz expand_sz multi_sz dword dword_be qword binary none link, or a number.")
@click.option("--data", "data_items", multiple=True, metavar="D",
              help="The data (repeat for multi_sz; numbers for dword/qword; hex bytes otherwise).")
@click.option("--data-file", type=click.Path(dir_okay=False), metavar="F", help="Read the raw data bytes from F.")
@click.option("--create-keys", is_flag=True, help="Create KEY and missing parents.")
@user_option
@control_set_option
@write_options
@replay_option
@json_option
def set_(hive_path: str, key_path: str, value_name: str, type_text: str, data_items: tuple[str, ...],
         data_file: str | None, create_keys: bool, user: str | None, control_set: str, output: str | None,
         in_place: bool, timestamp: str | None, verify: bool, replay_logs: bool, log_paths: tuple[str, ...],
         as_json: bool) -> None:
    """Set VALUE of KEY ('@' = default value). An existing value whose name matches
    case-insensitively is updated and keeps its stored spelling. A value that already holds
    this type and data is left alone: nothing is written (-o gets an unchanged copy)."""
    value_type = parse_type(type_text)
    if data_file and data_items:
        raise UsageError("give --data or --data-file, not both")
    mode = parse_control_set_mode(control_set)
    write = write_target_for(hive_path, output, in_place, timestamp, verify, (*log_paths, data_file or ""))
    if data_file:
        data = bytes(read_file(data_file))
    elif data_items or value_type == 7:
        data = data_from_cli(value_type, data_items)
    else:
        raise UsageError("give the data with --data D or --data-file F")
    name = "" if value_name == "@" else value_name
    target = open_for_write(hive_path, write, replay_logs, log_paths, user, mode)
    with closing(target):
        expect: list[tuple[Location, Expect]] = []
        changes: list[dict[str, Any]] = []
        warnings: list[str] = []
        for location in target.locate(key_path, write=True):
            hive = location.hive
            if create_keys:
                key, created = hive.create_key_reporting(location.path)
                for path in created:
                    changes.append(reports.change(_shown(target, location, path), None, "created"))
            else:
                key = hive.key(location.path)
            shown = _shown(target, location, key.path)
            old = _stored(key, name)
            created_value = hive.set_value(key, name, value_type, data)
            stored_name = old.name if old is not None else name
            action = "created" if created_value or old is None else (
                "updated" if (old.type, old.raw) != (value_type, data) else "unchanged")
            if old is not None and old.type != value_type:
                warnings.append(f"{shown}\\{render.value_name(old.name)} changes type: {type_name(old.type)} -> "
                                f"{type_name(value_type)}")
            changes.append(reports.change(shown, stored_name, action, (old.type, old.raw) if old else None,
                                          (value_type, data)))
            expect.append((location, Expect(key.path, name, value_type, bytes(data))))
        warnings += _control_set_warnings(target)
        outcome = commit(target, write, expect)
    _report("set", hive_path, write, outcome, changes, warnings, as_json, target)


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@user_option
@control_set_option
@write_options
@replay_option
@json_option
def mkkey(hive_path: str, key_path: str, user: str | None, control_set: str, output: str | None, in_place: bool,
          timestamp: str | None, verify: bool, replay_logs: bool, log_paths: tuple[str, ...], as_json: bool) -> None:
    """Create KEY and any missing parents (nothing to do, and nothing written, if it exists)."""
    write, target = _edit(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths, user, control_set)
    with closing(target):
        expect: list[tuple[Location, Expect]] = []
        changes: list[dict[str, Any]] = []
        for location in target.locate(key_path, write=True):
            key, created = location.hive.create_key_reporting(location.path)
            if not created:
                changes.append(reports.change(_shown(target, location, key.path) or "\\", None, "exists"))
            for path in created:
                changes.append(reports.change(_shown(target, location, path), None, "created"))
            expect.append((location, Expect(key.path)))
        warnings = _control_set_warnings(target)
        outcome = commit(target, write, expect)
    _report("mkkey", hive_path, write, outcome, changes, warnings, as_json, target)


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="[VALUE]", required=False)
@click.option("-r", "--recursive", is_flag=True, help="Delete the key with all its subkeys.")
@user_option
@control_set_option
@write_options
@replay_option
@json_option
def rm(hive_path: str, key_path: str, value_name: str | None, recursive: bool, user: str | None, control_set: str,
       output: str | None, in_place: bool, timestamp: str | None, verify: bool, replay_logs: bool,
       log_paths: tuple[str, ...], as_json: bool) -> None:
    """Delete VALUE of KEY ('@' = default value) or, without VALUE, KEY itself. Something already
    absent is exit 5 (`apply` with an absent state is the idempotent way to remove)."""
    write, target = _edit(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths, user, control_set)
    with closing(target):
        expect: list[tuple[Location, Expect]] = []
        changes: list[dict[str, Any]] = []
        for location in target.locate(key_path, write=True):
            hive = location.hive
            key = hive.key(location.path)
            shown = _shown(target, location, key.path)
            if value_name is not None:
                name = "" if value_name == "@" else value_name
                old = key.value(name)
                hive.delete_value(key, name)
                expect.append((location, Expect(key.path, name, present=False)))
                changes.append(reports.change(shown, old.name, "deleted", (old.type, old.raw)))
            else:
                count = hive.delete_key(key, recursive)
                expect.append((location, Expect(key.path, present=False)))
                entry = reports.change(shown, None, "deleted")
                entry["keys"] = count
                changes.append(entry)
        warnings = _control_set_warnings(target)
        outcome = commit(target, write, expect)
    _report("rm", hive_path, write, outcome, changes, warnings, as_json, target)


def _control_set_warnings(target: Target) -> list[str]:
    found = list(target.warnings)
    target.warnings.clear()
    return found


def _report(command: str, hive_path: str, write: WriteTarget, outcome: Outcome, changes: list[dict[str, Any]],
            warnings: list[str], as_json: bool, target: Target) -> None:
    choice = target.control_set_choice
    doc = reports.document(command, hive_path, outcome, changes, write.in_place, warnings,
                           control_set=choice.description if choice else None)
    if not as_json:
        for message in warnings:
            warn(message)
        if choice is not None:
            note(f"control set: {choice.description}")
    reports.finish(doc, as_json, [_change_line(entry) for entry in changes])


def _change_line(entry: dict[str, Any]) -> str:
    if entry["name"] is None:
        what = f"key {entry['path']}"
        if entry["action"] == "exists":
            return f"{what} already exists"
        extra = f" and {entry['keys'] - 1} key(s) below it" if entry.get("keys", 1) > 1 else ""
        return f"{entry['action']} {what}{extra}"
    name = render.value_name(entry["name"])
    new = entry["new"]
    if entry["action"] == "deleted":
        return f"deleted value {entry['path']}\\{name}"
    if entry["action"] == "unchanged":
        return f"unchanged {entry['path']}\\{name} = {new['type']} (already so)"
    size = len(new["raw"]) // 2
    return f"{entry['action']} {entry['path']}\\{name} = {new['type']} ({size} bytes)"


@click.command()
@click.argument("output", metavar="OUT")
@click.option("--hive-version", type=click.Choice(["1.3", "1.5"]), default="1.5", show_default=True)
@click.option("--root-name", default="ROOT", show_default=True, help="Name of the root key.")
@click.option("--timestamp", metavar="TS", help="Fix the timestamps written (ISO 8601 or @epoch).")
@json_option
def new(output: str, hive_version: str, root_name: str, timestamp: str | None, as_json: bool) -> None:
    """Create OUT: an empty hive that Windows would load."""
    guard_output(output)
    hive = Hive.new(int(hive_version.split(".")[1]), root_name, Clock.resolve(timestamp))
    data = hive.to_bytes()
    atomic_write(output, data)
    if as_json:
        emit_json({"command": "new", "output": output, "version": hive_version, "root_name": root_name,
                   "size": len(data)})
        return
    note(f"created an empty version {hive_version} hive with root {root_name!r} -> {output}")
