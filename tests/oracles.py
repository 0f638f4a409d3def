"""Independent readers of a hive, each projected to exactly what it can show.

No Windows is at hand, so a written hive is shown right by the agreement of readers that
share no code with hivetool. Each reader becomes a :class:`View`: the multiset of key paths
it lists and the multiset of value records it shows. Next to each reader's ``read`` sits an
``expect`` that renders a :class:`Content` (what the hive holds: one :class:`Record` per
value, as ``(key path, value name, type, raw bytes)``) the way that reader shows it, so a
test asserts ``read(file) == expect(content)`` for everything the reader can show, and
nothing is waved through that it could show.

What each reader cannot show (read from its source and confirmed on the corpus hives; the
``expect`` functions below model each point):

python-registry (``Registry.Registry``; ``raw_data()``, ``value_type()``)
  * the type is masked with 0xFFF (device-property types: 0xFFFF0011 shows as 0x11);
  * compressed names are decoded as cp1252, not Latin-1 (0x80-0x9F differ), and the default
    value is named ``(default)``;
  * ``raw_data()`` depends on the type: an inline REG_SZ/REG_EXPAND_SZ (or unknown type)
    gives the whole 4-byte field, an inline REG_MULTI_SZ gives ``b""``, REG_DWORD always gives
    the 4-byte field (for non-inline data that is a cell offset: cannot show), REG_QWORD and
    REG_DWORD_BIG_ENDIAN read the first 8/4 bytes of a data cell (inline data, big data or a
    shorter cell: cannot show), an inline FILETIME (0x10) cannot be shown;
  * a 1.3 value above 16,344 bytes whose data starts with ``db`` is taken for big data.
libregf (``pyregf``)
  * compressed names are decoded with a Windows code page (cp1252; undefined bytes become
    U+FFFD), names are cut at a NUL, the default value's name is ``None``;
  * inline data shorter than 4 bytes is taken from the *end* of the 4-byte field (Windows
    puts it at the start), and a 1- or 3-byte inline REG_SZ/REG_EXPAND_SZ grows by one zero
    byte;
  * a REG_SZ/REG_EXPAND_SZ stored in one cell is cut after its first UTF-16 NUL; empty data
    reads as ``None``; big data is only read as such in 1.5+ hives.
hivex (``hivexml``)
  * names are cut at a NUL; string data (REG_SZ, REG_EXPAND_SZ, REG_LINK) is decoded up to
    the first UTF-16 NUL, an odd last byte dropped, and shown as text (invalid UTF-16: the
    raw bytes as ``bad-*``); REG_MULTI_SZ as its list of strings; REG_DWORD/_BIG_ENDIAN as
    a signed int32 of the first 4 bytes and REG_QWORD as a signed int64 of the first 8
    (shorter data shows ``-1``); every other type as base64 of the raw bytes;
  * libxml2 writes control characters of names raw, which XML forbids: both sides map
    them to private-use characters before comparing.
reglookup
  * prints ``%XX`` for bytes outside 0x20-0x7E, ``%`` and each field's special characters;
    names and strings are converted to US-ASCII: a compressed name shows its raw bytes, a
    UTF-16 name or string that is not pure ASCII shows its raw UTF-16 bytes, an ASCII one
    its text up to the first NUL;
  * big data (1.5) is reassembled from its segments sorted by file offset, so a value
    whose segments are not in ascending order cannot be shown;
  * REG_DWORD/_BIG_ENDIAN/REG_QWORD print the first 4/8 bytes as hex (shorter: raw),
    REG_MULTI_SZ prints its non-empty strings joined by ``|``, unknown types print raw,
    empty data prints ``(null)``; type 0x7FFFFFFF prints as ``KEY``.
regipy (slow: only used on the edited subtrees)
  * compressed names are decoded as ASCII with U+FFFD for other bytes, the default value is
    ``(default)``; it decodes data itself: strings with ``rstrip('\\0')``, REG_MULTI_SZ as
    its non-empty strings, REG_DWORD/REG_QWORD as integers; REG_DWORD_BIG_ENDIAN,
    REG_LINK, resource types and unknown types only when their data is not inline and not
    big data; device-property types (above 0xFFFF0000) by their low 16 bits.
"""
from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path
from typing import Callable

