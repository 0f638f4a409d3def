"""Changing a hive: create and delete keys, set and delete values.

Each change touches only the cells it must and follows what Windows does (regf-format
section 13): new keys share their parent's security cell, names are Latin-1 when they
can be, the "largest ..." fields only grow, emptied lists are freed, and the last-write
time of every key whose values or subkey set change is set from the hive's clock.
Everything that can fail on malformed input is read before anything is written.
"""
from __future__ import annotations

import weakref
from typing import Protocol

from ...errors import HiveFormatError, RefusedUnsafe, UsageError, ValueNotFound
from ...timeutil import Clock
from ..records.bins import file_offset
from ..records.cells import NIL, pack_offsets
from ..records.names import check_key_depth, check_key_name, check_value_name, encode_name, upcase
from ..records.nk import KEY_PREDEF_HANDLE, KEY_SYM_LINK, NK, new_nk
from ..records.vk import VK, new_vk
from ..records.lists import SubkeyList
from . import sublists
from .data import free_data, store_data, try_overwrite
from .engine import Engine
from .model import Key, split_path
from .security import add_reference, drop_reference, read_sk


class EditedHive(Protocol):
    """What the editor needs of the Hive it edits."""

    path: str | None
    _engine: Engine
    _clock: Clock

    @property
    def root(self) -> Key: ...

    def _require_clean(self, action: str) -> None: ...


