"""Changing a hive: create and delete keys, set and delete values.

Each change touches only the cells it must and follows what Windows does (regf-format
section 13): new keys share their parent's security cell, names are Latin-1 when they
can be, the "largest ..." fields only grow, emptied lists are freed, and the last-write
time of every key whose values or subkey set change is set from the hive's clock.
Everything that can fail on malformed input is read before anything is written.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from ..errors import HiveFormatError, RefusedUnsafe, UsageError, ValueNotFound
from . import nk as nkmod
from . import sk as skmod
from . import sublists
from .bins import file_offset
from .model import Key
from .names import check_key_depth, check_key_name, check_value_name, encode_name, upcase
from .nk import NIL, NK, new_nk_payload
from .vk import VK, I_DATA, I_DATA_SIZE, decode_vk, free_data, new_vk_payload, store_data, try_overwrite

if TYPE_CHECKING:
    from .hive import Hive

_U32 = struct.Struct("<I")


def _nk_at(hive: "Hive", cell: int) -> int:
    at, _ = hive.space.payload(cell, "key")
    return at


def _write_payload(hive: "Hive", cell: int, payload: bytes) -> None:
    at = file_offset(cell) + 4
    hive.buf[at : at + len(payload)] = payload


def _begin(hive: "Hive", action: str) -> None:
    """Refuse to edit a dirty or damaged hive. Neither can change while edits run, so the
    check is made once per hive, not once per edit."""
    if hive.modified:
        return
    hive.require_clean(action)
    damaged = hive.space.damaged_bins()
    if damaged:
        raise HiveFormatError(
            f"refusing to {action}: a hive bin is damaged ({damaged[0].problem})",
            file_offset(damaged[0].start),
        )
    hive.modified = True


def _subkeys_for_edit(hive: "Hive", parent: int) -> sublists.SubkeyList | None:
    """The parent's subkey list, kept for the next edit (the hive checks it is still current).

    A list freshly read is checked once for the key itself, its parent or the root key among
    its entries (a cycle, the usual shape of a damaged list): the names would then be out of
    order, the binary search that places a new name could miss an existing one or land in
    the wrong place, and the edit would add a duplicate or a misordered entry to the damage.
    """
    cached = hive.edit_subkey_lists.get(parent)
    sublist = hive._subkey_list(parent)
    if sublist is None:
        hive.edit_subkey_lists.pop(parent, None)
    else:
        if sublist is not cached:
            ancestors = {parent, hive.root_cell}
            if parent != hive.root_cell:  # the root's parent field holds no pointer
                ancestors.add(NK.read(hive.buf, _nk_at(hive, parent), "parent"))
            if not ancestors.isdisjoint(sublist.offsets()):
                raise HiveFormatError("the subkey list of a key lists the key itself or a key above it (a cycle)",
                                      file_offset(parent))
        hive.edit_subkey_lists[parent] = sublist
    return sublist


def _forget(hive: "Hive", cell: int) -> None:
    """A key's cells are freed (and may be reused): drop what the caches know of it."""
    hive.edit_subkey_lists.pop(cell, None)
    hive.edit_value_names.pop(cell, None)


# ------------------------------------------------------------------------ keys
def _utf16_size(name: str, name_bytes: bytes, compressed: bool) -> int:
    return 2 * len(name) if compressed else len(name_bytes)


