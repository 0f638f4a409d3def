"""Commands between a target and .reg text: export, import, diff."""
from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import click

from ..errors import EXIT_FINDINGS, KeyNotFound, RefusedUnsafe, UsageError
from ..fileio import STDOUT
from ..image.target import HiveTarget, Slot, Target
from ..paths import parse_control_set_mode
from ..regfile.patch import Patch
from ..timeutil import Clock
from . import reports
from .common import emit_json, guard_output, json_option, note, utf8_option, wait_option, warn, write_options
from .completion import complete_key
from .progress_bar import progress_for_terminal
from .salvage import report_salvage, salvage_option
from .reg_cmds import (
    DEFAULT_CODEPAGE, check_dialect_options, dialect, read_reg_files, report_losses, root_option, write_text,
)
from .targets import (
    commit, control_set_option, open_for_read, open_for_write, say_control_sets, user_option, warn_dirty,
    write_target_for,
)

if TYPE_CHECKING:
    from ..image.image import ImageTarget
    from ..image.target import Location
    from ..progress import Progress
    from ..regf.hive import Hive
    from ..regf.hive.model import Value
    from ..regfile.apply import Plan
    from ..regfile.patch import Op
    from ..regfile.steps import ApplyCounts
    from ..verify import Expect
    from .common import WriteTarget

MAX_LISTED = 20


def _root_of(target: HiveTarget) -> str:
    root = target.mount()
    note(f"root: {root} ({target.root_reason})")
    return root


# ------------------------------------------------------------------ export
@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.argument("key_path", metavar="[KEY]", default="", required=False, shell_complete=complete_key)
@click.option("-o", "--output", metavar="FILE.reg", help="Write this file (atomically) instead of stdout.")
@root_option
@user_option
@click.option("--regedit4", is_flag=True, help="Write a REGEDIT4 file in the ANSI code page (see --encoding).")
@click.option("--regedit-compat", is_flag=True,
              help="Reproduce regedit's output exactly, including where it loses data "
              "(strings cut at a NUL; characters outside the code page as '?').")
@click.option("--encoding", "codepage", default="cp1252", show_default=True, metavar="CP",
              help="ANSI code page of a REGEDIT4 file.")
@utf8_option
@json_option
@salvage_option
@wait_option
def export(hive_path: str, key_path: str, output: str | None, root: str | None, user: str | None, regedit4: bool,
           regedit_compat: bool, codepage: str, utf8: bool, as_json: bool, salvage: bool) -> None:
    """Write TARGET (or KEY and everything below it) as a .reg file, as regedit exports it.

    KEY is a path inside the hive or a full registry path (HKEY_LOCAL_MACHINE\\SYSTEM\\...,
    where CurrentControlSet means the set Select\\Current names). An image without KEY gives
    every hive in one file, each below the path it is mounted at. Values regedit would write
    with loss are written exactly (as hex) unless --regedit-compat.
    """
    from ..regfile.export import ExportStream

    check_dialect_options(regedit4, utf8)
    if as_json and (output is None or output == STDOUT):
        raise UsageError("--json prints a report on standard output: give the .reg file with -o FILE.reg")
    guard_output(output, (hive_path,), stdout_allowed=True)
    target = open_for_read(hive_path, user=user, root=root, salvage=salvage)
    with closing(target):
        parts = _export_parts(target, key_path)
        warn_dirty(target)
        say_control_sets(target)
        if target.control_set_choice is not None:
            note(f"control set: {target.control_set_choice.description}")
        # Streamed: memory stays small whatever the size of the file (a deep chain's key lines
        # grow with the square of its depth). What regedit would lose is known once written.
        stream: Any
        if salvage:  # a walk that skips (and notes) what it cannot read
            from ..forensics.tolerant import SalvagedExport

            stream = SalvagedExport(parts, dialect(regedit4), regedit_compat, codepage)
        else:
            stream = ExportStream.of_parts(parts, dialect(regedit4), regedit_compat, codepage)
        write_text(stream, output, regedit4, utf8)
        problems = report_salvage(target, salvage, as_json)
    if as_json:
        emit_json({"command": "export", "target": hive_path, "output": output, "top": stream.top,
                   "keys": stream.keys, "values": stream.values,
                   "losses": [{"key": loss.key, "name": loss.name, "reason": loss.reason} for loss in stream.losses],
                   **({"problems": problems} if salvage else {})})
        return
    report_losses(stream.losses)
    note(f"exported {stream.keys} key(s) and {stream.values} value(s) of {stream.top}"
         + (f" -> {output}" if output and output != STDOUT else ""))


