"""Where an image's files are read from and how changed hives go back: a folder.

A store hands out local paths to read (with case-insensitive lookup) and writes a set of
changed files as one transaction: every file is written to a temporary file beside its
target and synced first, and only then are they all renamed into place, so a failure while
writing (a full disk, a refused verification) changes no file at all. The one window left is
between the first rename and the last: a few system calls, in which a crash leaves some hives
new and some old, each of them whole.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import UsageError
from ..fileio import Chunk, stage_write
from .tree import CaseFolder


@dataclass
class Change:
    """A file of the image to (re)write: its stored relative path and its new content."""

    relative: str
    chunks: Iterable[Chunk]
    verify: Callable[[str], None] | None = None


class FolderStore:
    """An image that is a folder: a mounted or extracted system drive."""

    read_only = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.files = CaseFolder(self.root)

    def describe(self) -> str:
        return f"image folder {self.root}"

    def local(self, relative: str) -> Path:
        return self.files.path(relative)

    def write(self, changes: list[Change], output: str | None) -> list[str]:
        """Write ``changes`` into the image (``output`` None) or below the folder ``output``
        at the same relative paths; all or nothing. Returns the paths written."""
        base = self.root if output is None else Path(output)
        if output is not None:
            if base.resolve() == self.root.resolve():
                raise UsageError(f"-o {output} is the image itself; use --in-place to change it")
            if base.exists() and not base.is_dir():
                raise UsageError(f"-o {output}: an image's output is a folder (its changed hives go below it)")
        targets = [base / change.relative for change in changes]
        if output is not None:
            for target in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
        staged = []
        try:
            for change, target in zip(changes, targets):
                staged.append(stage_write(target, change.chunks, verify=change.verify))
            for pending in staged:  # the only window: a rename per hive, nothing else between
                pending.commit()
        finally:
            for pending in staged:
                pending.discard()
        return [str(target) for target in targets]
