"""regipy (slow: only used on the edited subtrees), and what it cannot show:

* compressed names are decoded as ASCII with U+FFFD for other bytes, the default value is
  ``(default)``; it decodes data itself: strings with ``rstrip('\\0')``, REG_MULTI_SZ as
  its non-empty strings, REG_DWORD/REG_QWORD as integers; REG_DWORD_BIG_ENDIAN,
  REG_LINK, resource types and unknown types only when their data is not inline and not
  big data; device-property types (above 0xFFFF0000) by their low 16 bits.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .model import BIG_DATA_LIMIT, OPAQUE, Content, Reader, Record, View, join, module_missing, parent_of


_REGIPY_TYPES = ("REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
                 "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
                 "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD")
_REGIPY_SKIPPED_TYPE = 0x200000  # regipy leaves values of this type out


def _regipy_name(name: str, utf16: bool) -> str:
    if utf16:
        return name.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return name.encode("latin-1").decode("ascii", "replace")


def _regipy_type(t: int) -> str:
    if t > 0xFFFF0000:
        t &= 0xFFFF
    if t < len(_REGIPY_TYPES):
        return _REGIPY_TYPES[t]
    return "REG_FILETIME" if t == 16 else str(t)


def _regipy_text(data: bytes) -> object:
    try:
        return data.decode("utf-16-le").rstrip("\0")
    except UnicodeDecodeError:
        try:
            return data.decode().rstrip("\0")
        except UnicodeDecodeError:
            return data


def _regipy_multi(data: bytes) -> list[str]:
    """construct's GreedyRange(CString('utf-16-le')): strings up to the first one that has
    no terminator or does not decode; regipy then drops the empty ones."""
    strings, at = [], 0
    while True:
        end = at
        while end + 2 <= len(data) and data[end : end + 2] != b"\0\0":
            end += 2
        if end + 2 > len(data):
            break
        try:
            strings.append(data[at:end].decode("utf-16-le"))
        except UnicodeDecodeError:
            break
        at = end + 2
    return [s for s in strings if s]


def _regipy_data(record: Record, minor: int) -> object:
    kind = _regipy_type(record.type)
    raw, fld = record.raw, record.inline
    one_cell_db = len(raw) > BIG_DATA_LIMIT and minor < 4 and raw[:2] == b"db"
    big = len(raw) > BIG_DATA_LIMIT and minor >= 4
    if one_cell_db or (fld is None and len(raw) < 5):
        return OPAQUE
    if kind in ("REG_SZ", "REG_EXPAND_SZ"):
        return _regipy_text(raw)
    if kind in ("REG_BINARY", "REG_NONE"):
        return raw
    if kind in ("REG_DWORD", "REG_QWORD"):
        if fld is not None:
            return int.from_bytes(fld, "little")
        size = 4 if kind == "REG_DWORD" else 8
        return int.from_bytes(raw[:size], "little") if len(raw) >= size else OPAQUE
    if kind == "REG_MULTI_SZ":
        return tuple(_regipy_multi(raw))
    if kind == "REG_FILETIME" or fld is not None or big:
        return OPAQUE  # regipy reads inline and big data of these types from the wrong place
    if kind in ("REG_RESOURCE_LIST", "REG_RESOURCE_REQUIREMENTS_LIST"):
        return raw
    return _regipy_text(raw)


# A regipy scope is (key path in regipy's rendering, recursive). It covers the scope key and
# its values, the names of its direct subkeys, and with ``recursive`` everything below it.
Scope = list[tuple[str, bool]]


def _below(path: str, scope: str) -> bool:
    return not scope or path.startswith(scope + "\\")


def _values_in_scope(path: str, scopes: Scope) -> bool:
    return any(path == s or (recursive and _below(path, s)) for s, recursive in scopes)


def _key_in_scope(path: str, scopes: Scope) -> bool:
    return _values_in_scope(path, scopes) or any(path and parent_of(path) == s for s, _ in scopes)


def _worth_descending(path: str, scopes: Scope) -> bool:
    return _values_in_scope(path, scopes) or any(_below(s, path) for s, _ in scopes)


def _regipy_read(path: Path | str, scopes: Scope) -> View:
    from regipy.registry import RegistryHive

    hive = RegistryHive(str(path))
    keys: Counter = Counter()
    values: Counter = Counter()
    stack = [("", hive.root)]
    while stack:
        path_text, key = stack.pop()
        if _key_in_scope(path_text, scopes):
            keys[path_text] += 1
        if _values_in_scope(path_text, scopes):
            for value in key.iter_values(as_json=False, trim_values=False):
                data = tuple(value.value) if isinstance(value.value, list) else value.value
                values[(path_text, value.name, str(value.value_type), data)] += 1
        if _worth_descending(path_text, scopes):
            for sub in key.iter_subkeys() or ():
                sub_path = join(path_text, sub.name)
                if _key_in_scope(sub_path, scopes) or _worth_descending(sub_path, scopes):
                    stack.append((sub_path, sub))
    return View(keys, values)


def regipy_scopes(content: Content, scopes: list[tuple[str, bool]]) -> Scope:
    """Scopes given as hive paths, rendered the way regipy names keys."""
    return [(_regipy_path(content, path), recursive) for path, recursive in scopes]


def _regipy_path(content: Content, path: str) -> str:
    parts = path.split("\\") if path else []
    return "\\".join(_regipy_name(p, u) for p, u in zip(parts, content.keys[path]))


def _regipy_expect(content: Content, scopes: Scope) -> View:
    keys: Counter = Counter()
    for path in content.keys:
        rendered = _regipy_path(content, path)
        if _key_in_scope(rendered, scopes):
            keys[rendered] += 1
    values: Counter = Counter()
    for r in content.values:
        rendered = _regipy_path(content, r.key)
        if r.type != _REGIPY_SKIPPED_TYPE and _values_in_scope(rendered, scopes):
            name = _regipy_name(r.name, r.name_utf16) if r.name else "(default)"
            values[(rendered, name, _regipy_type(r.type), _regipy_data(r, content.minor))] += 1
    return View(keys, values)


REGIPY = Reader("regipy", _regipy_read, _regipy_expect, module_missing("regipy.registry"))
