"""Value names and data of .reg lines, read as Windows reads them (reg-format.md section 5).

Each reader takes a line and the index where its part starts, returns what it read and
where it stopped, and raises LineProblem at the offending character.
"""
from __future__ import annotations

import re

from .diagnostics import LineProblem, Note

REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
STRING_TYPES = (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ)  # their hex bytes are text (5.5)
MAX_VALUE_NAME = 16383

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r"}


def skip_blanks(line: str, pos: int) -> int:
    end = len(line)
    while pos < end and line[pos] in " \t":
        pos += 1
    return pos


def read_quoted(line: str, start: int, what: str, notes: list[Note]) -> tuple[str, int]:
    """Text from ``start`` (just after the opening quote) to the closing quote, unescaped.

    Returns the text and the index after the closing quote. ``\\\\`` and ``\\"`` are the
    escapes regedit writes; ``\\n`` and ``\\r`` give LF and CR, ``\\0`` rejects the line, and
    any other ``\\x`` gives ``x`` (5.1, 5.2).
    """
    close = line.find('"', start)
    if close >= 0 and line.find("\\", start, close) < 0:
        return line[start:close], close + 1
    unterminated = "R-NAME-UNTERMINATED" if what == "value name" else "R-STRING-UNTERMINATED"
    out: list[str] = []
    pos = start
    end = len(line)
    while pos < end:
        ch = line[pos]
        if ch == '"':
            return "".join(out), pos + 1
        if ch == "\\":
            if pos + 1 == end:
                raise LineProblem(start - 1, unterminated, f"{what} has no closing quote: a {what} "
                                  "cannot continue on the next line")
            escaped = line[pos + 1]
            if escaped == "0":
                raise LineProblem(pos, "R-ESCAPE-NUL", f"the escape \\0 is not allowed in a {what}: "
                                  "Windows rejects the whole line")
            plain = _ESCAPES.get(escaped)
            if plain is None:
                notes.append((pos, "R-ESCAPE-UNKNOWN", f"unknown escape \\{escaped} read as {escaped!r}; "
                              "write \\\\ for a backslash"))
                plain = escaped
            out.append(plain)
            pos += 2
            continue
        out.append(ch)
        pos += 1
    raise LineProblem(start - 1, unterminated, f"{what} has no closing quote")


def expect_line_end(line: str, pos: int, code: str, after: str) -> None:
    """After data: optional blanks, then the end of the line or a ';comment'."""
    pos = skip_blanks(line, pos)
    if pos < len(line) and line[pos] != ";":
        found = line[pos]
        hint = " ('#' starts a comment only at the beginning of a line)" if found == "#" else ""
        if found == "\\":
            hint = " (only hex data can continue on the next line)"
        raise LineProblem(pos, code, f"expected the end of the line or ';comment' after {after}, "
                          f"found {found!r}{hint}")


_HEX_RUN = re.compile(r"[0-9A-Fa-f]*")


def read_dword(line: str, start: int) -> bytes:
    """``dword:`` data from ``start``: blanks, 1 to 8 hex digits, blanks, end or ';' (5.3)."""
    pos = skip_blanks(line, start)
    digits_end = _HEX_RUN.match(line, pos).end()  # type: ignore[union-attr]
    count = digits_end - pos
    if count == 0:
        found = repr(line[pos]) if pos < len(line) else "nothing"
        raise LineProblem(pos, "R-DWORD-DIGITS", f"expected 1 to 8 hex digits after 'dword:', found {found}")
    if count > 8:
        raise LineProblem(pos + 8, "R-DWORD-DIGITS", f"{count} hex digits after 'dword:': at most 8 "
                          "(leading zeros count too)")
    expect_line_end(line, digits_end, "R-DWORD-TRAILING", "the dword digits")
    return int(line[pos:digits_end], 16).to_bytes(4, "little")


def read_hex_type(line: str, start: int) -> tuple[int, int]:
    """``hex:`` or ``hex(N):`` at ``start``; returns the type and the index after the colon.

    N is hexadecimal without a prefix and must fit 32 bits: hex(10) is type 0x10 (5.4).
    """
    if line.startswith("hex:", start):
        return REG_BINARY, start + 4
    pos = start + 4
    digits_end = _HEX_RUN.match(line, pos).end()  # type: ignore[union-attr]
    if digits_end == pos:
        raise LineProblem(pos, "R-HEX-TYPE", "expected the type number in hex digits after 'hex(', "
                          "as in hex(7):")
    if not line.startswith("):", digits_end):
        at = digits_end + 1 if line.startswith(")", digits_end) else digits_end
        wanted = "':' after 'hex(N)'" if at > digits_end else "')' after the type number"
        found = repr(line[at]) if at < len(line) else "the end of the line"
        hint = " (the type is hex digits with no 0x prefix)" if found in ("'x'", "'X'") else ""
        raise LineProblem(at, "R-HEX-TYPE", f"expected {wanted}, found {found}{hint}")
    value_type = int(line[pos:digits_end], 16)
    if value_type > 0xFFFFFFFF:
        raise LineProblem(pos, "R-HEX-TYPE", f"type number {line[pos:digits_end]} does not fit 32 bits")
    return value_type, digits_end + 2


