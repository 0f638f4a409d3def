"""Search key names, value names and decoded data.

A value's data is searched as it reads: a string as it is, each string of a list, a number in
decimal and in hex (``1225`` and ``0x4c9``); other data (binary and the rest) as hex and as the
UTF-16 and ASCII text it may hold, since Windows keeps paths, URLs and names inside binary
values (MRU lists, shell bags).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from ..errors import UsageError
from ..regf.hive.model import Key, Value

KEY_NAME = "key_name"
VALUE_NAME = "value_name"
DATA = "data"
_PRINTABLE_RUN = re.compile(r"[\x20-\x7e\u00a0-\ufffd]{4,}")


@dataclass(frozen=True)
class Match:
    kind: str  # "key" or "value"
    path: str  # the key, as it is shown (in the hive, or the full registry path of an image)
    key: Key
    value: Value | None
    matched: str  # KEY_NAME, VALUE_NAME or DATA


def compile_pattern(text: str, regex: bool, case_sensitive: bool) -> Callable[[str], bool]:
    """A test for one string: substring (default) or regular expression, case-insensitive
    unless asked otherwise (names in a hive are compared without case by Windows too)."""
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        compiled = re.compile(text if regex else re.escape(text), flags)
    except re.error as err:
        raise UsageError(f"bad regular expression {text!r}: {err}") from None
    return lambda candidate: compiled.search(candidate) is not None


def data_texts(value: Value) -> list[str]:
    """The strings a value's data is searched as."""
    try:
        data = value.data
    except Exception:  # noqa: BLE001 - damaged data is searched as raw bytes
        data = value.raw
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, str)]
    if isinstance(data, int):
        return [str(data), f"0x{data:x}"]
    raw = bytes(data)
    texts = [raw.hex()]
    for encoding in ("utf-16-le", "latin-1"):
        usable = raw[: len(raw) - len(raw) % 2] if encoding == "utf-16-le" else raw
        texts.extend(_PRINTABLE_RUN.findall(usable.decode(encoding, "replace")))
    return texts


@dataclass
class Search:
    test: Callable[[str], bool]
    names: bool = True
    data: bool = True
    types: frozenset[int] | None = None  # value types to search (None: all)
    since: int | None = None  # FILETIME: keys written at or after it
    until: int | None = None

    def key_in_range(self, key: Key) -> bool:
        if self.since is None and self.until is None:
            return True
        written = key.last_write
        return (self.since is None or written >= self.since) and (self.until is None or written <= self.until)

    def in_key(self, key: Key, shown: str) -> Iterator[Match]:
        if not self.key_in_range(key):
            return
        if self.names and self.types is None and self.test(key.name):
            yield Match("key", shown, key, None, KEY_NAME)
        for value in key.values():
            if self.types is not None and value.type not in self.types:
                continue
            if self.names and self.test(value.name):
                yield Match("value", shown, key, value, VALUE_NAME)
            elif self.data and any(self.test(text) for text in data_texts(value)):
                yield Match("value", shown, key, value, DATA)

    def in_trees(self, trees: Iterable[tuple[Key, Callable[[Key], str]]]) -> Iterator[Match]:
        """``trees``: (top key, how a key below it is shown)."""
        for top, show in trees:
            for key in top.walk():
                yield from self.in_key(key, show(key))
