"""Lists of cells: subkey lists (``li``, ``lf``, ``lh`` leaves and ``ri`` index roots,
regf-format section 5) and value lists (section 8).

All four subkey list kinds share one header, a signature and a 16-bit count, followed by
``count`` entries: a cell offset (li, ri), or a cell offset and a 32-bit word (lf: the name's
first four characters; lh: the name's hash). A value list has no header at all: it is the
key's value count of vk offsets.
"""
from __future__ import annotations

import struct
from typing import Sequence

from .bins import file_offset
from .cells import KIND_NAMES, SUBKEY_LIST, VALUE_LIST, Follow, offsets_at
from .names import lf_hint, lh_hash
from .problems import Described, HiveFinding, describe, problem
from .record import ReadBuffer, Record

LIST_HEADER = Record(
    "SubkeyList",
    ("signature", "2s"),  # li, lf, lh or ri
    ("count", "H"),  # entries that follow
)
LEAF_SIGNATURES = (b"li", b"lf", b"lh")
INDEX_ROOT = b"ri"
ENTRY_SIZE = {b"li": 4, b"lf": 8, b"lh": 8, b"ri": 4}
MAX_LEAF_ENTRIES = 507  # one leaf per 4 KiB block (regf-format 5.3)
_HEADER = LIST_HEADER.struct


def leaf_type_for(minor: int) -> bytes:
    """lh in 1.5 and later, lf in 1.3/1.4 (regf-format 5.2)."""
    return b"lh" if minor >= 5 else b"lf"


def entry_key(signature: bytes, name: str) -> int:
    """The second word of an lf/lh entry: the hint as a little-endian word, or the hash."""
    if signature == b"lh":
        return lh_hash(name)
    return int.from_bytes(lf_hint(name), "little")


class Leaf:
    """One leaf: its cell (-1 until stored), kind, the subkeys' nk cells and, for lf/lh, the
    word beside each (empty for li)."""

    __slots__ = ("cell", "signature", "offsets", "keys")

    def __init__(self, cell: int, signature: bytes, offsets: list[int], keys: list[int]) -> None:
        self.cell = cell
        self.signature = signature
        self.offsets = offsets
        self.keys = keys

    def __repr__(self) -> str:
        return f"Leaf({self.signature.decode()} at 0x{self.cell:x}, {len(self.offsets)} entries)"

    @property
    def entry_size(self) -> int:
        return ENTRY_SIZE[self.signature]

    def pack(self, first: int = 0) -> bytes:
        """The entries from ``first`` on, as stored."""
        offsets = self.offsets[first:]
        if self.signature == b"li":
            return struct.pack(f"<{len(offsets)}I", *offsets)
        flat = [word for pair in zip(offsets, self.keys[first:]) for word in pair]
        return struct.pack(f"<{len(flat)}I", *flat)


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


def pack_header(signature: bytes, count: int) -> bytes:
    return _HEADER.pack(signature, count)


def pack_root(leaf_cells: Sequence[int]) -> bytes:
    return _HEADER.pack(INDEX_ROOT, len(leaf_cells)) + struct.pack(f"<{len(leaf_cells)}I", *leaf_cells)


def subkey_list_problems(
    buf: ReadBuffer, cell: int, follow: Follow, owner: Described, where: int | None, minor: int
) -> tuple[SubkeyList | None, list[HiveFinding]]:
    """The subkey list at ``cell`` of the key ``owner`` ("key 'A'"; its nk is at file offset
    ``where``), with the leaves an ri leads to, and what is wrong with them; None when no entry
    can be read. Each leaf is followed once: an ri listing itself or one leaf twice is a cycle."""
    found: list[HiveFinding] = []
    got = follow(cell, ("subkey list of", owner), SUBKEY_LIST, where)
    if got is None:
        return None, found
    at, length = got
    if length < _HEADER.size:
        found.append(problem("E-LIST-SIZE", at - 4, f"subkey list of {describe(owner)}: cell too small for a list header"))
        return None, found
    signature, count = _HEADER.unpack_from(buf, at)
    if signature in LEAF_SIGNATURES:
        return SubkeyList(None, [_leaf(buf, cell, at, length, bytes(signature), count, owner, minor, found)]), found
    if signature != INDEX_ROOT:
        found.append(problem("E-LIST-SIGNATURE", at - 4, (
            f"subkey list of {describe(owner)}: expected li, lf, lh or ri, found {bytes(signature)!r}")))
        return None, found
    if count == 0:
        found.append(problem("E-LIST-EMPTY", at - 4, f"index root (ri) of {describe(owner)} lists no leaves"))
    if 4 + 4 * count > length:
        found.append(problem("E-LIST-SIZE", at - 4,
                             f"ri of {describe(owner)} claims {count} leaves, its cell holds {(length - 4) // 4}"))
        count = (length - 4) // 4
    leaves: list[Leaf] = []
    seen: dict[int, bool] = {cell: False}  # leaf -> whether it was reported as named again
    for leaf_cell in offsets_at(buf, at + 4, count):
        if leaf_cell in seen:
            # Reported once per cell: an ri naming one cell 65,535 times is one fault.
            if not seen[leaf_cell]:
                seen[leaf_cell] = True
                found.append(problem("E-LIST-CYCLE", at - 4, f"ri of {describe(owner)} lists itself as one of its leaves")
                             if leaf_cell == cell else _shared(f"leaf of the ri of {describe(owner)}", leaf_cell, at - 4))
            continue
        seen[leaf_cell] = False
        leaf = _root_leaf(buf, leaf_cell, at - 4, follow, owner, minor, found)
        if leaf is not None:
            leaves.append(leaf)
    return SubkeyList(cell, leaves), found


