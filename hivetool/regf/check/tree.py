"""Checker, part 2: the key tree (regf-format 4 and 5). Each key node and each subkey list is
checked by its record's own problem function; here are the rules between records: parents,
counts, sibling order, hashes and hints, the "largest" fields, symbolic links, depth.

The walk is iterative and every pointer goes through :meth:`Context.claim`, so cycles end and
each cell is read once. Each key name is decoded once, by its parent (which needs the child's
name for the order, hash and "largest name" checks) or, for the root, from the base block.
"""

from __future__ import annotations

from typing import Sequence

from ..records.base_block import BASE_BLOCK
from ..records.bins import HBIN_BASE
from ..records.cells import CLASS, NIL, NK_CELL
from ..records.lists import subkey_list_problems
from ..records.names import MAX_KEY_DEPTH, lf_hint, lh_hash, sort_key, upcase
from ..records.nk import KEY_COMP_NAME, KEY_SYM_LINK, NK, nk_problems
from ..records.problems import Described
from .context import CheckedKey, Context
from .values import check_values

MAX_DEPTH = MAX_KEY_DEPTH  # the Windows key check recurses at most this deep (regf-format 12.1)
_CHILD_FIELDS = NK.view("flags", "parent", "name_length", "class_length")  # what the parent checks
SYMLINK_VALUE = "SYMBOLICLINKVALUE"


# An entry of a subkey list: (child nk cell, lh hash or lf hint or None in li leaves, the leaf's
# signature, the leaf's file offset). Plain tuples: a big hive has hundreds of thousands.
Entry = tuple[int, int | None, bytes, int]


def check_tree(ctx: Context, root_cell: int) -> CheckedKey | None:
    """Walk every key from the root; returns the root (None when it is unusable)."""
    root = _decode_key(ctx, root_cell, "root key offset in the base block", BASE_BLOCK.offset["root_cell"], None,
                       "E-ROOT")
    if root is None:
        return None
    stack: list[tuple[CheckedKey, int]] = [(root, 0)]
    progress = ctx.progress
    progress.stage("checking keys", None, "keys")
    while stack:
        progress.advance()
        key, depth = stack.pop()
        if depth == MAX_DEPTH + 1:
            ctx.out.add("W-NK-DEPTH", key.where,
                        f"key {key.shown} lies deeper than {MAX_DEPTH} levels, where Windows stops checking")
        if not key.fields:  # dropped while it waited; the cell was checked when it was decoded
            key.fields = NK.unpack(ctx.buf, HBIN_BASE + key.cell + 4)
        _check_key(ctx, key)
        children = _check_subkeys(ctx, key)
        if key.parent is not None:
            key.fields = ()
        # Waiting keys keep only cell, name and parent: a million siblings must stay small.
        stack.extend((child, depth + 1) for child in reversed(children))
    return root


def _decode_key(
    ctx: Context, cell: int, what: Described, where: int | None, parent: CheckedKey | None, code: str = "E-REF"
) -> CheckedKey | None:
    """Claim and decode a key node; ``parent`` is None for the root."""
    got = ctx.claim(cell, what, NK_CELL, where, code)
    if got is None:
        return None
    at, length = got
    owner = parent.child_label if parent is not None else _root_label
    name, problems = nk_problems(ctx.buf, at, length, what, owner, "E-ROOT" if parent is None else "E-NK-SIGNATURE")
    if problems:  # nearly always empty: no call
        ctx.out.extend(problems)
    if name is None:
        return None
    # Its fields are read when its turn comes (check_tree): a million waiting siblings stay small.
    return CheckedKey(cell, (), name, parent)


def _root_label(name: str) -> str:
    return CheckedKey(-1, (), name, None).label


# ----------------------------------------------------------------------------- one key
def _check_key(ctx: Context, key: CheckedKey) -> None:
    fields = key.fields
    users = ctx.sk_users.get(fields.security)
    if users is None:
        ctx.sk_users[fields.security] = [1, key.where, key.shown]
    else:
        users[0] += 1
    _check_class(ctx, key)
    names, max_name, max_data = check_values(ctx, key)
    if fields.flags & KEY_SYM_LINK and (len(names) > 1 or any(upcase(n) != SYMLINK_VALUE for n in names)):
        ctx.out.add(
            "E-NK-SYMLINK",
            key.where,
            f"symbolic-link key {key.shown} holds {len(names)} values {names!r}; only one, named "
            f"SymbolicLinkValue, is allowed",
        )
    if fields.max_value_name < max_name or fields.max_value_data < max_data:
        _check_maximum(ctx, key, fields.max_value_name, "largest value name", max_name)
        _check_maximum(ctx, key, fields.max_value_data, "largest value data", max_data)


