"""The reading half of a hive in memory, by cell offset: key names, subkeys, values.

A :class:`~.hive.Hive` keeps one Engine (``hive._engine``) and its Key and Value views ask
it; nothing here is public API. Every record is read through its problem function, which
raises (via :class:`~.space.CellSpace`) on any pointer that does not lead to an allocated
cell, and the first record problem a reader cannot get past becomes a HiveFormatError.
"""
from __future__ import annotations

import struct
from functools import partial
from typing import Any, Callable, Iterable, TypeVar, overload

from ..records.base_block import Header, read_header
from ..records.bins import HBIN_BASE, HBIN_HEADER_SIZE
from ..records.cells import NIL
from ..records.data import INLINE, SEGMENT_SIZE, WIDTHS, data_problems
from ..records.lists import (ENTRY_SIZE, LEAF_SIGNATURES, LIST_HEADER, SubkeyList, subkey_list_problems,
                             value_list_problems)
from ..records.names import lh_hash, sort_key, upcase
from ..records.nk import KEY_PREDEF_HANDLE, NK, nk_problems
from ..records.problems import nk_at as nk_at_text
from ..records.problems import required, value_named
from ..records.record import HiveImage
from ..records.vk import READ, VALUE_COMP_NAME, VK, VK_SIGNATURE, vk_problems
from .cache import EditCache
from .space import CellSpace
from .sublists import find_position
from .value import Value

# Reading a value's data goes on past this: Windows itself writes REG_DWORDs of 8 bytes.
_READABLE_DATA = frozenset({"I-VK-TYPE-SIZE"})
# An empty leaf and an lh leaf in a 1.3 hive still read as they are.
_READABLE_LIST = frozenset({"E-LIST-EMPTY", "I-LIST-TYPE"})
_SUBKEY_FIELDS = NK.view("subkey_count", "subkeys")
_VALUE_FIELDS = NK.view("flags", "value_count", "values")
_SIZE_AT = struct.Struct("<i").unpack_from  # a cell's size field
_PAYLOAD_AT = HBIN_BASE + 4  # plus a cell offset: the file offset of the cell's payload
_VK_NAME = VK.size  # the name follows the fixed part of a value record
_VK_CELL = 4 + VK.size  # the smallest cell a value record fits in
_LIST_HEADER = LIST_HEADER.struct.unpack_from  # signature, count
_LEAF_ENTRY = {signature: ENTRY_SIZE[signature] for signature in LEAF_SIGNATURES}  # bytes an entry
_LIST_CELL = 4 + LIST_HEADER.size  # the smallest cell a list header fits in
ValueRow = tuple[str, int, bytes, int]  # (name, type, raw data, cell) of one value
_Row = TypeVar("_Row")


def sound_value(buf: HiveImage, marks: bytearray, end: int, minor: int, cell: int) -> ValueRow | None:
    """The value at ``cell`` as ``(name, type, raw, cell)`` when it passes the first test of
    each check, read with those same tests: the vk cell and the data cell as
    ``CellSpace.payload`` accepts them at once (allocated cells whose starts the tiling marked),
    the record as ``vk_problems`` reads one with a Latin-1 name, the data as ``data_problems``
    reads it without a problem (inline, empty or in one cell, of its number type's size).
    None for anything else, which goes through those checks.

    A walk reads every value of the hive: three calls fewer per value are 6 % of a whole-hive
    dump. ``tests/test_engine_sound_case.py`` holds this to the checks, field by field."""
    if not (HBIN_HEADER_SIZE <= cell < end and not cell & 7 and marks[cell >> 3]):
        return None
    size = _SIZE_AT(buf, HBIN_BASE + cell)[0]
    if size > -_VK_CELL:  # free, or too small for the record (which is then not read past the cell)
        return None
    at = _PAYLOAD_AT + cell
    signature, name_length, size_field, data_field, value_type, flags = READ(buf, at)
    if signature != VK_SIGNATURE or not flags & VALUE_COMP_NAME or name_length + _VK_CELL > -size:
        return None
    length = size_field & 0x7FFFFFFF
    if WIDTHS.get(value_type, length) != length:
        return None
    if size_field & INLINE:
        if length > 4:
            return None
        data = data_field.to_bytes(4, "little")[:length]
    elif length == 0:
        data = b""
    elif ((length <= SEGMENT_SIZE or minor < 4) and HBIN_HEADER_SIZE <= data_field < end and not data_field & 7
          and marks[data_field >> 3] and length <= -_SIZE_AT(buf, HBIN_BASE + data_field)[0] - 4):
        data_at = _PAYLOAD_AT + data_field
        data = bytes(buf[data_at : data_at + length])
    else:
        return None
    name_at = at + _VK_NAME
    return buf[name_at : name_at + name_length].decode("latin-1"), value_type, data, cell


