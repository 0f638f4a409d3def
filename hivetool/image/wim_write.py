"""Putting files back into a WIM image with their security descriptor and attributes.

A WIM stores, per file, a directory entry (security descriptor, attributes, timestamps, short
name, named streams) and the data. Any wimlib "add" replaces the whole entry with one made from
the source file, so the source must carry the metadata to keep. Files on a Linux file system
carry none; files on an NTFS volume do, and wimlib reads them from there (NTFS-3G capture).
So, for each file to replace:

1. a scratch NTFS volume image is made (``mkntfs``: a sparse file, formatted in milliseconds);
2. wimlib extracts the file from the image onto it (NTFS-3G apply): the volume now holds the
   file at its stored path, stored spelling, with its real security descriptor, attributes,
   timestamps, short name and streams;
3. ``ntfscp`` replaces the file's data in the volume, in place, which keeps all of that;
   ``-t`` makes its last-write time the staged file's (the time of this write), and ``-m``
   (truncate first) is there because ntfscp saves that time only when the size changes.
   ``ntfscat`` reads the data back: ntfscp exits 0 even when a write fails;
4. wimlib adds the volume's root onto the image's root: a directory overlay, so the image's
   own folders (and their metadata) stay and only the file's entry is replaced by the one from
   the volume. NTFS system files ($MFT, ...) are never captured.

wimlib does one extraction per volume in NTFS mode, so each file has its own volume, and each
volume is added by its own ``wimlib_update_image`` call: within one call wimlib detects hard
links by NTFS inode number alone (not by volume), so two files from two volumes with the same
MFT record number would be merged into one. The calls only change the WIM in memory; one
``wimlib_overwrite`` then writes them all: the new data and metadata are appended after the
old, and the header that points to them is rewritten last, so a write killed at any point
leaves the WIM with the old files or, once the header is written, all the new ones (a killed
write leaves its scratch folder in TMPDIR). wimlib syncs the file once, at the end: a power
loss, unlike a kill, on a file system that reorders writes could keep the new header without
the data; ``-o`` (a copy, synced, then renamed) has no such window.

A file that does not exist in the image yet (a new hive or log) has no metadata to keep: it is
added from the staged file, so it has no security descriptor (Windows then gives it the
inherited ACL of its folder) and FILE_ATTRIBUTE_NORMAL.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import HiveIOError, MalformedInput, UsageError, VerifyFailed
from . import libwim

NTFS_TOOLS = ("mkntfs", "ntfscp", "ntfsls", "ntfscat")
NTFS_HINT = "install ntfs-3g (Debian and Ubuntu: apt-get install ntfs-3g)"
_SBIN = ("/usr/sbin", "/sbin")  # Debian puts mkntfs and ntfscp there, often not on a user's PATH
_MIB = 1 << 20


@dataclass(frozen=True)
class Replacement:
    """A file to put into the image: its new content (a local file) and its path in the image
    (``/``-separated, any case). ``old_size``, the size of the file in the image if known,
    only sizes the scratch volume."""

    source: Path
    wim_path: str
    old_size: int = 0


def ntfs_tool(name: str) -> str:
    """Where the ntfs-3g program ``name`` is (PATH, then /usr/sbin and /sbin)."""
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN])
    found = shutil.which(name, path=search)
    if found is None:
        raise HiveIOError(f"{name} (ntfs-3g) is needed to write hives into a WIM with their security descriptors "
                          f"and was not found: {NTFS_HINT}")
    return found


def check_tools() -> None:
    """Fail before any work when a program or the library is missing (exit 6, with the hint)."""
    for name in NTFS_TOOLS:
        ntfs_tool(name)
    libwim.library()


def write_files(wim: str | os.PathLike[str], index: int, files: Sequence[Replacement], scratch: Path) -> list[str]:
    """Put ``files`` into image ``index`` of the WIM file ``wim`` with one write of the WIM,
    keeping the stored metadata of each file that exists there (see the module's docstring).
    ``scratch`` is an existing private folder for the volumes; it must stay until this returns.
    Returns the image paths that were new files (added without metadata)."""
    seen: set[str] = set()
    for item in files:
        key = item.wim_path.strip("/").upper()
        if not key or key in seen:
            raise UsageError(f"{item.wim_path}: {'named twice' if key else 'not a file path'} in one write")
        seen.add(key)
    check_tools()
    with libwim.Wim(wim) as handle:
        volumes = []
        new_files = []
        for number, item in enumerate(files):
            volume = scratch / f"volume-{number}.ntfs"
            _format(volume, item)
            if handle.extract_to_ntfs(index, volume, item.wim_path):
                _replace_data(volume, item, f"{wim}:{index}")
                volumes.append(volume)
            else:
                volume.unlink()
                new_files.append(item)
        for volume in volumes:  # one call each: see the module's docstring (hard links)
            handle.update(index, [(volume, libwim.WIM_ROOT_PATH, libwim.ADD_FLAG_NTFS)])
        if new_files:
            # NO_REPLACE: a file believed new that exists after all must not lose its metadata.
            handle.update(index, [(item.source, "/" + item.wim_path.strip("/"), libwim.ADD_FLAG_NO_REPLACE)
                                  for item in new_files])
        # Append, header last (never UNSAFE_COMPACT, which rewrites in place and cannot be
        # interrupted; never REBUILD, which would copy the whole WIM); FSYNC: on disk when done.
        handle.overwrite(libwim.WRITE_FLAG_FSYNC)
    return ["/" + item.wim_path.strip("/") for item in new_files]


def _run(args: list[str], what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(args, capture_output=True)
    except OSError as err:
        raise HiveIOError(f"{what}: cannot run {args[0]} ({err.strerror or err}): {NTFS_HINT}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-400:]
        raise HiveIOError(f"{what}: {os.path.basename(args[0])} failed (exit {done.returncode}): {detail}")
    return done


def _format(volume: Path, item: Replacement) -> None:
    """A sparse volume image with room for the old and the new data (twice over, and 256 MiB
    more for an old file larger than ``old_size`` says); only what is written takes disk space
    (mkntfs writes about 2 MB of its own, whatever the size)."""
    try:
        new_size = item.source.stat().st_size
        size = (2 * (item.old_size + new_size) + 256 * _MIB + _MIB - 1) // _MIB * _MIB
        with open(volume, "xb") as handle:
            handle.truncate(size)
    except OSError as err:
        raise HiveIOError(f"{volume}: cannot make a scratch volume: {err.strerror or err}") from None
    _run([ntfs_tool("mkntfs"), "-F", "-f", "-q", str(volume)], f"{volume}: formatting a scratch NTFS volume")


def _listing(volume: Path) -> dict[str, list[str]]:
    """Every folder of the volume (``/``, ``/Windows``...) and the names in it (``ntfsls -R``:
    a ``/path:`` line opens each folder; names cannot contain ``/``)."""
    text = _run([ntfs_tool("ntfsls"), "-R", str(volume)], f"{volume}: listing").stdout.decode("utf-8", "surrogateescape")
    folders: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("/") and line.endswith(":"):
            current = folders.setdefault(line[:-1], [])
        elif line and line not in (".", "..") and current is not None:
            current.append(line)
    return folders


def _stored_path(folders: dict[str, list[str]], wim_path: str, where: str) -> str:
    """The file's path in the volume as wimlib stored it there. ntfscp matches names
    case-sensitively and silently creates a new file beside one spelt otherwise, so the exact
    spelling is taken from the listing: the volume holds one chain of folders down to the file
    and nothing else, so each level has one name (checked against the wanted one, any case)."""
    stored = ""
    for part in wim_path.strip("/").split("/"):
        names = folders.get(stored or "/", [])
        same = [name for name in names if name.casefold() == part.casefold()]
        if len(same) != 1 and len(names) != 1:
            raise MalformedInput(f"{where}: {wim_path}: not found on the scratch volume it was extracted to")
        stored = f"{stored}/{(same or names)[0]}"
    if stored in folders:
        raise MalformedInput(f"{where}: {wim_path} is a folder in the image, not a file")
    return stored


def _replace_data(volume: Path, item: Replacement, where: str) -> None:
    """Overwrite the file's data in the volume with the staged file's, keeping its NTFS
    metadata; then read it back (ntfscp's exit status does not report every failure)."""
    before = _listing(volume)
    stored = _stored_path(before, item.wim_path, where)
    _run([ntfs_tool("ntfscp"), "-q", "-m", "-t", str(volume), str(item.source), stored],
         f"{where}: {item.wim_path}: writing the new data on the scratch volume")
    if _listing(volume) != before:
        raise VerifyFailed(f"{where}: {item.wim_path}: ntfscp changed the scratch volume's files; nothing was written")
    _compare(volume, stored, item, where)


def _compare(volume: Path, stored: str, item: Replacement, where: str) -> None:
    try:
        reader = subprocess.Popen([ntfs_tool("ntfscat"), str(volume), stored], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
    except OSError as err:
        raise HiveIOError(f"{where}: cannot run ntfscat ({err.strerror or err}): {NTFS_HINT}") from None
    same = True
    with reader, open(item.source, "rb") as expected:
        assert reader.stdout is not None
        while True:
            want = expected.read(_MIB)
            got = reader.stdout.read(len(want)) if want else reader.stdout.read(1)
            if got != want:
                same = False
                break
            if not want:
                break
        reader.stdout.close()
    if reader.returncode not in (0, None) and same:
        raise HiveIOError(f"{where}: {item.wim_path}: ntfscat failed reading the scratch volume back")
    if not same:
        raise VerifyFailed(f"{where}: {item.wim_path}: the scratch volume does not hold the new data; "
                           "nothing was written")