import pytest

from corpus import IN_CI
from hivetool.regf.records.bins import file_offset
from hivetool.regf.hive import Hive
from hivetool.regf.records.names import upcase
from hivetool.regf.records.nk import KEY_COMP_NAME
from hivetool.regf.records.data import DB
from hivetool.regf.records.vk import VK, VALUE_COMP_NAME

BIG_DATA_LIMIT = 16_344  # above this a 1.4+ hive stores big data (db)


# ------------------------------------------------------------------------------ content
@dataclass(frozen=True)
class Record:
    """One value as the hive holds it. ``inline`` (the vk's 4-byte data field when the data
    is stored in it, else None), ``name_utf16`` and ``ascending`` (big data whose segments
    lie in ascending file order; None when not big data or not known) are storage facts
    some readers depend on; they are not content, so they take no part in comparisons."""

    key: str  # path below the root, '\\'-separated; '' is the root key
    name: str  # '' is the default value
    type: int
    raw: bytes
    # Left out, the facts are those of a value hivetool writes now (Windows' rules).
    inline: bytes | None | object = field(default=..., compare=False)
    name_utf16: bool | object = field(default=..., compare=False)
    ascending: bool | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.inline is ...:
            object.__setattr__(self, "inline", inline_field(self.raw))
        if self.name_utf16 is ...:
            object.__setattr__(self, "name_utf16", bool(self.name) and stored_utf16(self.name))


@dataclass
class Content:
    """Everything a hive holds: its keys (path -> whether each path component is stored as
    UTF-16) and its values."""

    minor: int
    keys: dict[str, tuple[bool, ...]]
    values: list[Record]

    def records(self) -> Counter:
        """The values as a multiset: what two hives must share to hold the same content."""
        return Counter(self.values)


def stored_utf16(name: str) -> bool:
    """Windows stores a name as Latin-1 when every character fits a byte (regf-format 4.3)."""
    return any(ord(c) > 0xFF for c in name)


def inline_field(raw: bytes) -> bytes | None:
    """The vk data field of freshly written data: 0-4 bytes inline, zero padded (6.2)."""
    return raw.ljust(4, b"\0") if len(raw) <= 4 else None


def join(parent: str, name: str) -> str:
    return f"{parent}\\{name}" if parent else name


def parent_of(path: str) -> str:
    return path.rpartition("\\")[0]


def read_own(source: Path | str | Hive) -> Content:
    """Our reader (Hive.walk), with the storage facts read from each nk and vk."""
    hive = source if isinstance(source, Hive) else Hive.open(source)
    keys: dict[str, tuple[bool, ...]] = {}
    values: list[Record] = []
    for key in hive.walk():
        if key.cell == hive._engine.root_cell:
            keys[""] = ()
        else:
            keys[key.path] = keys[parent_of(key.path)] + (not key.flags & KEY_COMP_NAME,)
        for value in key.values():
            at = file_offset(value.cell) + 4  # the vk payload
            vk = VK.unpack(hive._engine.buf, at)
            field_bytes = bytes(hive._engine.buf[at + 8 : at + 12]) if vk.data_size & 0x80000000 else None
            utf16 = bool(value.name) and not vk.flags & VALUE_COMP_NAME
            ascending = _segments_ascending(hive, vk) if len(value.raw) > BIG_DATA_LIMIT else None
            values.append(Record(key.path, value.name, value.type, value.raw, field_bytes, utf16, ascending))
    return Content(hive.minor, keys, values)


def _segments_ascending(hive: Hive, vk: tuple) -> bool | None:
    if hive.minor < 4:
        return None
    at, _ = hive._engine.space.payload(vk.data, "big data")
    _, count, segment_list = DB.struct.unpack_from(hive._engine.buf, at)
    list_at, _ = hive._engine.space.payload(segment_list, "segment list")
    segments = list(struct.unpack_from(f"<{count}I", hive._engine.buf, list_at))
    return segments == sorted(segments)


