"""An image inside a WIM, through wimlib (``wimlib-imagex``, Debian's ``wimtools``).

Only the hives are read out (``extract`` of their paths into a private folder, never the
whole image), and changed hives go back with one ``update`` command file, so a WIM of several
GB is neither extracted nor copied. Paths match whatever their case
(``WIMLIB_IMAGEX_IGNORE_CASE=1``: wimlib is case-sensitive on Linux by default) and are written
back at the stored spelling the extraction revealed.

What ``update add`` keeps: it replaces the file's directory entry with a new one made from
the source file, so the file's security descriptor and attributes are those of a file
captured on this system (none, and FILE_ATTRIBUTE_NORMAL); the old ones are not kept.
:func:`file_metadata` reads them (for the warning and the tests). Each update appends to the
WIM; ``wimlib-imagex optimize`` gives the space back. wimlib writes the new data after the
old, then the new metadata, and replaces the header last, so a WIM whose update was killed
still holds the old image.
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

TOOL = "wimlib-imagex"
INSTALL_HINT = "install wimlib (Debian and Ubuntu: apt-get install wimtools; elsewhere https://wimlib.net)"


def tool() -> str:
    found = shutil.which(TOOL)
    if found is None:
        raise HiveIOError(f"{TOOL} is needed to read and write WIM images and was not found: {INSTALL_HINT}")
    return found


def _run(args: list[str], what: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, WIMLIB_IMAGEX_IGNORE_CASE="1")
    try:
        done = subprocess.run([tool(), *args], capture_output=True, text=True, input=stdin, env=env)
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

    def __init__(self, wim: str | os.PathLike, index: int, read_only: bool = False) -> None:
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
        """Put ``changes`` into the image: one ``update`` of the WIM itself (``output`` None), or
        of a copy of the whole WIM that then becomes ``output`` (atomically)."""
        if self.read_only:
            raise UsageError(f"{self.wim} is an ESD (solid-compressed): wimlib cannot update it; export it to a "
                             "WIM first (wimlib-imagex export SRC.esd INDEX DEST.wim --compress=LZX)")
        staging = Path(tempfile.mkdtemp(prefix="hivetool-wim-out-"))
        try:
            commands = []
            for number, change in enumerate(changes):
                source = staging / f"{number}"
                staged = stage_write(source, change.chunks, verify=change.verify)
                staged.commit()
                staged.discard()
                commands.append(f"add '{source}' '/{change.relative}'")
            script = "\n".join(commands) + "\n"
            if output is None:
                _run(["update", str(self.wim), str(self.index)], f"{self.wim}:{self.index}", script)
                return [f"{self.wim}:{self.index}"]
            return [self._update_copy(Path(output), script)]
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _update_copy(self, output: Path, script: str) -> str:
        """Copy the WIM beside ``output``, update the copy, and only then give it its name."""
        if "'" in str(output):
            raise UsageError(f"-o {output}: a WIM output path may not contain a single quote")
        folder = output.resolve().parent
        handle, temp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=folder)
        os.close(handle)
        try:
            shutil.copyfile(self.wim, temp)
            _run(["update", temp, str(self.index)], f"{output}:{self.index}", script)
            with open(temp, "rb") as synced:
                os.fsync(synced.fileno())
            os.replace(temp, output)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        return f"{output}:{self.index}"

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def file_metadata(wim: str | os.PathLike, index: int, path: str) -> dict[str, str]:
    """The ``dir --detailed`` facts of one file in a WIM (Attributes, Security Descriptor, ...)."""
    done = _run(["dir", str(wim), str(index), f"--path=/{path.lstrip('/')}", "--detailed", "--one-file-only"],
                f"{wim}:{index}")
    facts = {}
    for line in done.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("\t"):
            facts.setdefault(name.strip(), value.strip())
    return facts
