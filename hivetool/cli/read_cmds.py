"""Commands that read a target: info, ls, get, check."""
from __future__ import annotations

import itertools
import json
import os
import sys
from contextlib import closing
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TypeVar

import click

from ..errors import EXIT_FINDINGS, NotFound, UsageError
from ..image.target import HiveTarget, Location, Slot, Target
from . import render
from .common import emit_json, json_option, replay_option, stdout_binary, wait_option
from .completion import complete_key
from .progress_bar import progress_for_terminal
from .salvage import refuse_with_replay, report_salvage, salvage_option
from .targets import open_for_read, say_control_sets, user_option, warn_dirty

if TYPE_CHECKING:
    from . import dump
    from ..regf.check import CheckReport
    from ..regf.hive.model import Key, Value

T = TypeVar("T")


def _logs_text(logs: list[dict[str, Any]]) -> str:
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


def _hashes(paths: list[str]) -> list[dict[str, Any]]:
    """SHA-256, SHA-1 and MD5 of each file, in one read of it."""
    import hashlib

    from ..inputs import open_input

    found = []
    for path in paths:
        digests = [hashlib.sha256(), hashlib.sha1(), hashlib.md5()]
        size = 0
        with open_input(path, "file") as source:  # shared: a hivetool writer cannot change it meanwhile
            while chunk := os.read(source.fd, 1 << 20):
                size += len(chunk)
                for digest in digests:
                    digest.update(chunk)
        found.append({"file": path, "size": size, **{d.name: d.hexdigest() for d in digests}})
    return found


def print_facts(facts: dict[str, Any]) -> None:
    for label, value in facts.items():
        if label == "logs":
            shown = _logs_text(value)
        elif label == "hashes":
            shown = ("\n" + " " * 18).join(f"{h['file']}: sha256 {h['sha256']}, sha1 {h['sha1']}, md5 {h['md5']}"
                                            for h in value)
        elif isinstance(value, list):
            shown = ("\n" + " " * 18).join(str(v) for v in value) or "none"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = value
        click.echo(f"{label.replace('_', ' ') + ':':<18}{shown}")


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.option("--hash", "with_hashes", is_flag=True,
              help="Also the SHA-256, SHA-1 and MD5 of the hive and of each log beside it (for case notes).")
@json_option
@replay_option
@wait_option
def info(hive_path: str, with_hashes: bool, as_json: bool, replay_logs: bool, log_paths: tuple[str, ...]) -> None:
    """A hive: version, sizes, root name, sequence numbers, dirty state, checksum, logs beside
    it (format, sequence numbers) and what a replay would apply. An image: `image info`."""
    from ..image.spec import HIVE, parse_target

    if parse_target(hive_path).kind != HIVE:
        from .image_cmds import show_image_info

        show_image_info(hive_path, as_json, replay_logs)
        return
    from ..regf.info import hive_info

    facts = hive_info(hive_path, replay_logs or bool(log_paths), list(log_paths) or None)
    if with_hashes:
        from ..regf.logfiles import find_logs

        facts["hashes"] = _hashes([hive_path, *(log_paths or [str(p) for p in find_logs(hive_path)])])
    if as_json:
        emit_json(facts)
    else:
        print_facts(facts)


def _shown(target: Target, location: Location) -> str | None:
    """How a key's path is printed: as stored in the hive for a hive file (as always), the
    full registry path for an image."""
    return None if isinstance(target, HiveTarget) else location.logical