def adopt_layout(expected: Content, written: Content) -> Content:
    """Take the segment order of big data (a free choice of the allocator, not content)
    from what was written; every other fact of ``expected`` stays as the model says."""
    order = {(upcase(r.key), upcase(r.name)): r.ascending for r in written.values}
    values = [replace(r, ascending=order.get((upcase(r.key), upcase(r.name)))) for r in expected.values]
    return Content(expected.minor, expected.keys, values)


class ContentModel:
    """What a hive should hold after a series of edits, as a plain dict model.

    Names match case-insensitively by Windows upcase and keep their first spelling, as the
    engine must; a new name's storage follows the Latin-1-when-possible rule. Everything
    is indexed by upcased path, so an edit costs O(its subtree), not O(hive).
    """

    def __init__(self, content: Content) -> None:
        self.minor = content.minor
        self.keys: dict[str, tuple[str, tuple[bool, ...]]] = {}  # upcased path -> (path, flags)
        self.children: dict[str, set[str]] = {}
        self.values: dict[str, dict[str, Record]] = {}  # upcased key -> upcased name -> record
        for path, flags in sorted(content.keys.items(), key=lambda item: item[0].count("\\") if item[0] else -1):
            self._add_key(path, flags)
        for record in content.values:
            self.values[upcase(record.key)][upcase(record.name)] = record

    def _add_key(self, path: str, flags: tuple[bool, ...]) -> None:
        folded = upcase(path)
        self.keys[folded] = (path, flags)
        self.children[folded] = set()
        self.values[folded] = {}
        if path:
            self.children[upcase(parent_of(path))].add(folded)

    def key_path(self, path: str) -> str | None:
        found = self.keys.get(upcase(path))
        return found[0] if found else None

    def create_key(self, path: str) -> None:
        current = ""
        for part in path.split("\\") if path else []:
            existing = self.key_path(join(current, part))
            if existing is None:
                existing = join(current, part)
                self._add_key(existing, self.keys[upcase(current)][1] + (stored_utf16(part),))
            current = existing

    def delete_key(self, path: str) -> None:
        folded = upcase(path)
        if not path or folded not in self.keys:
            raise KeyError(path)
        self.children[upcase(parent_of(self.keys[folded][0]))].discard(folded)
        stack = [folded]
        while stack:
            gone = stack.pop()
            stack.extend(self.children.pop(gone))
            del self.keys[gone], self.values[gone]

    def set_value(self, key: str, name: str, value_type: int, raw: bytes) -> None:
        stored_key = self.key_path(key)
        if stored_key is None:
            raise KeyError(key)
        old = self.values[upcase(key)].get(upcase(name))
        stored_name = old.name if old else name
        utf16 = old.name_utf16 if old else ...
        record = Record(stored_key, stored_name, value_type, raw, name_utf16=utf16)
        self.values[upcase(key)][upcase(name)] = record

    def delete_value(self, key: str, name: str) -> None:
        del self.values[upcase(key)][upcase(name)]

    def value(self, key: str, name: str) -> Record | None:
        return self.values.get(upcase(key), {}).get(upcase(name))

    def content(self) -> Content:
        keys = {path: flags for path, flags in self.keys.values()}
        return Content(self.minor, keys, [r for named in self.values.values() for r in named.values()])


# ------------------------------------------------------------------------------ views
class _Opaque:
    """A value the reader cannot show faithfully: only its presence is compared."""

    def __repr__(self) -> str:
        return "<cannot show>"


OPAQUE = _Opaque()


@dataclass
class View:
    """What one reader shows: key paths and value records (the last item is the data)."""

    keys: Counter
    values: Counter


def compare(actual: View, expected: View, limit: int = 8) -> list[str]:
    """Differences between what a reader showed and what it should show, readably."""
    opaque = {rec[:-1] for rec in expected.values if rec[-1] is OPAQUE}
    seen: Counter = Counter()
    for rec, count in actual.values.items():
        seen[rec[:-1] + (OPAQUE,) if rec[:-1] in opaque else rec] += count
    problems = []
    for label, got, want in (("key", actual.keys, expected.keys), ("value", seen, expected.values)):
        for item in sorted((got - want).keys(), key=repr)[:limit]:
            problems.append(f"unexpected {label}: {_short(item)}")
        for item in sorted((want - got).keys(), key=repr)[:limit]:
            problems.append(f"missing {label}: {_short(item)}")
    return problems


