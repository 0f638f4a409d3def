"""The layout of a hive written from scratch, for compaction and bulk building.

Both write a fresh file bin by bin from a :class:`~.source.Source`:

* Every key, with its flags (incl. the user/virtualisation bytes at nk+54/55), timestamp,
  class name and values (type, raw bytes, enumeration order) is kept; free cells, remnants,
  unreachable cells and slack are not.
* Subkey lists are written in canonical form: sorted by Windows upcase, lf leaves in 1.3,
  lh in 1.5 and later, at most 507 entries a leaf with an ri above (regf-format 5).
* Value data: inline up to 4 bytes, one cell up to 16,344, big data (db) above that from
  1.4 on; a 1.3 hive keeps a value in one cell, so more than 1 MiB cannot go to 1.3.
* Security descriptors are stored once each (identical bytes share one sk cell), with
  exact reference counts, in one ring.
* The "largest name/class/data" fields are recomputed exactly; volatile fields are nil.

The layout takes two passes over the source, breadth first and without recursion. The
first only computes where every cell goes and keeps, in flat arrays, a few numbers per key
(about 30 bytes) and the offset and size of every cell (8 bytes); the second replays that
placement to emit the bytes in file order, so the output streams to disk and memory stays
near the size of the input plus those arrays.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterator, NamedTuple

from ...errors import HiveFormatError, RefusedUnsafe
from ...progress import QUIET, Progress
from ...timeutil import Clock
from ..records.base_block import BASE_BLOCK, BASE_BLOCK_SIZE, stamp_clean
from ..records.cells import NIL, pack_offsets
from ..records.data import DB, INLINE, MAX_DATA_1_3, SEGMENT_SIZE, uses_big_data
from ..records.lists import MAX_LEAF_ENTRIES, Leaf, entry_key, leaf_type_for, pack_header, pack_root
from ..records.names import encode_name, sort_key, upcase, utf16_size
from ..records.nk import NK, nk_flags
from ..records.sk import SK, descriptor_problem
from ..records.vk import VK, vk_flags
from .bins import BinEmitter, BinPlanner
from .source import Child, KeyRecord, Source, ValueRecord

MAX_SEGMENTS = 0xFFFF  # the db segment count is 16 bits (regf-format 6.3)
SAMPLE_KEYS = 100  # keys whose values --verify compares through the independent readers
SAMPLE_VALUES_PER_KEY = 20
_SAMPLE_MAX_DEPTH = 512
_VK_SIZE = VK.size
Bins = BinPlanner | BinEmitter  # the same requests go to both, in the same order


@dataclass
class LayoutSummary:
    """What a compaction wrote: how many keys, values and security descriptors, the hive-bins
    size and format version (``file_size`` is the whole file)."""

    keys: int = 0
    values: int = 0
    security_cells: int = 0
    hbins_size: int = 0
    minor: int = 5
    # (key path, value name, type, raw) of a spread of keys, for --verify
    sample: list[tuple[str, str | None, int | None, bytes | None]] = field(default_factory=list)

    @property
    def file_size(self) -> int:
        return BASE_BLOCK_SIZE + self.hbins_size


def _plain(text: str) -> bool:
    """Names regipy decodes right: it reads compressed (Latin-1) names as ASCII."""
    return text.isascii() and text.isprintable()


def _readers_show(value_type: int, length: int) -> bool:
    """Whether python-registry returns a value's exact raw bytes. It reads inline strings as
    4 bytes whatever their length, inline REG_MULTI_SZ as empty, a REG_DWORD as the 4 inline
    bytes, a REG_QWORD as 8 bytes of its cell, REG_DWORD_BIG_ENDIAN from a cell even when
    inline, and other short data of unknown types as 4 bytes."""
    if value_type in (0, 3, 6, 8, 9, 10):
        return True
    if value_type in (1, 2):
        return length >= 4
    if value_type == 4:
        return length == 4
    if value_type == 7:
        return length == 0 or length > 4
    if value_type == 11:
        return length == 8
    return value_type != 5 and length >= 4


class _NkFields(NamedTuple):
    """What a key's nk is written from, besides the cells the layout gives it."""

    key_index: int  # not "index", which would hide tuple.index
    key: KeyRecord
    name_bytes: bytes
    compressed: bool
    subkey_count: int
    values: list[ValueRecord]


