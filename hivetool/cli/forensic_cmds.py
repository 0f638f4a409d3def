"""Forensic commands: recover (deleted keys and values) and timeline (key last-write times).
Both only read: a hive file or every hive of an image, with --salvage also damaged ones."""
from __future__ import annotations

import json
import sys
from contextlib import closing
from typing import Any, Iterable

import click

from .. import csvtext
from ..errors import UsageError
from ..image.target import HiveTarget, Slot, Target
from ..timeutil import filetime_to_iso
from . import render
from .common import emit_json, guard_output, json_option, note, wait_option, warn
from .reg_cmds import root_option
from .salvage import problem_json, report_salvage, salvage_option, warn_problems
from .targets import open_for_read, refuse_over_target_files, warn_dirty

CSV_FIELDS = ("hive", "kind", "offset", "path", "partial", "name", "last_write", "last_write_filetime", "type",
              "type_id", "size", "data", "raw", "state", "damage", "found_in", "evidence")


def _mount(target: Target, slot: Slot) -> str:
    """What key paths are prefixed with: nothing for a hive file (paths inside the hive, as
    ``ls`` shows them), the registry path a hive of an image is mounted at."""
    return "" if isinstance(target, HiveTarget) else (slot.mount or "")


def _joined(mount: str, path: str, partial: bool) -> str:
    if partial or not mount:
        return path
    return f"{mount}\\{path}" if path else mount


# ------------------------------------------------------------------ recover
@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per item instead of text.")
@click.option("--reg", "reg_path", metavar="FILE",
              help="Also write what was recovered as a .reg file (atomically), each item with a ';' comment; "
              "it imports with hivetool import.")
@root_option
@salvage_option
@json_option
@wait_option
def recover(hive_path: str, as_csv: bool, reg_path: str | None, root: str | None, salvage: bool,
            as_json: bool) -> None:
    """Deleted keys and values of TARGET (a hive, or every hive of an image) found in free
    cells, in the slack of live cells and past the last hive bin: name, file offset, type and
    data, the key's path as far as it can be followed, whether the data is intact, partly
    overwritten or gone, and why each candidate was believed. Nothing the live tree reaches is
    ever reported. Exits 0 whether or not anything is found."""
    from ..forensics.recover import recover as recover_hive

    if as_json and as_csv:
        raise UsageError("--json and --csv exclude each other")
    if reg_path is not None:
        if reg_path == "-":
            raise UsageError("--reg -: name a file (standard output carries the report)")
        guard_output(reg_path, (hive_path,))
    target = open_for_read(hive_path, root=root, salvage=salvage)
    groups: list[tuple[Slot, str, Any]] = []
    with closing(target):
        if reg_path is not None:
            refuse_over_target_files(reg_path, target)
        for slot in target.slots():
            recovery = recover_hive(target.open(slot))
            groups.append((slot, _mount(target, slot), recovery))
        warn_dirty(target)
        problems = report_salvage(target, salvage, as_json=True)
        reg_root = _reg_root(target) if reg_path is not None else None
    for slot, _, recovery in groups:
        problems += [problem_json(slot.shown, found) for found in recovery.problems]
    if reg_path is not None:
        _write_reg(reg_path, groups, reg_root)
    rows = (dict(_item_json(item, mount), hive=slot.shown) for slot, mount, recovery in groups for item in recovery.items)
    counts = _counts(recovery for _, _, recovery in groups)
    if as_json:
        # Streamed, item by item: a hive with thousands of remnants needs no second copy of them.
        head = {"command": "recover", "target": hive_path, "salvage": salvage, "reg": reg_path,
                "count": counts["keys"] + counts["values"], "counts": counts}
        _write_object(head, "items", rows, {"problems": problems})
        return
    warn_problems(problems)
    if as_csv:
        _write_csv(rows)
    else:
        for slot, mount, recovery in groups:
            for item in recovery.items:
                click.echo(_item_line(item, mount))
    note(f"recovered {counts['keys']} key(s) and {counts['values']} value(s): {counts['intact']} intact, "
         f"{counts['partly overwritten']} partly overwritten, {counts['gone']} gone"
         + (f"; written to {reg_path}" if reg_path else ""))


def _item_json(item: Any, mount: str) -> dict[str, Any]:
    from ..forensics.recover import item_json

    return item_json(item, _joined(mount, item.path, item.partial))