def _check_maximum(ctx: Context, key: CheckedKey, stored: int, label: str, truth: int) -> None:
    # High-water marks: larger than the truth is normal, smaller misleads RegQueryInfoKey (4.4).
    if stored < truth:
        ctx.out.add(
            "W-NK-MAXIMA", key.where, f"key {key.shown}: {label} field is {stored}, but the real maximum is {truth}"
        )


def _check_class(ctx: Context, key: CheckedKey) -> None:
    length, cell = key.fields.class_length, key.fields.class_cell
    if length == 0:
        if cell not in (NIL, 0):
            ctx.mark_quietly(cell, CLASS)
        return
    if cell == NIL:
        ctx.out.add("E-NK-CLASS", key.where, f"key {key.shown} claims a {length}-byte class name but has no class cell")
        return
    got = ctx.claim(cell, lambda: f"class name of key {key.shown}", CLASS, key.where)
    if got is not None and length > got[1]:
        ctx.out.add(
            "E-NK-CLASS",
            key.where,
            f"key {key.shown}: class name of {length} bytes exceeds its cell ({got[1] + 4} bytes)",
        )


# ----------------------------------------------------------------------------- subkeys
def _check_subkeys(ctx: Context, key: CheckedKey) -> list[CheckedKey]:
    """Check the key's subkey list and decode the children it lists (section 5)."""
    count, list_cell = key.fields.subkey_count, key.fields.subkeys
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
    children: list[CheckedKey] = []
    previous: bytes | None = None
    max_name = max_class = 0
    what = ("subkey list entry of", key.described)
    buf = ctx.buf
    for entry in entries:
        cell, word, signature, leaf = entry
        child = _decode_key(ctx, cell, what, leaf, key)
        if child is None:
            continue
        flags, parent, name_length, class_length = _CHILD_FIELDS(buf, HBIN_BASE + cell + 4)
        if parent != key.cell:
            ctx.out.add(
                "E-NK-PARENT",
                child.where,
                f"key {child.shown}: parent field is cell offset 0x{parent:x}, but the key is "
                f"listed by the key at cell offset 0x{key.cell:x}",
            )
        order = sort_key(child.name)
        # Windows binary-searches siblings and drops keys out of order (5.4).
        if previous is not None and order <= previous:
            code, how = (
                ("E-LIST-DUPLICATE", "has the same name as") if order == previous else ("E-LIST-ORDER", "sorts before")
            )
            ctx.out.add(
                code, leaf, f"subkey {child.shown} {how} the sibling listed before it (Windows upcase order)"
            )
        previous = order
        _check_entry_word(ctx, word, signature, leaf, child)
        name_size = 2 * name_length if flags & KEY_COMP_NAME else name_length
        if name_size > max_name:
            max_name = name_size
        if class_length > max_class:
            max_class = class_length
        children.append(child)
    if key.fields.max_subkey_name < max_name or key.fields.max_subkey_class < max_class:  # rare: then tell which
        _check_maximum(ctx, key, key.fields.max_subkey_name, "largest subkey name", max_name)
        _check_maximum(ctx, key, key.fields.max_subkey_class, "largest subkey class", max_class)
    return children


def _check_entry_word(ctx: Context, word: int | None, signature: bytes, leaf: int, child: CheckedKey) -> None:
    if signature == b"lh":
        expected = lh_hash(child.name)
        if word != expected:
            ctx.out.add(
                "W-LIST-HASH",
                leaf,
                f"lh entry of key {child.shown} has hash 0x{word:08x}, expected 0x{expected:08x}",
            )
    elif signature == b"lf":
        hint = lf_hint(child.name)
        stored = (word or 0).to_bytes(4, "little")
        # A first byte of 0 means "no hint, compare the full name" (5.6); Windows zeroes the
        # whole hint (seen in a Windows 7 NTUSER.DAT), other writers only its first byte.
        if stored != hint and not (hint[0] == 0 and stored[0] == 0):
            ctx.out.add(
                "W-LIST-HINT", leaf, f"lf entry of key {child.shown} has hint {stored!r}, expected {hint!r}"
            )


def _read_list(ctx: Context, cell: int, key: CheckedKey) -> list[Entry]:
    sublist, problems = subkey_list_problems(ctx.buf, cell, ctx.claim, key.described, key.where, ctx.minor)
    for found in problems:
        # Reported once per hive: the version says which leaf type Windows writes, not each leaf.
        if found.code != "I-LIST-TYPE" or not ctx.out.has("I-LIST-TYPE"):
            ctx.out.extend([found])
    if sublist is None:
        return []
    entries: list[Entry] = []
    for leaf in sublist.leaves:
        where = leaf.cell + HBIN_BASE
        words: Sequence[int | None] = leaf.keys or [None] * len(leaf.offsets)
        signature = leaf.signature
        entries.extend([(child, word, signature, where) for child, word in zip(leaf.offsets, words)])
    return entries
