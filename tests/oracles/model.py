"""What a hive holds, what a reader shows, and how the two are compared.

A :class:`Content` is what a hive holds (one :class:`Record` per value); a
:class:`ContentModel` is what it should hold after a series of edits (:func:`apply` runs one
edit on a Hive and on the model alike). Each reader becomes a :class:`Reader` whose ``read``
gives the :class:`View` it shows of a file and whose ``expect`` renders a Content the way that
reader would show it; :func:`compare` lists their differences, where :data:`OPAQUE` stands for
a value the reader cannot show faithfully (only its presence is compared).
"""
from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable

import pytest

from corpus import IN_CI
from hivetool.regf.hive import Hive
from hivetool.regf.records.names import upcase

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


def cp1252(name: str, utf16: bool, errors: str = "strict") -> str:
    """A name as python-registry and libregf decode it: a compressed (Latin-1) name read
    with the Windows code page 1252, whose bytes 0x80-0x9F differ from Latin-1."""
    return name if utf16 else name.encode("latin-1").decode("cp1252", errors)


def join(parent: str, name: str) -> str:
    return f"{parent}\\{name}" if parent else name


def parent_of(path: str) -> str:
    return path.rpartition("\\")[0]




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
class Opaque:
    """A value the reader cannot show faithfully: only its presence is compared."""

    def __repr__(self) -> str:
        return "<cannot show>"


OPAQUE = Opaque()


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


def module_missing(module: str) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            __import__(module)
        except ImportError as err:
            return f"cannot import {module} ({err})"
        return None

    return check


def tool_missing(tool: str, package: str) -> Callable[[], str | None]:
    return lambda: None if shutil.which(tool) else f"{tool} not on PATH (Debian package {package})"


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
