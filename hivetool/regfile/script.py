"""The body of a REGEDIT4 or 5.00 file, read line by line as Windows reads it (reg-format.md 3-5).

Windows' reader is a state machine over lines: a line starting with '[' opens or deletes a
key, '"' or '@' starts a value, ';' and '#' lines are comments, and anything else is skipped.
Hex data may continue over several lines. Every skipped or rejected line becomes an error
diagnostic; the patch gets exactly the operations Windows would carry out.
"""
from __future__ import annotations

import re

from ..progress import QUIET, Progress
from ..utf16 import encode_le
from .diagnostics import LineProblem, Note, Reporter
from .encoding import DecodedFile, Lines
from .keys import MAX_KEY_NAME, KeyPath, resolve_key_path
from .patch import CREATE_KEY, DELETE_VALUE, SET_VALUE, Op, Origin, Patch
from .values import (
    HEX_DIGITS, MAX_VALUE_NAME, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_SZ, STRING_TYPES, expect_line_end,
    finish_string_bytes, looks_like_utf16, read_dword, read_hex_segment, read_hex_type, read_quoted, skip_blanks,
)


def _shown(name: str) -> str:
    return "@" if name == "" else f'"{name}"'


# The start of a value line exactly as regedit writes it (8.4-8.8): a name without escapes or
# '@', '=', then 8-digit dword data or a string without escapes (each ending the line), or the
# 'hex:'/'hex(N):' prefix. The general reader gives the same result for these lines; this one
# regex just reads them faster. Hex data is left to read_hex_segment: a pattern repeated once
# per byte would make the regex engine keep state for every byte of a long value.
_REGEDIT_VALUE = re.compile(r'''(?:"([^"\\]*)"|@)=(?:dword:([0-9a-fA-F]{8})\Z|"([^"\\]*)"\Z|'''
                            r"hex(?:\(([0-9a-f]{1,8})\))?:)")
# A key line as regedit writes it; the caller makes sure no key name in it can be too long.
_REGEDIT_KEY = re.compile(r"\[HKEY_(?:LOCAL_MACHINE|CURRENT_USER|CLASSES_ROOT|USERS|CURRENT_CONFIG)(?:\\[^\\]+)*\]")
_ORPHAN_HEX = re.compile(r"[0-9A-Fa-f]{1,2}(?:,|\s*$)")


def _utf16_in_ansi(value_type: int, written: bytes, stored: bytes, encoding: str) -> str:
    """What R-HEX-UTF16-IN-ANSI says: what the author meant, and what Windows makes of it."""
    meant = written.decode("utf-16-le", "replace").rstrip("\0")
    shown_meant = repr(meant if len(meant) <= 40 else meant[:40] + "...")
    text = stored.decode("utf-16-le", "replace")
    widened = ", ".join("NUL" if ch == "\0" else repr(ch) for ch in text[:6]) + (", ..." if len(text) > 6 else "")
    if value_type == REG_MULTI_SZ:
        items = text.split("\0\0", 1)[0].split("\0")
        reads = f"the list of {len(items)} one-character strings {items[:4]!r}" + ("..." if len(items) > 4 else "")
    else:
        reads = f"the string {text.split(chr(0), 1)[0]!r}"
    return (f"hex({value_type:x}) data looks like UTF-16 text ({shown_meant}), but the file has no UTF-16 "
            f"byte-order mark (read as {encoding}), so Windows takes each byte as one ANSI character and "
            f"stores {len(stored)} bytes: {widened}, which programs read as {reads}; save the file as UTF-16 "
            "(regedit's \"Unicode\") to keep the text")


PROGRESS_EVERY = 4096  # lines between reports: a call per line would cost more than it tells

