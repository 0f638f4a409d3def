"""Checker, part 2: the key tree. Key nodes and subkey lists; values are in :mod:`check_values`.

The walk is iterative (an explicit stack, no recursion), and every cell it follows is
claimed through :meth:`Context.claim`, so cycles end and each cell is read once. Loops run
over what a cell actually holds, never over a count field alone, so a count of 2**32-1
costs nothing. Each key name is decoded once, by its parent (which needs the child's name for
the order, hash and "largest name" checks) or, for the root, from the base block pointer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .bins import HBIN_BASE, file_offset
from .check_space import CLASS, NK_CELL, SUBKEY_LIST, Context, Described, describe
from .header import BASE_BLOCK
from .names import MAX_KEY_DEPTH, MAX_KEY_NAME_CHARS, decode_name, lf_hint, lh_hash, sort_key, upcase
from .nk import KEY_COMP_NAME, KEY_SYM_LINK, NIL, NK, NK_SIGNATURE
from .check_values import check_values
from .sublists import INDEX_ROOT, LEAF_SIGNATURES

MAX_SHOWN_PATH = 300  # characters of a key path shown in one message
MAX_DEPTH = MAX_KEY_DEPTH  # the Windows key check recurses at most this deep (regf-format 12.1)
SYMLINK_VALUE = "SYMBOLICLINKVALUE"
_LIST_HEAD = struct.Struct("<2sH")
_F = {name: NK.fields.index(name) for name in NK.fields}
# Field positions used once per key or value: plain indexes keep a 100,000-key walk fast.
_NK_FLAGS, _NK_NAME_LENGTH, _NK_SECURITY = _F["flags"], _F["name_length"], _F["security"]
_NK_CLASS_LENGTH, _NK_PARENT = _F["class_length"], _F["parent"]


class KeyNode:
    """A decoded key. It keeps its parent instead of its path: the paths of a chain of
    100,000 nested keys would take quadratic memory, and only messages need them."""

    __slots__ = ("cell", "fields", "name", "parent", "_shown")

    def __init__(self, cell: int, fields: tuple, name: str, parent: KeyNode | None) -> None:
        self.cell = cell
        self.fields = fields
        self.name = name
        self.parent = parent
        self._shown: str | None = None

    @property
    def where(self) -> int:
        return file_offset(self.cell)

    @property
    def shown(self) -> str:
        """The key's path for messages, quoted; long paths keep their end."""
        if self._shown is None:
            names: list[str] = []
            node: KeyNode = self
            budget = MAX_SHOWN_PATH
            while node.parent is not None and budget > 0:
                names.append(node.name)
                budget -= len(node.name) + 1
                node = node.parent
            text = "\\".join(reversed(names))
            # repr() shows control characters, but the path separator stays a single backslash.
            quoted = repr(("...\\" if node.parent is not None else "") + text).replace("\\\\", "\\")
            self._shown = quoted if names else "(root)"
        return self._shown

    def field(self, name: str) -> int:
        return self.fields[_F[name]]


@dataclass
class Entry:
    child: int
    word: int | None  # lh hash or lf hint; None in li leaves
    signature: bytes
    leaf: int  # file offset of the leaf cell holding the entry


def check_tree(ctx: Context, root_cell: int) -> KeyNode | None:
    """Walk every key from the root; returns the root (None when it is unusable)."""
    root = _decode_key(
        ctx, root_cell, "root key offset in the base block", BASE_BLOCK.offset["root_cell"], None, "E-ROOT"
    )
    if root is None:
        return None
    stack: list[tuple[KeyNode, int]] = [(root, 0)]
    progress = ctx.progress
    progress.stage("checking keys", None, "keys")
    while stack:
        progress.advance()
        key, depth = stack.pop()
        if depth == MAX_DEPTH + 1:
            ctx.out.add(
                "W-NK-DEPTH",
                key.where,
                f"key {key.shown} lies deeper than {MAX_DEPTH} levels, where Windows stops checking",
            )
        if not key.fields:  # dropped while it waited; the cell was checked when it was decoded
            key.fields = NK.struct.unpack_from(ctx.buf, HBIN_BASE + key.cell + 4)
        _check_key(ctx, key)
        children = _check_subkeys(ctx, key)
        if key.parent is not None:
            key.fields = ()
        # Waiting keys keep only cell, name and parent: a million siblings must stay small.
        for child in children:
            child.fields = ()
        stack.extend((child, depth + 1) for child in reversed(children))
    return root


