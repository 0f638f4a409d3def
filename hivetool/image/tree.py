"""Finding files in an extracted or mounted Windows tree whatever the case of their names.

Windows names are case-insensitive, and a tree copied to Linux keeps whatever case each name
had (``Windows/System32/config/SYSTEM``, ``windows/system32/CONFIG/system``, ``Users/alice/
ntuser.dat``). Each folder is listed once and looked up by upper-cased name.
"""
from __future__ import annotations

import os
from pathlib import Path


class CaseFolder:
    """Case-insensitive lookup of relative paths below ``root``; listings are cached."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._listings: dict[str, dict[str, str]] = {}

    def _listing(self, folder: str) -> dict[str, str]:
        """Upper-cased name -> stored name, for the folder at the stored relative path."""
        cached = self._listings.get(folder)
        if cached is None:
            try:
                names = sorted(os.listdir(self.root / folder))
            except OSError:
                names = []
            cached = {}
            for name in names:
                cached.setdefault(name.upper(), name)  # two spellings of one name: the first in order
            self._listings[folder] = cached
        return cached

    def find(self, relative: str) -> str | None:
        """The stored relative path (``/``-separated) of ``relative`` (``/`` or ``\\``
        separated, any case), or None when some part of it does not exist."""
        stored = ""
        for part in relative.replace("\\", "/").strip("/").split("/"):
            if not part:
                continue
            name = self._listing(stored).get(part.upper())
            if name is None:
                return None
            stored = f"{stored}/{name}" if stored else name
        return stored

    def path(self, stored: str) -> Path:
        return self.root / stored

    def children(self, relative: str) -> list[str]:
        """Names in the folder at ``relative`` (any case); empty when it does not exist."""
        stored = self.find(relative)
        if stored is None:
            return []
        return list(self._listing(stored).values())