@click.command(name="ls")
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="[KEY]", default="", required=False, shell_complete=complete_key)
@click.option("-r", "--recursive", is_flag=True, help="Also every key below KEY.")
@user_option
@json_option
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help="One JSON object per line and value (key path, last write, value name, type, data).")
@click.option("--csv", "as_csv", is_flag=True, help="The same rows as --jsonl, as CSV with a header line.")
@replay_option
@salvage_option
@wait_option
def ls_(hive_path: str, key_path: str, recursive: bool, user: str | None, as_json: bool, as_jsonl: bool,
        as_csv: bool, replay_logs: bool, log_paths: tuple[str, ...], salvage: bool) -> None:
    """Subkeys and values of KEY (default: the root; in an image, the hives), with last-write
    times. Output streams: the first key is out before the last is read."""
    if as_json + as_jsonl + as_csv > 1:
        raise UsageError("--json, --jsonl and --csv exclude each other")
    refuse_with_replay(salvage, replay_logs, log_paths)
    target = open_for_read(hive_path, replay_logs, log_paths, user, salvage=salvage)
    with closing(target):
        from .. import jsontext  # only ls needs these: get, info and check start without them
        from . import dump

        listing = _listing(target, key_path, recursive)
        first = next(listing, None)  # finds KEY (or fails) before anything is printed
        warn_dirty(target)
        say_control_sets(target)
        entries = itertools.chain([first] if first is not None else [], listing)
        write = sys.stdout.write
        if as_json and salvage:  # an object: the keys, then what could not be read
            write(f'{{"command": "ls", "target": {json.dumps(hive_path, ensure_ascii=False)}, "keys": ')
            jsontext.write_array(_flushing_first(entry.json_text() for entry in entries), write)
            write(f', "problems": {json.dumps(report_salvage(target, True, as_json=True), ensure_ascii=False)}}}\n')
        elif as_json:
            jsontext.write_array(_flushing_first(entry.json_text() for entry in entries), write)
        elif as_jsonl or as_csv:
            (dump.write_jsonl if as_jsonl else dump.write_csv)(_flushing_first(entries), write)
        else:
            for index, entry in enumerate(_flushing_first(entries)):
                write(("\n" if index else "") + "\n".join(entry.lines()) + "\n")
        sys.stdout.flush()
        if not as_json:
            report_salvage(target, salvage)


def _flushing_first(items: Iterable[T]) -> Iterator[T]:
    """``items``, with standard output flushed after the first is written: a pipe sees the
    start of a long dump at once, not when the first buffer fills."""
    iterator = iter(items)
    for item in iterator:
        yield item
        sys.stdout.flush()
        break
    yield from iterator


def _listing(target: Target, key_path: str, recursive: bool) -> Iterator[dump.Entry]:
    """KEY and, with ``recursive``, every key below it, each rendered only as asked."""
    from . import dump

    virtual = getattr(target, "virtual_key", lambda path: None)(key_path)
    if virtual is not None:
        shown, children = virtual
        yield dump.VirtualEntry(shown, children)
        if recursive:
            for child in children:
                yield from _listing(target, f"{shown}\\{child}" if shown else child, True)
        return
    locations = target.locate_all(key_path) if hasattr(target, "locate_all") else target.locate(key_path)
    if _is_classes_root(target, key_path):  # HKCR: the user's classes over the machine's
        yield from _merged(target, key_path, locations, recursive)
        return
    location = locations[0]
    key = location.hive.key(location.path)
    base = _shown(target, location)
    if getattr(location.hive, "salvage", None) is not None:  # --salvage: skip what cannot be read
        from ..forensics.tolerant import tolerant_key

        start = tolerant_key(key)
        if not recursive:
            yield dump.KeyEntry(start, base)  # type: ignore[arg-type]
            return
        yield from (dump.KeyEntry(below, None if base is None else _below(base, start.path, below.path))  # type: ignore[arg-type]
                    for below in start.walk())
        return
    if not recursive:
        yield dump.KeyEntry(key, base)
        return
    yield from dump.subtree(location.hive, key, base)


def _is_classes_root(target: Target, key_path: str) -> bool:
    from ..paths import HKCR, is_logical, normalize_path

    return (not isinstance(target, HiveTarget) and is_logical(key_path)
            and normalize_path(key_path).path.split("\\")[0] == HKCR)