def _short(item: object) -> str:
    text = repr(item)
    return text if len(text) < 300 else text[:300] + f"... ({len(text)} chars)"


@dataclass(frozen=True)
class Reader:
    name: str
    read: Callable[..., View]
    expect: Callable[..., View]
    missing: Callable[[], str | None]  # why the reader cannot run here, or None


def require(reader: Reader) -> None:
    """Skip a test when a reader is missing, but fail under CI=true, where all must run."""
    problem = reader.missing()
    if problem:
        message = f"reader {reader.name} is not available: {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _module_missing(module: str) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            __import__(module)
        except ImportError as err:
            return f"cannot import {module} ({err})"
        return None

    return check


def _tool_missing(tool: str, package: str) -> Callable[[], str | None]:
    return lambda: None if shutil.which(tool) else f"{tool} not on PATH (Debian package {package})"


# ------------------------------------------------------------------------------ our own
def _own_read(path: Path | str) -> View:
    return _own_expect(read_own(path))


def _own_expect(content: Content) -> View:
    return View(Counter(iter(content.keys)), Counter((r.key, r.name, r.type, r.raw) for r in content.values))


OWN = Reader("hivetool", _own_read, _own_expect, lambda: None)


# ------------------------------------------------------------------------------ python-registry
def _pyreg_read(path: Path | str) -> View:
    from Registry import Registry

    keys: Counter = Counter()
    values: Counter = Counter()
    stack = [("", Registry.Registry(str(path)).root())]
    while stack:
        path_text, key = stack.pop()
        keys[path_text] += 1
        for value in key.values():
            try:
                raw = bytes(value.raw_data())
            except Exception as err:  # an unreadable value only matches a "cannot show"
                raw = f"error: {type(err).__name__}".encode()
            values[(path_text, value.name(), value.value_type(), raw)] += 1
        stack.extend((join(path_text, sub.name()), sub) for sub in key.subkeys())
    return View(keys, values)


def _cp1252(name: str, utf16: bool, errors: str = "strict") -> str:
    return name if utf16 else name.encode("latin-1").decode("cp1252", errors)


def _pyreg_data(record: Record, minor: int) -> bytes | _Opaque:
    t, raw, fld = record.type & 0xFFF, record.raw, record.inline
    if fld is None and len(raw) < 5:
        return OPAQUE  # python-registry then reads the data field as if it were inline
    if len(raw) > BIG_DATA_LIMIT and minor < 4 and raw[:2] == b"db":
        return OPAQUE  # one cell that looks like big data to it
    if t in (1, 2):
        return fld if fld is not None else raw
    if t == 4:
        return fld if fld is not None else OPAQUE
    if t == 7:
        return b"" if fld is not None else raw
    if t in (5, 11):  # the first bytes of the data cell: of the db record for big data
        size = 4 if t == 5 else 8
        in_one_cell = fld is None and not (minor >= 4 and len(raw) > BIG_DATA_LIMIT)
        return raw[:size] if in_one_cell and len(raw) >= size else OPAQUE
    if t == 0x10:
        return raw if fld is None else OPAQUE
    if t in (0, 3, 6, 8, 9, 10) or 0x101 <= t <= 0x11F:
        return raw
    return fld if fld is not None else raw


def _pyreg_expect(content: Content) -> View:
    keys = Counter(_pyreg_path(path, flags) for path, flags in content.keys.items())
    values = Counter(
        (
            _pyreg_path(r.key, content.keys[r.key]),
            _cp1252(r.name, r.name_utf16) if r.name else "(default)",
            r.type & 0xFFF,
            _pyreg_data(r, content.minor),
        )
        for r in content.values
    )
    return View(keys, values)


def _pyreg_path(path: str, flags: tuple[bool, ...]) -> str:
    parts = path.split("\\") if path else []
    return "\\".join(_cp1252(part, utf16) for part, utf16 in zip(parts, flags))


PYTHON_REGISTRY = Reader("python-registry", _pyreg_read, _pyreg_expect, _module_missing("Registry.Registry"))


