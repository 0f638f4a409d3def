"""Value names and data of .reg lines, read as Windows reads them (reg-format.md section 5).

Each reader takes a line and the index where its part starts, returns what it read and
where it stopped, and raises LineProblem at the offending character.
"""
from __future__ import annotations

import re

from ..utf16 import encode_le
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


# One line's worth of hex data (reg-format 5.4, 5.7): bytes of 1 or 2 digits, each but the
# last followed by a comma, blanks allowed before each byte; then the last byte, or a
# continuation backslash (right after a comma or the 'hex:' prefix), or nothing; then optional
# blanks and a ';comment'. A line is read with checks over its whole text (no pattern that
# repeats once per byte: the regular-expression engine keeps state for every repetition, which
# made one 10 MB value cost gigabytes), and its bytes are converted in one call.
_LIST_CHARS = re.compile(r"[0-9A-Fa-f, \t]*")
_BLANK_AFTER_DIGIT = re.compile(r"[0-9A-Fa-f][ \t]")  # inside a byte, or between a byte and its comma
_LONG_ITEM = re.compile(r"[0-9A-Fa-f]{3}")
_PAD_BLOCK = 1 << 16  # characters of 1-digit items converted at a time
_LINE_BLOCK = 1 << 16  # characters of a long line read at a time


def read_hex_segment(line: str, start: int) -> tuple[bytes, bool]:
    """The bytes of one line of hex data from ``start`` on, and whether a continuation
    backslash ends the line; LineProblem at the first character Windows rejects."""
    end = line.find(";", start)  # ';' cannot be data: it starts the comment
    if end < 0:
        end = len(line)
    while end > start and line[end - 1] in " \t":
        end -= 1
    more = end > start and line[end - 1] == "\\"
    if more:
        end -= 1
        while end > start and line[end - 1] in " \t":
            end -= 1
        if end > start and line[end - 1] != ",":
            raise _hex_problem(line, start)  # the backslash does not follow a comma
    if end - start <= _LINE_BLOCK:
        data = hex_items(line[start:end]) if end > start else b""
        if data is None:
            raise _hex_problem(line, start)
        return data, more
    # A long line (one value of megabytes on one line) is read a block at a time, each block
    # cut right after a comma: items never span a comma, so each block is a list of its own,
    # and no copy of the whole line is made.
    out = bytearray()
    at = start
    while at < end:
        cut = line.find(",", at + _LINE_BLOCK, end)
        stop = end if cut < 0 else cut + 1
        block = hex_items(line[at:stop])
        if block is None:
            raise _hex_problem(line, start)
        out += block
        at = stop
    return bytes(out), more


def hex_items(text: str) -> bytes | None:
    """The bytes of comma-separated hex items (``aa,b, cc`` or with a trailing comma), or None
    when ``text`` is not such a list."""
    size = len(text)
    # The form regedit writes: two digits per byte, a comma at every third character.
    if size % 3 != 1 and text[2::3] == "," * (size // 3):
        digits = text.replace(",", "")
        if len(digits) == size - size // 3 and _HEX_RUN.fullmatch(digits):
            return bytes.fromhex(digits)
    if not _LIST_CHARS.fullmatch(text) or _BLANK_AFTER_DIGIT.search(text):
        return None
    if " " in text or "\t" in text:
        text = text.replace(" ", "").replace("\t", "")
    if text.startswith(",") or ",," in text or _LONG_ITEM.search(text):
        return None
    items = text.count(",") + (not text.endswith(","))
    digits = text.replace(",", "")
    if len(digits) == 2 * items:
        return bytes.fromhex(digits)
    # Some bytes have one digit (Windows reads '7' as 07): convert a block of items at a time,
    # each block cut after a comma, so no list of per-byte objects covers the whole line.
    out = bytearray()
    at = 0
    while at < len(text):
        stop = text.find(",", at + _PAD_BLOCK)
        stop = len(text) if stop < 0 else stop + 1
        out += bytes(int(item, 16) for item in text[at:stop].split(",") if item)
        at = stop
    return bytes(out)


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
    return encode_le(raw.decode(byte_codec, byte_errors))


def looks_like_utf16(raw: bytes) -> bool:
    """Whether string-type hex data read from an 8-bit file is shaped like UTF-16LE text in the
    Latin range: an even count of at least 4 bytes, every odd-numbered byte zero, and at least
    two non-NUL characters (``25,00,50,00`` is ``%P``).

    Read as ANSI, as Windows reads it (reg-format 5.5), such bytes are single characters
    separated by NULs: a REG_SZ or REG_EXPAND_SZ would end after its first character and a
    REG_MULTI_SZ would be a list of one-character strings, so no ordinary ANSI text has this
    shape. (A single character, ``41,00``, reads the same either way and is not flagged.)
    """
    size = len(raw)
    if size < 4 or size % 2:
        return False
    if raw[1::2].count(0) != size // 2:
        return False
    characters = raw[0::2]
    return len(characters) - characters.count(0) >= 2
