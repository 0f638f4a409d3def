"""What every part of the checker shares: the bytes, the cells, the findings, and
:meth:`Context.claim`, the one way the checker follows a pointer.

A pointer must hit the start of an allocated cell (regf-format 3), and the cell is marked
with what it is used as, so that a cell reached twice (a cycle, or two owners of one cell) is
reported once and never followed again, and so that allocated cells nothing reaches can be
listed at the end. ``claim`` has the shape of ``records.cells.Follow``: the records' own walks
(a subkey list and its leaves, a value's big data) follow pointers through it.
"""

from __future__ import annotations

import struct
from typing import Any

from ...errors import HiveFormatError
from ...progress import QUIET, Progress
from ..hive.space import CellSpace
from ..records.bins import HBIN_BASE, HBIN_HEADER_SIZE, file_offset
from ..records.cells import CELL_ALIGN, KIND_NAMES, SK_CELL
from ..records.problems import Described, describe
from .report import Collector

MAX_SHOWN_PATH = 300  # characters of a key path shown in one message
_I32 = struct.Struct("<i")


class Context:
    def __init__(self, buf: bytearray, space: CellSpace, minor: int, out: Collector,
                 progress: Progress = QUIET) -> None:
        self.buf = buf
        self.progress = progress
        self.space = space
        self.minor = minor
        self.out = out
        # One byte per 8-byte cell slot: bounded by the file size, unlike a set of offsets.
        self.marks = bytearray(space.end // CELL_ALIGN + 1)
        self._end, self._starts = space.end, space.start_marks  # for claim's sound case
        # sk cell -> [keys using it, first nk file offset, its path]: a list, counted up in place
        self.sk_users: dict[int, list[Any]] = {}

    def claim(
        self, cell: int, what: Described, kind: int, where: int | None, code: str = "E-REF"
    ) -> tuple[int, int] | None:
        """File offset and length of the payload of ``cell``, marked as ``kind``; None (after
        reporting why, at the referring record ``where``) when it cannot be used.

        ``what`` names the pointer; it may be a function, so that the description of the
        hundreds of thousands of sound pointers in a big hive is never built.
        """
        # CellSpace.payload's sound case, on the space's own cell map (a check follows every
        # pointer of the hive once: the call it saves counts).
        if HBIN_HEADER_SIZE <= cell < self._end and not cell & 7 and self._starts[cell >> 3]:
            size = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
            if size < 0:
                at, length = HBIN_BASE + cell + 4, -size - 4
            else:
                self._refuse(cell, what, where, code)
                return None
        else:
            try:
                at, length = self.space.payload(cell, "pointer")  # maps the cell's bin first
            except HiveFormatError:
                self._refuse(cell, what, where, code)
                return None
        slot = cell // CELL_ALIGN
        used_as = self.marks[slot]
        if used_as and not (used_as == kind == SK_CELL):
            self.out.add(
                "E-CELL-SHARED",
                where,
                f"{describe(what)} points at file offset 0x{file_offset(cell):x}, which is already used as "
                f"{KIND_NAMES[used_as]} (a cycle, or one cell with two owners)",
            )
            return None
        self.marks[slot] = kind
        return at, length

    def _refuse(self, cell: int, what: Described, where: int | None, code: str) -> None:
        """Report why ``cell`` cannot be followed, in the engine's words."""
        try:  # again, only to get the engine's explanation with the real description
            self.space.payload(cell, f"{describe(what)} (cell offset 0x{cell:x})")
        except HiveFormatError as err:
            self.out.add(code, where, err.detail)

    def mark_quietly(self, cell: int, kind: int) -> None:
        """Count a cell as used when a pointer that nothing reads still holds it."""
        if self.space.is_allocated_cell(cell) and not self.marks[cell // CELL_ALIGN]:
            self.marks[cell // CELL_ALIGN] = kind


class CheckedKey:
    """A key the checker has decoded. It keeps its parent instead of its path: the paths of a
    chain of 100,000 nested keys would take quadratic memory, and only messages need them."""

    __slots__ = ("cell", "fields", "name", "parent", "_shown")

    # ``fields`` is Any: the nk record's named tuple is a class built at run time (records.record)
    def __init__(self, cell: int, fields: Any, name: str, parent: CheckedKey | None) -> None:
        self.cell = cell
        self.fields = fields  # the nk record (records.nk.NK); () while the key waits its turn
        self.name = name
        self.parent = parent
        self._shown: str | None = None

    @property
    def where(self) -> int:
        return file_offset(self.cell)

    @property
    def shown(self) -> str:
        """The key's path for messages, quoted; long paths keep their end."""
        if self._shown is None:
            names: list[str] = []
            node: CheckedKey = self
            budget = MAX_SHOWN_PATH
            while node.parent is not None and budget > 0:
                names.append(node.name)
                budget -= len(node.name) + 1
                node = node.parent
            text = "\\".join(reversed(names))
            # repr() shows control characters, but the path separator stays a single backslash.
            quoted = repr(("...\\" if node.parent is not None else "") + text).replace("\\\\", "\\")
            self._shown = quoted if names else "(root)"
        return self._shown

    @property
    def label(self) -> str:
        """``key 'A\\B'``, how messages name the key."""
        return f"key {self.shown}"

    def child_label(self, name: str) -> str:
        """How messages name this key's subkey ``name``."""
        return CheckedKey(-1, (), name, self).label

    def value_label(self, name: str) -> str:
        """How messages name this key's value ``name``."""
        return f"value {name!r} of key {self.shown}"

    def described(self) -> str:
        return self.label