# One line's worth of hex data (trailing blanks already removed): bytes of 1 or 2 digits, each
# but the last followed by a comma; then the last byte, or a continuation backslash (right after
# a comma or the 'hex:' prefix), or nothing; then optional blanks and a ';comment' (5.4, 5.7).
_SEGMENT = re.compile(r"""
    (?P<items>(?:[ \t]*[0-9A-Fa-f]{1,2},)*)
    (?: [ \t]*(?P<last>[0-9A-Fa-f]{1,2})[ \t]*(?:;.*)?
      | [ \t]*(?P<cont>\\)[ \t]*(?:;.*)?
      | [ \t]*(?:;.*)?
    )""", re.VERBOSE | re.DOTALL)
_TOKEN = re.compile(r"[0-9A-Fa-f]+")


def read_hex_segment(line: str, start: int) -> tuple[str, bool]:
    """The bytes of one line of hex data as plain hex digits (two per byte), and whether a
    continuation backslash ends the line."""
    match = _SEGMENT.fullmatch(line, start)
    if match is None:
        raise _hex_problem(line, start)
    items = match["items"]
    last = match["last"] or ""
    if len(items) == 3 * items.count(",") and len(last) != 1 and " " not in items and "\t" not in items:
        digits = items.replace(",", "") + last  # the form regedit writes: two digits per byte
    else:
        digits = "".join(token.zfill(2) for token in _TOKEN.findall(items + "," + last))
    return digits, match["cont"] is not None


def _hex_problem(line: str, pos: int) -> LineProblem:
    """Where and why a line of hex data fails, walking it the way Windows reads it."""
    end = len(line)
    while True:
        pos = skip_blanks(line, pos)
        if pos == end:
            break
        ch = line[pos]
        if ch in HEX_DIGITS:
            stop = _HEX_RUN.match(line, pos).end()  # type: ignore[union-attr]
            if stop - pos > 2:
                return LineProblem(pos, "R-HEX-BYTE", f"{line[pos:stop]!r} is not a byte: each byte is "
                                   "1 or 2 hex digits (00 to ff)")
            if stop < end and line[stop] == ",":
                pos = stop + 1
                continue
            after = skip_blanks(line, stop)
            if after < end and line[after] == "\\":
                return LineProblem(after, "R-HEX-BACKSLASH", "'\\' continues hex data only right after "
                                   "a comma")
            if after < end and line[after] != ";":
                hint = " ('#' starts a comment only at the beginning of a line)" if line[after] == "#" else ""
                return LineProblem(after, "R-HEX-TRAILING", "expected ',', the end of the line or "
                                   f"';comment' after a hex byte, found {line[after]!r}{hint}")
            break
        if ch == "\\":
            after = skip_blanks(line, pos + 1)
            if after < end and line[after] != ";":
                return LineProblem(after, "R-CONT-TRAILING", "only blanks or a ';comment' may follow the "
                                   f"continuation '\\', found {line[after]!r}")
            break
        if ch == ";":
            break
        if ch == ",":
            return LineProblem(pos, "R-HEX-BYTE", "empty item: expected a hex byte before ','")
        return LineProblem(pos, "R-HEX-BYTE", f"expected a hex byte, found {ch!r}")
    return LineProblem(pos, "R-HEX-BYTE", "malformed hex data")


def finish_string_bytes(raw: bytes, unicode_file: bool, byte_codec: str, byte_errors: str) -> bytes:
    """Stored bytes of hex(1), hex(2) and hex(7) data (5.5).

    In a UTF-16 file the bytes are UTF-16LE already; in an 8-bit file they are text in the
    file's code page and become UTF-16LE. Either way, data that does not end in a NUL
    character gets exactly one (a MULTI_SZ does not get its second one). Empty data stays
    empty (import.c:L1607).
    """
    if not raw:
        return raw
    if unicode_file:
        whole = len(raw) - len(raw) % 2
        if whole == 0 or raw[whole - 2:whole] != b"\0\0":
            raw += b"\0\0"
        return raw
    if raw[-1] != 0:
        raw += b"\0"
    return raw.decode(byte_codec, byte_errors).encode("utf-16-le", "surrogatepass")
