"""Read .reg files exactly as Windows reads them (reg-format.md sections 1-6, 9 and 10).

:func:`parse_reg` is lenient like ``reg import``: its patch holds exactly what Windows would
apply, in file order, and every line Windows would skip or reject becomes an error
:class:`Diagnostic` with its line and column. :func:`parse_reg_strict` turns the first such
error into a :class:`~hivetool.errors.RegFileError`. A wrong header is an error in both, as it
is the one case where ``reg import`` fails (exit 1).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import RegFileError
from ..gcpause import collector_paused
from ..progress import QUIET, Progress
from ..utf16 import encode_le
from .diagnostics import CODES, ERROR, WARNING, Diagnostic, LineProblem, Reporter
from .encoding import decode_reg_bytes, split_lines
from .keys import resolve_key_path
from .patch import Origin, Patch
from .script import ScriptReader
from .values import REG_SZ, skip_blanks

__all__ = ["CODES", "Diagnostic", "ParseResult", "parse_reg", "parse_reg_strict",
           "DIALECT_V5", "DIALECT_V4", "DIALECT_WIN31", "DIALECT_IGNORED"]

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"
HEADER_WIN31 = "REGEDIT"
DIALECT_V5 = "5.00"
DIALECT_V4 = "REGEDIT4"
DIALECT_WIN31 = "win31"
DIALECT_IGNORED = "ignored"  # a REGEDIT-prefixed header: Windows imports nothing from the file


@dataclass
class ParseResult:
    patch: Patch  # exactly what Windows would apply, in file order
    diagnostics: list[Diagnostic]  # sorted by line and column
    encoding: str  # "utf-16-le", "utf-8" or the ANSI code page used
    dialect: str  # DIALECT_V5, DIALECT_V4, DIALECT_WIN31 or DIALECT_IGNORED

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == WARNING]


def parse_reg(data: bytes | bytearray, path: str = "<input>", ansi_codepage: str = "cp1252", *,
              accept_upper_keywords: bool = False, utf8_without_bom: bool = True,
              progress: Progress = QUIET) -> ParseResult:
    """Parse a .reg file the way ``reg import`` does.

    ``ansi_codepage`` decodes files without a BOM (and the hex bytes of string types in them).
    A file without a BOM that is valid UTF-8 (and not plain ASCII) is read as UTF-8, with a
    warning, unless ``utf8_without_bom`` is false. ``accept_upper_keywords`` reads
    ``DWORD:``/``HEX:`` like their lower-case forms, with a warning, where Windows rejects the
    value (reg-format.md 5.6).
    Raises RegFileError when the header is wrong, UsageError for an unknown code page.
    """
    with collector_paused():  # a large file makes hundreds of thousands of operations, no cycles
        return _parse(data, path, ansi_codepage, accept_upper_keywords, utf8_without_bom, progress)


def _parse(data: bytes | bytearray, path: str, ansi_codepage: str, accept_upper_keywords: bool,
           utf8_without_bom: bool, progress: Progress) -> ParseResult:
    report = Reporter(path)
    decoded = decode_reg_bytes(data, path, ansi_codepage, report, utf8_without_bom)
    split = split_lines(decoded.text, report)
    decoded = replace(decoded, text="")  # the lines hold the text now: do not keep it twice
    lines = split.lines
    if decoded.dropped_odd_byte:
        report.warning(len(lines), len(lines[-1]) + 1, "R-ODD-LENGTH",
                       "the UTF-16 file has an odd number of bytes: its last byte is not read")
    dialect = read_header(lines[0], path, report)
    patch = Patch()
    if dialect == DIALECT_WIN31:
        _read_win31(lines, patch, report)
    elif dialect != DIALECT_IGNORED:
        ScriptReader(split, decoded, patch, report, accept_upper_keywords, progress).run()
    return ParseResult(patch, report.sorted(), decoded.encoding, dialect)


def parse_reg_strict(data: bytes | bytearray, path: str = "<input>", ansi_codepage: str = "cp1252", *,
                     accept_upper_keywords: bool = False, utf8_without_bom: bool = True) -> Patch:
    """The patch of a file in which Windows would skip or reject nothing; otherwise
    RegFileError naming the first error and counting the others. Options as parse_reg."""
    result = parse_reg(data, path, ansi_codepage, accept_upper_keywords=accept_upper_keywords,
                       utf8_without_bom=utf8_without_bom)
    errors = result.errors
    if errors:
        first = errors[0]
        more = len(errors) - 1
        tail = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise RegFileError(f"{first.message} [{first.code}]{tail}", path, first.line, first.col)
    return result.patch


def read_header(line: str, path: str, report: Reporter) -> str:
    """The dialect line 1 announces (reg-format.md section 2)."""
    header = line.lstrip(" \t")
    lead = len(line) - len(header)
    if header == HEADER_V5:
        return DIALECT_V5
    if header == HEADER_V4:
        return DIALECT_V4
    if header == HEADER_WIN31:
        return DIALECT_WIN31
    if header.rstrip(" \t") == HEADER_V5:
        report.warning(1, lead + len(HEADER_V5) + 1, "R-HEADER-TRAILING-BLANKS",
                       "blanks after the header: hivetool accepts the file, but Windows may refuse it")
        return DIALECT_V5
    if header.startswith(HEADER_WIN31):
        col = lead + len(HEADER_V4 if header.startswith(HEADER_V4) else HEADER_WIN31) + 1
        report.error(1, col, "R-HEADER-IGNORED", f"header {header!r} is not REGEDIT4: Windows accepts "
                     "the file but imports nothing from it")
        return DIALECT_IGNORED
    if not header:
        raise RegFileError("line 1 must be the header 'Windows Registry Editor Version 5.00' or "
                           "'REGEDIT4'; it is blank (the header must be the first line) [R-HEADER]", path, 1, 1)
    same = max(_common_prefix(header, expected) for expected in (HEADER_V5, HEADER_V4))
    raise RegFileError(f"line 1 must be the header 'Windows Registry Editor Version 5.00' or 'REGEDIT4' "
                       f"(compared case-sensitively), found {header!r} [R-HEADER]", path, 1, lead + same + 1)


def _common_prefix(a: str, b: str) -> int:
    size = 0
    for x, y in zip(a, b):
        if x != y:
            break
        size += 1
    return size


_WIN31_KEY_END = re.compile(r"\s")


def _read_win31(lines: list[str], patch: Patch, report: Reporter) -> None:
    """Windows 3.1 files: ``HKEY_CLASSES_ROOT\\path [=] text`` sets a default value (section 9)."""
    for index in range(1, len(lines)):
        line = lines[index]
        lineno = index + 1
        if not line.startswith("HKEY_CLASSES_ROOT"):
            body = line.lstrip(" \t")
            if body and body[0] not in ";#":
                report.error(lineno, len(line) - len(body) + 1, "R-WIN31-IGNORED", "line ignored: in a "
                             "REGEDIT (Windows 3.1) file only lines starting with HKEY_CLASSES_ROOT in column 1 "
                             "(case-sensitive) are read")
            continue
        blank = _WIN31_KEY_END.search(line)
        key_end = blank.start() if blank else len(line)
        pos = skip_blanks(line, key_end)
        if line.startswith("=", pos):
            pos += 1
        if line.startswith(" ", pos):  # at most one blank after '=' is skipped
            pos += 1
        try:
            resolved = resolve_key_path(line[:key_end])
        except LineProblem as problem:
            report.error(lineno, problem.offset + 1, "R-WIN31-KEY", problem.message)
            continue
        report.notes(lineno, resolved.notes)
        origin = Origin(report.path, lineno)
        patch.create_key(resolved.full, origin)
        patch.set_value(resolved.full, "", REG_SZ, encode_le(line[pos:] + "\0"), origin)