def _decode_key(
    ctx: Context, cell: int, what: Described, where: int | None, parent: KeyNode | None, code: str = "E-REF"
) -> KeyNode | None:
    """Claim and decode a key node; ``parent`` is None for the root."""
    got = ctx.claim(cell, NK_CELL, what, where, code)
    if got is None:
        return None
    at, length = got
    if length < NK.size:
        ctx.out.add(
            "E-NK-SIZE", at - 4, f"{describe(what)}: cell of {length + 4} bytes is too small for a 76-byte key node"
        )
        return None
    fields = NK.struct.unpack_from(ctx.buf, at)
    if fields[0] != NK_SIGNATURE:
        ctx.out.add(
            "E-ROOT" if parent is None else "E-NK-SIGNATURE",
            at - 4,
            f"{describe(what)}: expected a key node (nk), found {bytes(fields[0])!r}",
        )
        return None
    name_length = fields[_NK_NAME_LENGTH]
    if name_length == 0 or NK.size + name_length > length:
        ctx.out.add(
            "E-NK-NAME",
            at - 4,
            f"{describe(what)}: key name length {name_length} is zero or exceeds the cell ({length + 4} bytes)",
        )
        return None
    compressed = bool(fields[_NK_FLAGS] & KEY_COMP_NAME)
    raw = bytes(ctx.buf[at + NK.size : at + NK.size + name_length])
    name = decode_name(raw, compressed)
    key = KeyNode(cell, fields, name, parent)
    if not compressed and name_length % 2:
        ctx.out.add("W-NAME-ODD", at - 4, f"key {key.shown}: UTF-16 name has an odd length ({name_length} bytes)")
    if "\\" in name:
        ctx.out.add("E-NK-NAME-CHAR", at - 4, f"key name {name!r} contains a backslash, the path separator")
    if len(name) > MAX_KEY_NAME_CHARS:
        ctx.out.add(
            "W-NK-NAME-LONG",
            at - 4,
            f"key name of {len(name)} characters exceeds the {MAX_KEY_NAME_CHARS} Windows allows",
        )
    return key


# ----------------------------------------------------------------------------- one key
def _check_key(ctx: Context, key: KeyNode) -> None:
    security = key.fields[_NK_SECURITY]
    users = ctx.sk_users.get(security)
    if users is None:
        ctx.sk_users[security] = [1, key.where, key.shown]
    else:
        users[0] += 1
    _check_class(ctx, key)
    names, max_name, max_data = check_values(ctx, key)
    if key.fields[_NK_FLAGS] & KEY_SYM_LINK and (len(names) > 1 or any(upcase(n) != SYMLINK_VALUE for n in names)):
        ctx.out.add(
            "E-NK-SYMLINK",
            key.where,
            f"symbolic-link key {key.shown} holds {len(names)} values {names!r}; only one, named "
            f"SymbolicLinkValue, is allowed",
        )
    _check_maximum(ctx, key, "max_value_name", "largest value name", max_name)
    _check_maximum(ctx, key, "max_value_data", "largest value data", max_data)


def _check_maximum(ctx: Context, key: KeyNode, field: str, label: str, truth: int) -> None:
    # High-water marks: larger than the truth is normal, smaller misleads RegQueryInfoKey (4.4).
    stored = key.field(field)
    if stored < truth:
        ctx.out.add(
            "W-NK-MAXIMA", key.where, f"key {key.shown}: {label} field is {stored}, but the real maximum is {truth}"
        )


