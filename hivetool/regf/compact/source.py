"""What a hive rewrite reads: the keys, values and descriptors of an existing hive, or of a
generated tree, behind one small interface (:class:`Source`).

Reading an existing hive goes through :class:`CellIndex`, which checks every pointer with
:class:`~hivetool.regf.hive.space.CellSpace` (inside the bins, on the start of an allocated
cell; the space keeps one byte per 8 bytes of hive bins, not a Python set of millions of
cells) and words its refusals as a rewrite does. That keeps a rewrite of the whole hive
within a small fraction of the file size on top of the file itself. A sound value is read as
the engine reads it, in one step (:func:`~hivetool.regf.hive.engine.sound_value`), its data
with it; any other goes through the records' checks.
"""
from __future__ import annotations

import struct
from functools import partial
from typing import Any, Callable, NamedTuple, Protocol

from ...errors import HiveFormatError
from ..hive.engine import sound_value
from ..hive.space import CellSpace
from ..records.bins import HBIN_BASE, HBIN_HEADER_SIZE, file_offset
from ..records.cells import CELL_ALIGN, NIL
from ..records.data import data_problems
from ..records.lists import subkey_list_problems, value_list_problems
from ..records.nk import KEY_PREDEF_HANDLE, NK, nk_problems
from ..records.problems import Described, describe, nk_at, raise_first, required, value_named
from ..records.record import HiveImage
from ..records.sk import sk_problems
from ..records.vk import VK, vk_problems

# What a rewrite goes on past: a long name is written back as it is, a REG_DWORD of 8 bytes too,
# and an empty leaf or an lh leaf in a 1.3 hive are replaced by the canonical lists anyway.
TOLERATED = frozenset({"W-NK-NAME-LONG", "I-VK-TYPE-SIZE", "E-LIST-EMPTY", "I-LIST-TYPE"})
_I32 = struct.Struct("<i")


class KeyRecord(NamedTuple):
    """What a rewrite keeps of one key (everything but its lists, which it lays out anew)."""

    name: str
    flags: int  # as stored; the compressed-name bit is decided again when written
    timestamp: int
    access_bits: int = 0
    layered_bits: int = 0
    user_flags: int = 0  # nk+54: user (Wow64) and virtualisation flags, kept (regf-format 4.1)
    debug_flags: int = 0  # nk+55
    class_length: int = 0
    security: int = 0  # the source's own id of the key's security descriptor
    predefined_handle: int | None = None  # KEY_PREDEF_HANDLE keys keep their value-count field
    handle_ref: Any = None  # source-private (the nk fields of a hive source)


class ValueRecord(NamedTuple):
    name: str
    type: int
    length: int
    flags: int  # as stored; the compressed-name bit is decided again when written
    ref: Any  # source-private: where the data is, or the data


class Child(NamedTuple):
    handle: int
    name: str
    class_length: int


# Made per key and value of a rewrite, twice: straight from a tuple in field order, without the
# keyword handling of a NamedTuple's constructor (as the engine makes its Values).
make_key: Callable[[tuple[Any, ...]], KeyRecord] = partial(tuple.__new__, KeyRecord)
make_value: Callable[[tuple[Any, ...]], ValueRecord] = partial(tuple.__new__, ValueRecord)
make_child: Callable[[tuple[Any, ...]], Child] = partial(tuple.__new__, Child)
_CLASS_FIELDS = NK.view("class_cell", "class_length")  # what a parent reads of each child
_VK_FLAGS = VK.view("flags")


class Source(Protocol):
    minor: int

    def root(self) -> int: ...
    def key(self, handle: int) -> KeyRecord: ...
    def children(self, handle: int, key: KeyRecord) -> list[Child]: ...
    def values(self, handle: int, key: KeyRecord) -> list[ValueRecord]: ...
    def check_value(self, value: ValueRecord) -> None: ...
    def value_data(self, value: ValueRecord) -> bytes: ...
    def class_bytes(self, handle: int, key: KeyRecord) -> bytes: ...
    def descriptor(self, security: int) -> bytes: ...
    def where(self, handle: int) -> int | None: ...