def _counts(recoveries: Iterable[Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for recovery in recoveries:
        for name, count in recovery.counts().items():
            total[name] = total.get(name, 0) + count
    if not total:
        from ..forensics.recover import STATES

        total = {"keys": 0, "values": 0, **{state: 0 for state in STATES}}
    return total


def _shown_path(item: Any, mount: str) -> str:
    if item.partial:
        return "...\\" + item.path if item.path else "(unknown key)"
    return _joined(mount, item.path, False) or "\\"


def _item_line(item: Any, mount: str) -> str:
    """``key    0x00001f0  Software\\App  last write ...  intact  [free cell]``."""
    from ..regf.hive.value import Value

    where = f"{item.kind:<6} 0x{item.offset:08x}  {_shown_path(item, mount)}"
    if item.kind == "key":
        what = f"last write {filetime_to_iso(item.timestamp)}"
    elif item.raw is None:
        what = f"{render.value_name(item.name)} = {Value(item.name, item.value_type, b'', item.cell).type_name} (data gone)"
    else:
        value = Value(item.name, item.value_type, item.raw, item.cell)
        what = f"{render.value_name(item.name)} = {value.type_name} {render.value_text(value)}"
    state = item.state if item.damage is None else f"{item.state} ({item.damage})"
    return f"{where}  {what}  {state}  [{item.found_in}]"


def _write_object(head: dict[str, Any], name: str, items: Iterable[Any], tail: dict[str, Any]) -> None:
    """``{**head, name: [items...], **tail}`` as indented JSON, the list written an item at a time."""
    from .. import jsontext

    write = sys.stdout.write
    write(jsontext.pretty(head)[:-2] + f",\n  {json.dumps(name)}: ")
    first = True
    for item in items:
        write(("[\n    " if first else ",\n    ") + jsontext.pretty(item, "\n    "))
        first = False
    write("[]" if first else "\n  ]")
    for key, value in tail.items():
        write(f",\n  {json.dumps(key)}: {jsontext.pretty(value, chr(10) + '  ')}")
    write("\n}\n")
    sys.stdout.flush()


def _write_csv(rows: Iterable[dict[str, Any]]) -> None:
    sys.stdout.write(csvtext.line(CSV_FIELDS))
    for row in rows:
        flat = dict(row)
        data = flat["data"]
        flat["data"] = json.dumps(data, ensure_ascii=False) if isinstance(data, list) else data
        flat["partial"] = "true" if flat["partial"] else "false"
        flat["evidence"] = "; ".join(flat["evidence"])
        sys.stdout.write(csvtext.line(flat.get(field) for field in CSV_FIELDS))
    sys.stdout.flush()


def _reg_root(target: Target) -> str:
    """The registry path a single hive's items go under in the .reg (--root, else inferred)."""
    if isinstance(target, HiveTarget):
        root = target.mount()
        note(f"root: {root} ({target.root_reason})")
        return root
    return ""


def _write_reg(reg_path: str, groups: list[tuple[Slot, str, Any]], reg_root: str | None) -> None:
    from ..fileio import atomic_write
    from ..forensics.recover_reg import recovered_reg

    parts = [((reg_root or slot.mount or ""), recovery.items) for slot, _, recovery in groups]
    atomic_write(reg_path, list(recovered_reg(parts)))


# ------------------------------------------------------------------ timeline
@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.option("--format", "fmt", type=click.Choice(["bodyfile", "csv", "jsonl"]), default="bodyfile",
              show_default=True, help="bodyfile: Sleuthkit 3 body format for mactime -b; csv; jsonl: one JSON "
              "object per line.")
@click.option("--since", metavar="TIME", help="Only keys written at or after TIME (ISO 8601, UTC if no zone).")
@click.option("--until", metavar="TIME", help="Only keys written at or before TIME.")
@click.option("--deleted", is_flag=True, help="Also the deleted keys recover finds, marked as deleted.")
@click.option("--logs", "with_logs", is_flag=True,
              help="Also the key states a dirty hive's transaction logs hold, with each log entry's sequence number.")
@json_option
@salvage_option
@wait_option
def timeline(hive_path: str, fmt: str, since: str | None, until: str | None, deleted: bool, with_logs: bool,
             as_json: bool, salvage: bool) -> None:
    """Every key's last-write time, one line per key: TARGET is a hive or an image (every
    hive, full registry paths). The body format is what Sleuthkit's mactime reads:
    hivetool timeline SYSTEM | mactime -b - -z UTC -d 1970-01-02"""
    from ..forensics.timeline import LiveCells, deleted_events, event_json, in_range, lines, live_events
    from ..timeutil import parse_timestamp

    first = parse_timestamp(since) if since else None
    last = parse_timestamp(until) if until else None
    target = open_for_read(hive_path, salvage=salvage)
    problems: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    header_done = False
    with closing(target):
        for slot in target.slots():
            hive = target.open(slot)
            mount = _mount(target, slot)
            live = LiveCells(hive)
            streams: list[Iterable[Any]] = [live_events(live, slot.shown, mount)]
            if deleted:
                from ..forensics.recover import recover as recover_hive

                streams.append(deleted_events(recover_hive(hive).items, slot.shown, mount))
            if with_logs:
                streams.append(_log_events(slot, hive, mount))
            for stream in streams:
                if as_json:
                    events.extend(event_json(event) for event in in_range(stream, first, last))
                    continue
                for line in lines(in_range(stream, first, last), fmt):
                    if fmt == "csv" and line.startswith("time,"):
                        if header_done:
                            continue  # one header for every hive and every kind of event
                        header_done = True
                    sys.stdout.write(line)
            problems += [problem_json(slot.shown, found) for found in live.problems]
        sys.stdout.flush()
        warn_dirty(target)
        if as_json:
            problems += report_salvage(target, salvage, as_json=True)
            emit_json({"command": "timeline", "target": hive_path, "events": events, "problems": problems})
            return
        report_salvage(target, salvage)
    warn_problems(problems)


def _log_events(slot: Slot, hive: Any, mount: str) -> list[Any]:
    from ..forensics.log_states import log_key_states
    from ..forensics.timeline import log_events

    states, notes = log_key_states(slot.local, hive._engine.buf, hive._engine.root_cell)
    for line in notes:
        warn(line)
    return log_events(states, slot.shown, mount)
