"""What the .reg parser found wrong or unusual, each finding located by file, line and column.

Level ``error`` means Windows (``reg import``, ``regedit /s``) would skip or reject that line or
value, so the lenient patch differs from what the author wrote; ``warning`` means Windows accepts
the line but it is unusual, or hivetool reads it more kindly than Windows may.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"

# Every code the parser emits, with what it means (reg-format.md section in brackets).
CODES: dict[str, str] = {
    "R-HEADER": "line 1 is not a header Windows accepts: the whole file is refused (RegFileError) [2]",
    "R-ENCODING-UTF8": "the file is UTF-8; Windows documents only UTF-16LE and ANSI files [1]",
    "R-ENCODING-INVALID": "bytes that are not valid in the file's encoding [1]",
    "R-ODD-LENGTH": "a UTF-16 file with an odd number of bytes; the last byte is dropped [1]",
    "R-NUL-CHAR": "a NUL character ends the line early; the rest of the line is not read [1]",
    "R-HEADER-TRAILING-BLANKS": "blanks after the 5.00 header: hivetool accepts it, Windows may not [2, 10]",
    "R-HEADER-IGNORED": "a REGEDIT-prefixed header: Windows accepts the file and imports nothing [2]",
    "R-LINE-IGNORED": "a line that is not a key, a value or a comment [3]",
    "R-HEX-ORPHAN": "hex data on a line no value continues onto [3, 5.7]",
    "R-KEY-BLANK": "a blank between '[' (or '[-') and the root name [4.1, 4.8]",
    "R-KEY-NO-BRACKET": "a key line without a closing ']' [4.2]",
    "R-KEY-TRAILING-TEXT": "text after the closing ']' of a key line [4.2, 10]",
    "R-KEY-ROOT": "an unknown root key [4.6]",
    "R-KEY-SHORT-ROOT": "a short root name such as HKLM [4.6, 10]",
    "R-KEY-TRAILING-BACKSLASH": "backslashes at the end of a key path, dropped [4.4]",
    "R-KEY-EMPTY-COMPONENT": "an empty component in a key path [4.4, 10]",
    "R-KEY-NAME-LONG": "a key name longer than 255 characters",
    "R-KEY-DELETE-ROOT": "deleting a root key, which does nothing [4.8]",
    "R-NO-KEY": "a value with no key open: before the first key line, or after a failed or deleted one [4.7, 10]",
    "R-NAME-UNTERMINATED": "a value name without its closing quote [5.1]",
    "R-NAME-NO-EQUALS": "no '=' after the value name [5.1]",
    "R-VALUE-NAME-LONG": "a value name longer than 16,383 characters",
    "R-ESCAPE-NUL": "the escape \\0 in a name or string [5.1, 5.2]",
    "R-ESCAPE-UNKNOWN": "an escape other than \\\\ \\\" \\n \\r: the backslash is dropped [5.1]",
    "R-DATA-TYPE": "data that is not a string, dword:, hex:, hex(N): or '-' [5]",
    "R-KEYWORD-CASE": "an upper-case keyword such as DWORD: [5.6]",
    "R-STRING-UNTERMINATED": "string data without its closing quote [5.2]",
    "R-STRING-TRAILING": "text after the closing quote of string data [5.2]",
    "R-DWORD-DIGITS": "dword data that is not 1 to 8 hex digits [5.3]",
    "R-DWORD-TRAILING": "text after the digits of dword data [5.3]",
    "R-HEX-TYPE": "a hex(N) type that is not hex digits within 32 bits [5.4]",
    "R-HEX-BYTE": "an item of hex data that is not a byte of 1 or 2 hex digits [5.4]",
    "R-HEX-TRAILING": "text after the last byte of hex data [5.4]",
    "R-HEX-BACKSLASH": "a backslash in hex data that is not a continuation [5.4, 5.7]",
    "R-HEX-ODD-UTF16": "string-type hex data with an odd number of bytes in a UTF-16 file [5.5]",
    "R-HEX-UTF16-IN-ANSI": "hex(1)/hex(2)/hex(7) data shaped like UTF-16 in a file without a UTF-16 BOM: "
                           "Windows reads it as ANSI bytes and stores it widened, one character per byte [5.5]",
    "R-CONT-TRAILING": "text after a continuation backslash [5.7]",
    "R-CONT-BROKEN": "a line that should continue hex data but does not: the value and this line are lost [5.7]",
    "R-CONT-EOF": "the file ends right after a continuation backslash [5.7]",
    "R-DELETE-TRAILING": "text after '=-', so nothing is deleted [5.8]",
    "R-WIN31-IGNORED": "a line of a Windows 3.1 file that does not start with HKEY_CLASSES_ROOT [9]",
    "R-WIN31-KEY": "a Windows 3.1 line whose key cannot be opened [9]",
}


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int  # 1-based
    col: int  # 1-based column of the offending character
    level: str  # ERROR or WARNING
    code: str  # a key of CODES
    message: str  # says what was expected

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.level}: {self.message} [{self.code}]"


class LineProblem(Exception):
    """Raised inside the parser where a line cannot be accepted; becomes an error Diagnostic.

    ``offset`` is the 0-based index of the offending character in its line; ``line_index``
    names another line than the one being read (a continuation line), 0-based.
    """

    def __init__(self, offset: int, code: str, message: str, line_index: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.code = code
        self.message = message
        self.line_index = line_index


# A warning found while reading a line that is still accepted: (0-based offset, code, message).
Note = tuple[int, str, str]


@dataclass
class Reporter:
    """Collects the diagnostics of one file."""

    path: str
    found: list[Diagnostic] = field(default_factory=list)

    def error(self, line: int, col: int, code: str, message: str) -> None:
        self.found.append(Diagnostic(self.path, line, col, ERROR, code, message))

    def warning(self, line: int, col: int, code: str, message: str) -> None:
        self.found.append(Diagnostic(self.path, line, col, WARNING, code, message))

    def notes(self, line: int, notes: list[Note]) -> None:
        for offset, code, message in notes:
            self.warning(line, offset + 1, code, message)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.found, key=lambda d: (d.line, d.col))