class ScriptReader:
    """The body of a REGEDIT4 or 5.00 file, line by line (reg-format.md sections 3-5)."""

    def __init__(self, split: Lines, decoded: DecodedFile, patch: Patch, report: Reporter,
                 accept_upper_keywords: bool, progress: Progress = QUIET) -> None:
        self.lines = split.lines
        self.progress = progress
        self.decoded = decoded
        self.patch = patch
        self.report = report
        self.path = report.path
        self.accept_upper_keywords = accept_upper_keywords
        self.key: str | None = None  # where values go; None drops them (4.7)
        self.why_no_key = "no key line comes before it"

    def run(self) -> None:
        lines = self.lines
        index = 1
        progress, told = self.progress, 0
        progress.stage(f"reading {self.path}", len(lines), "lines")
        while index < len(lines):
            if index - told >= PROGRESS_EVERY:
                progress.advance(index - told)
                told = index
            line = lines[index]
            # Each line is dropped once read (continuation lines too), so the operations are
            # built while the lines go: a large file is not held as lines and patch at once.
            lines[index] = ""
            lead = 0
            if line[:1] in (" ", "\t"):
                lead = len(line) - len(line.lstrip(" \t"))
            if lead == len(line):
                index += 1
                continue
            first = line[lead]
            try:
                if first == '"' or first == "@":
                    index = self._value_line(index, line, lead)
                    continue
                if first == "[":
                    self._key_line(index, line, lead)
                elif first != ";" and first != "#":
                    self._ignored_line(line, lead)
            except LineProblem as problem:
                at = index if problem.line_index is None else problem.line_index
                self.report.error(at + 1, problem.offset + 1, problem.code, problem.message)
                index = at + 1
                continue
            index += 1
        progress.advance(len(lines) - told)

    # -- key lines (section 4) ------------------------------------------------------------
    def _key_line(self, index: int, line: str, lead: int) -> None:
        lineno = index + 1
        if len(line) <= MAX_KEY_NAME and line.isascii() and _REGEDIT_KEY.fullmatch(line):
            self.key = line[1:-1]
            self.patch.ops.append(Op(CREATE_KEY, self.key, origin=Origin(self.path, lineno)))
            return
        start = lead + 1
        if start < len(line) and line[start] in " \t":
            # Wine leaves the previous key open after an ignored key line (import.c key_name_state).
            raise LineProblem(start, "R-KEY-BLANK", "key line ignored: the root name must follow '[' "
                              "directly (the key opened before stays open)")
        close = line.rfind("]")
        if close < start:
            raise LineProblem(len(line), "R-KEY-NO-BRACKET", "key line ignored: no closing ']' (a key "
                              "path cannot continue on the next line; the key opened before stays open)")
        rest = line[close + 1:]
        if rest.strip(" \t"):
            self.report.warning(lineno, close + 2 + len(rest) - len(rest.lstrip(" \t")), "R-KEY-TRAILING-TEXT",
                                "text after ']' is ignored")
        text = line[start:close]
        origin = Origin(self.path, lineno)
        if text.startswith("-"):
            self.key = None
            self.why_no_key = f"line {lineno} deletes a key, which leaves no key open"
            target = text[1:]
            if target[:1] in (" ", "\t"):
                raise LineProblem(start + 1, "R-KEY-BLANK", "nothing is deleted: the root name must follow "
                                  "'[-' directly")
            resolved = self._resolve(lineno, target, start + 1)
            if not resolved.subpath:
                raise LineProblem(start + 1, "R-KEY-DELETE-ROOT", f"deleting the root key {resolved.root} "
                                  "does nothing")
            self.patch.delete_key(resolved.full, origin)
            return
        try:
            resolved = self._resolve(lineno, text, start)
        except LineProblem:
            self.key = None
            self.why_no_key = f"the key line at line {lineno} was rejected"
            raise
        self.key = resolved.full
        self.patch.create_key(resolved.full, origin)

    def _resolve(self, lineno: int, text: str, base: int) -> KeyPath:
        try:
            resolved = resolve_key_path(text)
        except LineProblem as problem:
            problem.offset += base
            raise
        self.report.notes(lineno, [(offset + base, code, message) for offset, code, message in resolved.notes])
        return resolved

    def _ignored_line(self, line: str, lead: int) -> None:
        if line[lead] in HEX_DIGITS and _ORPHAN_HEX.match(line, lead):
            raise LineProblem(lead, "R-HEX-ORPHAN", "line ignored: hex data here continues no value (the "
                              "value before it did not end its line with ',\\')")
        hint = " (value names need double quotes)" if "=" in line else ""
        raise LineProblem(lead, "R-LINE-IGNORED", "line ignored: expected '[key]', '\"name\"=data', "
                          f"'@=data' or a ';' comment{hint}")

    # -- value lines (section 5) ----------------------------------------------------------
    def _value_line(self, index: int, line: str, lead: int) -> int:
        """Read the value starting on line ``index``; returns the index of the next line to read."""
        fast = _REGEDIT_VALUE.match(line) if lead == 0 else None
        if fast:
            return self._regedit_value(index, fast)
        notes: list[Note] = []
        if line[lead] == "@":
            name, pos = "", lead + 1
        else:
            name, pos = read_quoted(line, lead + 1, "value name", notes)
        pos = skip_blanks(line, pos)
        if pos >= len(line) or line[pos] != "=":
            found = repr(line[pos]) if pos < len(line) else "the end of the line"
            raise LineProblem(pos, "R-NAME-NO-EQUALS", f"expected '=' after the value name, found {found}")
        text = line.rstrip(" \t")  # trailing blanks go before the data is read (import.c:L3337)
        pos = skip_blanks(text, pos + 1)
        if pos >= len(text):
            raise LineProblem(pos, "R-DATA-TYPE", "no data after '='")
        lineno = index + 1
        if text[pos] == "-":
            expect_line_end(text, pos + 1, "R-DELETE-TRAILING", "'=-', so nothing is deleted")
            self.report.notes(lineno, notes)
            self._store(lineno, lead, name, None, b"")
            return index + 1
        value_type, data, after = self._data(index, text, pos, name, notes)
        self.report.notes(lineno, notes)
        self._store(lineno, lead, name, value_type, data)
        return after

    def _regedit_value(self, index: int, match: re.Match[str]) -> int:
        name, dword, string, hex_type = match.groups()
        after = index + 1
        if dword is not None:
            value_type, data = REG_DWORD, int(dword, 16).to_bytes(4, "little")
        elif string is not None:
            value_type, data = REG_SZ, encode_le(string + "\0")
        else:
            value_type = int(hex_type, 16) if hex_type else REG_BINARY
            start = match.end()
            first, more = read_hex_segment(match.string, start)
            data, after = self._hex_value(index, match.string, start, first, more, value_type, name or "")
        self._store(index + 1, 0, name or "", value_type, data)
        return after

    def _store(self, lineno: int, lead: int, name: str, value_type: int | None, data: bytes) -> None:
        """Set (or, with no type, delete) the value in the open key, if Windows would."""
        if self.key is None:
            self.report.error(lineno, lead + 1, "R-NO-KEY", f"value {_shown(name)} dropped: {self.why_no_key}")
        elif len(name) > MAX_VALUE_NAME:
            self.report.error(lineno, lead + 1, "R-VALUE-NAME-LONG", f"value name of {len(name)} "
                              f"characters: Windows allows at most {MAX_VALUE_NAME}")
        elif value_type is None:
            self.patch.ops.append(Op(DELETE_VALUE, self.key, name, origin=Origin(self.path, lineno)))
        else:
            self.patch.ops.append(Op(SET_VALUE, self.key, name, value_type, data, Origin(self.path, lineno)))

    def _data(self, index: int, text: str, pos: int, name: str, notes: list[Note]) -> tuple[int, bytes, int]:
        """Type, stored bytes and next line index of the data starting at ``text[pos]``."""
        if text[pos] == '"':
            value, after = read_quoted(text, pos + 1, "string", notes)
            expect_line_end(text, after, "R-STRING-TRAILING", "the closing quote")
            return REG_SZ, encode_le(value + "\0"), index + 1
        if text.startswith("dword:", pos):
            return REG_DWORD, read_dword(text, pos + 6), index + 1
        if text.startswith("hex:", pos) or text.startswith("hex(", pos):
            value_type, start = read_hex_type(text, pos)
            first, more = read_hex_segment(text, start)
            data, after = self._hex_value(index, text, start, first, more, value_type, name)
            return value_type, data, after
        keyword = text[pos:pos + 6].lower()
        proper = "dword:" if keyword == "dword:" else keyword[:4] if keyword[:4] in ("hex:", "hex(") else ""
        if not proper:
            raise LineProblem(pos, "R-DATA-TYPE", "expected '\"string\"', 'dword:', 'hex:', 'hex(N):' or "
                              f"'-' after '=', found {text[pos]!r}")
        written = text[pos:pos + len(proper)]
        if not self.accept_upper_keywords:
            raise LineProblem(pos, "R-KEYWORD-CASE", f"keyword {written!r} must be written {proper!r}: "
                              "Windows rejects the value")
        notes.append((pos, "R-KEYWORD-CASE", f"keyword {written!r} read as {proper!r}; Windows rejects it"))
        return self._data(index, text[:pos] + proper + text[pos + len(proper):], pos, name, notes)

    def _hex_value(self, index: int, line: str, start: int, first: bytes, more: bool, value_type: int,
                   name: str) -> tuple[bytes, int]:
        """Stored bytes of hex data starting at ``line[start]``, whose first line gave ``first``
        (``more`` if it ends in a continuation backslash), with the index of the line after the
        value (5.4, 5.5, 5.7)."""
        raw, after = self._continuation_lines(index, line, first, name) if more else (first, index + 1)
        if value_type in STRING_TYPES:
            decoded = self.decoded
            if decoded.unicode_file and len(raw) % 2:
                self.report.warning(index + 1, start + 1, "R-HEX-ODD-UTF16", f"{len(raw)} bytes of "
                                    "string data in a UTF-16 file: an odd count cuts a character")
            written = raw
            raw = finish_string_bytes(raw, decoded.unicode_file, decoded.byte_codec, decoded.byte_errors)
            if not decoded.unicode_file and looks_like_utf16(written):
                self.report.warning(index + 1, start + 1, "R-HEX-UTF16-IN-ANSI",
                                    _utf16_in_ansi(value_type, written, raw, decoded.encoding))
        return raw, after

    @staticmethod
    def _lost(index: int, name: str) -> str:
        return f"value {_shown(name)} of line {index + 1} is discarded"

    def _continuation_lines(self, index: int, line: str, first: bytes, name: str) -> tuple[bytes, int]:
        """The bytes of the value of line ``index`` (``line``) with its continuation lines (5.7); returns
        them with the index of the line after the value. The bytes grow in one buffer: a 10 MB
        value is 400,000 lines, and a list of per-line pieces would cost several times its size."""
        data = bytearray(first)
        lines = self.lines
        backslash_line = index
        at = index + 1
        last = line  # the line ending in the last backslash read
        while at < len(lines):
            line = lines[at]
            lines[at] = ""  # dropped once read, as in run()
            at += 1
            lead = 2 if line.startswith("  ") and line[2:3] in HEX_DIGITS else len(line) - len(line.lstrip(" \t"))
            if lead == len(line) or line[lead] == ";":
                continue  # blank and comment lines are skipped inside hex data
            if line[lead] not in HEX_DIGITS:
                raise LineProblem(lead, "R-CONT-BROKEN", "expected more hex data after the '\\' that ends "
                                  f"line {backslash_line + 1}: {self._lost(index, name)}, and Windows loses "
                                  "this line too", line_index=at - 1)
            try:
                chunk, more = read_hex_segment(line, lead)
            except LineProblem as problem:
                problem.line_index = at - 1
                problem.message += f"; {self._lost(index, name)}"
                raise
            data += chunk
            if not more:
                return bytes(data), at
            backslash_line = at - 1
            last = line
        self.report.warning(backslash_line + 1, len(last.rstrip(" \t")), "R-CONT-EOF", "the file ends after "
                            "'\\': the value keeps the bytes read so far")
        return bytes(data), at
