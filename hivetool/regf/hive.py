"""A hive in memory: open, look up, save. Edits live in :mod:`edit`, checks in :mod:`check`.

The whole file is held in one ``bytearray``; nothing is parsed until a lookup needs it,
and an edit changes only the cells it must, so every other byte of the file is kept.
"""
from __future__ import annotations

import os
from typing import Iterator

from ..errors import DirtyHiveError, HiveFormatError, KeyNotFound, UsageError
from ..fileio import atomic_write
from ..inputs import DEFAULT_WAIT, EXCLUSIVE, SHARED, InputFile, open_input
from ..timeutil import Clock
from . import edit
from . import nk as nkmod
from . import sublists
from .bins import HBIN, HBIN_BASE
from .cells import CellSpace
from .header import Header, read_header, stamp_clean
from .model import Key, Value, _join
from .names import lh_hash, sort_key, upcase
from .nk import NIL, NK, decode_nk
from .types import RegType, encode
from .vk import I_DATA, I_DATA_SIZE, I_TYPE, decode_vk, read_data


def split_path(path: str) -> list[str]:
    """``'\\A\\B'``, ``'A\\B'`` -> ``['A', 'B']``; ``''`` or ``'\\'`` -> the root (``[]``)."""
    text = path.lstrip("\\")
    if not text:
        return []
    parts = text.split("\\")
    if any(part == "" for part in parts):
        raise UsageError(f"key path {path!r} has an empty component (two backslashes in a row)")
    return parts


