"""File access with the two guarantees users rely on: inputs are only ever opened for
reading, and outputs appear atomically (complete) or not at all."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from .errors import HiveIOError, UsageError


def read_file(path: str | os.PathLike) -> bytearray:
    """Read a whole file through a read-only descriptor into a bytearray (one copy, ready to
    edit in memory); OS errors become exit-code-6 errors."""
    try:
        with open(path, "rb", buffering=0) as handle:
            size = os.fstat(handle.fileno()).st_size
            buf = bytearray(size)
            view = memoryview(buf)
            got = 0
            while got < size:
                n = handle.readinto(view[got:])
                if not n:
                    break
                got += n
            del view
            if got < size:
                del buf[got:]
            rest = handle.read()
            if rest:
                buf += rest
            return buf
    except FileNotFoundError:
        raise HiveIOError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise HiveIOError(f"{path}: is a directory, not a file") from None
    except OSError as err:
        raise HiveIOError(f"{path}: cannot read: {err.strerror or err}") from None


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def atomic_write(
    path: str | os.PathLike,
    data: bytes | bytearray | memoryview | list,
    verify: Callable[[str], None] | None = None,
) -> None:
    """Write ``data`` (bytes, or a list of byte chunks written in order, which spares
    copying a large buffer) to a temp file in the target folder, fsync it, optionally let ``verify``
    inspect it (raising refuses the write), then rename it over ``path``.

    A replaced file keeps its permission bits; a new file gets the usual umask-based ones.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise HiveIOError(f"{target}: the output folder {folder} does not exist")
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as err:
        raise HiveIOError(f"{target}: cannot inspect: {err.strerror or err}") from None
    if target.is_dir():
        raise HiveIOError(f"{target}: is a directory")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise HiveIOError(f"{target}: cannot create a file in {folder}: {err.strerror or err}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in data if isinstance(data, list) else [data]:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
        except OSError as err:
            raise HiveIOError(f"{target}: write failed: {err.strerror or err}") from None
        if verify is not None:
            verify(temp)
        try:
            os.replace(temp, target)
        except OSError as err:
            raise HiveIOError(f"{target}: cannot replace: {err.strerror or err}") from None
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform allows opening a folder."""
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


def check_output_target(input_path: str | os.PathLike, output: str | os.PathLike | None, in_place: bool) -> str:
    """Resolve WRITE = (-o OUT | --in-place) to the path to write, refusing ambiguous forms."""
    if in_place and output is not None:
        raise UsageError("give either -o OUT or --in-place, not both")
    if in_place:
        return str(input_path)
    if output is None:
        raise UsageError("say where to write: -o OUT for a new file, or --in-place to replace the input")
    if os.path.exists(output) and same_file(input_path, output):
        raise UsageError(f"-o {output} names the input file; use --in-place to replace it")
    return str(output)
