"""Commands that change a target: set, mkkey, rm; and new, which makes an empty hive."""
from __future__ import annotations

from contextlib import closing

import click

from ..errors import UsageError, ValueNotFound
from ..fileio import atomic_write, read_file
from ..image.target import HiveTarget, Location, Target
from ..paths import parse_control_set_mode
from ..regf.hive import Hive
from ..regf.types import data_from_cli, parse_type, type_name
from ..timeutil import Clock
from ..verify import Expect
from . import render
from .common import guard_output, note, replay_option, warn, write_options
from .completion import complete_key
from .targets import commit, control_set_option, open_for_write, say_control_sets, user_option, write_target_for


def _stored(key, name: str):
    """The value ``name`` of ``key`` as stored now (its spelling and type); None when absent."""
    try:
        return key.value(name)
    except ValueNotFound:
        return None


def _shown(target: Target, location: Location, key_path: str) -> str:
    """A key as messages name it: its path in the hive file, or its full registry path."""
    if isinstance(target, HiveTarget):
        return key_path
    return location.slot.mount + ("\\" + key_path if key_path else "")


def _edit(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths, user, control_set):
    """The WRITE options checked (before anything is read), then the target opened to edit."""
    mode = parse_control_set_mode(control_set)
    write = write_target_for(hive_path, output, in_place, timestamp, verify, log_paths)
    return write, open_for_write(hive_path, write, replay_logs, log_paths, user, mode)


def _where(written: list[str]) -> str:
    return ", ".join(written)


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
def set_(hive_path, key_path, value_name, type_text, data_items, data_file, create_keys, user, control_set,
         output, in_place, timestamp, verify, replay_logs, log_paths) -> None:
    """Set VALUE of KEY ('@' = default value). An existing value whose name matches
    case-insensitively is updated and keeps its stored spelling."""
    value_type = parse_type(type_text)
    if data_file and data_items:
        raise UsageError("give --data or --data-file, not both")
    mode = parse_control_set_mode(control_set)
    write = write_target_for(hive_path, output, in_place, timestamp, verify, (*log_paths, data_file or ""))
    if data_file:
        data = read_file(data_file)
    elif data_items or value_type == 7:
        data = data_from_cli(value_type, data_items)
    else:
        raise UsageError("give the data with --data D or --data-file F")
    name = "" if value_name == "@" else value_name
    target = open_for_write(hive_path, write, replay_logs, log_paths, user, mode)
    with closing(target):
        expect, done = [], []
        for location in target.locate(key_path, write=True):
            hive = location.hive
            if create_keys:
                key, created = hive.create_key_reporting(location.path)
                for path in created:
                    note(f"created key {_shown(target, location, path)}")
            else:
                key = hive.key(location.path)
            shown = _shown(target, location, key.path)
            old = _stored(key, name)
            was_new = hive.set_value(key, name, value_type, data)
            if old is not None and old.type != value_type:
                warn(f"{shown}\\{render.value_name(old.name)} changes type: {type_name(old.type)} -> "
                     f"{type_name(value_type)}")
            expect.append((location, Expect(key.path, name, value_type, bytes(data))))
            done.append(f"{'created' if was_new else 'updated'} {shown}\\{render.value_name(name)} = "
                        f"{type_name(value_type)} ({len(data)} bytes)")
        say_control_sets(target)
        written = commit(target, write, expect)
    for line in done:
        note(f"{line} -> {_where(written)}")


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@user_option
@control_set_option
@write_options
@replay_option
def mkkey(hive_path, key_path, user, control_set, output, in_place, timestamp, verify, replay_logs,
          log_paths) -> None:
    """Create KEY and any missing parents (nothing to do if it exists)."""
    write, target = _edit(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths, user, control_set)
    with closing(target):
        expect = []
        for location in target.locate(key_path, write=True):
            key, created = location.hive.create_key_reporting(location.path)
            if not created:
                note(f"key {_shown(target, location, key.path) or chr(92)} already exists")
            for path in created:
                note(f"created key {_shown(target, location, path)}")
            expect.append((location, Expect(key.path)))
        say_control_sets(target)
        commit(target, write, expect)


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="[VALUE]", required=False)
@click.option("-r", "--recursive", is_flag=True, help="Delete the key with all its subkeys.")
@user_option
@control_set_option
@write_options
@replay_option
def rm(hive_path, key_path, value_name, recursive, user, control_set, output, in_place, timestamp, verify,
       replay_logs, log_paths) -> None:
    """Delete VALUE of KEY ('@' = default value) or, without VALUE, KEY itself."""
    write, target = _edit(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths, user, control_set)
    with closing(target):
        expect = []
        for location in target.locate(key_path, write=True):
            hive = location.hive
            key = hive.key(location.path)
            shown = _shown(target, location, key.path)
            if value_name is not None:
                name = "" if value_name == "@" else value_name
                hive.delete_value(key, name)
                expect.append((location, Expect(key.path, name, present=False)))
                note(f"deleted value {shown}\\{render.value_name(name)}")
            else:
                count = hive.delete_key(key, recursive)
                expect.append((location, Expect(key.path, present=False)))
                note(f"deleted key {shown}" + (f" and {count - 1} key(s) below it" if count > 1 else ""))
        say_control_sets(target)
        commit(target, write, expect)


@click.command()
@click.argument("output", metavar="OUT")
@click.option("--hive-version", type=click.Choice(["1.3", "1.5"]), default="1.5", show_default=True)
@click.option("--root-name", default="ROOT", show_default=True, help="Name of the root key.")
@click.option("--timestamp", metavar="TS", help="Fix the timestamps written (ISO 8601 or @epoch).")
def new(output: str, hive_version: str, root_name: str, timestamp: str | None) -> None:
    """Create OUT: an empty hive that Windows would load."""
    guard_output(output)
    hive = Hive.new(int(hive_version.split(".")[1]), root_name, Clock.resolve(timestamp))
    atomic_write(output, hive.to_bytes())
    note(f"created an empty version {hive_version} hive with root {root_name!r} -> {output}")
