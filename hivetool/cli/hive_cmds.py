"""Commands on one hive: info, ls, get, set, mkkey, rm, new, check."""
from __future__ import annotations

import click

from ..errors import EXIT_FINDINGS, UsageError
from ..fileio import atomic_write, read_file
from ..regf.hive import Hive
from ..regf.types import data_from_cli, parse_type, type_name
from ..timeutil import Clock
from ..verify import Expect
from . import render
from .completion import complete_key
from .progress_bar import progress_for_terminal
from .common import (
    emit_json, guard_output, json_option, note, open_hive, replay_option, save, stdout_binary, wait_option, warn,
    write_options, write_target,
)


def _warn_if_dirty(hive: Hive) -> None:
    if hive.dirty:
        warn(
            f"{hive.path} is dirty (sequence numbers {hive.header.seq1}/{hive.header.seq2}); the newest "
            "changes may be in its transaction logs, so what is shown may be stale (--replay-logs reads "
            "through them)"
        )


def _logs_text(logs: list[dict]) -> str:
    """One line per log: name, size, format, then its sequence range or its problem."""
    lines = []
    for log in logs:
        line = f"{log['name']} ({log['size']} bytes, {log['format']}"
        if "sequences" in log:
            first, last = log["sequences"]
            line += f", entries {first}..{last}" if first != last else f", entry {first}"
        elif "dirty_pages" in log:
            line += f", sequence {log['sequence']}, {log['dirty_pages']} dirty pages"
        line += ")"
        for key in ("problem", "damage"):
            if key in log:
                line += f": {log[key]}"
        lines.append(line)
    return ("\n" + " " * 18).join(lines) or "none"


def _stored(key, name: str):
    """The value ``name`` of ``key`` as stored now (its spelling and type); None when absent."""
    from ..errors import ValueNotFound

    try:
        return key.value(name)
    except ValueNotFound:
        return None


def _open_for_write(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths):
    """Check the WRITE options (no output over an input), then open the hive: locked for the
    whole read-modify-write when it is edited in place."""
    target = write_target(hive_path, output, in_place, timestamp, verify, log_paths)
    return open_hive(hive_path, target.clock, replay_logs, log_paths, for_update=in_place), target


@click.command()
@click.argument("hive_path", metavar="HIVE")
@json_option
@replay_option
@wait_option
def info(hive_path: str, as_json: bool, replay_logs: bool, log_paths: tuple[str, ...]) -> None:
    """Version, sizes, root name, sequence numbers, dirty state, checksum, logs beside it
    (format, sequence numbers) and what a replay would apply."""
    from ..regf.info import hive_info

    facts = hive_info(hive_path, replay_logs or bool(log_paths), list(log_paths) or None)
    if as_json:
        emit_json(facts)
        return
    for label, value in facts.items():
        if label == "logs":
            shown = _logs_text(value)
        elif isinstance(value, list):
            shown = ("\n" + " " * 18).join(value) or "none"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = value
        click.echo(f"{label.replace('_', ' ') + ':':<18}{shown}")


@click.command(name="ls")
@click.argument("hive_path", metavar="HIVE")
@click.argument("key_path", metavar="[KEY]", default="", required=False, shell_complete=complete_key)
@click.option("-r", "--recursive", is_flag=True, help="Also every key below KEY.")
@json_option
@replay_option
@wait_option
def ls_(hive_path: str, key_path: str, recursive: bool, as_json: bool, replay_logs: bool, log_paths) -> None:
    """Subkeys and values of KEY (default: the root), with last-write times."""
    hive = open_hive(hive_path, None, replay_logs, log_paths)
    _warn_if_dirty(hive)
    start = hive.key(key_path)
    keys = start.walk() if recursive else iter([start])
    if as_json:
        emit_json([render.key_json(key) for key in keys])
        return
    for index, key in enumerate(keys):
        if index:
            click.echo("")
        click.echo("\n".join(render.key_lines(key)))


@click.command()
@click.argument("hive_path", metavar="HIVE")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="VALUE")
@json_option
@click.option("--raw", is_flag=True, help="Write the value's raw bytes to stdout.")
@replay_option
@wait_option
def get(hive_path: str, key_path: str, value_name: str, as_json: bool, raw: bool, replay_logs: bool, log_paths) -> None:
    """One value of KEY; VALUE '@' is the key's default value."""
    hive = open_hive(hive_path, None, replay_logs, log_paths)
    _warn_if_dirty(hive)
    value = hive.key(key_path).value("" if value_name == "@" else value_name)
    if raw:
        stdout_binary(value.raw)
    elif as_json:
        emit_json(dict(render.value_json(value), key=key_path))
    else:
        click.echo(render.get_text(value))