def sound_leaf(buf: HiveImage, marks: bytearray, end: int, minor: int, cell: int) -> list[int] | None:
    """The entries of the subkey list at ``cell`` when it is one leaf that passes the first test
    of each check, read with those same tests: the cell as ``CellSpace.payload`` accepts it at
    once, the list as ``subkey_list_problems`` reads a leaf without a problem (li, lf, or lh
    from version 1.5 on; at least one entry, all inside the cell). None for anything else (an
    index root among them), which goes through those checks. A walk reads every subkey list of
    the hive: see :func:`sound_value`."""
    if not (HBIN_HEADER_SIZE <= cell < end and not cell & 7 and marks[cell >> 3]):
        return None
    size = _SIZE_AT(buf, HBIN_BASE + cell)[0]
    if size > -_LIST_CELL:  # free, or too small for a list header (which is then not read past the cell)
        return None
    at = _PAYLOAD_AT + cell
    signature, count = _LIST_HEADER(buf, at)
    entry = _LEAF_ENTRY.get(signature)
    if entry is None or count == 0 or (signature == b"lh" and minor < 5) or _LIST_CELL + entry * count > -size:
        return None
    words = struct.unpack_from(f"<{count * entry // 4}I", buf, at + 4)
    return list(words) if entry == 4 else list(words[0::2])


