"""An image inside a WIM, through wimlib (Debian's ``wimtools`` and ``ntfs-3g``).

Only the hives are read out (``wimlib-imagex extract`` of their paths into a private folder,
never the whole image), and changed hives go back with one write of the WIM, so a WIM of
several GB is neither extracted nor copied. Paths match whatever their case
(``WIMLIB_IMAGEX_IGNORE_CASE=1``: wimlib is case-sensitive on Linux by default) and are written
back at the stored spelling.

What a write keeps (:mod:`.wim_write`): each replaced file keeps its security descriptor,
attributes and creation time, because it goes back through a
scratch NTFS volume onto which wimlib extracted it; its last-write time becomes the time of
the write. The image's folders are not touched. A file new to the image gets no security
descriptor (so Windows gives it its folder's inherited ACL) and FILE_ATTRIBUTE_NORMAL.
``wimlib-imagex update`` is not used: it would replace each file's entry with one that has
neither (:func:`file_metadata` shows them). Each write appends to the WIM and rewrites the
header last, so a write killed at any moment leaves the old hives, or all the new ones;
``wimlib-imagex optimize`` gives the appended space back.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import HiveIOError, MalformedInput, UsageError
from ..fileio import stage_write
from .store import Change
from .tree import CaseFolder
from .wim_write import Replacement, check_tools, write_files

TOOL = "wimlib-imagex"
INSTALL_HINT = "install wimlib (Debian and Ubuntu: apt-get install wimtools; elsewhere https://wimlib.net)"


def tool() -> str:
    found = shutil.which(TOOL)
    if found is None:
        raise HiveIOError(f"{TOOL} is needed to read and write WIM images and was not found: {INSTALL_HINT}")
    return found


def _run(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WIMLIB_IMAGEX_IGNORE_CASE="1")
    try:
        done = subprocess.run([tool(), *args], capture_output=True, text=True, env=env)
    except OSError as err:
        raise HiveIOError(f"{TOOL}: cannot run it ({err.strerror or err}): {INSTALL_HINT}") from None
    if done.returncode != 0:
        message = " ".join(line.strip() for line in (done.stderr or done.stdout).splitlines()
                           if line.strip().startswith(("ERROR", "[ERROR]")))
        raise MalformedInput(f"{what}: {TOOL} failed (exit {done.returncode}): "
                             f"{message or done.stderr.strip()[-400:]}")
    return done


class WimStore:
    """Image ``index`` of the WIM file ``wim``: hives extracted on demand into a private
    folder, changed hives written back in one update."""

    def __init__(self, wim: str | os.PathLike[str], index: int, read_only: bool = False) -> None:
        self.wim = Path(wim)
        self.index = index
        self.read_only = read_only
        _run(["info", str(self.wim), str(index)], f"{self.wim}:{index}")  # the image exists
        self.folder = Path(tempfile.mkdtemp(prefix="hivetool-wim-"))
        self.files = CaseFolder(self.folder)
        self._fetched: set[str] = set()

    def describe(self) -> str:
        return f"image {self.index} of {self.wim}"

    def fetch(self, patterns: list[str]) -> None:
        """Extract the files matching ``patterns`` (wimlib globs, ``/``-separated, any case) that
        were not extracted yet; missing ones are ignored."""
        wanted = [p for p in patterns if p.upper() not in self._fetched]
        if not wanted:
            return
        _run(["extract", str(self.wim), str(self.index), *("/" + p.lstrip("/") for p in wanted),
              f"--dest-dir={self.folder}", "--preserve-dir-structure", "--nullglob", "--no-acls"],
             f"{self.wim}:{self.index}")
        self._fetched.update(p.upper() for p in wanted)
        self.files = CaseFolder(self.folder)  # new files: forget the cached listings

    def local(self, relative: str) -> Path:
        return self.files.path(relative)

    def write(self, changes: list[Change], output: str | None) -> list[str]:
        """Put ``changes`` into the image with one write: of the WIM itself (``output`` None), or
        of a copy of the whole WIM that then becomes ``output`` (atomically). Each file keeps
        its stored security descriptor and attributes (see :mod:`.wim_write`)."""
        if self.read_only:
            raise UsageError(f"{self.wim} is an ESD (solid-compressed): wimlib cannot update it; export it to a "
                             "WIM first (wimlib-imagex export SRC.esd INDEX DEST.wim --compress=LZX)")
        check_tools()  # before anything is staged or copied
        staging = Path(tempfile.mkdtemp(prefix="hivetool-wim-out-"))
        try:
            files = []
            for number, change in enumerate(changes):
                source = staging / f"{number}.new"
                staged = stage_write(source, change.chunks, verify=change.verify)
                staged.commit()
                staged.discard()
                files.append(Replacement(source, "/" + change.relative.lstrip("/"), self._size(change.relative)))
            if output is None:
                write_files(self.wim, self.index, files, staging)
                return [f"{self.wim}:{self.index}"]
            return [self._write_copy(Path(output), files, staging)]
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _size(self, relative: str) -> int:
        """The size of the extracted copy of a file (0 if it was not extracted)."""
        stored = self.files.find(relative)
        try:
            return self.files.path(stored).stat().st_size if stored else 0
        except OSError:
            return 0

    def _write_copy(self, output: Path, files: list[Replacement], staging: Path) -> str:
        """Copy the WIM beside ``output``, write into the copy, and only then give it its name."""
        folder = output.resolve().parent
        try:
            handle, temp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=folder)
            os.close(handle)
        except OSError as err:
            raise HiveIOError(f"-o {output}: cannot create a file in {folder}: {err.strerror or err}") from None
        try:
            try:
                shutil.copyfile(self.wim, temp)
            except OSError as err:
                raise HiveIOError(f"-o {output}: copying {self.wim} failed: {err.strerror or err}") from None
            write_files(temp, self.index, files, staging)
            try:
                with open(temp, "rb") as synced:
                    os.fsync(synced.fileno())
                os.replace(temp, output)
            except OSError as err:
                raise HiveIOError(f"-o {output}: {err.strerror or err}") from None
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        _sync_folder(folder)
        return f"{output}:{self.index}"

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems refuse)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def file_metadata(wim: str | os.PathLike[str], index: int, path: str) -> dict[str, str]:
    """The ``dir --detailed`` facts of one file in a WIM (Attributes, Security Descriptor, ...)."""
    done = _run(["dir", str(wim), str(index), f"--path=/{path.lstrip('/')}", "--detailed", "--one-file-only"],
                f"{wim}:{index}")
    facts: dict[str, str] = {}
    for line in done.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("\t"):
            facts.setdefault(name.strip(), value.strip())
    return facts
