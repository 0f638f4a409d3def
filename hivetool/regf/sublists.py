"""Subkey lists: index leaves (li), fast leaves (lf), hash leaves (lh) and index roots (ri).

Reading follows regf-format section 5; changing a list follows what Windows does:
entries stay sorted by Windows upcase order, a leaf is changed in place when its cell
has room, leaves are kept to at most 507 entries below an ``ri``, and an emptied leaf
(and an emptied ``ri``) is freed rather than left with a count of zero.
"""
from __future__ import annotations

import struct
from typing import Callable

from ..errors import HiveFormatError
from .bins import file_offset
from .cells import CellSpace
from .names import lf_hint, lh_hash

LEAF_SIGNATURES = (b"li", b"lf", b"lh")
INDEX_ROOT = b"ri"
MAX_LEAF_ENTRIES = 507  # one leaf per 4 KiB block (regf-format 5.3)
_HEAD = struct.Struct("<2sH")


def leaf_type_for(minor: int) -> bytes:
    """lh in 1.5 and later, lf in 1.3/1.4 (regf-format 5.2)."""
    return b"lh" if minor >= 5 else b"lf"


def entry_key(signature: bytes, name: str) -> int:
    """The second word of an lf/lh entry: the hint as a little-endian word, or the hash."""
    if signature == b"lh":
        return lh_hash(name)
    return int.from_bytes(lf_hint(name), "little")


class Leaf:
    __slots__ = ("cell", "signature", "offsets", "keys")

    def __init__(self, cell: int, signature: bytes, offsets: list[int], keys: list[int]) -> None:
        self.cell = cell
        self.signature = signature
        self.offsets = offsets
        self.keys = keys  # hash or hint words; empty for li

    def __repr__(self) -> str:
        return f"Leaf({self.signature.decode()} at 0x{self.cell:x}, {len(self.offsets)} entries)"

    @property
    def entry_size(self) -> int:
        return 4 if self.signature == b"li" else 8


class SubkeyList:
    """A key's whole subkey list; ``root`` is the ri cell when there is one."""

    __slots__ = ("root", "leaves")

    def __init__(self, root: int | None, leaves: list[Leaf] | None = None) -> None:
        self.root = root
        self.leaves = leaves if leaves is not None else []

    def offsets(self) -> list[int]:
        out: list[int] = []
        for leaf in self.leaves:
            out.extend(leaf.offsets)
        return out

    @property
    def cell(self) -> int:
        """The cell the owning nk points at: the ri, or the only leaf."""
        return self.root if self.root is not None else self.leaves[0].cell

    @property
    def count(self) -> int:
        leaves = self.leaves
        if len(leaves) == 1:
            return len(leaves[0].offsets)
        return sum(len(leaf.offsets) for leaf in leaves)


def _read_leaf(space: CellSpace, cell: int, what: str) -> Leaf:
    at, length = space.payload(cell, what)
    if length < 4:
        raise HiveFormatError(f"subkey list cell of {length + 4} bytes has no room for its header", at)
    signature, count = _HEAD.unpack_from(space.buf, at)
    if signature not in LEAF_SIGNATURES:
        raise HiveFormatError(f"{what}: expected li, lf or lh, found {bytes(signature)!r}", at)
    size = 4 if signature == b"li" else 8
    if 4 + count * size > length:
        raise HiveFormatError(
            f"{signature.decode()} leaf claims {count} entries but its cell holds {(length - 4) // size}", at
        )
    words = struct.unpack_from(f"<{count * size // 4}I", space.buf, at + 4)
    if size == 4:
        return Leaf(cell, bytes(signature), list(words), [])
    return Leaf(cell, bytes(signature), list(words[0::2]), list(words[1::2]))


def read_list(space: CellSpace, cell: int, owner: int) -> SubkeyList:
    """Read the subkey list at ``cell`` that belongs to the nk at cell offset ``owner``."""
    what = f"subkey list of the nk at file offset 0x{file_offset(owner):x}"
    at, length = space.payload(cell, what)
    if length < 4:
        raise HiveFormatError(f"{what} is a cell too small for a list header", at)
    signature, count = _HEAD.unpack_from(space.buf, at)
    if signature != INDEX_ROOT:
        return SubkeyList(None, [_read_leaf(space, cell, what)])
    if 4 + 4 * count > length:
        raise HiveFormatError(f"ri claims {count} leaves but its cell holds {(length - 4) // 4}", at)
    seen = {cell}
    leaves = []
    for leaf_cell in struct.unpack_from(f"<{count}I", space.buf, at + 4):
        if leaf_cell in seen:
            raise HiveFormatError(f"ri lists the cell 0x{leaf_cell:x} twice or points at itself (a cycle)", at)
        seen.add(leaf_cell)
        leaves.append(_read_leaf(space, leaf_cell, f"leaf of the ri at file offset 0x{at - 4:x}"))
    return SubkeyList(cell, leaves)


# ----------------------------------------------------------------------- changes
def _entries(leaf: Leaf, first: int = 0) -> bytes:
    offsets = leaf.offsets[first:]
    if leaf.signature == b"li":
        return struct.pack(f"<{len(offsets)}I", *offsets)
    flat = [word for pair in zip(offsets, leaf.keys[first:]) for word in pair]
    return struct.pack(f"<{len(flat)}I", *flat)