def _export_parts(target: Target, key_path: str) -> list[tuple[Hive, str, str]]:
    """(hive, mount, key below which to export) for each hive the export covers."""
    if isinstance(target, HiveTarget):
        root = _root_of(target)
        location = target.locate(key_path)[0]
        return [(location.hive, root, location.path)]
    image = cast("ImageTarget", target)  # a target is a hive file or an image
    virtual = image.virtual_key(key_path)
    if virtual is not None:
        shown, _ = virtual
        slots = [slot for slot in image.slots() if slot.mounted_at.startswith(shown)]
        return [(image.open(slot), slot.mounted_at, "") for slot in slots]
    location = image.locate(key_path)[0]
    return [(location.hive, location.slot.mounted_at, location.path)]


# ------------------------------------------------------------------ import
@click.command(name="import")
@click.argument("hive_path", metavar="TARGET")
@click.argument("reg_paths", metavar="FILE.reg...", nargs=-1, required=True)
@root_option
@user_option
@control_set_option
@click.option("--lenient", is_flag=True, help="Skip the lines Windows would skip (each listed as a warning) "
              "instead of refusing the file.")
@click.option("--skip-foreign", is_flag=True, help="Apply what lies below ROOT (in an image: in its hives) and "
              "list the keys outside it, instead of refusing.")
@click.option("--encoding", "encoding", metavar="CP",
              help="Code page of files without a UTF-16 byte-order mark. Default: cp1252, or UTF-8 "
              "(with a warning) for a file that is valid UTF-8.")
@click.option("--dry-run", is_flag=True, help="Print the operations and write nothing (no -o needed).")
@write_options
@json_option
def import_(hive_path: str, reg_paths: tuple[str, ...], root: str | None, user: str | None, control_set: str,
            lenient: bool, skip_foreign: bool, encoding: str | None, dry_run: bool, output: str | None,
            in_place: bool, timestamp: str | None, verify: bool, as_json: bool) -> None:
    """Apply .reg files to TARGET, all or nothing. Strict: a line Windows would skip or
    reject is an error (exit 3) unless --lenient. Keys outside ROOT: exit 4 unless
    --skip-foreign. In an image, every key goes to the hive that holds it, and every changed
    hive is written, or none."""
    from .usage_hints import swapped_import_arguments

    swapped = swapped_import_arguments(hive_path, reg_paths)
    if swapped:
        raise UsageError(swapped)
    mode = parse_control_set_mode(control_set)
    write = None if dry_run else write_target_for(hive_path, output, in_place, timestamp, verify, reg_paths)
    if list(reg_paths).count(STDOUT) > 1:
        raise UsageError("standard input (-) can be read only once")
    with closing(progress_for_terminal()) as progress:
        patch = read_reg_files(reg_paths, encoding, lenient, " (--lenient skips such lines, as Windows does)",
                                progress)
        if write is None:
            target = open_for_read(hive_path, user=user, root=root)
            target.options.clock = Clock.resolve(timestamp)
            target.options.control_set_mode = mode
        else:
            target = open_for_write(hive_path, write, user=user, control_set=mode, root=root, progress=progress)
        with closing(target):
            plans = _plans(target, patch, mode, skip_foreign)
            if write is None:  # --dry-run
                _dry_run(plans, hive_path, as_json)
                return
            _apply(target, plans, write, progress, as_json, hive_path)


def _plans(target: Target, patch: Patch, mode: str | int, skip_foreign: bool) -> list[tuple[Slot, Plan]]:
    """(slot, plan) for each hive the patch touches, every operation mapped and checked
    before anything changes."""
    from ..regfile.apply import plan_patch

    if isinstance(target, HiveTarget):
        root = _root_of(target)
        plans = [(target.slot, plan_patch(target.hive, patch, root, mode, skip_foreign))]
    else:
        groups, foreign = _route(cast("ImageTarget", target), patch)  # a target is a hive file or an image
        if foreign and not skip_foreign:
            keys = list(dict.fromkeys(op.key for op, _ in foreign))
            listed = "; ".join(f"{key} ({why})" for key, why in dict(foreign_reasons(foreign)).items())
            raise RefusedUnsafe(f"{len(keys)} key(s) lie outside the image's hives: {listed}. Nothing was written; "
                                "--skip-foreign applies the rest and lists these")
        # routed: each slot's hive is open (open() hands it back) and mounted where the layout says
        plans = [(slot, plan_patch(target.open(slot), sub, slot.mounted_at, mode)) for slot, sub in groups]
        if foreign:
            warn(f"skipped {len(foreign)} operation(s) on key(s) outside the image's hives:")
            for key, why in list(foreign_reasons(foreign).items())[:MAX_LISTED]:
                note(f"  {key} ({why})")
    for slot, plan in plans:
        for message in plan.warnings:
            warn(message)
        if plan.control_sets is not None:
            note(f"control set: {plan.control_sets.description}")
        if plan.foreign:
            keys = list(dict.fromkeys(op.key for op in plan.foreign))
            warn(f"skipped {len(plan.foreign)} operation(s) on {len(keys)} key(s) outside {plan.mapper.root}:")
            for key in keys:
                note(f"  {key}")
    return plans


