"""How keys and values look on screen and in JSON."""
from __future__ import annotations

from typing import Any

from ..regf.hive.model import Key, Value
from ..regf.records.names import upcase
from ..regf.records.types import RegType, decode


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


def key_json(key: Key, with_values: bool = True, shown: str | None = None) -> dict[str, Any]:
    """``shown``: the path to print instead of the one inside the hive (an image's full path)."""
    document: dict[str, Any] = {
        "path": shown or key.path or "\\",
        "name": key.name,
        "last_write": key.last_write_iso,
        "last_write_filetime": key.last_write,
        "subkeys": [sub.name for sub in key.subkeys()],
    }
    class_name = key.class_name
    if class_name is not None:
        document["class"] = class_name
    if with_values:
        document["values"] = [value_json(v) for v in key.values()]
    return document


def key_lines(key: Key, shown: str | None = None) -> list[str]:
    lines = [f"[{shown or key.path or chr(92)}]  last write {key.last_write_iso}"]
    for value in key.values():
        lines.append(f"  {value_name(value.name)} = {value.type_name} {value_text(value)}")
    for sub in key.subkeys():
        lines.append(f"  {sub.name}\\")
    return lines


def virtual_json(path: str, children: list[str]) -> dict[str, Any]:
    """A key that is no hive's key but lists hives (an image's top, HKLM, HKU)."""
    return {"path": path or "\\", "name": path.rpartition("\\")[2], "last_write": None,
            "last_write_filetime": None, "subkeys": children, "values": []}


def virtual_lines(path: str, children: list[str]) -> list[str]:
    return [f"[{path or chr(92)}]  (hives of the image)"] + [f"  {child}\\" for child in children]


def merged_subkey_names(keys: list[Key]) -> list[str]:
    """The subkeys of a merged view (HKCR): every name of every side, the first side's spelling."""
    names: dict[str, str] = {}
    for key in keys:
        for sub in key.subkeys():
            names.setdefault(upcase(sub.name), sub.name)
    return [names[k] for k in sorted(names)]


def merged_values(keys: list[Key]) -> list[Value]:
    """Each value name once, from the first side that has it (the user's, for HKCR)."""
    seen: dict[str, Value] = {}
    for key in keys:
        for value in key.values():
            seen.setdefault(upcase(value.name), value)
    return list(seen.values())


def merged_json(path: str, keys: list[Key]) -> dict[str, Any]:
    return {"path": path, "name": path.rpartition("\\")[2],
            "last_write": max(key.last_write_iso for key in keys) if keys else None,
            "last_write_filetime": max(key.last_write for key in keys) if keys else None,
            "subkeys": merged_subkey_names(keys), "values": [value_json(v) for v in merged_values(keys)]}


def merged_lines(path: str, keys: list[Key]) -> list[str]:
    newest = max(key.last_write_iso for key in keys) if keys else "-"
    lines = [f"[{path}]  last write {newest} (merged view)"]
    for value in merged_values(keys):
        lines.append(f"  {value_name(value.name)} = {value.type_name} {value_text(value)}")
    lines.extend(f"  {name}\\" for name in merged_subkey_names(keys))
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
