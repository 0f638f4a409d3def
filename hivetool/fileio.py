"""File access with the two guarantees users rely on: inputs are only ever opened for
reading, and outputs appear atomically (complete) or not at all.

A write goes to a file that has no name yet (Linux ``O_TMPFILE``) in the target folder:
data, ``fsync``, permission bits, optional verification, and only then is the finished
file given a name. A process killed at any point before that leaves nothing behind. A new
output is named by one ``link`` (atomic: the name appears complete or not at all); an
existing file is replaced by linking the finished file under a temporary name and renaming
it over the target, so the target is at every moment either the old or the new file.
Where unnamed files are not available, a named temporary file (``mkstemp``) in the same
folder takes their place and is removed on any error.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Union

from .errors import HiveIOError, UsageError

if TYPE_CHECKING:
    import io

Chunk = Union[bytes, bytearray, memoryview]
USE_UNNAMED_TEMP = hasattr(os, "O_TMPFILE")  # tests switch it off to exercise the fallback


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """What a file that is not regular is, for messages."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_rest(handle: io.FileIO, head: bytes = b"") -> bytearray:
    """The whole file behind the unbuffered ``handle`` in one bytearray (one copy, ready to edit
    in memory): ``head``, its first bytes already read, then the rest from there on."""
    size = max(os.fstat(handle.fileno()).st_size, len(head))
    buf = bytearray(size)
    buf[: len(head)] = head
    handle.seek(len(head))
    view = memoryview(buf)
    got = len(head)
    while got < size:
        n = handle.readinto(view[got:])
        if not n:
            break
        got += n
    del view
    if got < size:
        del buf[got:]
    buf += handle.read()  # a file that grew while we read it (or a pipe): take the rest too
    return buf


def read_file(path: str | os.PathLike[str]) -> bytearray:
    """Read a whole file through a read-only descriptor into a bytearray; OS errors become
    exit-code-6 errors."""
    try:
        with open(path, "rb", buffering=0) as handle:
            if not handle.seekable():  # a pipe
                return bytearray(handle.read())
            return read_rest(handle)
    except FileNotFoundError:
        raise HiveIOError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise HiveIOError(f"{path}: is a directory, not a file") from None
    except OSError as err:
        raise HiveIOError(f"{path}: cannot read: {err.strerror or err}") from None


