"""Opening input files: refuse what is not a regular file before it can hang or exhaust
memory, read a hive's base block before the rest, and lock hives against concurrent writers.

Locks are ``flock`` locks on the descriptor the input is read through: shared while
reading, exclusive for the whole read-modify-write of an in-place edit. No lock file is
ever created (evidence may sit on read-only media), and ``flock`` works on a read-only
descriptor. An in-place save replaces the file by a rename, so the inode a second writer
waited on may no longer be the file once its lock is granted: after locking, the path is
checked to still name the locked inode, and if it does not the new file is locked instead.
"""
from __future__ import annotations

import errno
import os
import stat
import time
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    import mmap

try:
    import fcntl
except ImportError:  # not POSIX: no flock; inputs are read unlocked
    fcntl = None  # type: ignore[assignment]

from .errors import HiveFormatError, HiveIOError, MalformedInput, RefusedUnsafe
from .fileio import kind_of, read_rest

DEFAULT_WAIT = 5.0  # seconds a command waits for another writer before giving up
_POLL = 0.02  # seconds between attempts: flock has no timeout of its own
BASE_BLOCK_SIZE = 4096
HIVE_SIGNATURE = b"regf"
MAP_THRESHOLD = 8 * 1024 * 1024  # files at least this big are mapped instead of read

SHARED = "shared"
EXCLUSIVE = "exclusive"


class HiveBusy(RefusedUnsafe):
    """Another process holds a conflicting lock on the hive for longer than we may wait."""


def stat_regular(path: str | os.PathLike[str], what: str) -> os.stat_result:
    """``stat`` (following links) and refuse anything but a regular file, before any open:
    opening a FIFO blocks, and opening some devices has side effects (a tape rewinds)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise HiveIOError(f"{path}: no such file") from None
    except OSError as err:
        raise HiveIOError(f"{path}: cannot read: {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        raise MalformedInput(f"{path}: is {kind_of(info.st_mode)}, not a regular file; a {what} must be a regular file")
    return info


class InputFile:
    """A regular file opened read-only, optionally holding a ``flock`` until :meth:`close`."""

    def __init__(self, path: str, fd: int, info: os.stat_result, lock: str | None) -> None:
        self.path = path
        self.fd = fd
        self.stat = info
        self.lock = lock

    @property
    def identity(self) -> tuple[int, int]:
        return self.stat.st_dev, self.stat.st_ino

    def read_all(self) -> bytearray:
        """The whole file, read through this descriptor into one bytearray."""
        return _read_fd(self.fd, self.path, b"")

    def read_head(self, size: int) -> bytes:
        """The first ``size`` bytes (fewer in a shorter file)."""
        os.lseek(self.fd, 0, os.SEEK_SET)
        return os.read(self.fd, size)

    @overload
    def read_hive(self, map_big: Literal[False]) -> bytearray: ...

    @overload
    def read_hive(self, map_big: bool = True) -> bytearray | mmap.mmap: ...

    def read_hive(self, map_big: bool = True) -> bytearray | mmap.mmap:
        """The file as a hive image: the 4 KiB base block first, refused unless it starts
        with ``regf`` (a 4 GB file of something else is never read); then the rest. With
        ``map_big`` a big file is mapped copy-on-write instead (edits change memory, never
        the file)."""
        head = self.read_head(BASE_BLOCK_SIZE)
        if len(head) >= len(HIVE_SIGNATURE) and not head.startswith(HIVE_SIGNATURE):
            raise HiveFormatError(
                f"signature is {bytes(head[:4])!r}, expected b'regf': not a registry hive", 0, self.path
            )
        if map_big and os.name == "posix" and self.stat.st_size >= MAP_THRESHOLD:
            import mmap

            try:
                return mmap.mmap(self.fd, 0, access=mmap.ACCESS_COPY)
            except (OSError, ValueError):
                pass
        return _read_fd(self.fd, self.path, head)

    def close(self) -> None:
        """Release the lock and the descriptor (a mapping made from it stays valid). ``LOCK_UN``
        first: the mapping shares the open file description and would otherwise keep the lock."""
        if self.fd < 0:
            return
        if self.lock is not None and fcntl is not None:
            _flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> "InputFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a hive dropped without close() still releases its lock
        try:
            self.close()
        except OSError:
            pass


def open_input(path: str | os.PathLike[str], what: str = "hive", lock: str | None = SHARED,
               wait: float = DEFAULT_WAIT) -> InputFile:
    """Open ``path`` read-only after checking it is a regular file; with ``lock``, hold a
    shared or exclusive ``flock`` on it, waiting at most ``wait`` seconds for it."""
    path = os.fspath(path)
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        info = stat_regular(path, what)
        fd = _open_read_only(path)
        try:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(opened.st_mode):
                os.close(fd)
                continue  # replaced between stat and open: look again
            if lock is None or _lock(fd, lock, path, deadline, wait):
                return InputFile(path, fd, opened, lock)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # locked an inode the path no longer names: lock the new file


class FolderLock:
    """An exclusive ``flock`` on a folder, held until :meth:`close`: serialises hivetool's
    read-modify-write of a file that another tool locks itself (a WIM, which wimlib-imagex locks
    while it updates it), without a lock file and without contending for that tool's lock."""

    def __init__(self, folder: str | os.PathLike[str], wait: float = DEFAULT_WAIT, what: str = "") -> None:
        self.fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        deadline = time.monotonic() + max(0.0, wait)
        if fcntl is None:
            return
        while not _flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB):
            if time.monotonic() >= deadline:
                os.close(self.fd)
                self.fd = -1
                raise HiveBusy(f"{what or folder}: another hivetool process is changing it; gave up after waiting "
                               f"{wait:g} s (--wait SECONDS waits longer)")
            time.sleep(_POLL)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _open_read_only(path: str) -> int:
    # O_NONBLOCK: should the path turn into a FIFO after the stat, the open must not hang.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        raise HiveIOError(f"{path}: no such file") from None
    except OSError as err:
        raise HiveIOError(f"{path}: cannot read: {err.strerror or err}") from None