# ------------------------------------------------------------------------------ libregf
def _libregf_read(path: Path | str) -> View:
    import pyregf

    keys: Counter = Counter()
    values: Counter = Counter()
    hive = pyregf.file()
    hive.open(str(path))
    try:
        stack = [("", hive.get_root_key())]
        while stack:
            path_text, key = stack.pop()
            keys[path_text] += 1
            for value in key.values:
                values[(path_text, value.name or "", value.type, value.data or b"")] += 1
            stack.extend((join(path_text, sub.name), sub) for sub in key.sub_keys)
    finally:
        hive.close()
    return View(keys, values)


def _libregf_name(name: str, utf16: bool) -> str:
    return _cp1252(name, utf16, "replace").split("\0", 1)[0]


def _libregf_data(record: Record, minor: int) -> bytes:
    raw, fld = record.raw, record.inline
    if fld is not None:
        size = len(raw)
        grow = record.type in (1, 2) and size in (1, 3)
        if grow:
            size += 1
        data = fld[4 - size :] if size else b""
        return data[:-1] + b"\0" if grow else data
    if record.type in (1, 2) and not (minor >= 5 and len(raw) > BIG_DATA_LIMIT):
        for at in range(0, len(raw) - 1, 2):
            if raw[at : at + 2] == b"\0\0":
                return raw[: at + 2]
    return raw


def _libregf_expect(content: Content) -> View:
    def path_of(path: str) -> str:
        parts = path.split("\\") if path else []
        return "\\".join(_libregf_name(p, u) for p, u in zip(parts, content.keys[path]))

    keys = Counter(path_of(path) for path in content.keys)
    values = Counter(
        (path_of(r.key), _libregf_name(r.name, r.name_utf16), r.type, _libregf_data(r, content.minor))
        for r in content.values
    )
    return View(keys, values)


LIBREGF = Reader("libregf", _libregf_read, _libregf_expect, _module_missing("pyregf"))


# ------------------------------------------------------------------------------ hivexml
_XML_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PRIVATE = 0xF700  # control character c travels as U+F700 + c
_TRANSPORT = {c: _PRIVATE + c for c in (*range(0, 9), 11, 12, *range(14, 32))}
_HIVEX_TEXT_KINDS = {1: "string", 2: "expand", 6: "link"}
_HIVEX_OTHER_KINDS = {8: "resource-list", 9: "resource-description", 10: "resource-requirements"}


