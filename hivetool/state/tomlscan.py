"""Where things are in a TOML file: the line of every table header and of every key.

tomllib returns plain dicts and lists without positions, yet every error about a state item
must name its line. The document has already been parsed when this runs, so it is valid TOML
and a small lexer is enough: it skips strings (all four kinds, with escapes and the up to two
extra quotes a multi-line string may end with), comments and the inside of arrays and inline
tables, and records each statement that starts a line: a ``[table]`` or ``[[array]]`` header,
or a ``key =`` line. Names are decoded by tomllib itself, so quoting and dotted keys mean what
they mean to the parser.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .tomlcompat import tomllib


@dataclass(frozen=True)
class Header:
    line: int
    names: tuple[str, ...]  # the dotted name, decoded
    array: bool  # [[...]] rather than [...]


@dataclass(frozen=True)
class KeyLine:
    line: int
    names: tuple[str, ...]  # the dotted key, decoded
    header: int  # index of the header it falls under; -1 before the first header


@dataclass
class Layout:
    headers: list[Header] = field(default_factory=list)
    keys: list[KeyLine] = field(default_factory=list)


def scan(text: str) -> Layout:
    """The headers and key lines of ``text`` (valid TOML), in order."""
    scanner = _Scanner(text)
    scanner.run()
    return scanner.layout


def _names(source: str) -> tuple[str, ...]:
    """The decoded dotted name of a key written as ``source``."""
    try:
        tree = tomllib.loads(source)
    except tomllib.TOMLDecodeError:  # cannot happen for text the parser accepted; be safe
        return ()
    names: list[str] = []
    while isinstance(tree, dict) and len(tree) == 1:
        name, tree = next(iter(tree.items()))
        names.append(name)
        if isinstance(tree, list):
            break
    return tuple(names)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.depth = 0  # open [ and { inside a value
        self.layout = Layout()

    def run(self) -> None:
        text = self.text
        statement = True  # the next token starts a statement
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\n":
                self.line += 1
                self.pos += 1
                statement = statement or self.depth == 0
                continue
            if char in " \t\r":
                self.pos += 1
                continue
            if char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
                continue
            if statement:
                statement = False
                if char == "[":
                    self._header()
                else:
                    self._key()
                continue
            if char in "\"'":
                self._string()
            elif char in "[{":
                self.depth += 1
                self.pos += 1
            elif char in "]}":
                self.depth -= 1
                self.pos += 1
            else:
                self.pos += 1

    def _header(self) -> None:
        text = self.text
        line = self.line
        array = text.startswith("[[", self.pos)
        start = self.pos
        self.pos += 2 if array else 1
        while self.pos < len(text) and text[self.pos] != "]":
            if text[self.pos] in "\"'":
                self._string()
            else:
                self.pos += 1
        self.pos += 2 if array else 1
        names = _names(text[start:self.pos] + "\n")
        self.layout.headers.append(Header(line, names, array))

    def _key(self) -> None:
        text = self.text
        line = self.line
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in "=\n":
            if text[self.pos] in "\"'":
                self._string()
            else:
                self.pos += 1
        names = _names(text[start:self.pos] + "= 0\n")
        self.pos += 1  # the '='
        self.layout.keys.append(KeyLine(line, names, len(self.layout.headers) - 1))

    def _string(self) -> None:
        text = self.text
        quote = text[self.pos]
        basic = quote == '"'
        if text.startswith(quote * 3, self.pos):
            self.pos += 3
            while self.pos < len(text):
                char = text[self.pos]
                if basic and char == "\\":
                    if text.startswith("\n", self.pos + 1):
                        self.line += 1
                    self.pos += 2
                elif text.startswith(quote * 3, self.pos):
                    run = 3
                    while run < 5 and text.startswith(quote, self.pos + run):
                        run += 1
                    self.pos += run
                    return
                else:
                    if char == "\n":
                        self.line += 1
                    self.pos += 1
            return
        self.pos += 1
        while self.pos < len(text):
            char = text[self.pos]
            if basic and char == "\\":
                self.pos += 2
            elif char == quote or char == "\n":
                self.pos += 1 if char == quote else 0
                return
            else:
                self.pos += 1


__all__ = ["Header", "KeyLine", "Layout", "scan"]
