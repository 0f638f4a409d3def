""".reg commands: export, import, diff, reg check, reg fmt."""
from __future__ import annotations

from contextlib import closing

import click

from ..errors import EXIT_FINDINGS, HivetoolError, RegFileError, UsageError
from ..fileio import STDOUT, read_stream_input
from ..paths import PathMapper, RootChoice, infer_root, is_logical, parse_control_set_mode
from ..regf.hive import Hive
from ..regfile.emit import DIALECT_4, DIALECT_5, Loss
from ..regfile.patch import Patch
from ..progress import QUIET, Progress
from ..timeutil import Clock
from .completion import complete_key
from .progress_bar import progress_for_terminal
from .common import (emit_json, guard_output, json_option, note, open_hive, save, utf8_option, wait_option, warn,
                     write_options, write_reg_text, write_target)

MAX_LOSSES_SHOWN = 10
DEFAULT_CODEPAGE = "cp1252"


class FilesWithErrors(HivetoolError):
    """``reg check`` found lines Windows would skip or reject: exit 1, like ``check``."""

    exit_code = EXIT_FINDINGS


def _root_option(func):
    return click.option(
        "--root", metavar="ROOT",
        help="The registry path the hive is mounted at, e.g. 'HKEY_LOCAL_MACHINE\\SOFTWARE'. "
        "Default: inferred from the hive's content, then its file name.",
    )(func)


def _dialect(regedit4: bool) -> str:
    return DIALECT_4 if regedit4 else DIALECT_5


def _choose_root(hive: Hive, hive_path: str, given: str | None) -> RootChoice:
    choice = infer_root(hive, hive_path, given)
    note(f"root: {choice.root} ({choice.reason})")
    return choice


def _report_losses(losses: list[Loss]) -> None:
    for loss in losses[:MAX_LOSSES_SHOWN]:
        warn(str(loss))
    if len(losses) > MAX_LOSSES_SHOWN:
        warn(f"... and {len(losses) - MAX_LOSSES_SHOWN} more value(s) not written exactly")


def _write_text(data: bytes, output: str | None, regedit4: bool, utf8: bool) -> None:
    write_reg_text(data, output, not regedit4, utf8)


def _check_dialect_options(regedit4: bool, utf8: bool) -> None:
    if regedit4 and utf8:
        raise UsageError("--utf8 writes a version 5.00 file; --regedit4 writes an ANSI REGEDIT4 file: give one")


def _shown(path: str) -> str:
    """How a .reg input is named in messages: ``-`` is standard input."""
    return "<stdin>" if path == STDOUT else path


def _warn_if_dirty(hive: Hive) -> None:
    if hive.dirty:
        warn(f"{hive.path} is dirty (sequence numbers {hive.header.seq1}/{hive.header.seq2}); the newest "
             "changes may be in its transaction logs, so what is exported may be stale")


@click.command()
@click.argument("hive_path", metavar="HIVE")
@click.argument("key_path", metavar="[KEY]", default="", required=False, shell_complete=complete_key)
@click.option("-o", "--output", metavar="FILE.reg", help="Write this file (atomically) instead of stdout.")
@_root_option
@click.option("--regedit4", is_flag=True, help="Write a REGEDIT4 file in the ANSI code page (see --encoding).")
@click.option("--regedit-compat", is_flag=True,
              help="Reproduce regedit's output exactly, including where it loses data "
              "(strings cut at a NUL; characters outside the code page as '?').")
@click.option("--encoding", "codepage", default="cp1252", show_default=True, metavar="CP",
              help="ANSI code page of a REGEDIT4 file.")
@utf8_option
@wait_option
def export(hive_path, key_path, output, root, regedit4, regedit_compat, codepage, utf8) -> None:
    """Write HIVE (or KEY and everything below it) as a .reg file, as regedit exports it.

    KEY is a path inside the hive or a full registry path (HKEY_LOCAL_MACHINE\\SYSTEM\\...,
    where CurrentControlSet means the set Select\\Current names). Values regedit would
    write with loss are written exactly (as hex) unless --regedit-compat.
    """
    from ..regfile.export import ExportStream

    _check_dialect_options(regedit4, utf8)
    guard_output(output, (hive_path,), stdout_allowed=True)
    hive = open_hive(hive_path)
    _warn_if_dirty(hive)
    choice = _choose_root(hive, hive_path, root)
    start = key_path
    if key_path and is_logical(key_path):
        mapper = PathMapper(hive, choice.root, "read")
        start = mapper.map(key_path)[0]
        if mapper.control_set_choice is not None:
            note(f"control set: {mapper.control_set_choice.description}")
    # Streamed: memory stays small whatever the size of the file (a deep chain's key lines
    # grow with the square of its depth). What regedit would lose is known once it is written.
    stream = ExportStream(hive, choice.root, start, _dialect(regedit4), regedit_compat, codepage)
    _write_text(stream, output, regedit4, utf8)
    _report_losses(stream.losses)
    note(f"exported {stream.keys} key(s) and {stream.values} value(s) of {stream.top}"
         + (f" -> {output}" if output and output != STDOUT else ""))