def _below(base: str, start: str, path: str) -> str:
    rest = path[len(start):].lstrip("\\") if start else path
    return base + ("\\" + rest if rest else "")


def _merged(target: Target, key_path: str, locations: list[Location], recursive: bool) -> Iterator[dump.Entry]:
    keys = []
    for location in locations:
        try:
            keys.append(location.hive.key(location.path))
        except NotFound:  # absent on one side: the other side shows
            continue
    from ..paths import normalize_path
    from . import dump

    shown = normalize_path(key_path).path
    yield dump.MergedEntry(shown, keys)
    if recursive:
        for name in render.merged_subkey_names(keys):
            yield from _listing(target, f"{shown}\\{name}", True)


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="KEY", shell_complete=complete_key)
@click.argument("value_name", metavar="VALUE")
@user_option
@json_option
@click.option("--raw", is_flag=True, help="Write the value's raw bytes to stdout.")
@replay_option
@wait_option
def get(hive_path: str, key_path: str, value_name: str, user: str | None, as_json: bool, raw: bool,
        replay_logs: bool, log_paths: tuple[str, ...]) -> None:
    """One value of KEY; VALUE '@' is the key's default value."""
    target = open_for_read(hive_path, replay_logs, log_paths, user)
    with closing(target):
        name = "" if value_name == "@" else value_name
        value = _value(target, key_path, name)
        warn_dirty(target)
        say_control_sets(target)
    if raw:
        stdout_binary(value.raw)
    elif as_json:
        emit_json(dict(render.value_json(value), key=key_path))
    else:
        click.echo(render.get_text(value))


def _value(target: Target, key_path: str, name: str) -> Value:
    """The value, looked up where Windows would: for HKCR the user's key first."""
    locations = target.locate_all(key_path) if hasattr(target, "locate_all") else target.locate(key_path)
    if len(locations) == 1:
        return locations[0].hive.key(locations[0].path).value(name)
    missing: NotFound | None = None
    for location in locations:
        try:
            return location.hive.key(location.path).value(name)
        except NotFound as err:
            missing = missing or err
    assert missing is not None
    raise missing


@click.command()
@click.argument("hive_path", metavar="TARGET")
@json_option
@replay_option
@wait_option
def check(hive_path: str, as_json: bool, replay_logs: bool, log_paths: tuple[str, ...]) -> None:
    """Structural check (like fsck); in an image, of every hive. Exit 1 when it finds errors or
    warnings."""
    from ..image.spec import HIVE, parse_target
    from ..regf.check import check_file, check_hive

    reports: list[tuple[Slot | None, CheckReport]] = []  # no slot: a hive file
    with closing(progress_for_terminal()) as progress:
        if parse_target(hive_path).kind == HIVE:
            if replay_logs or log_paths:
                target = open_for_read(hive_path, replay_logs, log_paths, progress=progress)
                reports.append((None, check_hive(target.open(target.slots()[0]), progress)))
            else:
                reports.append((None, check_file(hive_path, progress)))
        else:
            target = open_for_read(hive_path, replay_logs, log_paths, progress=progress)
            with closing(target):
                for slot in target.slots():
                    if replay_logs:
                        reports.append((slot, check_hive(target.open(slot), progress)))
                    else:
                        reports.append((slot, check_file(slot.local, progress)))
    problems = sum(len(report.problems) for _, report in reports)
    if as_json:
        if reports and reports[0][0] is None:
            emit_json(reports[0][1].to_json())
        else:
            emit_json([dict(report.to_json(), hive=slot.relative, mount=slot.mount) for slot, report in reports
                       if slot is not None])
    else:
        for checked, report in reports:
            if checked is not None:
                click.echo(f"== {checked.mount}: {checked.relative}")
            for finding in report.findings:
                click.echo(finding.line())
            click.echo(report.summary())
    if problems:
        raise click.exceptions.Exit(EXIT_FINDINGS)