class Hive:
    def __init__(self, buf: bytearray, path: str | None = None, clock: Clock | None = None) -> None:
        self.path = path
        self.clock = clock or Clock.resolve()
        try:
            self.header: Header = read_header(buf)
            self.space = CellSpace(buf, self.header.hbins_size)
        except HiveFormatError as err:
            raise err.with_path(path) if path else err
        self.minor = self.header.minor
        self.root_cell = self.header.root_cell
        self.nk_decodes = 0  # how many key nodes were decoded: lookups must stay on their path
        self.modified = False
        self.unchanged_sets = 0  # set_value calls that found the value already so (no-ops)
        self.sequence_floor = 0  # raised by log replay: a save must go above every log sequence
        # Kept by edit.py for keys it changes, so a run of edits on one key (an import) does
        # not re-read its whole subkey list or re-decode every value name each time.
        self.edit_subkey_lists: dict[int, sublists.SubkeyList] = {}
        self.edit_value_names: dict[int, dict[str, int]] = {}
        # The file this hive was read from (device, inode): a save may replace it only when
        # asked to (in_place=True). ``_source`` holds the exclusive lock of an open for update.
        self.source_identity: tuple[int, int] | None = None
        self._source: InputFile | None = None

    @property
    def buf(self) -> bytearray:
        """The whole file image. A mapped file turns into a bytearray when an edit must grow
        it, so take it from here after any allocation rather than keeping it."""
        return self.space.buf

    def replace_image(self, buf: bytearray) -> None:
        """Take ``buf`` as this hive's new content (a whole file image built elsewhere, e.g.
        by bulk layout), keeping the path, clock and what a save must know."""
        floor = self.sequence_floor
        self.__init__(buf, self.path, self.clock)  # type: ignore[misc]
        self.sequence_floor = floor
        self.modified = True

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | os.PathLike, clock: Clock | None = None, *, for_update: bool = False,
             wait: float = DEFAULT_WAIT) -> "Hive":
        """Load a hive file through a read-only descriptor.

        The file must be a regular file starting with a ``regf`` base block (checked before
        the rest is read). A big file is mapped copy-on-write instead of read, so opening it
        and changing one value costs what the change costs: pages load as they are touched,
        and edits never reach the file.

        Reading holds a shared lock. ``for_update`` holds an exclusive lock instead, from
        now until :meth:`close` (or the end of the process), so that a read-modify-write
        ending in ``save(in_place=True)`` cannot lose another writer's update; another
        process waits up to ``wait`` seconds for a lock, then :class:`~hivetool.inputs.HiveBusy`.
        """
        source = open_input(path, "hive", EXCLUSIVE if for_update else SHARED, wait)
        try:
            image = source.read_hive()
            hive = cls(image, str(path), clock)
        except BaseException:
            source.close()
            raise
        hive.source_identity = source.identity
        if for_update:
            hive._source = source  # the exclusive lock lasts until close()
        else:
            # Read (or mapped: the mapping keeps its own reference to the file, and hivetool's
            # writers replace a file by a rename, which leaves a mapped inode as it was): the
            # shared lock has done its part, and holding it would block every in-place writer
            # for as long as this object lives.
            source.close()
        return hive

    def close(self) -> None:
        """Release the file lock an open for update (or of a mapped file) holds."""
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> "Hive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def from_bytes(cls, data: bytes, name: str | None = None, clock: Clock | None = None) -> "Hive":
        return cls(bytearray(data), name, clock)

    @classmethod
    def from_replay(
        cls, image: bytearray, path: str | None, clock: Clock | None, sequence_floor: int
    ) -> "Hive":
        """Open a primary image recovered from transaction logs (see :mod:`replay`).

        ``sequence_floor`` is the largest sequence number seen in the logs: a save writes
        numbers above it, so no stale log entry can ever chain onto the saved hive.
        """
        hive = cls(image, path, clock)
        hive.modified_by_replay = True
        hive.sequence_floor = sequence_floor
        return hive

    @classmethod
    def new(cls, minor: int = 5, root_name: str = "ROOT", clock: Clock | None = None) -> "Hive":
        from .create import empty_hive_bytes

        clock = clock or Clock.resolve()
        return cls(bytearray(empty_hive_bytes(minor, root_name, clock.now())), None, clock)

    # ------------------------------------------------------------------ facts
    @property
    def version(self) -> str:
        return self.header.version

    @property
    def dirty(self) -> bool:
        return self.header.dirty

    def _error(self, err: HiveFormatError) -> HiveFormatError:
        return err.with_path(self.path) if self.path else err

    # ------------------------------------------------------------------ keys
    def _decode(self, cell: int, what: str) -> tuple[tuple, str]:
        at, length = self.space.payload(cell, what)
        self.nk_decodes += 1
        return decode_nk(self.buf, at, length, cell)

    @property
    def root(self) -> Key:
        try:
            _, name = self._decode(self.root_cell, "root key offset in the base block")
        except HiveFormatError as err:
            raise self._error(err) from None
        return Key(self, self.root_cell, name, "")

    def key_at(self, cell: int, parent: "Key | str") -> Key:
        """The key at ``cell``, a subkey of ``parent`` (a Key, or its path inside the hive)."""
        _, name = self._decode(cell, "a subkey list entry")
        if isinstance(parent, Key):
            return Key(self, cell, name, parent)
        return Key(self, cell, name, _join(parent, name))

    def key(self, path: str) -> Key:
        """The key at ``path`` (case-insensitive, ``\\``-separated); raises KeyNotFound,
        naming the first component that is missing and the key it is missing from."""
        try:
            key = self.root
            for part in split_path(path):
                cell = self.find_child(key.cell, part)
                if cell is None:
                    where = f"key '{key.path}'" if key.path else "the root key"
                    raise KeyNotFound(f"key '{path.lstrip(chr(92))}' not found: {where} has no subkey '{part}'")
                key = self.key_at(cell, key)
            return key
        except HiveFormatError as err:
            raise self._error(err) from None

    def has_key(self, path: str) -> bool:
        try:
            self.key(path)
            return True
        except KeyNotFound:
            return False

    def walk(self) -> Iterator[Key]:
        return self.root.walk()

    def _subkey_list(self, cell: int) -> sublists.SubkeyList | None:
        at, _ = self.space.payload(cell, "key")
        fields = NK.struct.unpack_from(self.buf, at)
        count, list_cell = fields[nkmod.I_SUBKEY_COUNT], fields[nkmod.I_SUBKEYS]
        if count == 0 or list_cell == NIL:
            return None
        cached = self.edit_subkey_lists.get(cell)
        if cached is not None and cached.cell == list_cell and cached.count == count:
            return cached
        return sublists.read_list(self.space, list_cell, cell)

    def child_cells(self, cell: int) -> list[int]:
        sublist = self._subkey_list(cell)
        return sublist.offsets() if sublist else []

    def find_child(self, cell: int, name: str) -> int | None:
        """Find a subkey, decoding only candidates whose lh hash matches.

        Otherwise (no hash matches, or lf/li leaves) a binary search over the sorted
        entries settles it, as Windows does, so a lookup costs O(log n) decodes, never a
        scan of the list. lf hints are not used to filter: names sharing their first four
        characters (Key0001, Key0002, ...) all match one hint, which made every lookup in
        a 1.3 hive decode the whole list.
        """
        sublist = self._subkey_list(cell)
        if sublist is None:
            return None
        wanted = upcase(name)
        hashed = None
        for leaf in sublist.leaves:
            if leaf.signature == b"lh":
                hashed = lh_hash(name) if hashed is None else hashed
                for child, key in zip(leaf.offsets, leaf.keys):
                    if key == hashed and upcase(self._decode(child, "subkey")[1]) == wanted:
                        return child
        position, found = self.position_of(sublist, name)
        return sublist.offsets()[position] if found else None

    def position_of(self, sublist: sublists.SubkeyList, name: str) -> tuple[int, bool]:
        wanted = sort_key(name)
        # Imports and scripted creation mostly add names in order: one decode settles that.
        last_leaf = sublist.leaves[-1].offsets
        if last_leaf and sort_key(self._decode(last_leaf[-1], "subkey")[1]) < wanted:
            return sublist.count, False
        offsets = sublist.offsets()
        cache: dict[int, bytes] = {}

        def key_of(i: int) -> bytes:
            if i not in cache:
                cache[i] = sort_key(self._decode(offsets[i], "subkey")[1])
            return cache[i]

        return sublists.find_position(len(offsets), wanted, key_of)

    # ------------------------------------------------------------------ values
    def value_cells(self, cell: int) -> list[int]:
        at, _ = self.space.payload(cell, "key")
        fields = NK.struct.unpack_from(self.buf, at)
        count, list_cell = fields[nkmod.I_VALUE_COUNT], fields[nkmod.I_VALUES]
        if count == 0 or list_cell == NIL or fields[nkmod.I_FLAGS] & nkmod.KEY_PREDEF_HANDLE:
            return []
        list_at, length = self.space.payload(list_cell, f"value list of the nk at file offset 0x{at - 4:x}")
        if 4 * count > length:
            raise HiveFormatError(f"value list holds {length // 4} entries but the key claims {count}", list_at - 4)
        from .model import u32_list

        return list(u32_list(self.buf, list_at, count))

    def value_name(self, cell: int) -> str:
        at, length = self.space.payload(cell, "value")
        return decode_vk(self.buf, at, length)[1]

    def read_value(self, cell: int) -> Value:
        at, length = self.space.payload(cell, "value")
        fields, name = decode_vk(self.buf, at, length)
        raw = read_data(self.space, fields[I_DATA_SIZE], fields[I_DATA], self.minor, at)
        return Value(name, fields[I_TYPE], raw, cell)

    # ------------------------------------------------------------------ saving
    def require_clean(self, action: str) -> None:
        if self.header.dirty and not self.modified_by_replay:
            raise DirtyHiveError(
                f"{self.path or 'hive'} is dirty (sequence numbers {self.header.seq1}/{self.header.seq2}"
                f"{'' if self.header.checksum_ok else ', bad checksum'}): its newest changes are in the "
                f"transaction logs (.LOG1/.LOG2), which must be replayed first (open it with replay_logs=True, "
                f"or replay it with hivetool.replay()); refusing to {action}"
            )

    modified_by_replay = False

    def _saved_chunks(self) -> list:
        """The file as it would be saved now, as chunks: a stamped copy of the base block and
        first bin header (clean, fresh sequence numbers), then the rest of the buffer as is."""
        self.require_clean("save it")
        head = bytearray(self.buf[: HBIN_BASE + HBIN.size])
        sequence = max(self.header.seq1, self.header.seq2, self.sequence_floor) + 1
        if sequence > 0xFFFFFFFF:
            sequence = 1
        timestamp = stamp_clean(head, sequence, self.clock.now(), self.space.end)
        # The first bin keeps a copy of the base block's last-written time (regf-format 2.1).
        HBIN.write(head, HBIN_BASE, "timestamp", timestamp)
        return [head, memoryview(self.buf)[len(head) :]]

    def saved_chunks(self) -> list:
        """The file as :meth:`save` would write it, as chunks (no copy of the bulk)."""
        return self._saved_chunks()

    def to_bytes(self) -> bytes:
        """The hive as it would be saved now: a clean header with fresh sequence numbers."""
        return b"".join(self._saved_chunks())

    def save(self, path: str | os.PathLike | None = None, verify=None, *, in_place: bool = False) -> None:
        """Write atomically: a temp file beside ``path``, fsync, then rename over it.

        The file the hive was opened from is replaced only with ``in_place=True`` (then
        ``path`` may be omitted); naming it, or one of its transaction logs, without that flag
        raises :class:`~hivetool.fileio.OutputIsInput`, and nothing is written.
        """
        path = self._save_path(path, in_place)
        atomic_write(path, self._saved_chunks(), verify=verify)
        if in_place:
            info = os.stat(path)
            self.source_identity = (info.st_dev, info.st_ino)

    def _save_path(self, path: str | os.PathLike | None, in_place: bool) -> str:
        from ..fileio import OutputIsInput, refuse_output_over_inputs
        from .logfiles import find_logs

        if path is None:
            if not (in_place and self.path):
                raise UsageError("save() needs a path, or in_place=True for a hive opened from a file")
            return self.path
        if self.path is None or self.source_identity is None:
            return os.fspath(path)
        opened = self._is_opened_file(path)
        if in_place and not opened:
            raise UsageError(f"save(in_place=True) names {path}, which is not the file this hive was opened from ({self.path})")
        if not opened:
            refuse_output_over_inputs(path, [self.path, *find_logs(self.path)])
        elif not in_place:
            raise OutputIsInput(f"{path} is the file this hive was opened from; pass in_place=True to replace it")
        return os.fspath(path)

    def _is_opened_file(self, path: str | os.PathLike) -> bool:
        try:
            info = os.stat(path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == self.source_identity

    def root_name(self) -> str:
        return self.root.name

    # ------------------------------------------------------------------ editing
    def _resolve(self, key: "Key | str") -> Key:
        return key if isinstance(key, Key) else self.key(key)

    def create_key(self, path: str) -> Key:
        """The key at ``path``, created with any missing parents."""
        try:
            return edit.create_key(self, path)[0]
        except HiveFormatError as err:
            raise self._error(err) from None

    def create_key_reporting(self, path: str) -> tuple[Key, list[str]]:
        """Like :meth:`create_key`, also returning the paths that did not exist before."""
        try:
            return edit.create_key(self, path)
        except HiveFormatError as err:
            raise self._error(err) from None

    def set_value(self, key: "Key | str", name: str, value_type: int, data: object) -> bool:
        """Set ``name`` (``''`` = the default value) of ``key`` to ``data``; True when the
        value was created. A value that already holds this type and data is left alone.

        ``data`` is a natural value by type (:func:`~hivetool.regf.types.encode`): an ``int`` for
        REG_DWORD, REG_DWORD_BIG_ENDIAN and REG_QWORD, a ``str`` for REG_SZ, REG_EXPAND_SZ and
        REG_LINK, a list of ``str`` for REG_MULTI_SZ, or ``bytes`` for any type, stored as given (a
        number type takes exactly its width). Anything else raises before the hive changes:
        BadArgumentType (a TypeError) or BadValueData (a ValueError).

        >>> hive = Hive.new()
        >>> hive.set_value(hive.create_key("Software"), "Port", RegType.DWORD, 1225)
        True
        >>> hive.key("software").value("port").data
        1225
        """
        raw = encode(value_type, data)
        try:
            return edit.set_value(self, self._resolve(key), name, int(value_type), raw)
        except HiveFormatError as err:
            raise self._error(err) from None

    def delete_value(self, key: "Key | str", name: str) -> None:
        try:
            edit.delete_value(self, self._resolve(key), name)
        except HiveFormatError as err:
            raise self._error(err) from None

    def delete_key(self, key: "Key | str", recursive: bool = False) -> int:
        """Delete a key (its whole subtree with ``recursive``); returns how many keys went."""
        try:
            return edit.delete_key(self, self._resolve(key), recursive)
        except HiveFormatError as err:
            raise self._error(err) from None