def _read_reg_files(paths: tuple[str, ...], encoding: str | None, lenient: bool, hint: str = "",
                    progress: Progress = QUIET) -> Patch:
    """Parse each file; print every diagnostic; strict: the first error ends it (exit 3).

    ``encoding`` given: files without a BOM are in that code page. Not given: cp1252, or
    UTF-8 (with a warning) when the bytes are valid UTF-8."""
    from ..regfile.parse import DIALECT_IGNORED, parse_reg

    patch = Patch()
    first_error = None
    error_count = 0
    for path in paths:
        result = parse_reg(read_stream_input(path), _shown(path), encoding or DEFAULT_CODEPAGE,
                           utf8_without_bom=encoding is None, progress=progress)
        for diagnostic in result.diagnostics:
            if diagnostic.level == "error" and lenient:
                note(f"{diagnostic.path}:{diagnostic.line}:{diagnostic.col}: warning: skipped, as Windows "
                     f"would: {diagnostic.message} [{diagnostic.code}]")
            else:
                note(str(diagnostic))
        if result.dialect == DIALECT_IGNORED:
            warn(f"{path}: Windows accepts this header but imports nothing from the file; nothing taken from it")
        errors = result.errors
        error_count += len(errors)
        if errors and first_error is None:
            first_error = errors[0]
        patch.extend(result.patch)
    if first_error is not None and not lenient:
        more = f" (and {error_count - 1} more)" if error_count > 1 else ""
        raise RegFileError(
            f"{first_error.message} [{first_error.code}]{more}; nothing written{hint}",
            first_error.path, first_error.line, first_error.col,
        )
    return patch


@click.command(name="import")
@click.argument("hive_path", metavar="HIVE")
@click.argument("reg_paths", metavar="FILE.reg...", nargs=-1, required=True)
@_root_option
@click.option("--control-set", "control_set", default="auto", show_default=True, metavar="MODE",
              help="Where CurrentControlSet writes go: auto (Select\\Default's set, plus Select\\Current's "
              "when it differs), default, current, all, or a set number N.")
@click.option("--lenient", is_flag=True, help="Skip the lines Windows would skip (each listed as a warning) "
              "instead of refusing the file.")
@click.option("--skip-foreign", is_flag=True, help="Apply what lies below ROOT and list the keys outside it, "
              "instead of refusing.")
@click.option("--encoding", "encoding", metavar="CP",
              help="Code page of files without a UTF-16 byte-order mark. Default: cp1252, or UTF-8 "
              "(with a warning) for a file that is valid UTF-8.")
@click.option("--dry-run", is_flag=True, help="Print the operations and write nothing (no -o needed).")
@write_options
def import_(hive_path, reg_paths, root, control_set, lenient, skip_foreign, encoding, dry_run,
            output, in_place, timestamp, verify) -> None:
    """Apply .reg files to HIVE, all or nothing. Strict: a line Windows would skip or
    reject is an error (exit 3) unless --lenient. Keys outside ROOT: exit 4 unless
    --skip-foreign."""
    from ..regfile.apply import apply_plan, final_effects, plan_patch
    from .usage_hints import swapped_import_arguments

    swapped = swapped_import_arguments(hive_path, reg_paths)
    if swapped:
        raise UsageError(swapped)
    mode = parse_control_set_mode(control_set)
    target = None if dry_run else write_target(hive_path, output, in_place, timestamp, verify, reg_paths)
    clock = target.clock if target else Clock.resolve(timestamp)
    if list(reg_paths).count(STDOUT) > 1:
        raise UsageError("standard input (-) can be read only once")
    with closing(progress_for_terminal()) as progress:
        patch = _read_reg_files(reg_paths, encoding, lenient, " (--lenient skips such lines, as Windows does)",
                                progress)
        hive = open_hive(hive_path, clock, for_update=bool(target and target.in_place))
        choice = _choose_root(hive, hive_path, root)
        plan = plan_patch(hive, patch, choice.root, mode, skip_foreign)
        for message in plan.warnings:
            warn(message)
        if plan.control_sets is not None:
            note(f"control set: {plan.control_sets.description}")
        if plan.foreign:
            keys = list(dict.fromkeys(op.key for op in plan.foreign))
            warn(f"skipped {len(plan.foreign)} operation(s) on {len(keys)} key(s) outside {choice.root}:")
            for key in keys:
                note(f"  {key}")
        if dry_run:
            for item in plan.ops:
                click.echo(item.describe())
            note(f"dry run: {len(plan.ops)} operation(s), nothing written")
            return
        counts = apply_plan(hive, plan, progress)
    for message in counts.notes:
        warn(message)
    expectations = None
    if target.verify:
        from ..verify import Expect

        expectations = [Expect(e.key, e.name, e.type, e.data, e.present) for e in final_effects(plan)]
    save(hive, target, expectations)
    note(f"{counts.summary()} -> {target.path}")


@click.command()
@click.argument("old_path", metavar="OLD")
@click.argument("new_path", metavar="NEW")
@click.option("-o", "--output", metavar="PATCH.reg", help="Write this file (atomically) instead of stdout.")
@_root_option
@click.option("--regedit4", is_flag=True, help="Write a REGEDIT4 file in the ANSI code page (see --encoding).")
@click.option("--encoding", "codepage", default="cp1252", show_default=True, metavar="CP",
              help="ANSI code page of a REGEDIT4 file.")