def _store_leaf(space: CellSpace, leaf: Leaf, first: int = 0) -> int:
    """Write ``leaf`` (entries before ``first`` are unchanged) in place when its cell has
    room, else into a new cell with room to grow.

    A leaf that is rewritten on every insert would make adding n subkeys cost O(n^2)
    bytes; a little slack (legal: a leaf's capacity may exceed its count, regf-format 5.1)
    lets a run of inserts, such as an import, mostly write one entry each.
    """
    count = len(leaf.offsets)
    size = leaf.entry_size
    if leaf.cell >= 0:
        at, length = space.payload(leaf.cell, "subkey list")
        if 4 + size * count <= length:
            _HEAD.pack_into(space.buf, at, leaf.signature, count)
            tail = _entries(leaf, first)
            start = at + 4 + size * first
            space.buf[start : start + len(tail)] = tail
            _clear_slot(space, at + 4 + size * count, size, at + length)
            return leaf.cell
    capacity = max(count, min(MAX_LEAF_ENTRIES, count + max(4, count // 8)))
    new = space.alloc(4 + size * capacity)
    at = file_offset(new) + 4
    body = _HEAD.pack(leaf.signature, count) + _entries(leaf)
    space.buf[at : at + len(body)] = body
    if leaf.cell >= 0:
        space.free(leaf.cell)
    leaf.cell = new
    return new


def _clear_slot(space: CellSpace, at: int, size: int, end: int) -> None:
    """Zero the entry slot after the last entry, which a removal has just vacated: a stale
    copy of a pointer there would look live to the search that decides whether a freed cell
    has another owner (refs.py)."""
    if at + size <= end:
        space.buf[at : at + size] = bytes(size)


def _store_root(space: CellSpace, root: int | None, leaf_cells: list[int]) -> int:
    payload = _HEAD.pack(INDEX_ROOT, len(leaf_cells)) + struct.pack(f"<{len(leaf_cells)}I", *leaf_cells)
    if root is not None:
        at, length = space.payload(root, "index root")
        if len(payload) <= length:
            space.buf[at : at + len(payload)] = payload
            _clear_slot(space, at + len(payload), 4, at + length)
            return root
    new = space.alloc(len(payload))
    at = file_offset(new) + 4
    space.buf[at : at + len(payload)] = payload
    if root is not None:
        space.free(root)
    return new


def new_list(space: CellSpace, minor: int, child: int, name: str) -> int:
    signature = leaf_type_for(minor)
    keys = [] if signature == b"li" else [entry_key(signature, name)]
    return _store_leaf(space, Leaf(-1, signature, [child], keys))


def insert(space: CellSpace, sublist: SubkeyList, position: int, child: int, name: str) -> int:
    """Insert ``child`` at sorted ``position``; returns the cell the nk must point at."""
    leaves = sublist.leaves
    index, before = 0, 0
    while index < len(leaves) - 1 and position > before + len(leaves[index].offsets):
        before += len(leaves[index].offsets)
        index += 1
    leaf = leaves[index]
    cells_before = [l.cell for l in leaves]
    at = position - before
    leaf.offsets.insert(at, child)
    if leaf.signature != b"li":
        leaf.keys.insert(at, entry_key(leaf.signature, name))
    if len(leaf.offsets) <= MAX_LEAF_ENTRIES:
        _store_leaf(space, leaf, at)
        new_leaves = [leaf]
    else:
        half = len(leaf.offsets) // 2
        second = Leaf(-1, leaf.signature, leaf.offsets[half:], leaf.keys[half:])
        del leaf.offsets[half:]
        del leaf.keys[half:]
        _store_leaf(space, leaf, min(at, half))
        _store_leaf(space, second)
        new_leaves = [leaf, second]
    leaves[index : index + 1] = new_leaves
    if sublist.root is None and len(leaves) == 1:
        return leaves[0].cell
    if sublist.root is None or [l.cell for l in leaves] != cells_before:
        sublist.root = _store_root(space, sublist.root, [l.cell for l in leaves])
    return sublist.root


def remove(space: CellSpace, sublist: SubkeyList, child: int) -> int | None:
    """Remove ``child``; returns the new list cell, or None when the list is now empty."""
    for index, leaf in enumerate(sublist.leaves):
        if child in leaf.offsets:
            at = leaf.offsets.index(child)
            del leaf.offsets[at]
            if leaf.keys:
                del leaf.keys[at]
            break
    else:
        raise HiveFormatError("subkey to remove is not in its parent's list", file_offset(child))
    if leaf.offsets:
        _store_leaf(space, leaf, at)  # shrinking always fits: the gap closes in place
        if sublist.root is None:
            return leaf.cell
        return sublist.root
    space.free(leaf.cell)
    del sublist.leaves[index]
    if sublist.root is None:
        return None
    if not sublist.leaves:
        space.free(sublist.root)
        return None
    sublist.root = _store_root(space, sublist.root, [l.cell for l in sublist.leaves])
    return sublist.root


def find_position(count: int, name_key: bytes, key_of: Callable[[int], bytes]) -> tuple[int, bool]:
    """Binary search over sorted entries: (insertion position, whether entry there matches)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi) // 2
        if key_of(mid) < name_key:
            lo = mid + 1
        else:
            hi = mid
    return lo, lo < count and key_of(lo) == name_key