def _root_leaf(
    buf: ReadBuffer, cell: int, root_at: int, follow: Follow, owner: Described, minor: int,
    found: list[HiveFinding],
) -> Leaf | None:
    got = follow(cell, ("leaf of the ri of", owner), SUBKEY_LIST, root_at)
    if got is None:
        return None
    at, length = got
    if length < _HEADER.size:
        found.append(problem("E-LIST-SIZE", at - 4, f"leaf of {describe(owner)}: cell too small for a list header"))
        return None
    signature, count = _HEADER.unpack_from(buf, at)
    if signature == INDEX_ROOT:
        found.append(problem("E-LIST-NESTING", at - 4,
                             f"ri of {describe(owner)} points at another ri; only leaves may follow an ri"))
    elif signature not in LEAF_SIGNATURES:
        found.append(problem("E-LIST-SIGNATURE", at - 4,
                             f"leaf of {describe(owner)}: expected li, lf or lh, found {bytes(signature)!r}"))
    else:
        return _leaf(buf, cell, at, length, bytes(signature), count, owner, minor, found)
    return None


def _leaf(
    buf: ReadBuffer, cell: int, at: int, length: int, signature: bytes, count: int, owner: Described,
    minor: int, found: list[HiveFinding],
) -> Leaf:
    if count == 0:
        found.append(problem("E-LIST-EMPTY", at - 4, f"{signature.decode()} leaf of {describe(owner)} has no entries"))
        return Leaf(cell, signature, [], [])
    if signature == b"lh" and minor < 5:
        found.append(problem("I-LIST-TYPE", at - 4, f"hash leaves (lh) in a version 1.{minor} hive, where Windows writes lf"))
    size = ENTRY_SIZE[signature]
    if 4 + size * count > length:
        found.append(problem("E-LIST-SIZE", at - 4, (f"{signature.decode()} leaf of {describe(owner)} claims {count} "
                                                     f"entries, its cell holds {(length - 4) // size}")))
        count = (length - 4) // size
    words = struct.unpack_from(f"<{count * size // 4}I", buf, at + 4)  # offsets_at, inlined: once a leaf
    if size == 4:
        return Leaf(cell, signature, list(words), [])
    return Leaf(cell, signature, list(words[0::2]), list(words[1::2]))


def _shared(what: str, cell: int, where: int) -> HiveFinding:
    return problem("E-CELL-SHARED", where, (f"{what} points at file offset 0x{file_offset(cell):x}, which is already "
                                            f"used as {KIND_NAMES[SUBKEY_LIST]} (a cycle, or one cell with two owners)"))


def value_list_problems(
    buf: ReadBuffer, cell: int, count: int, follow: Follow, owner: Described, where: int | None
) -> tuple[tuple[int, ...] | None, Sequence[HiveFinding]]:
    """The vk cells of the value list at ``cell`` of the key ``owner`` that claims ``count``
    values, and what is wrong with the list; None when it cannot be read. A list smaller than
    the count is read as far as it goes (8: the list has no count of its own)."""
    got = follow(cell, ("value list of", owner), VALUE_LIST, where)
    if got is None:
        return None, []
    at, length = got
    if 4 * count <= length:
        return struct.unpack_from(f"<{count}I", buf, at), ()  # offsets_at, inlined: once a key
    found = [problem("E-VALUE-LIST", at - 4,
                     f"value list of {describe(owner)} holds {length // 4} entries, but the key claims {count}")]
    return offsets_at(buf, at, length // 4), found