def _dry_run(plans: list[tuple[Slot, Plan]], target_text: str, as_json: bool) -> None:
    from ..regf.records.types import data_json

    if as_json:
        emit_json({"command": "import", "target": target_text, "dry_run": True, "operations": [
            {"kind": item.op.kind, "key": item.op.key, "hive": slot.mount, "targets": list(item.targets),
             "name": item.op.name, "new": data_json(item.op.type, item.op.data)}
            for slot, plan in plans for item in plan.ops]})
        return
    for _, plan in plans:
        for item in plan.ops:
            click.echo(item.describe())
    note(f"dry run: {sum(len(plan.ops) for _, plan in plans)} operation(s), nothing written")


def foreign_reasons(foreign: list[tuple[Op, str]]) -> dict[str, str]:
    return {op.key: why for op, why in foreign}


def _route(target: ImageTarget, patch: Patch) -> tuple[list[tuple[Slot, Patch]], list[tuple[Op, str]]]:
    """Split a patch by hive, each key rewritten below the path its hive is mounted at."""
    routed: dict[str, tuple[Slot, str] | str] = {}
    groups: dict[int, tuple[Slot, Patch]] = {}
    foreign: list[tuple[Op, str]] = []
    for op in patch:
        found = routed.get(op.key)
        if found is None:
            try:
                found = target.route(op.key)
            except KeyNotFound as err:  # no such hive, a volatile key: outside the image
                found = str(err)
            routed[op.key] = found
        if isinstance(found, str):
            foreign.append((op, found))
            continue
        slot, key = found
        groups.setdefault(id(slot), (slot, Patch()))[1].ops.append(replace(op, key=key))
    return list(groups.values()), foreign


def _apply(target: Target, plans: list[tuple[Slot, Plan]], write: WriteTarget, progress: Progress, as_json: bool,
           target_text: str) -> None:
    from ..regfile.apply import apply_plan, final_effects
    from ..verify import Expect

    summaries: list[tuple[Slot, ApplyCounts]] = []
    expect: list[tuple[Location, Expect]] = []
    warnings: list[str] = []
    for slot, plan in plans:
        counts = apply_plan(target.open(slot), plan, progress)  # opened when planned: open() hands it back
        warnings.extend(counts.notes)
        summaries.append((slot, counts))
        if write.verify:
            expect.extend((_location(slot), Expect(e.key, e.name, e.type, e.data, e.present))
                          for e in final_effects(plan))
    outcome = commit(target, write, expect)
    hives = [dict(counts.to_json(), mount=slot.mount, path=slot.relative or slot.shown) for slot, counts in summaries]
    doc = reports.document("import", target_text, outcome, [], write.in_place, warnings, hives=hives)
    if not as_json:
        for message in warnings:
            warn(message)
    if isinstance(target, HiveTarget):
        lines = [summaries[0][1].summary()] if summaries else []
    else:
        lines = [f"{slot.mount} ({slot.relative}): {counts.summary()}" for slot, counts in summaries]
    reports.finish(doc, as_json, lines)


def _location(slot: Slot) -> Location:
    from ..image.target import Location

    return Location(slot, "")


# ------------------------------------------------------------------ diff
@click.command()
@click.argument("old_path", metavar="OLD")
@click.argument("new_path", metavar="NEW")
@click.option("--format", "output_format", type=click.Choice(["reg", "text", "json"]), default=None,
              help="reg (the default): the .reg patch; text or json: what changed, for a person to read "
              "(old and new data, last-write times on both sides, what deleted keys held).")
@click.option("-o", "--output", metavar="PATCH.reg", help="Write the .reg patch to this file (atomically).")
@root_option
@click.option("--regedit4", is_flag=True, help="Write a REGEDIT4 file in the ANSI code page (see --encoding).")
@click.option("--encoding", "codepage", default="cp1252", show_default=True, metavar="CP",
              help="ANSI code page of a REGEDIT4 file.")
