"""Turning the bytes of a .reg file into lines of text, as Windows reads them (reg-format.md 1).

Only the first two bytes decide: ``FF FE`` is UTF-16LE, anything else is 8-bit text in the ANSI
code page. hivetool also accepts UTF-8 (with or without its BOM) with a warning, because current
Windows versions are reported to read it.
"""
from __future__ import annotations

import codecs
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


_ENCODE_HANDLERS: dict[str, str] = {}


def windows_ansi_errors(codepage: str) -> str:
    """The error handler that writes text in ``codepage`` as Windows reads it back: the C1
    controls that stand for the bytes the code page leaves undefined (see above) become those
    bytes again, so what was read from an ANSI file can be written to one unchanged. Decoding
    with it is the same as with WINDOWS_ANSI_ERRORS. (A handler is told only "charmap", not
    which code page failed, hence one handler per code page.)"""
    name = _ENCODE_HANDLERS.get(codepage)
    if name is None:
        check_codepage(codepage)
        undefined = set()
        for byte in range(0x80, 0x100):
            try:
                bytes([byte]).decode(codepage)
            except UnicodeDecodeError:
                undefined.add(byte)

        def handler(exc: UnicodeError) -> tuple[str | bytes, int]:
            if isinstance(exc, UnicodeEncodeError):
                failed = exc.object[exc.start:exc.end]
                if all(ord(ch) in undefined for ch in failed):
                    return bytes(ord(ch) for ch in failed), exc.end
                raise exc
            return _undefined_byte_as_control(exc)

        name = f"{WINDOWS_ANSI_ERRORS}-{codecs.lookup(codepage).name}"
        codecs.register_error(name, handler)
        _ENCODE_HANDLERS[codepage] = name
    return name


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


def decode_reg_bytes(data: bytes | bytearray, path: str, ansi_codepage: str, report: Reporter,
                     utf8_without_bom: bool = True) -> DecodedFile:
    """The text of a .reg file. Without a BOM, a file that is valid UTF-8 and not plain ASCII
    is read as UTF-8 (with a warning) unless ``utf8_without_bom`` is false; the ANSI code page
    reads everything else."""
    check_codepage(ansi_codepage)
    if len(data) < 2:
        raise RegFileError("the file is shorter than 2 bytes, so it has no header [R-HEADER]", path, 1, 1)
    if data.startswith(BOM_UTF16LE):
        odd = len(data) % 2 == 1
        # Decoded through a view: a slice would copy the whole file first.
        text = codecs.utf_16_le_decode(memoryview(data)[2 : len(data) - odd], "surrogatepass", True)[0]
        return DecodedFile(text, "utf-16-le", True, "utf-16-le", "surrogatepass", odd)
    if data.startswith(BOM_UTF16BE):
        raise RegFileError("the file is UTF-16BE (BOM FE FF), which Windows does not read; "
                           "save it as UTF-16LE [R-HEADER]", path, 1, 1)
    if data[1] == 0 and data[0] != 0:
        # Read as ANSI, the header line ends at that NUL and Windows rejects it (import.c:L1792).
        raise RegFileError("the file looks like UTF-16LE without its byte-order mark FF FE; Windows "
                           "reads it as ANSI text and rejects the header [R-HEADER]", path, 1, 2)
    if data.startswith(BOM_UTF8):
        text = _decode_utf8(memoryview(data)[3:], report, offset=3)
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


def _decode_utf8(body: bytes | memoryview, report: Reporter, offset: int) -> str:
    try:
        return codecs.utf_8_decode(body, "strict", True)[0]
    except UnicodeDecodeError as exc:
        line, col = text_position(codecs.utf_8_decode(body[: exc.start], "strict", True)[0])
        report.error(line, col, "R-ENCODING-INVALID", f"byte 0x{body[exc.start]:02x} at file offset "
                     f"{exc.start + offset} is not valid UTF-8; it is read as U+FFFD")
        return codecs.utf_8_decode(body, "replace", True)[0]


def text_position(prefix: str) -> tuple[int, int]:
    """1-based (line, column) just after ``prefix``. Counted, not matched: a list of one match
    per line break would cost a hundred bytes per line of a large file."""
    crlf = prefix.count("\r\n")
    breaks = prefix.count("\r") + prefix.count("\n") - crlf
    start = max(prefix.rfind("\r"), prefix.rfind("\n")) + 1
    return breaks + 1, len(prefix) - start + 1


@dataclass(frozen=True)
class Lines:
    lines: list[str]


def split_lines(text: str, report: Reporter) -> Lines:
    """CR LF, a lone LF and a lone CR each end a line (regedit.c:L288-L309).

    A file whose every line ends in CR LF (what regedit writes) is split on CR LF directly, so
    its text is not copied once more just to turn the line ends into LF first.
    """
    if "\r" in text:
        crlf = text.count("\r\n")
        if crlf == text.count("\r") and crlf == text.count("\n"):
            lines = text.split("\r\n")
        else:
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    else:
        lines = text.split("\n")
    if "\0" in text:
        for index, line in enumerate(lines):
            cut = line.find("\0")
            if cut >= 0:
                # Windows reads each line as a NUL-terminated string.
                report.error(index + 1, cut + 1, "R-NUL-CHAR", "NUL character: the rest of the line is not read")
                lines[index] = line[:cut]
    return Lines(lines)