def _check_class(ctx: Context, key: KeyNode) -> None:
    length, cell = key.field("class_length"), key.field("class_cell")
    if length == 0:
        if cell not in (NIL, 0):
            ctx.mark_quietly(cell, CLASS)
        return
    if cell == NIL:
        ctx.out.add("E-NK-CLASS", key.where, f"key {key.shown} claims a {length}-byte class name but has no class cell")
        return
    got = ctx.claim(cell, CLASS, lambda: f"class name of key {key.shown}", key.where)
    if got is not None and length > got[1]:
        ctx.out.add(
            "E-NK-CLASS",
            key.where,
            f"key {key.shown}: class name of {length} bytes exceeds its cell ({got[1] + 4} bytes)",
        )


# ----------------------------------------------------------------------------- subkeys
def _check_subkeys(ctx: Context, key: KeyNode) -> list[KeyNode]:
    """Check the key's subkey list and decode the children it lists (section 5)."""
    count, list_cell = key.field("subkey_count"), key.field("subkeys")
    if count == 0:
        return []
    if list_cell == NIL:
        ctx.out.add("E-NK-SUBKEY-COUNT", key.where, f"key {key.shown} claims {count} subkeys but has no subkey list")
        return []
    entries = _read_list(ctx, list_cell, key)
    if len(entries) != count:
        ctx.out.add(
            "E-NK-SUBKEY-COUNT", key.where, f"key {key.shown} claims {count} subkeys, its list holds {len(entries)}"
        )
    children: list[KeyNode] = []
    previous: bytes | None = None
    max_name = max_class = 0
    for entry in entries:
        child = _decode_key(ctx, entry.child, lambda: f"subkey list entry of key {key.shown}", entry.leaf, key)
        if child is None:
            continue
        if child.fields[_NK_PARENT] != key.cell:
            ctx.out.add(
                "E-NK-PARENT",
                child.where,
                f"key {child.shown}: parent field is cell offset 0x{child.fields[_NK_PARENT]:x}, but the key is "
                f"listed by the key at cell offset 0x{key.cell:x}",
            )
        order = sort_key(child.name)
        # Windows binary-searches siblings and drops keys out of order (5.4).
        if previous is not None and order <= previous:
            code, how = (
                ("E-LIST-DUPLICATE", "has the same name as") if order == previous else ("E-LIST-ORDER", "sorts before")
            )
            ctx.out.add(
                code, entry.leaf, f"subkey {child.shown} {how} the sibling listed before it (Windows upcase order)"
            )
        previous = order
        _check_entry_word(ctx, entry, child)
        name_length = child.fields[_NK_NAME_LENGTH]
        max_name = max(max_name, 2 * name_length if child.fields[_NK_FLAGS] & KEY_COMP_NAME else name_length)
        max_class = max(max_class, child.fields[_NK_CLASS_LENGTH])
        children.append(child)
    _check_maximum(ctx, key, "max_subkey_name", "largest subkey name", max_name)
    _check_maximum(ctx, key, "max_subkey_class", "largest subkey class", max_class)
    return children


def _check_entry_word(ctx: Context, entry: Entry, child: KeyNode) -> None:
    if entry.signature == b"lh":
        expected = lh_hash(child.name)
        if entry.word != expected:
            ctx.out.add(
                "W-LIST-HASH",
                entry.leaf,
                f"lh entry of key {child.shown} has hash 0x{entry.word:08x}, expected 0x{expected:08x}",
            )
    elif entry.signature == b"lf":
        hint = lf_hint(child.name)
        stored = (entry.word or 0).to_bytes(4, "little")
        # A first byte of 0 means "no hint, compare the full name" (5.6); Windows zeroes the
        # whole hint (seen in a Windows 7 NTUSER.DAT), other writers only its first byte.
        if stored != hint and not (hint[0] == 0 and stored[0] == 0):
            ctx.out.add(
                "W-LIST-HINT", entry.leaf, f"lf entry of key {child.shown} has hint {stored!r}, expected {hint!r}"
            )