# Made for every key a layout writes: straight from a tuple in field order (see source.make_key).
_new_nk_fields: Callable[[tuple[Any, ...]], _NkFields] = partial(tuple.__new__, _NkFields)


class _Layout:
    """Both passes over one source; the plan's arrays are indexed by breadth-first key order."""

    def __init__(self, source: Source, minor: int, head: bytes, sequence: int) -> None:
        self.source = source
        self.minor = minor
        self.leaf_type = leaf_type_for(minor)
        self.head = head  # base block to start from (flags, GUIDs, names are kept)
        self.sequence = sequence
        self.handles = array("Q")  # the source's handle of key i
        self.parents = array("I")  # index of key i's parent (NIL for the root)
        self.words = array("I")  # lh hash / lf hint of key i in its parent's list
        self.child_counts = array("I")
        self.max_child_name = array("I")
        self.max_child_class = array("I")
        self.cells = array("I")  # where key i's nk goes
        self.security_index: dict[int, int] = {}  # source security id -> output sk number
        self._by_descriptor: dict[bytes, int] = {}
        self.descriptors: list[bytes] = []
        self.refcounts: list[int] = []
        self.sk_cells: list[int] = []
        self.root_refs = (NIL, NIL, NIL)  # the root's class, value list and subkey list cells
        self.summary = LayoutSummary(minor=minor)
        self.progress: Progress = QUIET
        self.bins = BinPlanner()  # the plan's placement, replayed by emit()

    # ------------------------------------------------------------------ pass 1
    def plan(self) -> None:
        source, bins = self.source, self.bins
        self.handles.append(source.root())
        self.parents.append(NIL)
        self.words.append(0)
        index = 0
        progress = self.progress
        progress.stage("reading keys", None, "keys")
        while index < len(self.handles):
            progress.advance()
            handle = self.handles[index]
            key = source.key(handle)
            children = self._ordered(source.children(handle, key), handle)
            self._add_children(index, children)
            self._count_security(key.security)
            if key.class_length:
                source.class_bytes(handle, key)  # checked now, so pass 2 cannot fail half-way
            values = source.values(handle, key)
            self._check_values(index, handle, values)
            self.summary.values += len(values)
            self.cells.append(self._put_key(bins, index, key, values, len(self.handles) - len(children)))
            index += 1
        self.sk_cells = [self._put_security(bins, n) for n in range(len(self.descriptors))]
        self.summary.keys = len(self.handles)
        self.summary.security_cells = len(self.descriptors)
        self.summary.hbins_size = bins.finish()

    def _add_children(self, index: int, children: list[Child]) -> None:
        """Queue the children of key ``index`` (breadth first), with their list words, and note
        the largest name and class among them for its nk."""
        handles, parents, words, leaf_type = self.handles, self.parents, self.words, self.leaf_type
        longest_name = longest_class = 0
        for child in children:
            handles.append(child.handle)
            parents.append(index)
            words.append(entry_key(leaf_type, child.name))
            name_size = utf16_size(child.name)
            if name_size > longest_name:
                longest_name = name_size
            if child.class_length > longest_class:
                longest_class = child.class_length
        self.child_counts.append(len(children))
        self.max_child_name.append(min(longest_name, 0xFFFF))
        self.max_child_class.append(longest_class)

    def _check_values(self, index: int, handle: int, values: list[ValueRecord]) -> None:
        """Check each value's data now, so pass 2 cannot fail half-way, and refuse what cannot
        be written: a value too large for the version, two values of one name."""
        source = self.source
        names: set[str] = set()
        for value in values:
            source.check_value(value)
            if value.length > SEGMENT_SIZE:  # anything smaller fits every version in one cell
                self._check_fits(value, index)
            folded = upcase(value.name)
            if folded in names:
                raise HiveFormatError(
                    f"key {self.path_of(index)!r} has two values named {value.name!r} (names are "
                    "case-insensitive)", source.where(handle),
                )
            names.add(folded)

    def _ordered(self, children: list[Child], handle: int) -> list[Child]:
        """Children in Windows order; a case-insensitive duplicate cannot be written."""
        keys = [sort_key(child.name) for child in children]
        if any(keys[i] >= keys[i + 1] for i in range(len(keys) - 1)):
            order = sorted(range(len(children)), key=keys.__getitem__)
            children = [children[i] for i in order]
            keys = [keys[i] for i in order]
            for i in range(len(keys) - 1):
                if keys[i] == keys[i + 1]:
                    raise HiveFormatError(
                        f"two subkeys are named {children[i].name!r} and {children[i + 1].name!r}, which Windows "
                        "treats as the same name",
                        self.source.where(handle),
                    )
        return children

    def _count_security(self, security: int) -> None:
        number = self.security_index.get(security)
        if number is None:
            sd = self.source.descriptor(security)
            problem = descriptor_problem(sd)
            if problem:
                # Windows validates every descriptor when it loads a hive (regf-format 7).
                raise HiveFormatError(f"security descriptor: {problem}", self.source.where(security))
            number = self._by_descriptor.get(sd)
            if number is None:
                number = self._by_descriptor[sd] = len(self.descriptors)
                self.descriptors.append(sd)
                self.refcounts.append(0)
            self.security_index[security] = number
        if self.refcounts[number] == 0xFFFFFFFF:
            raise HiveFormatError("more keys share a security descriptor than its 32-bit count can hold")
        self.refcounts[number] += 1

    def _check_fits(self, value: ValueRecord, index: int) -> None:
        if value.length > MAX_DATA_1_3 and not uses_big_data(value.length, self.minor):
            raise RefusedUnsafe(
                f"value {value.name!r} of key {self.path_of(index)!r} holds {value.length} bytes: a version 1.3 "
                f"hive keeps a value in one cell of at most {MAX_DATA_1_3} bytes; keep version 1.5"
            )
        if uses_big_data(value.length, self.minor) and -(-value.length // SEGMENT_SIZE) > MAX_SEGMENTS:
            raise HiveFormatError(f"value {value.name!r} of key {self.path_of(index)!r} is too large for big data")

    def path_of(self, index: int, limit: int | None = None) -> str | None:
        """Key ``index``'s path inside the hive; None when deeper than ``limit``."""
        names: list[str] = []
        while index != 0 and index != NIL:
            if limit is not None and len(names) >= limit:
                return None
            names.append(self.source.key(self.handles[index]).name)
            index = self.parents[index]
        return "\\".join(reversed(names))

    # ------------------------------------------------------------------ pass 2
    def emit(self, clock: Clock) -> Iterator[bytes | bytearray]:
        head = bytearray(self.head)
        for name, number in (("major", 1), ("minor", self.minor), ("file_type", 0), ("file_format", 1),
                             ("root_cell", self.cells[0]), ("clustering", 1)):
            BASE_BLOCK.write(head, 0, name, number)
        timestamp = stamp_clean(head, self.sequence, clock.now(), self.summary.hbins_size)
        yield bytes(head)
        source, bins = self.source, BinEmitter(self.bins, timestamp)
        stride = max(1, len(self.handles) // SAMPLE_KEYS)
        first_child = 1
        progress = self.progress
        progress.stage("writing keys", len(self.handles), "keys")
        for index in range(len(self.handles)):
            progress.advance()
            handle = self.handles[index]
            key = source.key(handle)
            values = source.values(handle, key)
            cell = self._put_key(bins, index, key, values, first_child, emit=True)
            if cell != self.cells[index]:
                raise HiveFormatError(f"the hive changed while it was being compacted (key {index})")
            if index % stride == 0:
                self._sample(index, values)
            first_child += self.child_counts[index]
            ready = bins.take()
            if ready:
                yield ready
        for number in range(len(self.descriptors)):
            self._put_security(bins, number, emit=True)
        bins.finish()
        rest = bins.take(0)
        if rest:
            yield rest

    def _sample(self, index: int, values: list[ValueRecord]) -> None:
        """Remember a key and those of its values that the independent readers show
        faithfully, for --verify (see :func:`_readers_show`)."""
        path = self.path_of(index, _SAMPLE_MAX_DEPTH)
        if path is None or not _plain(path):
            return
        self.summary.sample.append((path, None, None, None))
        for value in values[:SAMPLE_VALUES_PER_KEY]:
            if _plain(value.name) and _readers_show(value.type, value.length):
                self.summary.sample.append((path, value.name, value.type, self.source.value_data(value)))

    # ------------------------------------------------------------------ one key's cells
    def _put_key(self, bins: Bins, index: int, key: KeyRecord, values: list[ValueRecord],
                 first_child: int, emit: bool = False) -> int:
        """Place (and with ``emit`` write) a key's cells: class, values, value list, subkey
        list, then the nk, so that every pointer in them is to a cell placed before or to a
        key or sk whose place the plan already knows.

        The root's nk comes first instead: it must be the first cell of the first bin, where
        Windows puts it and where regipy looks for it (regipy ignores the header's root
        offset); its own pointers then come from the plan.
        """
        source = self.source
        handle = self.handles[index]
        name_bytes, compressed = encode_name(key.name)
        count = self.child_counts[index] if emit else len(self.handles) - first_child
        nk = _new_nk_fields((index, key, name_bytes, compressed, count, values)) if emit else None
        root_cell = None
        if index == 0:
            longest = max((utf16_size(value.name) for value in values), default=0)  # its values come later
            root_cell = bins.put(NK.size + len(name_bytes), self._nk_payload(nk, *self.root_refs, longest)
                                 if nk else None)
        class_cell = NIL
        if key.class_length:
            class_cell = bins.put(key.class_length, source.class_bytes(handle, key) if emit else None)
        vk_cells, longest_name = self._put_values(bins, values, emit)
        value_list = NIL
        if vk_cells:
            value_list = bins.put(4 * len(vk_cells), pack_offsets(vk_cells) if emit else None)
        subkey_list = self._put_subkey_list(bins, first_child, count, emit) if count else NIL
        if root_cell is not None:
            if emit and (class_cell, value_list, subkey_list) != self.root_refs:
                raise HiveFormatError("the hive changed while it was being compacted (root key)")
            self.root_refs = (class_cell, value_list, subkey_list)
            return root_cell
        return bins.put(
            NK.size + len(name_bytes),
            self._nk_payload(nk, class_cell, value_list, subkey_list, longest_name) if nk else None,
        )

    def _nk_payload(self, nk: "_NkFields", class_cell: int, value_list: int, subkey_list: int,
                    longest_value_name: int) -> bytes:
        """The key node (:func:`~..records.nk.new_nk`, packed here without its keyword
        round trip: this runs for every key of the hive)."""
        key, index = nk.key, nk.key_index
        parent = self.parents[index]
        name_bytes = nk.name_bytes
        return NK.pack(
            flags=nk_flags(key.flags, nk.compressed), timestamp=key.timestamp, access_bits=key.access_bits,
            layered_bits=key.layered_bits,
            parent=NIL if parent == NIL else self.cells[parent],
            subkey_count=nk.subkey_count, subkeys=subkey_list,
            value_count=len(nk.values) if key.predefined_handle is None else key.predefined_handle,
            values=value_list,
            security=self.sk_cells[self.security_index[key.security]],
            class_cell=class_cell, class_length=key.class_length,
            max_subkey_name=self.max_child_name[index], user_flags=key.user_flags, debug_flags=key.debug_flags,
            max_subkey_class=self.max_child_class[index],
            max_value_name=longest_value_name,
            max_value_data=max((value.length for value in nk.values), default=0),
            name_length=len(name_bytes),
        ) + name_bytes

    def _put_subkey_list(self, bins: Bins, first: int, count: int, emit: bool) -> int:
        leaves = []
        for start in range(first, first + count, MAX_LEAF_ENTRIES):
            n = min(MAX_LEAF_ENTRIES, first + count - start)
            payload = None
            if emit:
                leaf = Leaf(-1, self.leaf_type, list(self.cells[start : start + n]), list(self.words[start : start + n]))
                payload = pack_header(self.leaf_type, n) + leaf.pack()
            leaves.append(bins.put(4 + 8 * n, payload))
        if len(leaves) == 1:
            return leaves[0]
        return bins.put(4 + 4 * len(leaves), pack_root(leaves) if emit else None)

    def _put_values(self, bins: Bins, values: list[ValueRecord], emit: bool) -> tuple[list[int], int]:
        """Place (and with ``emit`` write) each value's data, then its record; returns the vk
        cells and the longest name in UTF-16 bytes (the nk's "largest value name", 4.4).

        One loop for all of a key's values, with nothing called that need not be: a rewrite
        runs it for every value of the hive, twice."""
        cells = []
        longest = 0
        big_data = self.minor >= 4  # uses_big_data(), inlined below
        put, value_data, pack_vk = bins.put, self.source.value_data, VK.pack
        for value in values:
            length = value.length
            data = value_data(value) if emit else b""
            if emit and len(data) != length:
                raise HiveFormatError(f"value {value.name!r} changed size while it was being compacted")
            if length <= 4:
                size_field, data_field = INLINE | length, int.from_bytes(data.ljust(4, b"\0"), "little")
            elif length <= SEGMENT_SIZE or not big_data:
                size_field, data_field = length, put(length, data)
            else:
                size_field, data_field = length, self._put_big_data(bins, data, length, emit)
            name_bytes, compressed = encode_name(value.name)
            payload = None
            if emit:  # records.vk.new_vk, packed here without its keyword round trip
                payload = pack_vk(name_length=len(name_bytes), flags=vk_flags(value.flags, compressed, name_bytes),
                                  data_size=size_field, data=data_field, type=value.type) + name_bytes
            cells.append(put(_VK_SIZE + len(name_bytes), payload))
            # A Latin-1 name takes one UTF-16 unit a character: utf16_size without encoding again.
            size = 2 * len(name_bytes) if compressed else len(name_bytes)
            if size > longest:
                longest = size
        return cells, longest

    def _put_big_data(self, bins: Bins, data: bytes, length: int, emit: bool) -> int:
        count = -(-length // SEGMENT_SIZE)
        view = memoryview(data)
        # Windows gives every segment, the last included, a full 16,344-byte payload (6.3).
        segments = [bins.put(SEGMENT_SIZE, view[i * SEGMENT_SIZE : (i + 1) * SEGMENT_SIZE]) for i in range(count)]
        seg_list = bins.put(4 * count, pack_offsets(segments) if emit else None)
        return bins.put(DB.size, DB.pack(segment_count=count, segment_list=seg_list) if emit else None)

    def _put_security(self, bins: Bins, number: int, emit: bool = False) -> int:
        sd = self.descriptors[number]
        payload = None
        if emit:
            total = len(self.descriptors)
            flink = self.sk_cells[(number + 1) % total]
            blink = self.sk_cells[(number - 1) % total]
            payload = SK.pack(flink=flink, blink=blink, refcount=self.refcounts[number], descriptor_size=len(sd)) + sd
        return bins.put(SK.size + len(sd), payload)
