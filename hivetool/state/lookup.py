"""Finding the keys and values a state names, fast enough for a state made from an export.

A state names every key in full and most keys hold several of its values, so looking each
one up from the hive's root (and each value by a scan of its key's value list) costs tens of
seconds for a whole-hive state. Keys are remembered by their parent's cell and upcased name,
never by every prefix of their path (a path n names deep would cost n squared), and each key's
value names are indexed once. Editing invalidates: creating or deleting keys forgets all keys
(deleting frees cells that may be reused), changing a key's values forgets its index.
"""
from __future__ import annotations

from ..errors import HiveFormatError, KeyNotFound
from ..regf.hive import Hive
from ..regf.hive.model import Key, Value
from ..regf.records.names import upcase


class Lookup:
    def __init__(self) -> None:
        self._exact: dict[tuple[int, str], Key | None] = {}  # (hive, path as given) -> key
        self._children: dict[tuple[int, int, str], Key | None] = {}  # (hive, parent cell, NAME) -> key
        self._roots: dict[int, Key] = {}
        self._names: dict[tuple[int, int], dict[str, int]] = {}  # (hive, key cell) -> NAME -> position

    def forget_keys(self) -> None:
        self._exact.clear()
        self._children.clear()
        self._names.clear()

    def forget_values(self, key: Key) -> None:
        self._names.pop((id(key.hive), key.cell), None)

    def key(self, hive: Hive, path: str) -> Key | None:
        """The key at ``path`` (inside the hive), or None."""
        slot = (id(hive), path)
        if slot in self._exact:
            return self._exact[slot]
        try:
            found = self._walk(hive, path)
        except HiveFormatError as err:
            raise err.with_path(hive.path) if hive.path else err
        self._exact[slot] = found
        return found

    def _walk(self, hive: Hive, path: str) -> Key | None:
        key = self._roots.get(id(hive))
        if key is None:
            key = self._roots[id(hive)] = hive.root
        for name in path.split("\\") if path else ():
            step = (id(hive), key.cell, upcase(name))
            if step in self._children:
                child = self._children[step]
            else:
                try:
                    child = key.subkey(name)
                except KeyNotFound:
                    child = None
                self._children[step] = child
            if child is None:
                return None
            key = child
        return key

    def value(self, key: Key | None, name: str) -> Value | None:
        """The value ``name`` of ``key`` (case-insensitive), or None."""
        if key is None:
            return None
        hive = key.hive
        index = self._names.get((id(hive), key.cell))
        if index is None:
            index = {}
            # Names only: a damaged sibling's data must not keep this value from being read.
            for position, stored in enumerate(key.value_names()):
                index.setdefault(upcase(stored), position)
            self._names[(id(hive), key.cell)] = index
        found = index.get(upcase(name))
        return key.value_at(found) if found is not None else None


__all__ = ["Lookup"]