def _flock(fd: int, operation: int) -> bool:
    """One non-blocking attempt. False when another process holds a conflicting lock;
    True when locked, or when the file system cannot lock at all (then there is nothing to
    wait for, and refusing would make such media unreadable)."""
    try:
        fcntl.flock(fd, operation)
        return True
    except BlockingIOError:
        return False
    except OSError as err:
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        return True  # ENOLCK, EOPNOTSUPP, ENOSYS, EBADF: no locking here


def _lock(fd: int, lock: str, path: str, deadline: float, wait: float) -> bool:
    """Take the lock, then make sure ``path`` still names the locked inode (True), else
    release it (False: the caller opens the new file). Raises HiveBusy after the deadline."""
    if fcntl is None:
        return True
    operation = (fcntl.LOCK_EX if lock == EXCLUSIVE else fcntl.LOCK_SH) | fcntl.LOCK_NB
    while not _flock(fd, operation):
        if time.monotonic() >= deadline:
            doing = "edited" if lock == SHARED else "read or edited"
            raise HiveBusy(
                f"{path}: is being {doing} by another process (it holds a lock on the file); gave up after "
                f"waiting {wait:g} s (--wait SECONDS waits longer)"
            )
        time.sleep(_POLL)
    try:
        now = os.stat(path)
    except OSError:
        now = None
    held = os.fstat(fd)
    if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
        return True
    _flock(fd, fcntl.LOCK_UN)
    return False


def _read_fd(fd: int, path: str, head: bytes) -> bytearray:
    """The whole file in one bytearray: ``head`` (its first bytes, already read) and the rest."""
    import io

    try:
        with io.FileIO(fd, "rb", closefd=False) as handle:
            return read_rest(handle, head)
    except OSError as err:
        raise HiveIOError(f"{path}: cannot read: {err.strerror or err}") from None
