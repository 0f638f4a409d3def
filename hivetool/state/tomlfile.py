"""A TOML state file: its ``[[value]]``, ``[[absent]]``, ``[[key]]`` and ``[[ports]]`` tables.

Every problem is a :class:`~.model.StateError` (exit 3) naming the file and line: tomllib's
syntax errors carry theirs; for an item, the line of its field, else of its ``[[...]]`` header
(the Nth ``[[value]]`` table is the Nth ``[[value]]`` header; :mod:`.tomlscan` finds them).
Items must be written as ``[[name]]`` tables: an inline array (``value = [{...}]``) would leave
no line to name, so it is refused with a message that says how to write it.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..regfile.patch import Origin
from .address import item_path, value_name
from .conflicts import check_conflicts
from .model import ABSENT, KEY, PORTS, VALUE, Item, StateError
from .ports_load import read_ports
from .tomlcompat import tomllib
from .tomlscan import Layout, scan
from .values import DataProblem, value_bytes

TABLES = (VALUE, ABSENT, KEY, PORTS)
FIELDS = {
    VALUE: ("path", "name", "type", "data"),
    ABSENT: ("path", "name"),
    KEY: ("path",),
}
REQUIRED = {VALUE: ("path", "name", "data"), ABSENT: ("path",), KEY: ("path",)}
_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _decode(data: bytes | bytearray, path: str) -> str:
    """TOML is UTF-8; a byte-order mark, which editors on Windows add, is skipped."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as err:
        line = bytes(data).count(b"\n", 0, err.start) + 1
        raise StateError(f"not UTF-8 (byte 0x{data[err.start]:02x}): a TOML file must be UTF-8", path, line) from None
    return text[1:] if text.startswith("\ufeff") else text


def _parse(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        lineno = getattr(err, "lineno", None)  # Python 3.14 gives them as attributes
        colno = getattr(err, "colno", None)
        found = _WHERE.search(message)
        if found:
            lineno, colno = int(found.group(1)), int(found.group(2))
            message = message[: found.start()]
        elif _AT_END.search(message):
            message = _AT_END.sub("", message) + " (at the end of the file)"
            lineno, colno = text.rstrip("\n").count("\n") + 1, 0
        message = getattr(err, "msg", message)
        raise StateError(f"TOML syntax: {message[:1].lower() + message[1:]}", path, lineno or 0, colno or 0) from None


class _Lines:
    """Which line each table and field of the document is on."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.items: dict[str, list[int]] = {}  # table -> header index of each [[table]], in order
        for index, header in enumerate(layout.headers):
            if header.array and len(header.names) == 1:
                self.items.setdefault(header.names[0], []).append(index)

    def top_level(self, name: str) -> int:
        for header in self.layout.headers:
            if header.names[:1] == (name,):
                return header.line
        for key in self.layout.keys:
            if key.header < 0 and key.names[:1] == (name,):
                return key.line
        return 0

    def header(self, table: str, index: int) -> int:
        return self.layout.headers[self.items[table][index]].line

    def fields(self, table: str, index: int) -> dict[str, int]:
        """The line of each field of the index-th [[table]] (sub-tables too)."""
        header = self.items[table][index]
        found: dict[str, int] = {}
        for key in self.layout.keys:
            if key.header == header and key.names:
                found.setdefault(key.names[0], key.line)
        end = self.items[table][index + 1] if index + 1 < len(self.items[table]) else len(self.layout.headers)
        for sub in self.layout.headers[header + 1:end]:
            if len(sub.names) > 1 and sub.names[0] == table:
                found.setdefault(sub.names[1], sub.line)
        return found


def load_toml(data: bytes | bytearray, path: str, next_seq: Callable[[], int]) -> tuple[list[Item], list[str]]:
    """The items of one TOML state file, in file order, and its warnings (duplicates)."""
    text = _decode(data, path)
    document = _parse(text, path)
    lines = _Lines(scan(text))
    _check_tables(document, lines, path)
    entries: list[tuple[int, str, int, dict[str, Any]]] = []  # (header line, table, index, fields)
    for table in TABLES:
        for index, fields in enumerate(document.get(table, [])):
            entries.append((lines.header(table, index), table, index, fields))
    entries.sort(key=lambda entry: entry[0])  # file order, whatever the table
    items = []
    for line, table, index, fields in entries:
        field_lines = lines.fields(table, index)
        items.append(_item(table, fields, path, line, field_lines, next_seq))
    return items, check_conflicts(items)


def _check_tables(document: dict[str, Any], lines: _Lines, path: str) -> None:
    for name, content in document.items():
        line = lines.top_level(name)
        if name not in TABLES:
            raise StateError(f"unknown table or key {name!r}: a state file holds [[value]], [[absent]], [[key]] and "
                             "[[ports]] tables", path, line)
        if isinstance(content, dict):
            raise StateError(f"write [[{name}]] (one table per item), not [{name}]", path, line)
        headers = len(lines.items.get(name, []))
        if not isinstance(content, list) or headers != len(content) or not all(isinstance(t, dict) for t in content):
            raise StateError(f"write each {name} item as its own [[{name}]] table; {name} = [...] (an inline array) "
                             "is not read, so that every item has a line to report", path, line)


def _item(table: str, fields: dict[str, Any], path: str, line: int, field_lines: dict[str, int],
          next_seq: Callable[[], int]) -> Item:
    def origin_of(field: str) -> Origin:
        return Origin(path, field_lines.get(field, line))

    try:
        if table == PORTS:
            spec = read_ports(fields, origin_of, next_seq)
            return Item(PORTS, "", Origin(path, line), max(s.seq for s in spec.settings), ports=spec)
        allowed = FIELDS[table]
        for field in fields:
            if field not in allowed:
                raise DataProblem(f"unknown field {field!r} in [[{table}]] (its fields: {', '.join(allowed)})", field)
        for field in REQUIRED[table]:
            if field not in fields:
                raise DataProblem(f"[[{table}]] needs {field}" + _hint(table, field), "")
        for field in ("path", "name"):
            if field in fields and not isinstance(fields[field], str):
                raise DataProblem(f"{field} must be a string", field)
        key = item_path(fields["path"])
        name = value_name(fields["name"]) if "name" in fields else None
        if table == VALUE:
            value_type, raw = value_bytes(fields.get("type"), fields["data"])
            return Item(VALUE, key, Origin(path, line), next_seq(), name, value_type, raw)
        return Item(table, key, Origin(path, line), next_seq(), name)
    except DataProblem as problem:
        raise StateError(f"[[{table}]]: {problem}", path, field_lines.get(problem.field, line)) from None


def _hint(table: str, field: str) -> str:
    if field == "name":
        return ' (name = "" or "@" is the default value)'
    if field == "data":
        return " (an integer, a string, a list of strings, or hex text with type)"
    return ""


__all__ = ["load_toml"]