def add_subkey(hive: "Hive", parent: int, name: str) -> int:
    """Create the key ``name`` below the nk at ``parent``; returns its cell."""
    problem = check_key_name(name)
    if problem:
        raise UsageError(problem)
    space, buf = hive.space, hive.buf
    parent_at, _ = space.payload(parent, "key")
    # The parent's nk never moves: read it once, change it, write it back once at the end.
    rec = list(NK.struct.unpack_from(buf, parent_at))
    sublist = _subkeys_for_edit(hive, parent)
    position = 0
    if sublist is not None:
        position, found = hive.position_of(sublist, name)
        if found:
            raise UsageError(f"a subkey named {name!r} already exists")
    security = rec[nkmod.I_SECURITY]
    skmod.read_sk(space, security, "security cell of the parent key")
    if security in (rec[nkmod.I_CLASS_CELL], rec[nkmod.I_VALUES], rec[nkmod.I_SUBKEYS]):
        # One cell as two things of one key (damage): a new key sharing it would be damaged too.
        raise HiveFormatError("the parent key's security cell is also its class, value list or subkey list",
                              file_offset(security))

    _begin(hive, "create a key")
    now = hive.clock.now()
    name_bytes, compressed = encode_name(name)
    payload = new_nk_payload(name_bytes, compressed, parent, security, now)
    child = space.alloc(len(payload))
    _write_payload(hive, child, payload)
    skmod.add_reference(space, security)
    if sublist is None:
        list_cell = sublists.new_list(space, hive.minor, child, name)
        count = 1
    else:
        list_cell = sublists.insert(space, sublist, position, child, name)
        count = sublist.count
    rec[nkmod.I_SUBKEYS] = list_cell
    rec[nkmod.I_SUBKEY_COUNT] = count
    rec[nkmod.I_MAX_SUBKEY_NAME] = max(rec[nkmod.I_MAX_SUBKEY_NAME], _utf16_size(name, name_bytes, compressed))
    rec[nkmod.I_TIMESTAMP] = now
    # hive.buf, not buf: an allocation that appended a bin may have replaced the buffer.
    NK.struct.pack_into(hive.buf, parent_at, *rec)
    space.settle()  # every pointer to the cells let go of is rewritten now
    return child


def create_key(hive: "Hive", path: str) -> tuple[Key, list[str]]:
    """The key at ``path``, creating it and missing parents; also the paths created.

    A path more than MAX_KEY_DEPTH levels below the hive's root (names.py says how levels are
    counted) is refused with UsageError before anything is looked up or written: Windows
    would not load a hive holding such a key.
    """
    from .hive import split_path

    parts = split_path(path)
    problem = check_key_depth(len(parts))
    if problem:
        # The path may be thousands of names long: show its start and its end.
        shown = path if len(path) <= 120 else f"{path[:50]}...{path[-50:]}"
        raise UsageError(f"key path {shown!r}: {problem}")
    key = hive.root
    created: list[str] = []
    for part in parts:
        cell = hive.find_child(key.cell, part)
        if cell is None:
            cell = add_subkey(hive, key.cell, part)
            child = hive.key_at(cell, key)
            created.append(child.path)
        else:
            child = hive.key_at(cell, key)
        key = child
    return key, created


def delete_key(hive: "Hive", key: Key, recursive: bool = False) -> int:
    """Delete ``key`` (and with ``recursive`` its subtree); returns the number of keys removed."""
    if key.cell == hive.root_cell:
        raise RefusedUnsafe("the root key of a hive cannot be deleted")
    parent = NK.read(hive.buf, _nk_at(hive, key.cell), "parent")
    order = _subtree_postorder(hive, key)
    if len(order) > 1 and not recursive:
        raise RefusedUnsafe(
            f"key {key.path!r} has {key.subkey_count} subkey(s); use -r to delete it with its subtree"
        )
    parent_list = _subkeys_for_edit(hive, parent)
    if parent_list is None or key.cell not in parent_list.offsets():
        raise HiveFormatError(f"key {key.path!r} is not listed by its parent", file_offset(key.cell))

    _begin(hive, "delete a key")
    for cell in order:
        _free_key(hive, cell)
    new_list = sublists.remove(hive.space, parent_list, key.cell)
    if new_list is None:
        hive.edit_subkey_lists.pop(parent, None)
    parent_at = _nk_at(hive, parent)
    NK.write(hive.buf, parent_at, "subkeys", NIL if new_list is None else new_list)
    NK.write(hive.buf, parent_at, "subkey_count", len(parent_list.offsets()))
    NK.write(hive.buf, parent_at, "timestamp", hive.clock.now())
    hive.space.settle()
    return len(order)


def _subtree_postorder(hive: "Hive", key: Key) -> list[int]:
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
        for child in hive.child_cells(cell):
            if child in seen:
                raise HiveFormatError("subkey lists form a cycle", file_offset(child))
            seen.add(child)
            stack.append((child, False))
    return order


