"""Laying out a hive from generated content (bulk building): the tree side of a rewrite."""
from __future__ import annotations

from typing import Iterable

from ..hive.create import default_descriptor
from ..records.nk import ROOT_FLAGS
from .source import Child, KeyRecord, ValueRecord, make_child, make_key, make_value


class TreeSource:
    """Base for laying out a hive from generated content (bulk building).

    Subclass it and override :meth:`name`, :meth:`child_handles` and :meth:`value_items`;
    handles are any integers below 2**64 that you choose, the root's being :meth:`root`.
    Each method must give the same answer every time (the layout reads the tree twice).
    Children may come in any order: the layout sorts them as Windows does.
    """

    minor = 5
    root_name = "ROOT"

    def __init__(self, timestamp: int = 0, descriptor: bytes | None = None) -> None:
        self.timestamp = timestamp
        self._descriptor = descriptor or default_descriptor()

    # -- override these
    def root(self) -> int:
        return 0

    def name(self, handle: int) -> str:
        raise NotImplementedError

    def child_handles(self, handle: int) -> Iterable[int]:
        return ()

    def value_items(self, handle: int) -> Iterable[tuple[str, int, bytes]]:
        """(name, type, raw data) of each value, in enumeration order."""
        return ()

    # -- the Source interface
    def where(self, handle: int) -> int | None:
        return None

    # The records are made from tuples in field order (see source.make_key): a layout asks for
    # every key and value twice.
    def key(self, handle: int) -> KeyRecord:
        root = handle == self.root()
        name = self.root_name if root else self.name(handle)
        # KeyRecord(name=name, flags=ROOT_FLAGS or 0, timestamp=self.timestamp), the rest defaults
        return make_key((name, ROOT_FLAGS if root else 0, self.timestamp, 0, 0, 0, 0, 0, 0, None, None))

    def children(self, handle: int, key: KeyRecord) -> list[Child]:
        name = self.name
        return [make_child((child, name(child), 0)) for child in self.child_handles(handle)]

    def values(self, handle: int, key: KeyRecord) -> list[ValueRecord]:
        return [make_value((name, value_type, len(data), 0, data))
                for name, value_type, data in self.value_items(handle)]

    def check_value(self, value: ValueRecord) -> None:
        return None

    def value_data(self, value: ValueRecord) -> bytes:
        return bytes(value.ref)

    def class_bytes(self, handle: int, key: KeyRecord) -> bytes:
        return b""

    def descriptor(self, security: int) -> bytes:
        return self._descriptor
