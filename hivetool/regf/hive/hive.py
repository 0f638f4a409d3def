"""A hive in memory: open, look up, edit, save. The public object of the engine.

The whole file is held in one ``bytearray``; nothing is parsed until a lookup needs it, and
an edit changes only the cells it must, so every other byte of the file is kept. The work is
done by two private objects: ``_engine`` reads records by cell offset (:mod:`.engine`) and
``_editor`` changes them (:mod:`.editor`); this class adds paths, errors that name the file,
the dirty-hive rule and saving.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator, TypeVar

from ...errors import DirtyHiveError, HiveFormatError, KeyNotFound
from ...fileio import Chunk, atomic_write
from ...inputs import DEFAULT_WAIT, EXCLUSIVE, SHARED, InputFile, open_input
from ...timeutil import Clock
from ..records.record import HiveImage
from ..records.types import encode
from .editor import Editor
from .engine import Engine
from .model import Key, split_path
from .saving import save_path, saved_chunks

_T = TypeVar("_T")


class Hive:
    # Set on a hive recovered from its transaction logs: it may be saved although its header
    # as read says dirty, and ``hivetool`` empties the stale logs after an in-place save.
    modified_by_replay = False

    def __init__(self, buf: HiveImage, path: str | None = None, clock: Clock | None = None) -> None:
        self.path = path
        self._clock = clock or Clock.resolve()
        try:
            self._engine = Engine(buf)
        except HiveFormatError as err:
            raise err.with_path(path) if path else err
        self._editor = Editor(self)
        self._sequence_floor = 0  # raised by log replay: a save must go above every log sequence
        # The file this hive was read from (device, inode): a save may replace it only when
        # asked to (in_place=True). ``_source`` holds the exclusive lock of an open for update.
        self.source_identity: tuple[int, int] | None = None
        self._source: InputFile | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | os.PathLike[str], clock: Clock | None = None, *, for_update: bool = False,
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

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def from_bytes(cls, data: bytes, name: str | None = None, clock: Clock | None = None) -> "Hive":
        return cls(bytearray(data), name, clock)

    @classmethod
    def _from_replay(cls, image: bytearray, path: str | None, clock: Clock | None, sequence_floor: int) -> "Hive":
        """A primary image recovered from transaction logs (see :mod:`..logs.replay`).

        ``sequence_floor`` is the largest sequence number seen in the logs: a save writes
        numbers above it, so no stale log entry can ever chain onto the saved hive.
        """
        hive = cls(image, path, clock)
        hive.modified_by_replay = True
        hive._sequence_floor = sequence_floor
        return hive

    @classmethod
    def new(cls, minor: int = 5, root_name: str = "ROOT", clock: Clock | None = None) -> "Hive":
        from .create import empty_hive_bytes

        clock = clock or Clock.resolve()
        return cls(bytearray(empty_hive_bytes(minor, root_name, clock.now())), None, clock)

    def _replace_image(self, buf: bytearray) -> None:
        """Take ``buf`` as this hive's new content (a whole file image built elsewhere, e.g.
        by bulk layout), keeping the path, clock and what a save must know."""
        floor, identity, source = self._sequence_floor, self.source_identity, self._source
        self.__init__(buf, self.path, self._clock)  # type: ignore[misc]
        self._sequence_floor, self.source_identity, self._source = floor, identity, source
        self._editor.modified = True

    # ------------------------------------------------------------------ facts
    @property
    def version(self) -> str:
        return self._engine.header.version

    @property
    def minor(self) -> int:
        return self._engine.minor

    @property
    def dirty(self) -> bool:
        return self._engine.header.dirty

    @property
    def sequence_numbers(self) -> tuple[int, int]:
        """The base block's two sequence numbers as read (they differ in a dirty hive)."""
        return self._engine.header.seq1, self._engine.header.seq2

    @property
    def modified(self) -> bool:
        """Whether an edit changed the hive since it was opened."""
        return self._editor.modified

    @property
    def unchanged_sets(self) -> int:
        """set_value calls that found the value already so (no-ops)."""
        return self._editor.unchanged_sets

    @property
    def size(self) -> int:
        """Bytes of the file as it would be saved now."""
        return len(self._engine.buf)

    def _located(self, action: Callable[[], _T]) -> _T:
        """Run ``action``, naming this hive's file in any format error."""
        try:
            return action()
        except HiveFormatError as err:
            raise err.with_path(self.path) if self.path else err from None

    # ------------------------------------------------------------------ keys
    @property
    def root(self) -> Key:
        engine = self._engine
        name = self._located(lambda: engine.key_name(engine.root_cell, "root key offset in the base block"))
        return Key(self, engine.root_cell, name, "")

    def key(self, path: str) -> Key:
        """The key at ``path`` (case-insensitive, ``\\``-separated); raises KeyNotFound,
        naming the first component that is missing and the key it is missing from."""
        return self._located(lambda: self._key(path))

    def _key(self, path: str) -> Key:
        key = self.root
        for part in split_path(path):
            cell = self._engine.find_child(key.cell, part)
            if cell is None:
                where = f"key '{key.path}'" if key.path else "the root key"
                raise KeyNotFound(f"key '{path.lstrip(chr(92))}' not found: {where} has no subkey '{part}'")
            key = key._child(cell)
        return key

    def has_key(self, path: str) -> bool:
        try:
            self.key(path)
            return True
        except KeyNotFound:
            return False

    def walk(self) -> Iterator[Key]:
        return self.root.walk()

    # ------------------------------------------------------------------ editing
    def _resolve(self, key: "Key | str") -> Key:
        return key if isinstance(key, Key) else self.key(key)

    def create_key(self, path: str) -> Key:
        """The key at ``path``, created with any missing parents."""
        return self._located(lambda: self._editor.create_key(path)[0])

    def create_key_reporting(self, path: str) -> tuple[Key, list[str]]:
        """Like :meth:`create_key`, also returning the paths that did not exist before."""
        return self._located(lambda: self._editor.create_key(path))

    def _add_subkey(self, parent: Key, name: str) -> Key:
        """One new direct subkey (:meth:`Key.add_subkey`)."""
        return self._located(lambda: Key(self, self._editor.add_subkey(parent.cell, name), name, parent))

    def set_value(self, key: "Key | str", name: str, value_type: int, data: object) -> bool:
        """Set ``name`` (``''`` = the default value) of ``key`` to ``data``; True when the
        value was created. A value that already holds this type and data is left alone.

        ``data`` is a natural value by type (:func:`~hivetool.encode`): an
        ``int`` for REG_DWORD, REG_DWORD_BIG_ENDIAN and REG_QWORD, a ``str`` for REG_SZ,
        REG_EXPAND_SZ and REG_LINK, a list of ``str`` for REG_MULTI_SZ, or ``bytes`` for any type,
        stored as given (a number type takes exactly its width). Anything else raises before the
        hive changes: BadArgumentType (a TypeError) or BadValueData (a ValueError).

        >>> hive = Hive.new()
        >>> hive.set_value(hive.create_key("Software"), "Port", RegType.DWORD, 1225)
        True
        >>> hive.key("software").value("port").data
        1225
        """
        raw = encode(value_type, data)
        return self.set_raw_value(key, name, int(value_type), raw)

    def set_raw_value(self, key: "Key | str", name: str, value_type: int, raw: bytes) -> bool:
        """Store ``raw`` as given, any size for any type, as Windows and .reg import do (a
        REG_DWORD of 8 bytes included); True when the value was created."""
        return self._located(lambda: self._editor.set_value(self._resolve(key), name, value_type, bytes(raw)))

    def delete_value(self, key: "Key | str", name: str) -> None:
        self._located(lambda: self._editor.delete_value(self._resolve(key), name))

    def delete_key(self, key: "Key | str", recursive: bool = False) -> int:
        """Delete a key (its whole subtree with ``recursive``); returns how many keys went."""
        return self._located(lambda: self._editor.delete_key(self._resolve(key), recursive))

    # ------------------------------------------------------------------ saving
    def _require_clean(self, action: str) -> None:
        header = self._engine.header
        if header.dirty and not self.modified_by_replay:
            raise DirtyHiveError(
                f"{self.path or 'hive'} is dirty (sequence numbers {header.seq1}/{header.seq2}"
                f"{'' if header.checksum_ok else ', bad checksum'}): its newest changes are in the "
                f"transaction logs (.LOG1/.LOG2), which must be replayed first (open it with replay_logs=True, "
                f"or replay it with hivetool.replay()); refusing to {action}"
            )

    def saved_chunks(self) -> list[Chunk]:
        """The file as :meth:`save` would write it, as chunks (no copy of the bulk)."""
        self._require_clean("save it")
        return saved_chunks(self._engine, self._clock.now(), self._sequence_floor)

    def to_bytes(self) -> bytes:
        """The hive as it would be saved now: a clean header with fresh sequence numbers."""
        return b"".join(self.saved_chunks())

    def save(self, path: str | os.PathLike[str] | None = None, verify: Callable[[str], None] | None = None, *,
             in_place: bool = False) -> None:
        """Write atomically: a temp file beside ``path``, fsync, then rename over it.

        The file the hive was opened from is replaced only with ``in_place=True`` (then
        ``path`` may be omitted); naming it, or one of its transaction logs, without that flag
        raises :class:`~hivetool.fileio.OutputIsInput`, and nothing is written.
        """
        path = save_path(self.path, self.source_identity, path, in_place)
        atomic_write(path, self.saved_chunks(), verify=verify)
        if in_place:
            info = os.stat(path)
            self.source_identity = (info.st_dev, info.st_ino)
