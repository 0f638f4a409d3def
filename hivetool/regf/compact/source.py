"""What a hive rewrite reads: the keys, values and descriptors of an existing hive, or of a
generated tree, behind one small interface (:class:`Source`).

Reading an existing hive goes through :class:`CellIndex`, which checks every pointer the
way :class:`~hivetool.regf.hive.space.CellSpace` does (inside the bins, on the start of an
allocated cell) but remembers cell starts in a bitmap: one bit per 8 bytes of hive bins,
so a 200 MB hive costs 3 MB of bookkeeping instead of a Python set of millions of cells.
That keeps a rewrite of the whole hive within a small fraction of the file size on top of
the file itself.
"""
from __future__ import annotations

import struct
from typing import Any, NamedTuple, Protocol

from ...errors import HiveFormatError
from ..hive.space import CellSpace
from ..records.bins import HBIN_BASE, HBIN_HEADER_SIZE, file_offset
from ..records.cells import CELL_ALIGN, NIL, tile_bin
from ..records.data import data_problems
from ..records.lists import subkey_list_problems, value_list_problems
from ..records.nk import KEY_PREDEF_HANDLE, NK, nk_problems
from ..records.problems import Described, describe, nk_at, raise_first, required, value_named
from ..records.sk import sk_problems
from ..records.vk import vk_problems

# What a rewrite goes on past: a long name is written back as it is, a REG_DWORD of 8 bytes too,
# and an empty leaf or an lh leaf in a 1.3 hive are replaced by the canonical lists anyway.
_I32 = struct.Struct("<i")
TOLERATED = frozenset({"W-NK-NAME-LONG", "I-VK-TYPE-SIZE", "E-LIST-EMPTY", "I-LIST-TYPE"})


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
    ref: Any  # source-private: where the data is


class Child(NamedTuple):
    handle: int
    name: str
    class_length: int


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
    """Checked access to the cells of a hive buffer, with bitmaps instead of sets.

    Offers ``buf`` and ``payload(cell, what)`` like CellSpace, so the engine's record
    readers (subkey lists, value data, security cells) work on it unchanged.
    """

    def __init__(self, space: CellSpace) -> None:
        self.space = space
        self.buf = space.buf
        self.end = space.end
        slots = space.end // CELL_ALIGN
        self._allocated = bytearray((slots + 7) // 8)  # bit per 8-byte slot: an allocated cell starts here
        self._mapped = bytearray(len(space.bins))
        self._broken: dict[int, tuple[int, str]] = {}  # bin index -> (where tiling fails, why)

    def _map_bin(self, index: int) -> None:
        self._mapped[index] = 1
        b = self.space.bins[index]
        if b.problem:
            self._broken[index] = (b.start, b.problem)
            return
        starts, free, broken = tile_bin(self.buf, b.start + HBIN_HEADER_SIZE, b.start + b.size)
        if broken is not None:
            self._broken[index] = (broken.file_offset - HBIN_BASE, broken.message)
        bits, free_starts = self._allocated, {at for _, at in free}
        for at in starts:
            if at not in free_starts:
                slot = at >> 3
                bits[slot >> 3] |= 1 << (slot & 7)

    def payload(self, cell: int, what: Described, kind: int = 0, where: int | None = None) -> tuple[int, int]:
        """File offset and length of the payload of the allocated cell ``cell`` (and, with
        ``kind`` and ``where`` unused, a ``records.cells.Follow`` that raises)."""
        if cell >= self.end or cell < HBIN_HEADER_SIZE or cell % CELL_ALIGN:
            raise HiveFormatError(
                f"{describe(what)} points at cell offset 0x{cell:x}, outside the hive bins or not on an 8-byte "
                "cell boundary",
                file_offset(cell) if cell < self.end else None,
            )
        index = self.space.bin_index(cell)
        if not self._mapped[index]:
            self._map_bin(index)
        slot = cell >> 3
        if not self._allocated[slot >> 3] >> (slot & 7) & 1:
            broken = self._broken.get(index)
            if broken is not None and cell >= broken[0]:
                raise HiveFormatError(f"{describe(what)} points into a damaged bin region: {broken[1]}",
                                      file_offset(broken[0]))
            raise HiveFormatError(f"{describe(what)} points at a free cell or into the middle of a cell",
                                  file_offset(cell))
        size = _I32.unpack_from(self.buf, HBIN_BASE + cell)[0]
        return HBIN_BASE + cell + 4, -size - 4


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

    def __init__(self, buf: bytearray, space: CellSpace, root_cell: int, minor: int) -> None:
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

    def _nk(self, cell: int, what: str) -> tuple[Any, str, int]:
        at, length = self.cells.payload(cell, what)
        # A name readers show differently (odd UTF-16 length: the stray byte as U+FFFD) or that
        # Windows refuses (a backslash, regf-format 4.3) cannot be written anew as it is.
        name, problems = nk_problems(self.buf, at, length, what)
        if problems:  # a name it cannot read always comes with a problem that is not tolerated
            raise_first(problems, TOLERATED)
        return NK.unpack(self.buf, at), name, at

    def key(self, handle: int) -> KeyRecord:
        rec, name, at = self._nk(handle, "key node")
        return KeyRecord(
            name=name,
            flags=rec.flags,
            timestamp=rec.timestamp,
            access_bits=rec.access_bits,
            layered_bits=rec.layered_bits,
            user_flags=rec.user_flags,
            debug_flags=rec.debug_flags,
            class_length=rec.class_length if rec.class_cell != NIL else 0,
            security=rec.security,
            predefined_handle=rec.value_count if rec.flags & KEY_PREDEF_HANDLE else None,
            handle_ref=(rec, at),
        )

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
            child, name, _ = self._nk(cell, what)
            if not self._reached.add(cell):
                raise HiveFormatError(
                    f"the key node at cell 0x{cell:x} is listed twice (a cycle or a shared subkey)",
                    file_offset(cell),
                )
            out.append(Child(cell, name, child.class_length if child.class_cell != NIL else 0))
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
        for cell in cells:
            vk_at, vk_length = payload(cell, what)
            name, fields, problems = vk_problems(buf, vk_at, vk_length, what)
            if problems:  # as in _nk
                raise_first(problems, TOLERATED)
            _, _, size_field, data_field, value_type, flags = fields  # vk.READ_FIELDS
            out.append(ValueRecord(name, value_type, size_field & 0x7FFFFFFF, flags, (size_field, data_field, vk_at)))
        return out

    def _data(self, value: ValueRecord, read: bool) -> bytes:
        """Check the data as the engine reads it: inside the cells the vk names, big data in
        distinct segments (so the data can never be larger than the file); with ``read``, the data."""
        size_field, data_field, vk_at = value.ref
        data, problems = data_problems(self.buf, size_field, data_field, value.type, self.minor, vk_at - 4,
                                       self.cells.payload, (value_named, value.name), read)
        return data if not problems else required(data, problems, TOLERATED)

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
