"""The tree the viewer shows: keys by path, their children a page at a time, pasted paths.

A path here is what the page sends back: for a hive file, the path inside the hive (``''`` is
its root key, as the first screen shows it); for an image, the full registry path, with the
image's top (``''``), ``HKEY_LOCAL_MACHINE`` and ``HKEY_USERS`` as keys that list hives and
``HKEY_CLASSES_ROOT`` as Windows merges it (the user's classes over the machine's). Pasted
paths go through the target's own mapping (:meth:`Target.locate`), so ``HKLM\\SYSTEM\\
CurrentControlSet`` means here what it means to every command.

Listing children reads each child's key node once and nothing below it: a key with 100,000
subkeys costs one page, not a walk.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import KeyNotFound, NotFound
from ..image.target import HiveTarget, Target
from ..paths import HKCR, is_logical, normalize_path
from ..regf.hive.model import Key
from ..regf.records.bins import file_offset
from ..regf.records.names import upcase
from ..regf.records.nk import KEY_PREDEF_HANDLE
from ..timeutil import filetime_to_iso

if TYPE_CHECKING:
    from ..image.image import ImageTarget

PAGE = 1000  # children per request: a page of a huge key still comes back at once
MAX_PAGE = 5000
ROOT_PREFIX = "COMPUTER\\"  # regedit's address bar copies paths with it


@dataclass
class Node:
    """What a path names: real keys (one, or several merged for HKCR), or a key that only
    lists hives (``names`` are its children)."""

    path: str
    keys: list[Key] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    hive: str | None = None  # the hive file that holds it, as the target names it

    @property
    def virtual(self) -> bool:
        return not self.keys


def join(path: str, name: str) -> str:
    return f"{path}\\{name}" if path else name


def _classes_root(target: Target, path: str) -> bool:
    return (not isinstance(target, HiveTarget) and is_logical(path)
            and normalize_path(path).path.split("\\")[0] == HKCR)


def _image(target: Target) -> ImageTarget:
    """A target is a hive file or an image."""
    from ..image.image import ImageTarget

    if not isinstance(target, ImageTarget):
        raise TypeError(f"not a hive file nor an image: {type(target).__name__}")
    return target


def node_at(target: Target, path: str) -> Node:
    """The node at ``path`` (a path as the tree names it)."""
    if isinstance(target, HiveTarget):
        return Node(path, [target.hive.key(path)], hive=target.slot.shown)
    image = _image(target)
    virtual = image.virtual_key(path)
    if virtual is not None:
        shown, names = virtual
        return Node(shown, names=list(names))
    if _classes_root(target, path):
        keys = []
        for location in image.locate_all(path):
            try:
                keys.append(location.hive.key(location.path))
            except NotFound:  # absent on one side: the other shows
                continue
        if not keys:
            raise KeyNotFound(f"{path}: not found in the user's classes nor in the machine's")
        return Node(normalize_path(path).path, keys, hive="merged view")
    location = target.locate(path)[0]
    return Node(path, [location.hive.key(location.path)], hive=location.slot.shown)


def key_facts(key: Key) -> dict[str, Any]:
    """What the tree shows of a key, from its key node alone (one unpack: the public counts
    would read its lists, and a page of children must not)."""
    record = key.hive._engine.nk(key.cell)
    values = 0 if record.flags & KEY_PREDEF_HANDLE else record.value_count
    return {"name": key.name, "last_write": filetime_to_iso(record.timestamp),
            "last_write_filetime": str(record.timestamp), "subkeys": record.subkey_count, "values": values,
            "offset": file_offset(key.cell)}


def children(target: Target, path: str, offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
    """One page of the children of ``path``, in the order Windows keeps them."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    node = node_at(target, path)
    items: list[dict[str, Any]]
    if node.virtual:
        kind = "hive" if node.path else "root"
        items = [{"name": name, "path": join(node.path, name), "kind": kind, "subkeys": None, "values": None}
                 for name in node.names[offset:offset + limit]]
        total = len(node.names)
    elif len(node.keys) > 1:
        names = _merged_names(node.keys)
        items = [{"name": name, "path": join(node.path, name), "kind": "merged", "subkeys": None, "values": None}
                 for name in names[offset:offset + limit]]
        total = len(names)
    else:
        key = node.keys[0]
        engine = key.hive._engine
        cells = engine.child_cells(key.cell)
        total = len(cells)
        items = []
        for cell in cells[offset:offset + limit]:
            child = Key(key.hive, cell, engine.key_name(cell, "a subkey list entry"), key)
            items.append({**key_facts(child), "path": join(node.path, child.name), "kind": "key"})
    return {"path": node.path, "offset": offset, "total": total, "children": items,
            "more": offset + len(items) < total}


def _merged_names(keys: list[Key]) -> list[str]:
    """Every subkey name of every side of a merged view, the first side's spelling."""
    names: dict[str, str] = {}
    for key in keys:
        for sub in key.subkeys():
            names.setdefault(upcase(sub.name), sub.name)
    return [names[k] for k in sorted(names)]


def describe(node: Node) -> dict[str, Any]:
    """The key itself, for the heading of the values pane."""
    document: dict[str, Any] = {"path": node.path, "hive": node.hive, "virtual": node.virtual,
                                "merged": len(node.keys) > 1}
    if node.virtual:
        document.update(name=node.path.rpartition("\\")[2], subkeys=len(node.names), values=0)
        return document
    key = node.keys[0]
    document.update(key_facts(key))
    if len(node.keys) > 1:
        newest = max(node.keys, key=lambda k: k.last_write)
        document.update(last_write=newest.last_write_iso, last_write_filetime=str(newest.last_write),
                        subkeys=len(_merged_names(node.keys)))
    document["name"] = node.path.rpartition("\\")[2] if node.path else key.name
    document["class"] = key.class_name
    return document


def resolve(target: Target, text: str) -> dict[str, Any]:
    """A pasted path, mapped as every command maps it: its path in the tree and the paths of
    the keys above it (the page expands those to show it)."""
    wanted = text.strip().strip('"').strip()
    if wanted.upper().startswith(ROOT_PREFIX):
        wanted = wanted[len(ROOT_PREFIX):]
    wanted = wanted.strip("\\")
    notes: list[str] = []
    if isinstance(target, HiveTarget):
        location = target.locate(wanted)[0]
        path = target.hive.key(location.path).path  # as stored: the tree shows stored names
    else:
        virtual = _image(target).virtual_key(wanted)
        if virtual is not None:
            path = virtual[0]
        elif _classes_root(target, wanted):
            path = node_at(target, wanted).path
        else:
            location = target.locate(wanted)[0]
            stored = location.hive.key(location.path).path
            mount = location.slot.mount or ""
            path = join(mount, stored) if stored else mount
    if "CURRENTCONTROLSET" in upcase(wanted) and target.control_set_choice is not None:
        notes.append(target.control_set_choice.description)
    notes.extend(dict.fromkeys(target.warnings))
    target.warnings.clear()
    return {"path": path, "ancestors": ancestors(path), "notes": notes}


def ancestors(path: str) -> list[str]:
    """The paths from the top of the tree down to ``path``, itself included."""
    found = [""]
    if not path:
        return found
    # An image's hives are mounted two names deep (HKLM\SYSTEM, HKU\<SID>); the tree lists
    # each of those names as one step too, so every backslash is a level in either kind.
    parts = path.split("\\")
    for index in range(1, len(parts) + 1):
        found.append("\\".join(parts[:index]))
    return found


__all__ = ["PAGE", "Node", "ancestors", "children", "describe", "join", "key_facts", "node_at", "resolve"]