class Editor:
    """The edits of one hive, and what they remember between calls (``engine.cache``)."""

    def __init__(self, hive: EditedHive) -> None:
        # Weak: the hive keeps its editor, and a cycle would keep the hive (its buffer, and the
        # file lock an open for update holds) alive after its last use, until the cyclic
        # garbage collector runs.
        self.hive: EditedHive = weakref.proxy(hive)
        self.engine = hive._engine
        self.modified = False
        self.unchanged_sets = 0  # set_value calls that found the value already so (no-ops)

    def _begin(self, action: str) -> None:
        """Refuse to edit a dirty or damaged hive. Neither can change while edits run, so the
        check is made once per hive, not once per edit."""
        if self.modified:
            return
        self.hive._require_clean(action)
        damaged = self.engine.space.damaged_bins()
        if damaged:
            raise HiveFormatError(
                f"refusing to {action}: a hive bin is damaged ({damaged[0].problem})",
                file_offset(damaged[0].start),
            )
        self.modified = True

    def _write_payload(self, cell: int, payload: bytes) -> None:
        at = file_offset(cell) + 4
        self.engine.buf[at : at + len(payload)] = payload

    def _nk_at(self, cell: int) -> int:
        return self.engine.space.payload(cell, "key")[0]

    def _subkeys_for_edit(self, parent: int) -> SubkeyList | None:
        """The parent's subkey list, kept for the next edit (the engine checks it is current).

        A list freshly read is checked once for the key itself, its parent or the root key among
        its entries (a cycle, the usual shape of a damaged list): the names would then be out of
        order, the binary search that places a new name could miss an existing one or land in
        the wrong place, and the edit would add a duplicate or a misordered entry to the damage.
        """
        engine, kept = self.engine, self.engine.cache.subkey_lists
        cached = kept.get(parent)
        sublist = engine.subkey_list(parent)
        if sublist is None:
            kept.pop(parent, None)
            return None
        if sublist is not cached:
            ancestors = {parent, engine.root_cell}
            if parent != engine.root_cell:  # the root's parent field holds no pointer
                ancestors.add(NK.read(engine.buf, self._nk_at(parent), "parent"))
            if not ancestors.isdisjoint(sublist.offsets()):
                raise HiveFormatError("the subkey list of a key lists the key itself or a key above it (a cycle)",
                                      file_offset(parent))
        kept[parent] = sublist
        return sublist

    # -------------------------------------------------------------------- keys
    def add_subkey(self, parent: int, name: str) -> int:
        """Create the key ``name`` below the nk at ``parent``; returns its cell."""
        problem = check_key_name(name)
        if problem:
            raise UsageError(problem)
        engine = self.engine
        space = engine.space
        parent_at, _ = space.payload(parent, "key")
        # The parent's nk never moves: read it once, change it, write it back once at the end.
        rec = NK.unpack(engine.buf, parent_at)
        sublist = self._subkeys_for_edit(parent)
        position = 0
        if sublist is not None:
            position, found = engine.position_of(sublist, name)
            if found:
                raise UsageError(f"a subkey named {name!r} already exists")
        security = rec.security
        read_sk(space, security, "security cell of the parent key")
        if security in (rec.class_cell, rec.values, rec.subkeys):
            # One cell as two things of one key (damage): a new key sharing it would be damaged too.
            raise HiveFormatError("the parent key's security cell is also its class, value list or subkey list",
                                  file_offset(security))

        self._begin("create a key")
        now = self.hive._clock.now()
        name_bytes, compressed = encode_name(name)
        payload = new_nk(name_bytes, compressed, parent=parent, security=security, timestamp=now)
        child = space.alloc(len(payload))
        self._write_payload(child, payload)
        add_reference(space, security)
        if sublist is None:
            list_cell = sublists.new_list(space, engine.minor, child, name)
            count = 1
        else:
            list_cell = sublists.insert(space, sublist, position, child, name)
            count = sublist.count
        rec = rec._replace(
            subkeys=list_cell, subkey_count=count, timestamp=now,
            max_subkey_name=max(rec.max_subkey_name, _utf16_size(name, name_bytes, compressed)),
        )
        # engine.buf, not a buffer kept from before: an allocation that appended a bin may have
        # replaced it.
        NK.pack_into(engine.buf, parent_at, rec)
        space.settle()  # every pointer to the cells let go of is rewritten now
        return child

    def create_key(self, path: str) -> tuple[Key, list[str]]:
        """The key at ``path``, creating it and missing parents; also the paths created.

        A path more than MAX_KEY_DEPTH levels below the hive's root (names.py says how levels are
        counted) is refused with UsageError before anything is looked up or written: Windows
        would not load a hive holding such a key.
        """
        parts = split_path(path)
        problem = check_key_depth(len(parts))
        if problem:
            # The path may be thousands of names long: show its start and its end.
            shown = path if len(path) <= 120 else f"{path[:50]}...{path[-50:]}"
            raise UsageError(f"key path {shown!r}: {problem}")
        key = self.hive.root
        created: list[str] = []
        for part in parts:
            cell = self.engine.find_child(key.cell, part)
            if cell is None:
                child = key._child(self.add_subkey(key.cell, part))
                created.append(child.path)
            else:
                child = key._child(cell)
            key = child
        return key, created

    def delete_key(self, key: Key, recursive: bool = False) -> int:
        """Delete ``key`` (and with ``recursive`` its subtree); returns the number of keys removed."""
        engine = self.engine
        if key.cell == engine.root_cell:
            raise RefusedUnsafe("the root key of a hive cannot be deleted")
        parent = NK.read(engine.buf, self._nk_at(key.cell), "parent")
        order = self._subtree_postorder(key)
        if len(order) > 1 and not recursive:
            raise RefusedUnsafe(
                f"key {key.path!r} has {key.subkey_count} subkey(s); use -r to delete it with its subtree"
            )
        parent_list = self._subkeys_for_edit(parent)
        if parent_list is None or key.cell not in parent_list.offsets():
            raise HiveFormatError(f"key {key.path!r} is not listed by its parent", file_offset(key.cell))

        self._begin("delete a key")
        for cell in order:
            self._free_key(cell)
        new_list = sublists.remove(engine.space, parent_list, key.cell)
        if new_list is None:
            engine.cache.subkey_lists.pop(parent, None)
        parent_at = self._nk_at(parent)
        NK.write(engine.buf, parent_at, "subkeys", NIL if new_list is None else new_list)
        NK.write(engine.buf, parent_at, "subkey_count", len(parent_list.offsets()))
        NK.write(engine.buf, parent_at, "timestamp", self.hive._clock.now())
        engine.space.settle()
        return len(order)

    def _subtree_postorder(self, key: Key) -> list[int]:
        """Cells of the subtree, children before parents, checked for cycles (no recursion)."""
        order: list[int] = []
        seen = {key.cell}
        stack = [(key.cell, False)]
        while stack:
            cell, expanded = stack.pop()
            if expanded:
                order.append(cell)
                continue
            stack.append((cell, True))
            for child in self.engine.child_cells(cell):
                if child in seen:
                    raise HiveFormatError("subkey lists form a cycle", file_offset(child))
                seen.add(child)
                stack.append((child, False))
        return order

    def _free_key(self, cell: int) -> None:
        engine = self.engine
        space = engine.space
        engine.cache.forget(cell)
        rec = NK.unpack(engine.buf, self._nk_at(cell))
        for value_cell in engine.value_cells(cell):
            self._free_value(value_cell)
        if rec.value_count and rec.values != NIL:
            space.free(rec.values)
        sublist = engine.subkey_list(cell)
        if sublist is not None:
            for leaf in sublist.leaves:
                space.free(leaf.cell)
            if sublist.root is not None:
                space.free(sublist.root)
        if rec.class_length and space.is_allocated_cell(rec.class_cell):
            space.free(rec.class_cell)  # a class pointer that leads nowhere is just dropped
        drop_reference(space, rec.security, user=cell)
        space.free(cell)

    def _free_value(self, cell: int) -> None:
        engine = self.engine
        at, _ = engine.space.payload(cell, "value")
        engine.value_name(cell)  # a cell that is no value record is not freed as one
        rec = VK.unpack(engine.buf, at)
        free_data(engine.space, rec.data_size, rec.data, engine.minor)
        engine.space.free(cell)

    # -------------------------------------------------------------------- values
    def _value_names(self, key_cell: int) -> dict[str, int]:
        """Upcased value name -> vk cell for a key, decoded once and then kept by the edits."""
        kept = self.engine.cache.value_names
        names = kept.get(key_cell)
        if names is None:
            names = {}
            for cell in self.engine.value_cells(key_cell):
                names.setdefault(upcase(self.engine.value_name(cell)), cell)
            kept[key_cell] = names
        return names

    def set_value(self, key: Key, name: str, value_type: int, data: bytes) -> bool:
        """Set a value; an existing value whose name matches case-insensitively is updated in
        place and keeps its stored spelling. Returns True when the value was created."""
        problem = check_value_name(name)
        if problem:
            raise UsageError(problem)
        if not 0 <= value_type <= 0xFFFFFFFF:
            raise UsageError(f"value type {value_type} does not fit 32 bits")
        engine = self.engine
        space, minor = engine.space, engine.minor
        at, _ = space.payload(key.cell, "key")
        rec = NK.unpack(engine.buf, at)  # written back once, at the end
        names = self._value_names(key.cell)
        wanted = upcase(name)
        existing = names.get(wanted)
        count = rec.value_count if rec.values != NIL else 0
        if rec.flags & KEY_SYM_LINK and (wanted != "SYMBOLICLINKVALUE" or (existing is None and count)):
            raise RefusedUnsafe(f"{key.path!r} is a symbolic link key; it holds only SymbolicLinkValue")
        if rec.flags & KEY_PREDEF_HANDLE:
            # Its value-count field holds a predefined handle, not values: nothing would read them.
            raise RefusedUnsafe(f"{key.path!r} is a predefined-handle key (flag 0x40); it cannot hold values")

        if existing is not None and self._holds(existing, value_type, data):
            # Already so: an idempotent no-op, which changes no byte (not even the key's time), so
            # that a pipeline step repeated on every build writes nothing. A dirty hive still
            # refuses: what it shows may be stale.
            self.hive._require_clean("set a value")
            self.unchanged_sets += 1
            return False
        self._begin("set a value")
        if existing is not None:
            vk_at, _ = space.payload(existing, "value")
            old = VK.unpack(engine.buf, vk_at)
            placed = try_overwrite(space, old.data_size, old.data, data, minor, vk_at + VK.offset["data"])
            if placed is None:
                free_data(space, old.data_size, old.data, minor)
                placed = store_data(space, data, minor)
            VK.pack_into(engine.buf, vk_at, old._replace(data_size=placed[0], data=placed[1], type=value_type))
            created = False
        else:
            size_field, data_field = store_data(space, data, minor)
            name_bytes, compressed = encode_name(name)
            payload = new_vk(name_bytes, compressed, data_size=size_field, data=data_field, type=value_type)
            vk_cell = space.alloc(len(payload))
            self._write_payload(vk_cell, payload)
            rec = rec._replace(
                values=self._append_to_value_list(rec.values if count else None, count, vk_cell),
                value_count=count + 1,
                max_value_name=max(rec.max_value_name, _utf16_size(name, name_bytes, compressed)),
            )
            names[wanted] = vk_cell
            created = True
        rec = rec._replace(max_value_data=max(rec.max_value_data, len(data)), timestamp=self.hive._clock.now())
        NK.pack_into(engine.buf, at, rec)  # engine.buf: allocations may have replaced the buffer
        space.settle()
        return created

    def _holds(self, vk_cell: int, value_type: int, data: bytes) -> bool:
        """Whether the value at ``vk_cell`` already has this type and these bytes (a value whose
        data cannot be read does not: setting it is how it gets repaired)."""
        try:
            value = self.engine.read_value(vk_cell)
        except HiveFormatError:
            return False
        return value.type == value_type and value.raw == data

    def _append_to_value_list(self, list_cell: int | None, count: int, vk_cell: int) -> int:
        """Append in place when the list's cell has room, else move it to a cell with a little
        room to grow (slack is legal, regf-format 8), so n new values cost O(n), not O(n^2)."""
        space = self.engine.space
        if list_cell is not None:
            at, length = space.payload(list_cell, "value list")
            if 4 * (count + 1) <= length:
                space.buf[at + 4 * count : at + 4 * count + 4] = pack_offsets([vk_cell])
                return list_cell
        capacity = count + 1 + max(1, (count + 1) // 8)
        new = space.alloc(4 * capacity)
        new_at = file_offset(new) + 4
        if list_cell is not None:
            space.buf[new_at : new_at + 4 * count] = space.buf[at : at + 4 * count]
        space.buf[new_at + 4 * count : new_at + 4 * count + 4] = pack_offsets([vk_cell])
        if list_cell is not None:
            space.free(list_cell)
        return new

    def delete_value(self, key: Key, name: str) -> None:
        engine = self.engine
        cells = engine.value_cells(key.cell)
        found = self._value_names(key.cell).get(upcase(name))
        if found is None:
            shown = "the default value" if name == "" else f"value {name!r}"
            raise ValueNotFound(f"{shown} not found in key {key.path or '(root)'!r}")
        index = cells.index(found)
        rec = NK.unpack(engine.buf, self._nk_at(key.cell))
        self._begin("delete a value")
        self._value_names(key.cell).pop(upcase(name), None)
        self._free_value(cells[index])
        remaining = cells[:index] + cells[index + 1 :]
        at = self._nk_at(key.cell)
        if remaining:
            # Closing the gap in place keeps enumeration order, as Windows does. The slot that
            # falls out of use is zeroed: a stale copy of a pointer there would look live to the
            # search that decides whether the freed value cell has another owner (refs.py).
            list_at, _ = engine.space.payload(rec.values, "value list")
            engine.buf[list_at : list_at + 4 * len(remaining) + 4] = pack_offsets([*remaining, 0])
            NK.write(engine.buf, at, "value_count", len(remaining))
        else:
            engine.space.free(rec.values)
            NK.write(engine.buf, at, "values", NIL)
            NK.write(engine.buf, at, "value_count", 0)
        NK.write(engine.buf, at, "timestamp", self.hive._clock.now())
        engine.space.settle()


def _utf16_size(name: str, name_bytes: bytes, compressed: bool) -> int:
    return 2 * len(name) if compressed else len(name_bytes)