@utf8_option
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are differences (like git diff).")
@json_option
@wait_option
def diff(old_path: str, new_path: str, output_format: str | None, output: str | None, root: str | None,
         regedit4: bool, codepage: str, utf8: bool, exit_code: bool, as_json: bool) -> None:
    """What differs between OLD and NEW. By default a .reg patch that turns OLD into NEW (new and
    deleted keys, new, changed and deleted values, nothing else): `hivetool import OLD
    PATCH.reg` then gives NEW's content. --format text|json (--json is --format json) shows each
    changed key with its last-write time on both sides, each changed value's old and new type
    and data, and everything an added or deleted key held; the .reg still goes to -o if given.
    Two images are compared hive by hive; a hive found on one side only is reported."""
    from ..regfile.diff import diff_hives
    from ..regfile.emit import emit_patch

    if as_json and output_format not in (None, "json"):
        raise UsageError(f"--json is --format json: it cannot go with --format {output_format}")
    output_format = "json" if as_json else (output_format or "reg")
    check_dialect_options(regedit4, utf8)
    guard_output(output, (old_path, new_path), stdout_allowed=True)
    old, new = open_for_read(old_path, root=root), open_for_read(new_path, root=root)
    with closing(old), closing(new):
        pairs = _compared(old, new)
        patch = Patch()
        for before, after, mount in pairs:
            patch.extend(diff_hives(before, after, mount))
        for target in (old, new):
            warn_dirty(target)
        writer = emit_patch(patch, dialect(regedit4), False, codepage)
        report_losses(writer.losses)
        if output is not None or output_format == "reg":
            write_text(writer.finish(), output, regedit4, utf8)
        if output_format != "reg":
            _show_changes(pairs, output_format, patch, old_path, new_path, output)
    if output_format == "reg":
        kinds = _kinds(patch)
        shown = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in kinds.items()) or "no differences"
        note(f"{len(patch)} operation(s): {shown}" + (f" -> {output}" if output else ""))
    if exit_code and len(patch):
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _kinds(patch: Patch) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for op in patch:
        kinds[op.kind] = kinds.get(op.kind, 0) + 1
    return kinds


def _compared(old: Target, new: Target) -> list[tuple[Hive, Hive, str]]:
    """(old hive, new hive, mount path) for each hive the two targets both have."""
    if isinstance(old, HiveTarget) and isinstance(new, HiveTarget):
        return [(old.hive, new.hive, _root_of(new))]
    if isinstance(old, HiveTarget) or isinstance(new, HiveTarget):
        raise UsageError("diff compares two hive files or two images, not one of each")
    return _image_pairs(cast("ImageTarget", old), cast("ImageTarget", new))  # a target is a hive file or an image


def _show_changes(pairs: list[tuple[Hive, Hive, str]], output_format: str, patch: Patch, old_path: str, new_path: str,
                  output: str | None) -> None:
    from ..forensics.changes import ADDED, DELETED, TOUCHED, change_json, change_lines, compare_trees, keys_in
    from ..regf.records.types import data_json

    counts = {ADDED: 0, DELETED: 0, "changed": 0, TOUCHED: 0}
    documents: list[dict[str, Any]] = []
    if output_format == "text":
        click.echo(f"--- {old_path}")
        click.echo(f"+++ {new_path}")
    for before, after, mount in pairs:
        for change in compare_trees(before.root, after.root, mount):
            counts[change.change] += keys_in(change)
            if output_format == "json":
                documents.append(change_json(change, mount))
            else:
                click.echo("\n".join(change_lines(change, mount, _value_line)))
    if output_format == "json":
        emit_json({"command": "diff", "old": old_path, "new": new_path, "output": output,
                   "differences": len(patch), "counts": _kinds(patch),
                   "operations": [{"kind": op.kind, "key": op.key, "name": op.name,
                                   "new": data_json(op.type, op.data)} for op in patch],
                   "key_counts": counts, "keys": documents})
    else:
        note(", ".join(f"{count} key(s) {kind}" for kind, count in counts.items()))


def _value_line(value: Value) -> str:
    from . import render

    return f"{render.value_name(value.name)} = {value.type_name} {render.value_text(value)}"


def _image_pairs(old: ImageTarget, new: ImageTarget) -> list[tuple[Hive, Hive, str]]:
    pairs = []
    old_slots = {slot.mounted_at.upper(): slot for slot in old.slots()}
    new_slots = {slot.mounted_at.upper(): slot for slot in new.slots()}
    for mount in sorted(set(old_slots) | set(new_slots)):
        before, after = old_slots.get(mount), new_slots.get(mount)
        if before is None or after is None:
            side = "NEW" if before is None else "OLD"
            present = after or before
            assert present is not None  # the mount came from one side or the other
            warn(f"{present.mount} ({present.relative}) is only in {side}: not compared")
            continue
        pairs.append((old.open(before), new.open(after), after.mounted_at))
    return pairs


__all__ = ["DEFAULT_CODEPAGE", "diff", "export", "import_"]
