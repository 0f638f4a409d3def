"""Key paths in .reg files: root names and the path Windows opens (reg-format.md section 4)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import LineProblem, Note

# (long name, short name). Windows documents only the long names; Wine's reg.exe also takes
# the short ones, and hivetool accepts them with a warning (reg-format.md 4.6, 10).
ROOT_KEYS: tuple[tuple[str, str], ...] = (
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKEY_USERS", "HKU"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
)
LONG_ROOT_NAMES = tuple(long for long, _ in ROOT_KEYS)
MAX_KEY_NAME = 255  # UTF-16 code units per key name component


@dataclass(frozen=True)
class KeyPath:
    full: str  # long root name, then the path as Windows takes it
    root: str  # the long root name
    subpath: str  # "" for the root itself
    notes: list[Note] = field(default_factory=list)


def _root_length(text: str, name: str) -> int:
    """len(name) if ``text`` starts with the root ``name`` (ASCII case-insensitive) followed by
    a backslash or the end; 0 otherwise. ``HKEY_CURRENT_USERS`` is not HKEY_CURRENT_USER (4.6)."""
    size = len(name)
    head = text[:size]
    if len(head) == size and head.isascii() and head.upper() == name and (len(text) == size or text[size] == "\\"):
        return size
    return 0


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _check_components(subpath: str, offset: int) -> None:
    for component in subpath.split("\\"):
        if not component:
            raise LineProblem(offset, "R-KEY-EMPTY-COMPONENT",
                              "empty key name between two backslashes: the key is not opened")
        if len(component) > MAX_KEY_NAME and _utf16_length(component) > MAX_KEY_NAME:
            raise LineProblem(offset, "R-KEY-NAME-LONG", f"key name of {_utf16_length(component)} "
                              f"characters: Windows allows at most {MAX_KEY_NAME}")
        offset += len(component) + 1


def resolve_key_path(text: str) -> KeyPath:
    """The key a key line names. Offsets in problems and notes are relative to ``text``."""
    for long_name, short_name in ROOT_KEYS:
        size = _root_length(text, long_name)
        if size:
            notes: list[Note] = []
            break
        size = _root_length(text, short_name)
        if size:
            notes = [(0, "R-KEY-SHORT-ROOT", f"short root name {text[:size]!r}: Windows documents only "
                      f"{long_name}; hivetool reads it as {long_name}")]
            break
    else:
        word = text.split("\\", 1)[0]
        raise LineProblem(0, "R-KEY-ROOT", f"unknown root key {word!r}: expected one of "
                          f"{', '.join(LONG_ROOT_NAMES)}, followed by '\\' or the end of the path")
    sub = text[size + 1:]
    kept = sub.rstrip("\\")
    if len(kept) != len(sub):
        # [..\Subkey1e\] and [..\Subkey1f\\] open Subkey1e and Subkey1f (import.c:L959-L982).
        notes.append((size + 1 + len(kept), "R-KEY-TRAILING-BACKSLASH",
                      "trailing backslash dropped from the key path"))
    if kept and ("\\\\" in kept or kept[0] == "\\" or len(kept) > MAX_KEY_NAME):
        _check_components(kept, size + 1)
    full = long_name + "\\" + kept if kept else long_name
    return KeyPath(full, long_name, kept, notes)
