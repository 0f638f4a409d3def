"""What a hive rewrite reads: the keys, values and descriptors of an existing hive, or of a
generated tree, behind one small interface (:class:`Source`).

Reading an existing hive goes through :class:`CellIndex`, which checks every pointer the
way :class:`~hivetool.regf.cells.CellSpace` does (inside the bins, on the start of an
allocated cell) but remembers cell starts in a bitmap: one bit per 8 bytes of hive bins,
so a 200 MB hive costs 3 MB of bookkeeping instead of a Python set of millions of cells.
That keeps a rewrite of the whole hive within a small fraction of the file size on top of
the file itself.
"""
from __future__ import annotations

import struct
from typing import Any, Iterable, NamedTuple, Protocol

from ..errors import HiveFormatError
from . import sublists
from .bins import HBIN_BASE, HBIN_HEADER_SIZE, file_offset
from .cells import CELL_ALIGN, CellSpace
from . import nk as nkmod
from . import vk as vkmod
from .nk import KEY_COMP_NAME, KEY_PREDEF_HANDLE, NIL, NK, decode_nk
from .sk import SK, read_sk
from .vk import DB, DB_SIGNATURE, INLINE, SEGMENT_SIZE, VALUE_COMP_NAME, decode_vk, read_data, uses_big_data

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
        buf, bits, unpack = self.buf, self._allocated, _I32.unpack_from
        at, end = b.start + HBIN_HEADER_SIZE, b.start + b.size
        while at < end:
            size = unpack(buf, HBIN_BASE + at)[0]
            length = -size if size < 0 else size
            if length < CELL_ALIGN or length % CELL_ALIGN or at + length > end:
                self._broken[index] = (
                    at,
                    f"cell size {size} is not a multiple of 8 that fits the bin (bin ends at file "
                    f"offset 0x{file_offset(end):x})",
                )
                return
            if size < 0:
                slot = at >> 3
                bits[slot >> 3] |= 1 << (slot & 7)
            at += length

    def payload(self, cell: int, what: str) -> tuple[int, int]:
        """File offset and length of the payload of the allocated cell ``cell``."""
        if cell >= self.end or cell < HBIN_HEADER_SIZE or cell % CELL_ALIGN:
            raise HiveFormatError(
                f"{what} points at cell offset 0x{cell:x}, outside the hive bins or not on an 8-byte "
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
                raise HiveFormatError(f"{what} points into a damaged bin region: {broken[1]}", file_offset(broken[0]))
            raise HiveFormatError(f"{what} points at a free cell or into the middle of a cell", file_offset(cell))
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

    def _nk(self, cell: int, what: str) -> tuple[tuple, str, int]:
        at, length = self.cells.payload(cell, what)
        fields, name = decode_nk(self.buf, at, length, cell)
        if not fields[nkmod.I_FLAGS] & KEY_COMP_NAME and fields[nkmod.I_NAME_LENGTH] % 2:
            # Readers show the stray byte as U+FFFD; a rewrite would change the name.
            raise HiveFormatError("key name is stored as UTF-16 but has an odd length", at - 4)
        if "\\" in name:
            # The path separator cannot be part of a name (regf-format 4.3); writing it anew
            # would make a hive Windows refuses.
            raise HiveFormatError(f"key name {name!r} contains a backslash", at - 4)
        return fields, name, at

    def key(self, handle: int) -> KeyRecord:
        fields, name, at = self._nk(handle, "key node")
        rec = NK.tuple._make(fields)
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
        sublist = sublists.read_list(self.cells, rec.subkeys, handle)
        offsets = sublist.offsets()
        if len(offsets) != rec.subkey_count:
            raise HiveFormatError(
                f"key claims {rec.subkey_count} subkeys but its subkey list holds {len(offsets)}", at - 4
            )
        out = []
        what = f"subkey of the nk at file offset 0x{at - 4:x}"
        for cell in offsets:
            fields, name, _ = self._nk(cell, what)
            if not self._reached.add(cell):
                raise HiveFormatError(
                    f"the key node at cell 0x{cell:x} is listed twice (a cycle or a shared subkey)",
                    file_offset(cell),
                )
            class_length = fields[nkmod.I_CLASS_LENGTH] if fields[nkmod.I_CLASS_CELL] != NIL else 0
            out.append(Child(cell, name, class_length))
        return out

    def values(self, handle: int, key: KeyRecord) -> list[ValueRecord]:
        rec, at = key.handle_ref
        if key.predefined_handle is not None or rec.value_count == 0:
            return []
        list_at, length = self.cells.payload(rec.values, f"value list of the nk at file offset 0x{at - 4:x}")
        if 4 * rec.value_count > length:
            raise HiveFormatError(
                f"value list holds {length // 4} entries but the key claims {rec.value_count}", list_at - 4
            )
        out = []
        for cell in struct.unpack_from(f"<{rec.value_count}I", self.buf, list_at):
            vk_at, vk_length = self.cells.payload(cell, f"value of the nk at file offset 0x{at - 4:x}")
            fields, name = decode_vk(self.buf, vk_at, vk_length)
            if not fields[vkmod.I_FLAGS] & VALUE_COMP_NAME and fields[vkmod.I_NAME_LENGTH] % 2:
                raise HiveFormatError("value name is stored as UTF-16 but has an odd length", vk_at - 4)
            size_field = fields[2]
            out.append(ValueRecord(name, fields[4], size_field & 0x7FFFFFFF, fields[5], (size_field, fields[3], vk_at)))
        return out

    def check_value(self, value: ValueRecord) -> None:
        """Check that the data is where the vk says, without copying it.

        Beyond what reading checks, the segments of big data must be distinct cells, so the
        data can never be larger than the file (a list naming one segment 65,535 times
        would otherwise claim a gigabyte from a few kilobytes).
        """
        size_field, data_field, vk_at = value.ref
        length = value.length
        if size_field & INLINE:
            if length > 4:
                raise HiveFormatError(f"inline value data claims {length} bytes; at most 4 fit", vk_at + 4)
            return
        if length == 0:
            return
        what = f"data of the vk at file offset 0x{vk_at - 4:x}"
        at, cell_length = self.cells.payload(data_field, what)
        if not uses_big_data(length, self.minor):
            if length > cell_length:
                raise HiveFormatError(f"value claims {length} bytes of data but its cell holds {cell_length}", at - 4)
            return
        if cell_length < DB.size:
            raise HiveFormatError("big-data (db) cell is too small", at - 4)
        signature, count, seg_list = DB.struct.unpack_from(self.buf, at)
        expected = -(-length // SEGMENT_SIZE)
        if signature != DB_SIGNATURE or count != expected:
            raise HiveFormatError(
                f"{what}: expected big data (db) with {expected} segments for {length} bytes", at
            )
        list_at, list_length = self.cells.payload(seg_list, "segment list of big data")
        if list_length < 4 * count:
            raise HiveFormatError(f"segment list holds {list_length // 4} offsets, {count} needed", list_at - 4)
        segments = struct.unpack_from(f"<{count}I", self.buf, list_at)
        if len(set(segments)) != count:
            raise HiveFormatError("big-data segment list names the same segment more than once", list_at - 4)
        remaining = length
        for segment in segments:
            seg_at, seg_length = self.cells.payload(segment, "big-data segment")
            if seg_length < min(SEGMENT_SIZE, remaining):
                raise HiveFormatError(f"big-data segment holds {seg_length} bytes, fewer than needed", seg_at - 4)
            remaining -= SEGMENT_SIZE

    def value_data(self, value: ValueRecord) -> bytes:
        size_field, data_field, vk_at = value.ref
        return read_data(self.cells, size_field, data_field, self.minor, vk_at)  # type: ignore[arg-type]

    def class_bytes(self, handle: int, key: KeyRecord) -> bytes:
        rec, at = key.handle_ref
        class_at, length = self.cells.payload(rec.class_cell, f"class name of the nk at file offset 0x{at - 4:x}")
        if key.class_length > length:
            raise HiveFormatError(f"class name length {key.class_length} exceeds its cell", class_at - 4)
        return bytes(self.buf[class_at : class_at + key.class_length])

    def descriptor(self, security: int) -> bytes:
        fields, at = read_sk(self.cells, security, "security cell of a key")  # type: ignore[arg-type]
        _, length = self.cells.payload(security, "security cell")
        size = fields[SK.fields.index("descriptor_size")]
        if size == 0 or SK.size + size > length:
            raise HiveFormatError(f"security descriptor size {size} is zero or exceeds its cell", at - 4)
        return bytes(self.buf[at + SK.size : at + SK.size + size])


# --------------------------------------------------------------------------- generated trees
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
        from .create import default_descriptor

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

    def key(self, handle: int) -> KeyRecord:
        from .nk import ROOT_FLAGS

        flags = ROOT_FLAGS if handle == self.root() else 0
        name = self.root_name if handle == self.root() else self.name(handle)
        return KeyRecord(name=name, flags=flags, timestamp=self.timestamp)

    def children(self, handle: int, key: KeyRecord) -> list[Child]:
        return [Child(child, self.name(child), 0) for child in self.child_handles(handle)]

    def values(self, handle: int, key: KeyRecord) -> list[ValueRecord]:
        return [ValueRecord(name, value_type, len(data), 0, data) for name, value_type, data in self.value_items(handle)]

    def check_value(self, value: ValueRecord) -> None:
        return None

    def value_data(self, value: ValueRecord) -> bytes:
        return bytes(value.ref)

    def class_bytes(self, handle: int, key: KeyRecord) -> bytes:
        return b""

    def descriptor(self, security: int) -> bytes:
        return self._descriptor
