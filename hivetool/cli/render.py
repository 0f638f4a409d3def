"""How keys and values look on screen and in JSON."""
from __future__ import annotations

from typing import Any

from ..regf.model import Key, Value
from ..regf.types import RegType, decode


def value_text(value: Value) -> str:
    """One-line human form: numbers in decimal and hex, strings quoted, bytes in hex."""
    data = value.data
    if isinstance(data, int):
        return f"{data} (0x{data:x})"
    if isinstance(data, str):
        return _quote(data)
    if isinstance(data, list):
        return "[" + ", ".join(_quote(s) for s in data) + "]"
    raw = value.raw
    shown = raw[:64].hex(" ")
    return shown + (f" ... ({len(raw)} bytes)" if len(raw) > 64 else "") if raw else "(empty)"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def value_name(name: str) -> str:
    return "@" if name == "" else _quote(name)


def value_json(value: Value) -> dict[str, Any]:
    data = value.data
    return {
        "name": value.name,
        "type": value.type_name,
        "type_id": value.type,
        "size": len(value.raw),
        "data": data.hex() if isinstance(data, bytes) else data,
        "raw": value.raw.hex(),
    }


def key_json(key: Key, with_values: bool = True) -> dict[str, Any]:
    document: dict[str, Any] = {
        "path": key.path or "\\",
        "name": key.name,
        "last_write": key.last_write_iso,
        "subkeys": [sub.name for sub in key.subkeys()],
    }
    class_name = key.class_name
    if class_name is not None:
        document["class"] = class_name
    if with_values:
        document["values"] = [value_json(v) for v in key.values()]
    return document


def key_lines(key: Key) -> list[str]:
    lines = [f"[{key.path or chr(92)}]  last write {key.last_write_iso}"]
    for value in key.values():
        lines.append(f"  {value_name(value.name)} = {value.type_name} {value_text(value)}")
    for sub in key.subkeys():
        lines.append(f"  {sub.name}\\")
    return lines


def get_text(value: Value) -> str:
    """What ``get`` prints: the bare data, ready for scripts."""
    data = decode(value.type, value.raw)
    if isinstance(data, int):
        return str(data)
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return "\n".join(data)
    return value.raw.hex()


__all__ = ["RegType", "get_text", "key_json", "key_lines", "value_json", "value_name", "value_text"]
