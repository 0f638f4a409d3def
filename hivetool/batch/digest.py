"""The SHA-256 that says whether a target changed since a batch last ran on it.

A hive file: the SHA-256 of the file. An image (a folder or a WIM image): the SHA-256 of its
hives and their transaction logs, so that the same image gives the same digest as a folder and
inside a WIM, and a change elsewhere in the image (a log file of another program, a new
driver) does not make a batch run it again. That text is one line per file, sorted by path
(case folded): ``path<TAB>sha256<LF>``, the path relative to the image root with ``/``.
"""
from __future__ import annotations

import hashlib
import os

from ..errors import HivetoolError
from ..image.spec import TargetSpec
from ..regf.logfiles import find_logs

_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


def files_sha256(files: dict[str, str | os.PathLike[str]]) -> str:
    """The digest of several files: ``files`` maps the name to record to the file to read."""
    lines = [f"{name}\t{file_sha256(path)}\n" for name, path in sorted(files.items(), key=lambda i: i[0].upper())]
    return hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def target_sha256(text: str) -> str | None:
    """The digest of the target ``text`` names; None when it cannot be read at all (the command
    then says why, and a resumed batch runs it again)."""
    from ..image.spec import HIVE, parse_target

    try:
        spec = parse_target(text)
        if spec.kind == HIVE:
            return file_sha256(spec.path)
        return _image_sha256(text, spec)
    except (OSError, ValueError, HivetoolError):
        return None


def _image_sha256(text: str, spec: TargetSpec) -> str | None:
    from ..image.spec import FOLDER
    from ..image.target import OpenOptions, open_target

    try:
        target = open_target(text, OpenOptions())
    except HivetoolError:
        # Not an image the registry code can open (a damaged SOFTWARE, no hives): what it does
        # hold still tells a change. A folder: its config folder's files; a WIM: the WIM.
        if spec.kind == FOLDER:
            return _config_files_sha256(spec.path)
        return file_sha256(spec.path)
    try:
        files: dict[str, str | os.PathLike[str]] = {}
        for slot in target.slots():
            files[slot.relative] = slot.local
            for log in find_logs(slot.local):
                files[slot.relative + log.name[len(slot.local.name):]] = log
        return files_sha256(files)
    finally:
        target.close()


def _config_files_sha256(folder: str) -> str | None:
    from ..image.layout import CONFIG, SYSTEM_ROOTS
    from .targets import find_case_insensitive

    for root in SYSTEM_ROOTS:
        config = find_case_insensitive(folder, f"{root}/{CONFIG}")
        if config is not None:
            relative = os.path.relpath(config, folder).replace(os.sep, "/")
            names = sorted(name for name in os.listdir(config) if os.path.isfile(os.path.join(config, name)))
            return files_sha256({f"{relative}/{name}": os.path.join(config, name) for name in names})
    return None