def _read_list(ctx: Context, cell: int, key: KeyNode) -> list[Entry]:
    got = ctx.claim(cell, SUBKEY_LIST, lambda: f"subkey list of key {key.shown}", key.where)
    if got is None:
        return []
    at, length = got
    if length < _LIST_HEAD.size:
        ctx.out.add("E-LIST-SIZE", at - 4, f"subkey list of key {key.shown}: cell too small for a list header")
        return []
    signature, count = _LIST_HEAD.unpack_from(ctx.buf, at)
    if signature in LEAF_SIGNATURES:
        return _leaf_entries(ctx, at, length, bytes(signature), count, key)
    if signature != INDEX_ROOT:
        ctx.out.add(
            "E-LIST-SIGNATURE",
            at - 4,
            f"subkey list of key {key.shown}: expected li, lf, lh or ri, found {bytes(signature)!r}",
        )
        return []
    if count == 0:
        ctx.out.add("E-LIST-EMPTY", at - 4, f"index root (ri) of key {key.shown} lists no leaves")
    if 4 + 4 * count > length:
        ctx.out.add(
            "E-LIST-SIZE", at - 4, f"ri of key {key.shown} claims {count} leaves, its cell holds {(length - 4) // 4}"
        )
        count = (length - 4) // 4
    entries: list[Entry] = []
    for leaf_cell in struct.unpack_from(f"<{count}I", ctx.buf, at + 4):
        if leaf_cell == cell:
            ctx.out.add("E-LIST-CYCLE", at - 4, f"ri of key {key.shown} lists itself as one of its leaves")
            continue
        leaf = ctx.claim(leaf_cell, SUBKEY_LIST, lambda: f"leaf of the ri of key {key.shown}", at - 4)
        if leaf is None:
            continue
        leaf_at, leaf_length = leaf
        if leaf_length < _LIST_HEAD.size:
            ctx.out.add("E-LIST-SIZE", leaf_at - 4, f"leaf of key {key.shown}: cell too small for a list header")
            continue
        leaf_signature, leaf_count = _LIST_HEAD.unpack_from(ctx.buf, leaf_at)
        if leaf_signature == INDEX_ROOT:
            ctx.out.add(
                "E-LIST-NESTING",
                leaf_at - 4,
                f"ri of key {key.shown} points at another ri; only leaves may follow an ri",
            )
        elif leaf_signature not in LEAF_SIGNATURES:
            ctx.out.add(
                "E-LIST-SIGNATURE",
                leaf_at - 4,
                f"leaf of key {key.shown}: expected li, lf or lh, found {bytes(leaf_signature)!r}",
            )
        else:
            entries.extend(_leaf_entries(ctx, leaf_at, leaf_length, bytes(leaf_signature), leaf_count, key))
    return entries


def _leaf_entries(ctx: Context, at: int, length: int, signature: bytes, count: int, key: KeyNode) -> list[Entry]:
    leaf = at - 4
    if count == 0:
        ctx.out.add("E-LIST-EMPTY", leaf, f"{signature.decode()} leaf of key {key.shown} has no entries")
        return []
    if signature == b"lh" and ctx.minor < 5 and not ctx.out.has("I-LIST-TYPE"):
        ctx.out.add("I-LIST-TYPE", leaf, f"hash leaves (lh) in a version 1.{ctx.minor} hive, where Windows writes lf")
    size = 4 if signature == b"li" else 8
    if 4 + size * count > length:
        ctx.out.add(
            "E-LIST-SIZE",
            leaf,
            f"{signature.decode()} leaf of key {key.shown} claims {count} entries, its cell holds "
            f"{(length - 4) // size}",
        )
        count = (length - 4) // size
    words = struct.unpack_from(f"<{count * size // 4}I", ctx.buf, at + 4)
    if size == 4:
        return [Entry(child, None, signature, leaf) for child in words]
    return [Entry(child, word, signature, leaf) for child, word in zip(words[0::2], words[1::2])]
