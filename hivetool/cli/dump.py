"""What ``ls`` lists, one entry per key, rendered only in the form asked for: the JSON document
of ``ls --json``, the text lines of ``ls``, or the rows of ``--jsonl`` and ``--csv`` (one per
value; a key without values gets one row whose value fields are empty, so that every key is in
the dump).

A recursive listing of a hive reads the subtree in one pass (``scan.iter_nodes``: each key node
decoded once) instead of asking a Key view per question; both give the same documents.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Iterator, Protocol

from .. import csvtext
from ..jsontext import ITEM_PAD, pretty, string
from ..regf.hive.model import Key, Value
from ..regf.hive.scan import KeyNode, iter_nodes, node_class_name, node_values
from ..regf.records.types import decode, type_name
from ..timeutil import filetime_to_iso
from . import render

ROW_FIELDS = ("path", "last_write", "last_write_filetime", "name", "type", "type_id", "data")


class Entry(Protocol):
    def json(self) -> dict[str, Any]: ...

    def jsonl_text(self) -> str: ...

    def json_text(self) -> str: ...

    def lines(self) -> list[str]: ...

    def rows(self) -> list[dict[str, Any]]: ...

    def csv_text(self) -> str: ...


def _rows(path: str, last_write: str | None, filetime: int | None, values: list[Value]) -> list[dict[str, Any]]:
    key = {"path": path, "last_write": last_write, "last_write_filetime": filetime}
    if not values:
        return [{**key, "name": None, "type": None, "type_id": None, "data": None}]
    rows = []
    for value in values:
        data = value.data
        rows.append({**key, "name": value.name, "type": type_name(value.type), "type_id": value.type,
                     "data": data.hex() if isinstance(data, bytes) else data})
    return rows


class ViewEntry:
    """An entry whose JSON forms come from its ``json()`` and ``rows()`` documents."""

    def json(self) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def json_text(self) -> str:
        return pretty(self.json(), ITEM_PAD)

    def jsonl_text(self) -> str:
        return "".join(_ROW_ENCODE(row) + "\n" for row in self.rows())

    def csv_text(self) -> str:
        return "".join(csvtext.line(csv_data(row[field]) if field == "data" else row[field] for field in ROW_FIELDS)
                       for row in self.rows())


class KeyEntry(ViewEntry):
    """A key through its Key view (a single key, or a key of an image's merged view)."""

    def __init__(self, key: Key, shown: str | None) -> None:
        self.key, self.shown = key, shown

    def json(self) -> dict[str, Any]:
        return render.key_json(self.key, shown=self.shown)

    def lines(self) -> list[str]:
        return render.key_lines(self.key, shown=self.shown)

    def rows(self) -> list[dict[str, Any]]:
        key = self.key
        return _rows(self.shown or key.path or "\\", key.last_write_iso, key.last_write, key.values())


class NodeEntry:
    """A key read by the one-pass scan of a recursive listing."""

    __slots__ = ("hive", "node", "shown")  # one per key of a dump

    def __init__(self, hive: Any, node: KeyNode, shown: str | None) -> None:
        self.hive, self.node, self.shown = hive, node, shown

    def json(self) -> dict[str, Any]:
        node = self.node
        document: dict[str, Any] = {
            "path": self.shown or node.path or "\\",
            "name": node.name,
            "last_write": filetime_to_iso(node.timestamp),
            "last_write_filetime": node.timestamp,
            "subkeys": node.subkey_names,
        }
        class_name = node_class_name(self.hive, node)
        if class_name is not None:
            document["class"] = class_name
        document["values"] = [render.value_json(value) for value in node_values(self.hive, node)]
        return document

    def json_text(self) -> str:
        """``pretty(self.json(), ITEM_PAD)``, written out for the one layout it has: a dump
        spends most of its time here (f-strings: the fewest steps per key and value)."""
        node = self.node
        names = node.subkey_names
        subkeys = f"[\n      {_ITEM_SEPARATOR.join(map(string, names))}\n    ]" if names else "[]"
        class_text = ""
        if node.class_length:  # few keys have a class name: no call for the others
            class_name = node_class_name(self.hive, node)
            if class_name is not None:
                class_text = f',\n    "class": {string(class_name)}'
        values = node_values(self.hive, node)
        values_text = f"[\n      {_values_text(values)}\n    ]" if values else "[]"
        return (f'{{\n    "path": {string(self.shown or node.path or _BACKSLASH)},\n    "name": {string(node.name)},\n'
                f'    "last_write": "{filetime_to_iso(node.timestamp)}",\n'
                f'    "last_write_filetime": {node.timestamp},\n    "subkeys": {subkeys}{class_text},\n'
                f'    "values": {values_text}\n  }}')

    def jsonl_text(self) -> str:
        """``--jsonl`` lines of this key, as the C encoder writes ``rows()``, written out here
        for speed (one f-string per value)."""
        node = self.node
        head = (f'{{"path":{string(self.shown or node.path or _BACKSLASH)},'
                f'"last_write":"{filetime_to_iso(node.timestamp)}","last_write_filetime":{node.timestamp},')
        values = node_values(self.hive, node)
        if not values:
            return head + _ROW_NO_VALUE
        lines = []
        for name, value_type, raw, _ in values:  # unpacked, as in _values_text
            lines.append(f'{head}"name":{string(name)},"type":"{type_name(value_type)}","type_id":{value_type},'
                         f'"data":{_data_json(value_type, raw, _compact_list)}}}\n')
        return "".join(lines)

    def csv_text(self) -> str:
        """``--csv`` lines of this key, the lines ``ViewEntry.csv_text`` makes of ``rows()``,
        written out here for speed (only the path, names and data can need quotes)."""
        node = self.node
        path = self.shown or node.path or _BACKSLASH
        head = f"{csvtext.field(path)},{filetime_to_iso(node.timestamp)},{node.timestamp},"
        values = node_values(self.hive, node)
        if not values:
            return head + ",,,\n"
        lines = []
        needs_quotes, quoted = csvtext.needs_quotes, csvtext.quoted  # csvtext.field of text, inlined
        for name, value_type, raw, _ in values:  # unpacked, as in _values_text
            data = decode(value_type, raw)
            if isinstance(data, str):
                data_text = data if needs_quotes(data) is None else quoted(data)
            elif type(data) is int:
                data_text = int.__repr__(data)
            elif type(data) is list:
                data_text = csvtext.field(csv_data(data))
            else:
                data_text = raw.hex()
            name_text = name if needs_quotes(name) is None else quoted(name)
            lines.append(f"{head}{name_text},{type_name(value_type)},{value_type},{data_text}\n")
        return "".join(lines)

    def lines(self) -> list[str]:
        node = self.node
        lines = [f"[{self.shown or node.path or _BACKSLASH}]  last write {filetime_to_iso(node.timestamp)}"]
        for value in node_values(self.hive, node):
            lines.append(f"  {render.value_name(value.name)} = {value.type_name} {render.value_text(value)}")
        lines.extend(f"  {name}\\" for name in node.subkey_names)
        return lines

    def rows(self) -> list[dict[str, Any]]:
        node = self.node
        return _rows(self.shown or node.path or "\\", filetime_to_iso(node.timestamp), node.timestamp,
                     node_values(self.hive, node))


class VirtualEntry(ViewEntry):
    """A key that is no hive's key but lists an image's hives (its top, HKLM, HKU)."""

    def __init__(self, path: str, children: list[str]) -> None:
        self.path, self.children = path, children

    def json(self) -> dict[str, Any]:
        return render.virtual_json(self.path, self.children)

    def lines(self) -> list[str]:
        return render.virtual_lines(self.path, self.children)

    def rows(self) -> list[dict[str, Any]]:
        return _rows(self.path or "\\", None, None, [])


class MergedEntry(ViewEntry):
    """HKCR: the user's classes over the machine's."""

    def __init__(self, path: str, keys: list[Key]) -> None:
        self.path, self.keys = path, keys

    def json(self) -> dict[str, Any]:
        return render.merged_json(self.path, self.keys)

    def lines(self) -> list[str]:
        return render.merged_lines(self.path, self.keys)

    def rows(self) -> list[dict[str, Any]]:
        document = self.json()
        return _rows(self.path, document["last_write"], document["last_write_filetime"],
                     render.merged_values(self.keys))


_ITEM_SEPARATOR = ",\n      "  # between the items of a key's lists, as pretty() indents them
_DATA_PAD = "\n        "  # where a value's data sits
_BACKSLASH = "\\"  # the root key's path as a dump shows it


def _values_text(values: list[Value]) -> str:
    """``pretty(render.value_json(value))`` of each value, as the items of a key's values.

    One loop for a key's values, each unpacked as the tuple it is (its fields and ``data``
    are Python-level lookups, and a dump formats every value of the hive), its text one
    f-string laid out as pretty() lays out a value's document."""
    texts = []
    for name, value_type, raw, _ in values:
        type_lines = _TYPE_LINES.get(value_type)
        if type_lines is None:
            type_lines = f'"type": "{type_name(value_type)}",\n        "type_id": {value_type}'
            if len(_TYPE_LINES) < _TYPES_KEPT:  # any 32-bit number is a type: keep a few
                _TYPE_LINES[value_type] = type_lines
        raw_hex = raw.hex()  # once: binary data shows it twice
        texts.append(f'{{\n        "name": {string(name)},\n        {type_lines},\n        "size": {len(raw)},\n'
                     f'        "data": {_data_json(value_type, raw, _indented_list, raw_hex)},\n'
                     f'        "raw": "{raw_hex}"\n      }}')
    return _ITEM_SEPARATOR.join(texts)


_TYPE_LINES: dict[int, str] = {}  # a type's two lines in a value's document (a hive uses a few dozen types)
_TYPES_KEPT = 256


def _data_json(value_type: int, raw: bytes, list_json: Callable[[list[str]], str], raw_hex: str | None = None) -> str:
    """A value's data as JSON: its decoded number or string, a list of strings as
    ``list_json`` lays it out, other data as hex of its bytes (``raw_hex``, when known)."""
    data = decode(value_type, raw)
    kind = type(data)
    if kind is str:
        return string(data)  # type: ignore[arg-type]
    if kind is int:
        return int.__repr__(data)
    if kind is list:
        return list_json(data)  # type: ignore[arg-type]
    return f'"{raw.hex() if raw_hex is None else raw_hex}"'  # decode gave the bytes back


def _indented_list(strings: list[str]) -> str:
    return pretty(strings, _DATA_PAD)


def _compact_list(strings: list[str]) -> str:
    return "[" + ",".join(map(string, strings)) + "]"


_ROW_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # the C encoder
_ROW_NO_VALUE = '"name":null,"type":null,"type_id":null,"data":null}\n'


def subtree(hive: Any, start: Key, base: str | None) -> Iterator[NodeEntry]:
    """``start`` and every key below it; ``base`` is how ``start`` is shown (an image's full
    path), None to show paths inside the hive."""
    cut = len(start.path)
    for node in iter_nodes(hive, start):
        shown = None
        if base is not None:
            rest = node.path[cut:].lstrip("\\") if cut else node.path
            shown = base + ("\\" + rest if rest else "")
        yield NodeEntry(hive, node, shown)


def write_jsonl(entries: Iterable[Entry], write: Callable[[str], Any]) -> None:
    for entry in entries:
        write(entry.jsonl_text())


def csv_data(data: Any) -> Any:
    """A value's data in a CSV cell: a list of strings as a JSON array, anything else as it
    is (numbers in decimal, strings and hex as they are, nothing as an empty cell)."""
    if isinstance(data, list):
        return json.dumps(data, ensure_ascii=False)
    return data


def write_csv(entries: Iterable[Entry], write: Callable[[str], Any]) -> None:
    write(csvtext.line(ROW_FIELDS))
    for entry in entries:  # one write per key
        write(entry.csv_text())