@click.command(name="set")
@click.argument("hive_path", metavar="HIVE")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="VALUE")
@click.option("--type", "type_text", required=True, metavar="T",
              help="sz expand_sz multi_sz dword dword_be qword binary none link, or a number.")
@click.option("--data", "data_items", multiple=True, metavar="D",
              help="The data (repeat for multi_sz; numbers for dword/qword; hex bytes otherwise).")
@click.option("--data-file", type=click.Path(dir_okay=False), metavar="F", help="Read the raw data bytes from F.")
@click.option("--create-keys", is_flag=True, help="Create KEY and missing parents.")
@write_options
@replay_option
def set_(hive_path, key_path, value_name, type_text, data_items, data_file, create_keys,
         output, in_place, timestamp, verify, replay_logs, log_paths) -> None:
    """Set VALUE of KEY ('@' = default value). An existing value whose name matches
    case-insensitively is updated and keeps its stored spelling."""
    value_type = parse_type(type_text)
    if data_file and data_items:
        raise UsageError("give --data or --data-file, not both")
    target = write_target(hive_path, output, in_place, timestamp, verify, (*log_paths, data_file))
    if data_file:
        data = read_file(data_file)
    elif data_items or value_type == 7:
        data = data_from_cli(value_type, data_items)
    else:
        raise UsageError("give the data with --data D or --data-file F")
    hive = open_hive(hive_path, target.clock, replay_logs, log_paths, for_update=in_place)
    name = "" if value_name == "@" else value_name
    if create_keys:
        key, created = hive.create_key_reporting(key_path)
        for path in created:
            note(f"created key {path}")
    else:
        key = hive.key(key_path)
    old = _stored(key, name)
    was_new = hive.set_value(key, name, value_type, data)
    if old is not None and old.type != value_type:
        warn(f"{key.path}\\{render.value_name(old.name)} changes type: {type_name(old.type)} -> "
             f"{type_name(value_type)}")
    save(hive, target, [Expect(key.path, name, value_type, data)])
    note(f"{'created' if was_new else 'updated'} {key.path}\\{render.value_name(name)} = "
         f"{type_name(value_type)} ({len(data)} bytes) -> {target.path}")


@click.command()
@click.argument("hive_path", metavar="HIVE")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@write_options
@replay_option
def mkkey(hive_path, key_path, output, in_place, timestamp, verify, replay_logs, log_paths) -> None:
    """Create KEY and any missing parents (nothing to do if it exists)."""
    hive, target = _open_for_write(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths)
    key, created = hive.create_key_reporting(key_path)
    if not created:
        note(f"key {key.path or chr(92)} already exists")
    for path in created:
        note(f"created key {path}")
    save(hive, target, [Expect(key.path)])


@click.command()
@click.argument("hive_path", metavar="HIVE")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="[VALUE]", required=False)
@click.option("-r", "--recursive", is_flag=True, help="Delete the key with all its subkeys.")
@write_options
@replay_option
def rm(hive_path, key_path, value_name, recursive, output, in_place, timestamp, verify, replay_logs, log_paths) -> None:
    """Delete VALUE of KEY ('@' = default value) or, without VALUE, KEY itself."""
    hive, target = _open_for_write(hive_path, output, in_place, timestamp, verify, replay_logs, log_paths)
    key = hive.key(key_path)
    if value_name is not None:
        name = "" if value_name == "@" else value_name
        hive.delete_value(key, name)
        expect = [Expect(key.path, name, present=False)]
        note(f"deleted value {key.path}\\{render.value_name(name)}")
    else:
        count = hive.delete_key(key, recursive)
        expect = [Expect(key.path, present=False)]
        note(f"deleted key {key.path}" + (f" and {count - 1} key(s) below it" if count > 1 else ""))
    save(hive, target, expect)


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


@click.command()
@click.argument("hive_path", metavar="HIVE")
@json_option
@replay_option
@wait_option
def check(hive_path: str, as_json: bool, replay_logs: bool, log_paths: tuple[str, ...]) -> None:
    """Structural check (like fsck). Exit 1 when it finds errors or warnings."""
    from ..regf.check import check_file, check_hive

    progress = progress_for_terminal()
    try:
        if replay_logs or log_paths:
            report = check_hive(open_hive(hive_path, None, replay_logs, log_paths), progress)
        else:
            report = check_file(hive_path, progress)
    finally:
        progress.close()
    if as_json:
        emit_json(report.to_json())
    else:
        for finding in report.findings:
            click.echo(finding.line())
        click.echo(report.summary())
    if report.problems:
        raise click.exceptions.Exit(EXIT_FINDINGS)