def _hivexml_read(path: Path | str) -> View:
    done = subprocess.run(["hivexml", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"hivexml failed on {path}: {done.stderr.decode(errors='replace')[:500]}")
    xml = _XML_FORBIDDEN.sub(lambda m: chr(_PRIVATE + m[0][0]).encode(), done.stdout)
    keys: Counter = Counter()
    values: Counter = Counter()
    stack: list[str] = []
    for event, element in ET.iterparse(BytesIO(xml), events=("start", "end")):
        if element.tag == "node":
            if event == "start":
                is_root = element.get("root") == "1"
                stack.append("" if is_root else join(stack[-1], element.get("name", "")))
                keys[stack[-1]] += 1
            else:
                stack.pop()
                element.clear()
        elif element.tag == "value" and event == "end":
            name = "" if element.get("default") == "1" else element.get("key", "")
            values[(stack[-1], name, _hivexml_payload(element))] += 1
    return View(keys, values)


def _hivexml_payload(element: ET.Element) -> tuple:
    kind = element.get("type", "")
    text = element.get("value")
    if kind == "string-list":
        return (kind, tuple(s.text or "" for s in element.findall("string")))
    if element.get("encoding") == "base64":
        return (kind, base64.b64decode(text or ""))
    if kind in ("int32", "int64"):
        return (kind, int(text or "0"))
    return (kind, text or "")


def _utf16_prefix(raw: bytes) -> bytes:
    """hivex's string length: whole UTF-16 units up to the first NUL unit."""
    at = 0
    while len(raw) - at >= 2 and raw[at : at + 2] != b"\0\0":
        at += 2
    return raw[:at]


def _hivex_payload(record: Record) -> tuple:
    t, raw = record.type, record.raw
    if t in _HIVEX_TEXT_KINDS:
        try:
            return (_HIVEX_TEXT_KINDS[t], _utf16_prefix(raw).decode("utf-16-le").translate(_TRANSPORT))
        except UnicodeDecodeError:
            return ("bad-" + _HIVEX_TEXT_KINDS[t], raw)
    if t == 7:
        pieces, at = [], 0
        while at < len(raw):
            piece = _utf16_prefix(raw[at:])
            try:
                pieces.append(piece.decode("utf-16-le").translate(_TRANSPORT))
            except UnicodeDecodeError:
                return ("bad-string-list", raw)
            at += len(piece) + 2
        return ("string-list", tuple(pieces))
    if t in (4, 5):
        order = "little" if t == 4 else "big"
        return ("int32", int.from_bytes(raw[:4], order, signed=True) if len(raw) >= 4 else -1)
    if t == 11:
        return ("int64", int.from_bytes(raw[:8], "little", signed=True) if len(raw) >= 8 else -1)
    if t == 0:
        return ("none", raw)
    if t == 3:
        return ("binary", raw)
    return (_HIVEX_OTHER_KINDS.get(t, "unknown"), raw)


def _hivex_name(name: str) -> str:
    return name.split("\0", 1)[0].translate(_TRANSPORT)


def _hivexml_expect(content: Content) -> View:
    def path_of(path: str) -> str:
        return "\\".join(_hivex_name(p) for p in path.split("\\")) if path else ""

    keys = Counter(path_of(path) for path in content.keys)
    values = Counter((path_of(r.key), _hivex_name(r.name), _hivex_payload(r)) for r in content.values)
    return View(keys, values)


HIVEXML = Reader("hivexml", _hivexml_read, _hivexml_expect, _tool_missing("hivexml", "libhivex-bin"))


# ------------------------------------------------------------------------------ reglookup
_RL_TYPES = ("NONE", "SZ", "EXPAND_SZ", "BINARY", "DWORD", "DWORD_BE", "LINK", "MULTI_SZ",
             "RSRC_LIST", "RSRC_DESC", "RSRC_REQ_LIST", "QWORD")
_RL_KEY_SPECIAL = ',"/'
_RL_SUBFIELD_SPECIAL = ',"|'
_RL_COMMON_SPECIAL = ',"'


def _rl_table(special: str) -> dict[int, str]:
    return {
        b: f"%{b:02X}" for b in range(256) if b < 32 or b > 126 or chr(b) == "%" or chr(b) in special
    }


_RL_QUOTE = {s: _rl_table(s) for s in (_RL_KEY_SPECIAL, _RL_SUBFIELD_SPECIAL, _RL_COMMON_SPECIAL)}


def _rl_quote(raw: bytes, special: str) -> str:
    """reglookup's quoting: %XX for non-printable bytes, '%' and the field's specials."""
    return raw.decode("latin-1").translate(_RL_QUOTE[special])


def _rl_ascii(raw: bytes) -> str | None:
    """reglookup's iconv UTF-16LE -> US-ASCII: the text, or None when it fails."""
    if len(raw) % 2:
        return None
    try:
        text = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return None
    return text if text.isascii() else None


def _rl_name(name: str, utf16: bool) -> str:
    if not utf16:
        return _rl_quote(name.encode("latin-1").split(b"\0", 1)[0], _RL_KEY_SPECIAL)
    raw = name.encode("utf-16-le", "surrogatepass")
    text = _rl_ascii(raw)
    if text is None:
        return _rl_quote(raw, _RL_KEY_SPECIAL)
    return _rl_quote(text.split("\0", 1)[0].encode("ascii"), _RL_KEY_SPECIAL)


def _rl_data(t: int, raw: bytes) -> str:
    if not raw:
        return "(null)"
    if t in (1, 2, 6, 7):
        text = _rl_ascii(raw)
        if text is None:
            return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)
        if t != 7:
            return _rl_quote(text.split("\0", 1)[0].encode("ascii"), _RL_COMMON_SPECIAL)
        starts = [0] + [i + 1 for i in range(len(text) - 1) if text[i] == "\0" and text[i + 1] != "\0"]
        strings = (text[s:].split("\0", 1)[0] for s in starts)
        return "|".join(_rl_quote(s.encode("ascii"), _RL_SUBFIELD_SPECIAL) for s in strings)
    if t in (4, 5):
        if len(raw) < 4:
            return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)
        return "0x%08X" % int.from_bytes(raw[:4], "little" if t == 4 else "big")
    if t == 11:
        if len(raw) < 8:
            return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)
        return "0x%016X" % int.from_bytes(raw[:8], "little")
    if t < len(_RL_TYPES):
        return _rl_quote(raw, _RL_COMMON_SPECIAL)
    return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)  # "could not be interpreted": raw buffer


