"""What a batch runs over, from what the user named.

A TARGET is a hive file, an image folder (one that holds ``Windows/System32/config``, any
case), ``FILE.wim:INDEX``, a glob, ``@list.txt`` (one of these per line) or any other folder,
which is searched: hives (files that start with ``regf``), image folders (not searched
further) and WIMs (every image in them). Transaction logs (``.LOG``, ``.LOG1``, ``.LOG2``) are
read with their hive and are never targets.
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
from typing import Callable, Iterator

from ..errors import HiveIOError, UsageError
from ..image.layout import CONFIG, SYSTEM_ROOTS

_LOG = re.compile(r".*\.LOG\d*\Z", re.IGNORECASE)
_WIM_FILE = re.compile(r".*\.(wim|esd)\Z", re.IGNORECASE)
_WIM_SPEC = re.compile(r".+\.(wim|esd|swm):[^:\\/]+\Z", re.IGNORECASE)  # FILE.wim:INDEX
_GLOB_MAGIC = re.compile(r"[*?[]")
HIVE_MAGIC = b"regf"
WIM_MAGIC = b"MSWIM\0\0\0"


def is_log(path: str) -> bool:
    return bool(_LOG.match(os.path.basename(path)))


def is_image_folder(folder: str) -> bool:
    """Whether ``folder`` holds ``Windows/System32/config`` (or ``WINNT/...``), in any case."""
    for root in SYSTEM_ROOTS:
        if find_case_insensitive(folder, f"{root}/{CONFIG}") is not None:
            return True
    return False


def find_case_insensitive(folder: str, relative: str) -> str | None:
    current = folder
    for part in relative.split("/"):
        try:
            names = os.listdir(current)
        except OSError:
            return None
        match = next((name for name in names if name.upper() == part.upper()), None)
        if match is None:
            return None
        current = os.path.join(current, match)
    return current if os.path.isdir(current) else None


def _head(path: str, size: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def wim_images(path: str) -> int:
    """How many images the WIM at ``path`` holds (``wimlib-imagex info``)."""
    from ..image.wim import tool

    done = subprocess.run([tool(), "info", path], capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        raise HiveIOError(f"{path}: wimlib-imagex cannot read it: {done.stderr.strip() or done.stdout.strip()}")
    match = re.search(r"^Image Count:\s*(\d+)", done.stdout, re.MULTILINE)
    if match is None:
        raise HiveIOError(f"{path}: wimlib-imagex info gave no image count")
    return int(match.group(1))


class TargetList:
    """The targets, in the order named, each once; what was passed over is in ``notes``."""

    def __init__(self, count_images: Callable[[str], int] = wim_images) -> None:
        self.targets: list[str] = []
        self.notes: list[str] = []
        self._seen: set[str] = set()
        self._count_images = count_images

    def add(self, target: str) -> None:
        if target not in self._seen:
            self._seen.add(target)
            self.targets.append(target)

    def name(self, text: str, from_list: str | None = None) -> None:
        """Add what one TARGET argument (or one line of a list file) names."""
        if text.startswith("@") and from_list is None:
            self._read_list(text[1:])
        elif os.path.isdir(text):
            self._folder(text)
        elif os.path.exists(text):
            self._file(text, explicit=True)
        elif _WIM_SPEC.match(text):
            self.add(text)
        elif _GLOB_MAGIC.search(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                self.notes.append(f"{text}: matches nothing")
            for match in matches:
                if os.path.isdir(match):
                    self._folder(match)
                else:
                    self._file(match, explicit=False)
        else:
            self.add(text)  # missing: the command says so, in this target's result

    def _read_list(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8-sig") as handle:
                lines = handle.read().splitlines()
        except OSError as err:
            raise HiveIOError(f"{path}: cannot read the target list: {err.strerror or err}") from None
        except UnicodeDecodeError as err:
            raise UsageError(f"{path}: the target list is not UTF-8 text (byte {err.start})") from None
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                self.name(line, from_list=path)

    def _file(self, path: str, explicit: bool) -> None:
        if is_log(path):
            if explicit:
                self.notes.append(f"{path}: a transaction log is read with its hive, not as a target")
            return
        head = _head(path, len(WIM_MAGIC))
        if _WIM_FILE.match(path) or head == WIM_MAGIC:
            for index in range(1, self._count_images(path) + 1):
                self.add(f"{path}:{index}")
            return
        if explicit or head.startswith(HIVE_MAGIC):
            self.add(path)

    def _folder(self, folder: str) -> None:
        if is_image_folder(folder):
            self.add(folder)
            return
        for path, is_image in _search(folder):
            if is_image:
                self.add(path)
            else:
                self._file(path, explicit=False)


def _search(folder: str) -> Iterator[tuple[str, bool]]:
    """(path, is an image folder) below ``folder``, sorted, without following links to folders
    (a link cycle would never end)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        path = os.path.join(folder, entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                if is_image_folder(path):
                    yield path, True
                else:
                    yield from _search(path)
            elif entry.is_file():
                yield path, False
        except OSError:
            continue


def expand_targets(named: list[str], count_images: Callable[[str], int] = wim_images) -> TargetList:
    found = TargetList(count_images)
    for text in named:
        found.name(text)
    return found