def _free_key(hive: "Hive", cell: int) -> None:
    _forget(hive, cell)
    at = _nk_at(hive, cell)
    fields = NK.unpack(hive.buf, at)
    for value_cell in hive.value_cells(cell):
        _free_value(hive, value_cell)
    if fields.value_count and fields.values != NIL:
        hive.space.free(fields.values)
    sublist = hive._subkey_list(cell)
    if sublist is not None:
        for leaf in sublist.leaves:
            hive.space.free(leaf.cell)
        if sublist.root is not None:
            hive.space.free(sublist.root)
    if fields.class_length and hive.space.is_allocated_cell(fields.class_cell):
        hive.space.free(fields.class_cell)  # a class pointer that leads nowhere is just dropped
    skmod.drop_reference(hive.space, fields.security, user=cell)
    hive.space.free(cell)


def _free_value(hive: "Hive", cell: int) -> None:
    at, length = hive.space.payload(cell, "value")
    fields, _ = decode_vk(hive.buf, at, length)
    free_data(hive.space, fields[I_DATA_SIZE], fields[I_DATA], hive.minor)
    hive.space.free(cell)


# ------------------------------------------------------------------------ values
def _value_names(hive: "Hive", key_cell: int) -> dict[str, int]:
    """Upcased value name -> vk cell for a key, decoded once and then kept by the edits."""
    names = hive.edit_value_names.get(key_cell)
    if names is None:
        names = {}
        for cell in hive.value_cells(key_cell):
            at, length = hive.space.payload(cell, "value")
            names.setdefault(upcase(decode_vk(hive.buf, at, length)[1]), cell)
        hive.edit_value_names[key_cell] = names
    return names


def _find_value(hive: "Hive", key_cell: int, name: str) -> tuple[list[int], int | None]:
    cells = hive.value_cells(key_cell)
    found = _value_names(hive, key_cell).get(upcase(name))
    if found is None:
        return cells, None
    return cells, cells.index(found)


def set_value(hive: "Hive", key: Key, name: str, value_type: int, data: bytes) -> bool:
    """Set a value; an existing value whose name matches case-insensitively is updated in
    place and keeps its stored spelling. Returns True when the value was created."""
    problem = check_value_name(name)
    if problem:
        raise UsageError(problem)
    if not 0 <= value_type <= 0xFFFFFFFF:
        raise UsageError(f"value type {value_type} does not fit 32 bits")
    space, buf = hive.space, hive.buf
    at, _ = space.payload(key.cell, "key")
    rec = list(NK.struct.unpack_from(buf, at))  # written back once, at the end
    names = _value_names(hive, key.cell)
    wanted = upcase(name)
    existing = names.get(wanted)
    count = rec[nkmod.I_VALUE_COUNT] if rec[nkmod.I_VALUES] != NIL else 0
    if rec[nkmod.I_FLAGS] & nkmod.KEY_SYM_LINK and (wanted != "SYMBOLICLINKVALUE" or (existing is None and count)):
        raise RefusedUnsafe(f"{key.path!r} is a symbolic link key; it holds only SymbolicLinkValue")
    if rec[nkmod.I_FLAGS] & nkmod.KEY_PREDEF_HANDLE:
        # Its value-count field holds a predefined handle, not values: nothing would read them.
        raise RefusedUnsafe(f"{key.path!r} is a predefined-handle key (flag 0x40); it cannot hold values")

    if existing is not None and _holds(hive, existing, value_type, data):
        # Already so: an idempotent no-op, which changes no byte (not even the key's time), so
        # that a pipeline step repeated on every build writes nothing. A dirty hive still
        # refuses: what it shows may be stale.
        hive.require_clean("set a value")
        hive.unchanged_sets += 1
        return False
    _begin(hive, "set a value")
    if existing is not None:
        vk_at, _ = space.payload(existing, "value")
        old = VK.unpack(buf, vk_at)
        placed = try_overwrite(space, old.data_size, old.data, data, hive.minor, vk_at + VK.offset["data"])
        if placed is None:
            free_data(space, old.data_size, old.data, hive.minor)
            placed = store_data(space, data, hive.minor)
        VK.struct.pack_into(hive.buf, vk_at, old.signature, old.name_length, placed[0], placed[1], value_type,
                            old.flags, old.spare)
        created = False
    else:
        size_field, data_field = store_data(space, data, hive.minor)
        name_bytes, compressed = encode_name(name)
        payload = new_vk_payload(name_bytes, compressed, value_type, size_field, data_field)
        vk_cell = space.alloc(len(payload))
        _write_payload(hive, vk_cell, payload)
        rec[nkmod.I_VALUES] = _append_to_value_list(hive, rec[nkmod.I_VALUES] if count else None, count, vk_cell)
        rec[nkmod.I_VALUE_COUNT] = count + 1
        rec[nkmod.I_MAX_VALUE_NAME] = max(rec[nkmod.I_MAX_VALUE_NAME], _utf16_size(name, name_bytes, compressed))
        names[wanted] = vk_cell
        created = True
    rec[nkmod.I_MAX_VALUE_DATA] = max(rec[nkmod.I_MAX_VALUE_DATA], len(data))
    rec[nkmod.I_TIMESTAMP] = hive.clock.now()
    NK.struct.pack_into(hive.buf, at, *rec)  # hive.buf: allocations may have replaced the buffer
    space.settle()
    return created


