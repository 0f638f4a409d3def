"""Turning the bytes of a .reg file into lines of text, as Windows reads them (reg-format.md 1).

Only the first two bytes decide: ``FF FE`` is UTF-16LE, anything else is 8-bit text in the ANSI
code page. hivetool also accepts UTF-8 (with or without its BOM) with a warning, because current
Windows versions are reported to read it.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from ..errors import RegFileError, UsageError
from .diagnostics import Reporter

BOM_UTF16LE = b"\xff\xfe"
BOM_UTF16BE = b"\xfe\xff"
BOM_UTF8 = b"\xef\xbb\xbf"

WINDOWS_ANSI_ERRORS = "hivetool-windows-ansi"


def _undefined_byte_as_control(exc: UnicodeError) -> tuple[str, int]:
    # Windows' tables for the single-byte code pages map the bytes a code page leaves
    # undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D in 1252) to the C1 control of the same number;
    # Python's codecs refuse them. Mirror Windows so that no byte of an ANSI file is lost.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(b) for b in exc.object[exc.start:exc.end]), exc.end


codecs.register_error(WINDOWS_ANSI_ERRORS, _undefined_byte_as_control)


@dataclass(frozen=True)
class DecodedFile:
    text: str
    encoding: str  # "utf-16-le", "utf-8" or the ANSI code page
    unicode_file: bool  # hex bytes of string types are UTF-16LE already (5.5)
    byte_codec: str  # reads the hex bytes of string types in an 8-bit file
    byte_errors: str
    dropped_odd_byte: bool = False


def check_codepage(ansi_codepage: str) -> str:
    try:
        return codecs.lookup(ansi_codepage).name
    except LookupError:
        raise UsageError(f"unknown ANSI code page {ansi_codepage!r} (use a Python codec name such as cp1252)") from None


def decode_reg_bytes(data: bytes, path: str, ansi_codepage: str, report: Reporter,
                     utf8_without_bom: bool = True) -> DecodedFile:
    """The text of a .reg file. Without a BOM, a file that is valid UTF-8 and not plain ASCII
    is read as UTF-8 (with a warning) unless ``utf8_without_bom`` is false; the ANSI code page
    reads everything else."""
    check_codepage(ansi_codepage)
    if len(data) < 2:
        raise RegFileError("the file is shorter than 2 bytes, so it has no header [R-HEADER]", path, 1, 1)
    if data.startswith(BOM_UTF16LE):
        body = data[2:]
        odd = len(body) % 2 == 1
        text = body[: len(body) - odd].decode("utf-16-le", "surrogatepass")
        return DecodedFile(text, "utf-16-le", True, "utf-16-le", "surrogatepass", odd)
    if data.startswith(BOM_UTF16BE):
        raise RegFileError("the file is UTF-16BE (BOM FE FF), which Windows does not read; "
                           "save it as UTF-16LE [R-HEADER]", path, 1, 1)
    if data[1] == 0 and data[0] != 0:
        # Read as ANSI, the header line ends at that NUL and Windows rejects it (import.c:L1792).
        raise RegFileError("the file looks like UTF-16LE without its byte-order mark FF FE; Windows "
                           "reads it as ANSI text and rejects the header [R-HEADER]", path, 1, 2)
    if data.startswith(BOM_UTF8):
        text = _decode_utf8(data[3:], report, offset=3)
        report.warning(1, 1, "R-ENCODING-UTF8", "UTF-8 file (with BOM): Windows documents only UTF-16LE "
                       "and ANSI .reg files; regedit writes UTF-16LE")
        return DecodedFile(text, "utf-8", False, "utf-8", "replace")
    if utf8_without_bom and not data.isascii():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            report.warning(1, 1, "R-ENCODING-UTF8", "the file is valid UTF-8 without a BOM, so it is read as "
                           f"UTF-8; older Windows reads it in the ANSI code page ({ansi_codepage}) instead")
            return DecodedFile(text, "utf-8", False, "utf-8", "replace")
    text = data.decode(ansi_codepage, WINDOWS_ANSI_ERRORS)
    return DecodedFile(text, ansi_codepage, False, ansi_codepage, WINDOWS_ANSI_ERRORS)


def _decode_utf8(body: bytes, report: Reporter, offset: int) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = text_position(body[: exc.start].decode("utf-8"))
        report.error(line, col, "R-ENCODING-INVALID", f"byte 0x{body[exc.start]:02x} at file offset "
                     f"{exc.start + offset} is not valid UTF-8; it is read as U+FFFD")
        return body.decode("utf-8", "replace")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_position(prefix: str) -> tuple[int, int]:
    """1-based (line, column) just after ``prefix``."""
    breaks = list(_LINE_BREAK.finditer(prefix))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, len(prefix) - start + 1


@dataclass(frozen=True)
class Lines:
    text: str  # the decoded text with every line end turned into LF
    lines: list[str]
    exact: bool  # lines joined by LF give ``text`` (false once a NUL cut a line)


def split_lines(text: str, report: Reporter) -> Lines:
    """CR LF, a lone LF and a lone CR each end a line (regedit.c:L288-L309)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if "\0" not in text:
        return Lines(text, lines, True)
    for index, line in enumerate(lines):
        cut = line.find("\0")
        if cut >= 0:
            # Windows reads each line as a NUL-terminated string.
            report.error(index + 1, cut + 1, "R-NUL-CHAR", "NUL character: the rest of the line is not read")
            lines[index] = line[:cut]
    return Lines(text, lines, False)