def read_stream_input(path: str | os.PathLike[str], what: str = ".reg file") -> bytes | bytearray:
    """A text input that may be a file, a pipe, or ``-`` for standard input. Devices and
    folders are refused before they are opened (``/dev/zero`` would never end)."""
    text = os.fspath(path)
    if text == STDOUT:
        import sys

        try:
            return sys.stdin.buffer.read()
        except OSError as err:
            raise HiveIOError(f"standard input: cannot read: {_reason(err)}") from None
    try:
        mode = os.stat(text).st_mode
    except OSError:
        mode = None  # read_file reports it
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        from .errors import MalformedInput

        raise MalformedInput(f"{text}: is {kind_of(mode)}; a {what} must be a file, a pipe, or - for standard input")
    return read_file(text)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _reason(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "no space left on the device"
    if err.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.EROFS:
        return "the file system is read-only"
    return err.strerror or str(err)


class _PendingFile:
    """The output while it is being written: unnamed (or named temporary) until committed."""

    def __init__(self, folder: Path, target: Path) -> None:
        self.folder = folder
        self.target = target
        self.fd = -1
        self.temp: str | None = None  # the named temporary file, while one exists
        self.unnamed = False
        if USE_UNNAMED_TEMP:
            try:
                self.fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600)
                self.unnamed = os.path.exists(self._proc_path())
            except OSError as err:
                if err.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                    raise
            if self.fd >= 0 and not self.unnamed:
                os.close(self.fd)  # no /proc to name it by later: use a named file instead
                self.fd = -1
        if self.fd < 0:
            import tempfile  # only for the fallback: spare the import on every start-up

            self.fd, self.temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)

    def _proc_path(self) -> str:
        return f"/proc/self/fd/{self.fd}"

    @property
    def readable_path(self) -> str:
        """A path a reader can open the finished file by (before it has its final name)."""
        return self._proc_path() if self.unnamed else str(self.temp)

    def write(self, chunk: Chunk) -> None:
        view = memoryview(chunk).cast("B")
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def commit(self) -> None:
        """Give the finished file the target's name, atomically."""
        if not self.unnamed:
            os.replace(str(self.temp), self.target)
            self.temp = None
            return
        # linkat(..., AT_SYMLINK_FOLLOW) names the file behind the descriptor; Python only
        # uses linkat (rather than link, which would try to link the /proc entry itself)
        # when a directory descriptor is given.
        folder_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                os.link(self._proc_path(), self.target.name, dst_dir_fd=folder_fd, follow_symlinks=True)
                return
            except FileExistsError:
                pass
            # An existing file is replaced through a temporary name: link, then rename at
            # once, so only a kill between these two calls could leave that (complete) file.
            name = f".{self.target.name}.{os.urandom(6).hex()}.tmp"
            os.link(self._proc_path(), name, dst_dir_fd=folder_fd, follow_symlinks=True)
            self.temp = str(self.folder / name)
            os.replace(name, self.target.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            self.temp = None
        finally:
            os.close(folder_fd)

    def discard(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1
        if self.temp is not None:
            try:
                os.unlink(self.temp)
            except OSError:
                pass
            self.temp = None


def atomic_write(
    path: str | os.PathLike[str],
    data: Chunk | Iterable[Chunk],
    verify: Callable[[str], None] | None = None,
) -> None:
    """Write ``data`` (bytes, or an iterable of byte chunks written in order, which spares
    copying a large buffer and lets a generator stream a file of any size) so that ``path``
    is either left as it was or holds all of it, fsynced; ``verify(path_to_read)`` may
    inspect the finished file first (raising refuses the write).

    A symbolic link as ``path`` is written through (the file it names is replaced). A
    replaced file keeps its permission bits (and owner, where allowed); a new file gets the
    usual umask-based ones. Whatever fails, no temporary file is left behind.
    """
    staged = stage_write(path, data, verify)
    try:
        staged.commit()
    finally:
        staged.discard()


def copy_file(source: str | os.PathLike[str], path: str | os.PathLike[str], block: int = 1 << 20) -> None:
    """``path`` becomes a byte-identical copy of ``source``, atomically (a pipeline step that
    changed nothing still hands the next step its output)."""
    try:
        handle = open(source, "rb")
    except OSError as err:
        raise HiveIOError(f"{source}: cannot read: {_reason(err)}") from None

    def chunks() -> Iterator[bytes]:
        with handle:
            while True:
                chunk = handle.read(block)
                if not chunk:
                    return
                yield chunk

    atomic_write(path, chunks())


class StagedFile:
    """A finished, synced (and verified) output that does not have its name yet: several
    can be staged before any is committed, so a set of files changes all or nothing."""

    def __init__(self, path: str | os.PathLike[str], pending: "_PendingFile") -> None:
        self.path = path
        self.pending = pending

    def commit(self) -> None:
        """Give the file its name, atomically, and make the name durable."""
        try:
            self.pending.commit()
        except OSError as err:
            raise HiveIOError(
                f"{self.path}: cannot put the new file in place: {_reason(err)}; nothing was written"
            ) from None
        _fsync_folder(self.pending.folder)

    def discard(self) -> None:
        """Drop what was not committed (nothing once committed)."""
        self.pending.discard()


def stage_write(
    path: str | os.PathLike[str],
    data: Chunk | Iterable[Chunk],
    verify: Callable[[str], None] | None = None,
) -> StagedFile:
    """The first half of :func:`atomic_write`: the whole output written, synced and verified
    beside ``path``, still without a name; :meth:`StagedFile.commit` names it."""
    target = Path(os.path.realpath(path))
    folder = target.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise HiveIOError(f"{path}: the output folder {folder} {problem}")
    if target.is_dir():
        raise HiveIOError(f"{path}: is a directory")
    try:
        info = target.stat()
        mode, owner = info.st_mode & 0o7777, (info.st_uid, info.st_gid)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode, owner = 0o666 & ~umask, None
    except OSError as err:
        raise HiveIOError(f"{path}: cannot inspect: {_reason(err)}") from None
    try:
        pending = _PendingFile(folder, target)
    except OSError as err:
        raise HiveIOError(f"{path}: cannot create a file in {folder}: {_reason(err)}") from None
    try:
        try:
            chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
            for chunk in chunks:
                pending.write(chunk)
            os.fsync(pending.fd)
            os.fchmod(pending.fd, mode)
            if owner is not None:
                _keep_owner(pending.fd, owner)
        except OSError as err:
            raise HiveIOError(f"{path}: write failed: {_reason(err)}; nothing was written") from None
        if verify is not None:
            verify(pending.readable_path)
    except BaseException:
        pending.discard()
        raise
    return StagedFile(path, pending)


def _keep_owner(fd: int, owner: tuple[int, int]) -> None:
    """A replaced file keeps its owner when we may set it (as root); otherwise it is ours."""
    stat = os.fstat(fd)
    if (stat.st_uid, stat.st_gid) != owner:
        try:
            os.fchown(fd, *owner)
        except OSError:
            pass


def _fsync_folder(folder: Path) -> None:
    """Make the new name itself durable; not every platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_output_target(input_path: str | os.PathLike[str], output: str | os.PathLike[str] | None, in_place: bool) -> str:
    """Resolve WRITE = (-o OUT | --in-place) to the path to write, refusing ambiguous forms.
    Whether OUT names an input is checked by :func:`refuse_output_over_inputs`."""
    if in_place and output is not None:
        raise UsageError("give either -o OUT or --in-place, not both")
    if in_place:
        return str(input_path)
    if output is None:
        raise UsageError("say where to write: -o OUT for a new file, or --in-place to replace the input")
    return str(output)


STDOUT = "-"


class OutputIsInput(UsageError):
    """An output path names one of the inputs (also through a link): writing would destroy it."""


def refuse_output_over_inputs(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]],
                              stdout_allowed: bool = False) -> None:
    """Refuse (exit 2, before anything is read) an output that would destroy an input or
    write where a regular file cannot be replaced.

    An input is recognised by device and inode, so a symbolic link or a hard link to it is
    caught as well as its own name. An existing output that is not a regular file (a FIFO,
    a device, a socket) is refused: replacing it would swap a device node for a file (as root,
    even ``/dev/null``), and writing into it cannot be atomic. ``-`` means standard output
    where ``stdout_allowed``.
    """
    text = os.fspath(output)
    if text == STDOUT and stdout_allowed:
        return
    try:
        info = os.stat(text)
    except (FileNotFoundError, NotADirectoryError):
        return  # a new file (or a dangling link): atomic_write creates it or says why not
    except OSError as err:
        raise HiveIOError(f"{text}: cannot inspect the output: {_reason(err)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"-o {text}: is a directory; give a file name")
    if not stat.S_ISREG(info.st_mode):
        hint = " (use -o - for standard output)" if stdout_allowed else ""
        raise UsageError(f"-o {text}: is {kind_of(info.st_mode)}, not a regular file; refusing to replace it{hint}")
    for source in inputs:
        try:
            other = os.stat(source)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
            same = "" if os.path.abspath(text) == os.path.abspath(os.fspath(source)) else f" (the same file as {source})"
            raise OutputIsInput(
                f"-o {text} names an input of this command{same}: writing it would destroy that input; "
                "use --in-place to replace a hive on purpose"
            )