class Engine:
    def __init__(self, buf: HiveImage) -> None:
        self.header: Header = read_header(buf)
        self.space = CellSpace(buf, self.header.hbins_size)
        self.minor = self.header.minor
        self.root_cell = self.header.root_cell
        self.nk_decodes = 0  # how many key nodes were decoded: lookups must stay on their path
        self.cache = EditCache()

    @property
    def buf(self) -> HiveImage:
        """The whole file image. A mapped file turns into a bytearray when an edit must grow
        it, so take it from here after any allocation rather than keeping it."""
        return self.space.buf

    # ------------------------------------------------------------------ keys
    def nk(self, cell: int, what: str = "key") -> Any:
        """The fixed fields of the key node at ``cell`` (already decoded once, so sound)."""
        at, _ = self.space.payload(cell, what)
        return NK.unpack(self.space.buf, at)

    def key_name(self, cell: int, what: str) -> str:
        """The name of the key node at ``cell``; ``what`` names the pointer that led here."""
        return self.decode_key(cell, what)[1]

    def decode_key(self, cell: int, what: str) -> tuple[int, str]:
        """File offset of the payload of the key node at ``cell``, and its name."""
        at, length = self.space.payload(cell, what)
        self.nk_decodes += 1
        name, problems = nk_problems(self.space.buf, at, length, what)
        if name is None:
            raise problems[0].error()
        return at, name  # a name Windows would not write (odd UTF-16, a backslash) still reads

    def subkey_list(self, cell: int) -> SubkeyList | None:
        at, _ = self.space.payload(cell, "key")
        count, list_cell = _SUBKEY_FIELDS(self.space.buf, at)
        if count == 0 or list_cell == NIL:
            return None
        kept = self.cache.subkey_list(cell, list_cell, count)
        if kept is not None:
            return kept
        return self.read_subkey_list(list_cell, at)

    def subkey_cells(self, list_cell: int, nk_at: int) -> list[int]:
        """The key node cells of the subkey list at ``list_cell`` (of the key whose payload is at
        file offset ``nk_at``), in list order: a sound single leaf in one step
        (:func:`sound_leaf`), any other list through :meth:`read_subkey_list`."""
        space = self.space
        cells = sound_leaf(space.buf, space.start_marks, space.end, self.minor, list_cell)
        return cells if cells is not None else self.read_subkey_list(list_cell, nk_at).offsets()

    def read_subkey_list(self, list_cell: int, nk_at: int) -> SubkeyList:
        """The subkey list at ``list_cell`` of the key whose payload is at file offset ``nk_at``."""
        sublist, problems = subkey_list_problems(self.space.buf, list_cell, self.space.payload, (nk_at_text, nk_at - 4),
                                                 nk_at - 4, self.minor)
        return sublist if sublist is not None and not problems else required(sublist, problems, _READABLE_LIST)

    def child_cells(self, cell: int) -> list[int]:
        sublist = self.subkey_list(cell)
        return sublist.offsets() if sublist else []

    def find_child(self, cell: int, name: str) -> int | None:
        """Find a subkey, decoding only candidates whose lh hash matches.

        Otherwise (no hash matches, or lf/li leaves) a binary search over the sorted
        entries settles it, as Windows does, so a lookup costs O(log n) decodes, never a
        scan of the list. lf hints are not used to filter: names sharing their first four
        characters (Key0001, Key0002, ...) all match one hint, which made every lookup in
        a 1.3 hive decode the whole list.
        """
        sublist = self.subkey_list(cell)
        if sublist is None:
            return None
        wanted = upcase(name)
        hashed = None
        for leaf in sublist.leaves:
            if leaf.signature == b"lh":
                hashed = lh_hash(name) if hashed is None else hashed
                for child, key in zip(leaf.offsets, leaf.keys):
                    if key == hashed and upcase(self.key_name(child, "subkey")) == wanted:
                        return child
        position, found = self.position_of(sublist, name)
        return sublist.offsets()[position] if found else None

    def position_of(self, sublist: SubkeyList, name: str) -> tuple[int, bool]:
        """Where ``name`` goes in the sorted list, and whether the entry there is that name."""
        wanted = sort_key(name)
        # Imports and scripted creation mostly add names in order: one decode settles that.
        last_leaf = sublist.leaves[-1].offsets
        if last_leaf and sort_key(self.key_name(last_leaf[-1], "subkey")) < wanted:
            return sublist.count, False
        offsets = sublist.offsets()
        cache: dict[int, bytes] = {}

        def key_of(i: int) -> bytes:
            if i not in cache:
                cache[i] = sort_key(self.key_name(offsets[i], "subkey"))
            return cache[i]

        return find_position(len(offsets), wanted, key_of)

    # ------------------------------------------------------------------ values
    def value_cells(self, cell: int) -> list[int]:
        at, _ = self.space.payload(cell, "key")
        flags, count, list_cell = _VALUE_FIELDS(self.space.buf, at)
        if count == 0 or list_cell == NIL or flags & KEY_PREDEF_HANDLE:
            return []
        return list(self.value_list(list_cell, count, at))

    def value_list(self, list_cell: int, count: int, nk_at: int) -> tuple[int, ...]:
        """The vk cells of a key's value list (the key's payload at file offset ``nk_at``)."""
        cells, problems = value_list_problems(self.space.buf, list_cell, count, self.space.payload,
                                              (nk_at_text, nk_at - 4), nk_at - 4)
        return cells if cells is not None and not problems else required(cells, problems)

    def value_name(self, cell: int) -> str:
        """The name alone: a value whose data is damaged still has one."""
        at, length = self.space.payload(cell, "value")
        name, _, problems = vk_problems(self.space.buf, at, length, "value")
        if name is None:
            raise problems[0].error()
        return name

    def read_value(self, cell: int) -> Value:
        """The value at ``cell``: its name, type and raw data."""
        return self.read_values((cell,))[0]

    @overload
    def read_values(self, cells: Iterable[int]) -> list[Value]: ...

    @overload
    def read_values(self, cells: Iterable[int], make: Callable[[ValueRow], _Row]) -> list[_Row]: ...

    def read_values(self, cells: Iterable[int],
                    make: Callable[[ValueRow], Any] = partial(tuple.__new__, Value)) -> list[Any]:
        """The values at ``cells``, in that order (one loop: a walk reads every value). ``make``
        turns ``(name, type, raw, cell)`` into what is returned (``tuple``: a scan's plain rows).

        Almost every value is sound, and :func:`sound_value` reads it in one step; every
        other value goes through the records' checks, which say what is wrong.
        """
        space, minor = self.space, self.minor
        buf, payload = space.buf, space.payload
        marks, end = space.start_marks, space.end
        out = []
        for cell in cells:
            row = sound_value(buf, marks, end, minor, cell)
            if row is not None:
                out.append(make(row))
                continue
            at, length = payload(cell, "value")
            name, fields, problems = vk_problems(buf, at, length, "value")
            if name is None:
                raise problems[0].error()
            _, _, size_field, data_field, value_type, _ = fields  # vk.READ_FIELDS
            data, problems = data_problems(buf, size_field, data_field, value_type, minor, at - 4, payload,
                                           (value_named, name), True)
            if data is None:
                data = required(data, problems, _READABLE_DATA)
            out.append(make((name, value_type, data, cell)))
        return out