# --------------------------------------------------------------------------- cell index
class CellIndex:
    """Checked access to the cells of a hive buffer: the hive's own cell space, with the
    refusals a rewrite words its own way.

    Offers ``buf`` and ``payload(cell, what)`` like CellSpace, so the engine's record
    readers (subkey lists, value data, security cells) work on it unchanged.
    """

    def __init__(self, space: CellSpace) -> None:
        self.space = space
        self.buf = space.buf
        self._end = space.end
        self._marks = space.start_marks

    def payload(self, cell: int, what: Described, kind: int = 0, where: int | None = None) -> tuple[int, int]:
        """File offset and length of the payload of the allocated cell ``cell`` (and, with
        ``kind`` and ``where`` unused, a ``records.cells.Follow`` that raises)."""
        # CellSpace.payload's sound case, on the space's own cell map: a rewrite follows every
        # pointer of the hive twice, so the call it saves counts.
        if HBIN_HEADER_SIZE <= cell < self._end and not cell & 7 and self._marks[cell >> 3]:
            size = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
            if size < 0:
                return HBIN_BASE + cell + 4, -size - 4
        try:
            return self.space.payload(cell, what)  # maps the cell's bin first
        except HiveFormatError:
            raise self._refusal(cell, what) from None

    def _refusal(self, cell: int, what: Described) -> HiveFormatError:
        """Why ``cell`` cannot be followed, as a rewrite says it."""
        space = self.space
        if cell >= space.end or cell < HBIN_HEADER_SIZE or cell % CELL_ALIGN:
            return HiveFormatError(
                f"{describe(what)} points at cell offset 0x{cell:x}, outside the hive bins or not on an 8-byte "
                "cell boundary",
                file_offset(cell) if cell < space.end else None,
            )
        _, broken_at, problem = space.bin_cells(space.bin_index(cell))
        if broken_at is not None and cell >= broken_at:
            return HiveFormatError(f"{describe(what)} points into a damaged bin region: {problem}",
                                   file_offset(broken_at))
        return HiveFormatError(f"{describe(what)} points at a free cell or into the middle of a cell",
                               file_offset(cell))