def _rl_type(t: int) -> str:
    if t == 0x7FFFFFFF:
        return "KEY"  # regfi's own marker for keys
    return _RL_TYPES[t] if t < len(_RL_TYPES) else f"0x{t:08X}"


def _reglookup_read(path: Path | str) -> View:
    done = subprocess.run(["reglookup", "-H", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"reglookup failed on {path}: {done.stderr.decode(errors='replace')[:500]}")
    keys: Counter = Counter()
    values: Counter = Counter()
    for line in done.stdout.decode("latin-1").splitlines():
        fields = line.split(",")
        if len(fields) != 4:
            raise AssertionError(f"reglookup line with {len(fields)} fields: {line[:200]!r}")
        where, kind, data, mtime = fields
        if mtime:  # keys carry their last-write time, values never do
            keys[where] += 1
        else:
            values[(where, kind, data)] += 1
    return View(keys, values)


def _reglookup_expect(content: Content) -> View:
    def path_of(path: str) -> str:
        parts = path.split("\\") if path else []
        return "/" + "/".join(_rl_name(p, u) for p, u in zip(parts, content.keys[path]))

    keys = Counter(path_of(path) for path in content.keys)
    def data_of(r: Record) -> str | _Opaque:
        # regfi gathers big-data segments sorted by file offset, not in list order.
        if content.minor >= 5 and len(r.raw) > BIG_DATA_LIMIT and r.ascending is not True:
            return OPAQUE
        return _rl_data(r.type, r.raw)

    values = Counter(
        (path_of(r.key) + "/" + (_rl_name(r.name, r.name_utf16) if r.name else ""), _rl_type(r.type), data_of(r))
        for r in content.values
    )
    return View(keys, values)


REGLOOKUP = Reader("reglookup", _reglookup_read, _reglookup_expect, _tool_missing("reglookup", "reglookup"))


# ------------------------------------------------------------------------------ regipy
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


REGIPY = Reader("regipy", _regipy_read, _regipy_expect, _module_missing("regipy.registry"))

# The readers every written hive is checked with (regipy, being slow, is used separately).
FULL_READERS = (PYTHON_REGISTRY, LIBREGF, HIVEXML, REGLOOKUP)


def agree(reader: Reader, path: Path | str, content: Content, *scope: Scope) -> None:
    """Assert that ``reader`` shows exactly ``content`` (within ``scope`` for regipy)."""
    require(reader)
    problems = compare(reader.read(path, *scope), reader.expect(content, *scope))
    if problems:
        raise AssertionError(f"{reader.name} disagrees on {path}:\n  " + "\n  ".join(problems))



# ------------------------------------------------------------------------------ edits
# An edit applied alike to a Hive and to a ContentModel:
#   ("key", path) | ("set", key, name, type, raw) | ("del-key", path) | ("del-value", key, name)
Op = tuple


def apply(hive: Hive, model: ContentModel, op: Op) -> None:
    kind = op[0]
    if kind == "key":
        hive.create_key(op[1])
        model.create_key(op[1])
    elif kind == "set":
        hive.set_value(op[1], op[2], op[3], op[4])
        model.set_value(op[1], op[2], op[3], op[4])
    elif kind == "del-key":
        hive.delete_key(op[1], recursive=True)
        model.delete_key(op[1])
    elif kind == "del-value":
        hive.delete_value(op[1], op[2])
        model.delete_value(op[1], op[2])
    else:
        raise ValueError(f"unknown edit {op!r}")
