"""The difference of two hives as a Patch that turns the old one into the new one.

The patch holds only what changed: new keys (with everything below them), deleted keys
(only the top of each deleted subtree, as ``[-key]``), new and changed values, and deleted
values (``"v"=-``). It is ordered like an export of the new hive (pre-order, subkeys in hive
order), and it keeps value order: applying a set to a missing value appends it to the
key's value list, so new values are added in the new hive's order, and where the new hive
reorders existing values, those are deleted and added again. A name whose case changed
is deleted and added too, since hives (and exports) keep the stored spelling.

Class names, security descriptors and timestamps are not part of .reg files, so they are
not compared.
"""
from __future__ import annotations

from ..regf.hive import Hive
from ..regf.hive.model import Key, Value
from ..regf.hive.compare import same_values
from .patch import Patch


def _logical(root: str, hive_path: str) -> str:
    return root + "\\" + hive_path if hive_path else root


def _add_subtree(patch: Patch, key: Key, root: str) -> None:
    for below in key.walk():
        path = _logical(root, below.path)
        patch.create_key(path)
        for value in below.values():
            patch.set_value(path, value.name, value.type, value.raw)


def diff_values(patch: Patch, path: str, old: list[Value], new: list[Value]) -> None:
    """Value operations that turn ``old`` into ``new`` for the key at ``path``, order included.

    After the deletions, the values left keep their old order and every set of a missing
    value appends. So the values that stay in place must be a prefix of the new order that
    also runs forward in the old order; the longest such prefix is taken, and every other
    value that exists in both is deleted and set again, in the new order.
    """
    old_position = {value.name: index for index, value in enumerate(old)}
    in_place = 0
    last = -1
    while in_place < len(new) and old_position.get(new[in_place].name, -1) > last:
        last = old_position[new[in_place].name]
        in_place += 1
    staying = {value.name for value in new[:in_place]}
    # Values that are gone, renamed by case, or out of order leave the list first ...
    for value in old:
        if value.name not in staying:
            patch.delete_value(path, value.name)
    # ... the ones in place are updated where they are ...
    for value in new[:in_place]:
        before = old[old_position[value.name]]
        if (before.type, before.raw) != (value.type, value.raw):
            patch.set_value(path, value.name, value.type, value.raw)
    # ... and the rest are appended in the new hive's order.
    for value in new[in_place:]:
        patch.set_value(path, value.name, value.type, value.raw)


def diff_hives(old: Hive, new: Hive, root: str, start: str = "") -> Patch:
    """A patch that turns ``old`` into ``new`` (below hive-relative ``start``); both hives
    are taken as mounted at the logical path ``root``."""
    patch = Patch()
    stack: list[tuple[Key | None, Key]] = [(old.key(start), new.key(start))]
    while stack:
        old_key, new_key = stack.pop()
        if old_key is None:
            _add_subtree(patch, new_key, root)
            continue
        path = _logical(root, new_key.path)
        if not same_values(old_key, new_key):
            diff_values(patch, path, old_key.values(), new_key.values())
        old_children = {child.name: child for child in old_key.subkeys()}
        new_children = new_key.subkeys()
        new_names = {child.name for child in new_children}
        for name, child in old_children.items():
            if name not in new_names:
                patch.delete_key(_logical(root, child.path))
        pending = [(old_children.get(child.name), child) for child in new_children]
        stack.extend(reversed(pending))
    return patch