def _holds(hive: "Hive", vk_cell: int, value_type: int, data: bytes) -> bool:
    """Whether the value at ``vk_cell`` already has this type and these bytes (a value whose
    data cannot be read does not: setting it is how it gets repaired)."""
    try:
        value = hive.read_value(vk_cell)
    except HiveFormatError:
        return False
    return value.type == value_type and value.raw == data


def _append_to_value_list(hive: "Hive", list_cell: int | None, count: int, vk_cell: int) -> int:
    """Append in place when the list's cell has room, else move it to a cell with a little
    room to grow (slack is legal, regf-format 8), so n new values cost O(n), not O(n^2)."""
    space = hive.space
    if list_cell is not None:
        at, length = space.payload(list_cell, "value list")
        if 4 * (count + 1) <= length:
            _U32.pack_into(hive.buf, at + 4 * count, vk_cell)
            return list_cell
    capacity = count + 1 + max(1, (count + 1) // 8)
    new = space.alloc(4 * capacity)
    new_at = file_offset(new) + 4
    if list_cell is not None:
        hive.buf[new_at : new_at + 4 * count] = hive.buf[at : at + 4 * count]
    _U32.pack_into(hive.buf, new_at + 4 * count, vk_cell)
    if list_cell is not None:
        space.free(list_cell)
    return new


def delete_value(hive: "Hive", key: Key, name: str) -> None:
    cells, index = _find_value(hive, key.cell, name)
    if index is None:
        shown = "the default value" if name == "" else f"value {name!r}"
        raise ValueNotFound(f"{shown} not found in key {key.path or '(root)'!r}")
    fields = NK.unpack(hive.buf, _nk_at(hive, key.cell))
    _begin(hive, "delete a value")
    _value_names(hive, key.cell).pop(upcase(name), None)
    _free_value(hive, cells[index])
    remaining = cells[:index] + cells[index + 1 :]
    at = _nk_at(hive, key.cell)
    if remaining:
        # Closing the gap in place keeps enumeration order, as Windows does. The slot that
        # falls out of use is zeroed: a stale copy of a pointer there would look live to the
        # search that decides whether the freed value cell has another owner (refs.py).
        list_at, _ = hive.space.payload(fields.values, "value list")
        struct.pack_into(f"<{len(remaining)}I", hive.buf, list_at, *remaining)
        _U32.pack_into(hive.buf, list_at + 4 * len(remaining), 0)
        NK.write(hive.buf, at, "value_count", len(remaining))
    else:
        hive.space.free(fields.values)
        NK.write(hive.buf, at, "values", NIL)
        NK.write(hive.buf, at, "value_count", 0)
    NK.write(hive.buf, at, "timestamp", hive.clock.now())
    hive.space.settle()
