"""Changing a subkey list as Windows does (regf-format 5): entries stay sorted by Windows
upcase order, a leaf is changed in place when its cell has room, leaves are kept to at most
507 entries below an ``ri``, and an emptied leaf (and an emptied ``ri``) is freed rather than
left with a count of zero. Reading lists is :func:`~..records.lists.subkey_list_problems`."""
from __future__ import annotations

from typing import Callable

from ...errors import HiveFormatError
from ..records.bins import file_offset
from ..records.lists import MAX_LEAF_ENTRIES, Leaf, SubkeyList, entry_key, leaf_type_for, pack_header, pack_root
from .space import CellSpace


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
            space.buf[at : at + 4] = pack_header(leaf.signature, count)
            tail = leaf.pack(first)
            start = at + 4 + size * first
            space.buf[start : start + len(tail)] = tail
            _clear_slot(space, at + 4 + size * count, size, at + length)
            return leaf.cell
    capacity = max(count, min(MAX_LEAF_ENTRIES, count + max(4, count // 8)))
    new = space.alloc(4 + size * capacity)
    at = file_offset(new) + 4
    body = pack_header(leaf.signature, count) + leaf.pack()
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
    payload = pack_root(leaf_cells)
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