@utf8_option
@wait_option
def diff(old_path, new_path, output, root, regedit4, codepage, utf8) -> None:
    """Write a .reg patch that turns OLD into NEW: new and deleted keys, new, changed and
    deleted values, nothing else. `hivetool import OLD PATCH.reg` then gives NEW's content."""
    from ..regfile.diff import diff_hives
    from ..regfile.emit import emit_patch

    _check_dialect_options(regedit4, utf8)
    guard_output(output, (old_path, new_path), stdout_allowed=True)
    old = open_hive(old_path)
    new = open_hive(new_path)
    for hive in (old, new):
        _warn_if_dirty(hive)
    choice = _choose_root(new, new_path, root)
    patch = diff_hives(old, new, choice.root)
    writer = emit_patch(patch, _dialect(regedit4), False, codepage)
    _report_losses(writer.losses)
    _write_text(writer.finish(), output, regedit4, utf8)
    kinds = {}
    for op in patch:
        kinds[op.kind] = kinds.get(op.kind, 0) + 1
    shown = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in kinds.items()) or "no differences"
    note(f"{len(patch)} operation(s): {shown}" + (f" -> {output}" if output else ""))


@click.group(name="reg")
def reg() -> None:
    """Work on .reg files: check them, rewrite them in regedit's layout."""


@reg.command(name="check")
@click.argument("reg_paths", metavar="FILE.reg...", nargs=-1, required=True)
@click.option("--encoding", "encoding", metavar="CP",
              help="Code page of files without a UTF-16 byte-order mark. Default: cp1252, or UTF-8 "
              "(with a warning) for a file that is valid UTF-8.")
@json_option
def reg_check(reg_paths, encoding, as_json) -> None:
    """Every line Windows would skip or reject, and every oddity, with file:line:col and why.
    Exit 1 when any file has an error."""
    from ..regfile.parse import parse_reg

    reports = []
    for path in reg_paths:
        data = read_stream_input(path)
        try:
            result = parse_reg(data, _shown(path), encoding or DEFAULT_CODEPAGE, utf8_without_bom=encoding is None)
        except RegFileError as err:  # a wrong header: Windows refuses the whole file
            reports.append({"file": path, "encoding": None, "dialect": None, "diagnostics": [
                {"line": err.line, "col": err.col, "level": "error", "code": None, "message": err.detail}]})
            continue
        reports.append({"file": path, "encoding": result.encoding, "dialect": result.dialect, "diagnostics": [
            {"line": d.line, "col": d.col, "level": d.level, "code": d.code, "message": d.message}
            for d in result.diagnostics]})
    for report in reports:
        report["errors"] = sum(1 for d in report["diagnostics"] if d["level"] == "error")
        report["warnings"] = sum(1 for d in report["diagnostics"] if d["level"] == "warning")
    if as_json:
        emit_json(reports)
    else:
        for report in reports:
            for d in report["diagnostics"]:
                code = f" [{d['code']}]" if d["code"] else ""
                click.echo(f"{report['file']}:{d['line']}:{d['col']}: {d['level']}: {d['message']}{code}")
            form = f" ({report['dialect']}, {report['encoding']})" if report["dialect"] else ""
            click.echo(f"{report['file']}: {report['errors']} error(s), {report['warnings']} warning(s){form}")
    failing = sum(1 for report in reports if report["errors"])
    if failing:
        raise FilesWithErrors(f"{failing} of {len(reports)} file(s) hold lines Windows would skip or reject")


@reg.command(name="fmt")
@click.argument("reg_path", metavar="FILE.reg")
@click.option("-o", "--output", metavar="OUT", help="Write this file (atomically) instead of stdout.")
@click.option("--regedit4", is_flag=True, help="Write a REGEDIT4 file in the ANSI code page (see --encoding).")
@click.option("--encoding", "encoding", metavar="CP",
              help="Code page of a file without a UTF-16 byte-order mark (default: cp1252, or UTF-8 with a "
              "warning when the file is valid UTF-8), and of the output with --regedit4 (default: cp1252).")
@utf8_option
def reg_fmt(reg_path, output, regedit4, encoding, utf8) -> None:
    """Rewrite FILE.reg in regedit's exact layout (UTF-16, CRLF, blank lines, hex wrapping).
    A file Windows would read differently from how it looks is refused (exit 3): `reg check`
    shows why. A file `hivetool export` wrote comes out unchanged."""
    from ..regfile.emit import emit_patch

    _check_dialect_options(regedit4, utf8)
    guard_output(output, (), (reg_path,), stdout_allowed=True)
    patch = _read_reg_files((reg_path,), encoding, False, " (`hivetool reg check` lists every such line)")
    writer = emit_patch(patch, _dialect(regedit4), False, encoding or DEFAULT_CODEPAGE)
    _report_losses(writer.losses)
    _write_text(writer.finish(), output, regedit4, utf8)
    if output:
        note(f"wrote {output}")
