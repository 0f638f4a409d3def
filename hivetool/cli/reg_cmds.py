"""``hivetool reg``: check .reg files, rewrite them in regedit's layout; and what the commands
that read .reg text share (export, import and diff are in :mod:`.patch_cmds`)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

import click

from ..errors import EXIT_FINDINGS, HivetoolError, RegFileError, UsageError
from ..fileio import STDOUT, Chunk, read_stream_input
from ..progress import QUIET, Progress
from ..regfile.emit import DIALECT_4, DIALECT_5, Loss
from ..regfile.patch import Patch
from .common import emit_json, guard_output, json_option, note, utf8_option, warn, write_reg_text

_F = TypeVar("_F", bound=Callable[..., Any])  # a command function, returned as it was given
MAX_LOSSES_SHOWN = 10
DEFAULT_CODEPAGE = "cp1252"


class FilesWithErrors(HivetoolError):
    """``reg check`` found lines Windows would skip or reject: exit 1, like ``check``."""

    exit_code = EXIT_FINDINGS


def root_option(func: _F) -> _F:
    return click.option(
        "--root", metavar="ROOT",
        help="The registry path the hive is mounted at, e.g. 'HKEY_LOCAL_MACHINE\\SOFTWARE'. "
        "Default: inferred from the hive's content, then its file name.",
    )(func)


def dialect(regedit4: bool) -> str:
    return DIALECT_4 if regedit4 else DIALECT_5


def report_losses(losses: list[Loss]) -> None:
    for loss in losses[:MAX_LOSSES_SHOWN]:
        warn(str(loss))
    if len(losses) > MAX_LOSSES_SHOWN:
        warn(f"... and {len(losses) - MAX_LOSSES_SHOWN} more value(s) not written exactly")


def write_text(data: Chunk | Iterable[Chunk], output: str | None, regedit4: bool, utf8: bool) -> None:
    write_reg_text(data, output, not regedit4, utf8)


def check_dialect_options(regedit4: bool, utf8: bool) -> None:
    if regedit4 and utf8:
        raise UsageError("--utf8 writes a version 5.00 file; --regedit4 writes an ANSI REGEDIT4 file: give one")


def _shown(path: str) -> str:
    """How a .reg input is named in messages: ``-`` is standard input."""
    return "<stdin>" if path == STDOUT else path


def read_reg_files(paths: tuple[str, ...], encoding: str | None, lenient: bool, hint: str = "",
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


@click.group(name="reg")
def reg() -> None:
    """Work on .reg files: check them, rewrite them in regedit's layout."""


@reg.command(name="check")
@click.argument("reg_paths", metavar="FILE.reg...", nargs=-1, required=True)
@click.option("--encoding", "encoding", metavar="CP",
              help="Code page of files without a UTF-16 byte-order mark. Default: cp1252, or UTF-8 "
              "(with a warning) for a file that is valid UTF-8.")
@json_option
def reg_check(reg_paths: tuple[str, ...], encoding: str | None, as_json: bool) -> None:
    """Every line Windows would skip or reject, and every oddity, with file:line:col and why.
    Exit 1 when any file has an error."""
    from ..regfile.parse import parse_reg

    reports: list[dict[str, Any]] = []
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
@json_option
def reg_fmt(reg_path: str, output: str | None, regedit4: bool, encoding: str | None, utf8: bool,
            as_json: bool) -> None:
    """Rewrite FILE.reg in regedit's exact layout (UTF-16, CRLF, blank lines, hex wrapping).
    A file Windows would read differently from how it looks is refused (exit 3): `reg check`
    shows why. A file `hivetool export` wrote comes out unchanged."""
    from ..regfile.emit import emit_patch

    check_dialect_options(regedit4, utf8)
    if as_json and (output is None or output == STDOUT):
        raise UsageError("--json prints a report on standard output: give the output file with -o OUT")
    guard_output(output, (), (reg_path,), stdout_allowed=True)
    patch = read_reg_files((reg_path,), encoding, False, " (`hivetool reg check` lists every such line)")
    writer = emit_patch(patch, dialect(regedit4), False, encoding or DEFAULT_CODEPAGE)
    if as_json:
        write_text(writer.finish(), output, regedit4, utf8)
        emit_json({"command": "reg fmt", "input": reg_path, "output": output, "operations": len(patch),
                   "losses": [{"key": loss.key, "name": loss.name, "reason": loss.reason} for loss in writer.losses]})
        return
    report_losses(writer.losses)
    write_text(writer.finish(), output, regedit4, utf8)
    if output:
        note(f"wrote {output}")
