"""What a TARGET argument names: one hive file, a folder laid out like a Windows system drive,
or an image inside a WIM (``FILE.wim:INDEX``; ``FILE.esd:INDEX`` for reading)."""
from __future__ import annotations

import os
import re
from typing import Final

from ..errors import HiveIOError, UsageError
from ..slotted import Frozen

HIVE = "hive"
FOLDER = "folder"
WIM = "wim"

_WIM_SPEC = re.compile(r"(?P<path>.+\.(?P<ext>wim|esd|swm)):(?P<index>[^:\\/]+)\Z", re.IGNORECASE)
_WIM_FILE = re.compile(r".+\.(wim|esd|swm)\Z", re.IGNORECASE)


class TargetSpec(Frozen):
    __slots__ = ("kind", "path", "index", "read_only")

    def __init__(self, kind: str, path: str, index: int | None = None, read_only: bool = False) -> None:
        self.kind: Final = kind  # HIVE, FOLDER or WIM
        self.path: Final = path
        self.index: Final = index  # the image's 1-based index in a WIM
        self.read_only: Final = read_only  # an ESD (solid-compressed) cannot be updated in place

    def __str__(self) -> str:
        return f"{self.path}:{self.index}" if self.kind == WIM else self.path


def parse_target(text: str) -> TargetSpec:
    """Tell what ``text`` names. A folder is an image; ``X.wim:N`` is image N of a WIM; any other
    path is a hive file (whose own checks say whether it really is one)."""
    match = _WIM_SPEC.match(text)
    if match and not os.path.exists(text):
        path, index = match.group("path"), match.group("index")
        if not index.isdigit() or int(index) < 1:
            raise UsageError(f"{text}: the image index after ':' must be a number from 1 "
                             "(wimlib-imagex info lists a WIM's images)")
        if not os.path.isfile(path):
            raise HiveIOError(f"{path}: no such file")
        return TargetSpec(WIM, path, int(index), read_only=match.group("ext").lower() == "esd")
    if os.path.isdir(text):
        return TargetSpec(FOLDER, text)
    if _WIM_FILE.match(text) and os.path.isfile(text):
        raise UsageError(f"{text} is a WIM file: say which image, e.g. {text}:1 (wimlib-imagex info {text} "
                         "lists them)")
    return TargetSpec(HIVE, text)