class _Bitmap:
    """One bit per 8-byte cell slot: which key nodes a walk has reached already."""

    def __init__(self, hbins_size: int) -> None:
        self.bits = bytearray((hbins_size // CELL_ALIGN + 7) // 8)

    def add(self, cell: int) -> bool:
        """Mark ``cell``; False when it was marked before."""
        slot = cell >> 3
        mask = 1 << (slot & 7)
        if self.bits[slot >> 3] & mask:
            return False
        self.bits[slot >> 3] |= mask
        return True


# --------------------------------------------------------------------------- hive source
class HiveSource:
    """An existing hive as a :class:`Source`; handles are nk cell offsets."""

    def __init__(self, buf: HiveImage, space: CellSpace, root_cell: int, minor: int) -> None:
        self.buf = buf
        self.minor = minor
        self.cells = CellIndex(space)
        self._root = root_cell
        self._reached = _Bitmap(space.end)
        if root_cell < space.end and root_cell % CELL_ALIGN == 0:
            self._reached.add(root_cell)

    def root(self) -> int:
        return self._root

    def where(self, handle: int) -> int | None:
        return file_offset(handle)

    def _nk(self, cell: int, what: Described) -> tuple[Any, str, int]:
        at, name = self._nk_name(cell, what)
        return NK.unpack(self.buf, at), name, at

    def _nk_name(self, cell: int, what: Described) -> tuple[int, str]:
        """Where the key node at ``cell`` starts (its payload's file offset), and its name."""
        at, length = self.cells.payload(cell, what)
        # A name readers show differently (odd UTF-16 length: the stray byte as U+FFFD) or that
        # Windows refuses (a backslash, regf-format 4.3) cannot be written anew as it is.
        name, problems = nk_problems(self.buf, at, length, what)
        if problems or name is None:  # a name it cannot read always comes with a problem that is not tolerated
            name = required(name, problems, TOLERATED)
        return at, name

    def key(self, handle: int) -> KeyRecord:
        rec, name, at = self._nk(handle, "key node")
        return make_key((  # KeyRecord's fields in order
            name,
            rec.flags,
            rec.timestamp,
            rec.access_bits,
            rec.layered_bits,
            rec.user_flags,
            rec.debug_flags,
            rec.class_length if rec.class_cell != NIL else 0,  # class_length
            rec.security,
            rec.value_count if rec.flags & KEY_PREDEF_HANDLE else None,  # predefined_handle
            (rec, at),  # handle_ref
        ))

    def children(self, handle: int, key: KeyRecord) -> list[Child]:
        rec, at = key.handle_ref
        if rec.subkey_count == 0:
            return []
        sublist, problems = subkey_list_problems(self.buf, rec.subkeys, self.cells.payload, (nk_at, at - 4), at - 4,
                                                 self.minor)
        raise_first(problems, TOLERATED)
        offsets = sublist.offsets() if sublist is not None else []
        if len(offsets) != rec.subkey_count:
            raise HiveFormatError(
                f"key claims {rec.subkey_count} subkeys but its subkey list holds {len(offsets)}", at - 4
            )
        out = []
        what = ("subkey of", (nk_at, at - 4))
        for cell in offsets:
            child_at, name = self._nk_name(cell, what)
            if not self._reached.add(cell):
                raise HiveFormatError(
                    f"the key node at cell 0x{cell:x} is listed twice (a cycle or a shared subkey)",
                    file_offset(cell),
                )
            class_cell, class_length = _CLASS_FIELDS(self.buf, child_at)
            out.append(make_child((cell, name, class_length if class_cell != NIL else 0)))
        return out

    def values(self, handle: int, key: KeyRecord) -> list[ValueRecord]:
        rec, at = key.handle_ref
        if key.predefined_handle is not None or rec.value_count == 0:
            return []
        owner = (nk_at, at - 4)
        what = ("value of", owner)
        buf, payload = self.buf, self.cells.payload
        cells = required(*value_list_problems(buf, rec.values, rec.value_count, payload, owner, at - 4))
        out = []
        marks, end, minor = self.cells.space.start_marks, self.cells.space.end, self.minor
        for cell in cells:
            row = sound_value(buf, marks, end, minor, cell)  # read as the engine reads it, data too
            if row is not None:
                _, _, data, _ = row
                flags = _VK_FLAGS(buf, HBIN_BASE + cell + 4)[0]
                out.append(make_value((row[0], row[1], len(data), flags, data)))  # (name, type, ...)
                continue
            vk_at, vk_length = payload(cell, what)
            name, fields, problems = vk_problems(buf, vk_at, vk_length, what)
            if problems or name is None:  # as in _nk
                name = required(name, problems, TOLERATED)
            _, _, size_field, data_field, value_type, flags = fields  # vk.READ_FIELDS
            out.append(make_value((name, value_type, size_field & 0x7FFFFFFF, flags, (size_field, data_field, vk_at))))
        return out

    def _data(self, value: ValueRecord, read: bool) -> bytes:
        """Check the data as the engine reads it: inside the cells the vk names, big data in
        distinct segments (so the data can never be larger than the file); with ``read``, the data."""
        if type(value.ref) is bytes:  # a sound value, read with its record
            return value.ref
        size_field, data_field, vk_at = value.ref
        data, problems = data_problems(self.buf, size_field, data_field, value.type, self.minor, vk_at - 4,
                                       self.cells.payload, (value_named, value.name), read)
        if problems or data is None:  # data is None only with a problem that explains it
            return required(data, problems, TOLERATED)
        return data

    def check_value(self, value: ValueRecord) -> None:
        """Check that the data is where the vk says, without copying it."""
        self._data(value, False)

    def value_data(self, value: ValueRecord) -> bytes:
        return self._data(value, True)

    def class_bytes(self, handle: int, key: KeyRecord) -> bytes:
        rec, at = key.handle_ref
        class_at, length = self.cells.payload(rec.class_cell, f"class name of the nk at file offset 0x{at - 4:x}")
        if key.class_length > length:
            raise HiveFormatError(f"class name length {key.class_length} exceeds its cell", class_at - 4)
        return bytes(self.buf[class_at : class_at + key.class_length])

    def descriptor(self, security: int) -> bytes:
        at, length = self.cells.payload(security, "security cell of a key")
        _, descriptor, problems = sk_problems(self.buf, at, length, "security cell of a key", "E-SK-REF", at - 4)
        return required(descriptor, problems)
