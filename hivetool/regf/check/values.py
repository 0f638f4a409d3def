"""Checker, part 3: a key's values (regf-format 6 and 8). The value list, each vk and each
value's data are checked by their records' problem functions; here are the rules between
them: a list the key claims, duplicate names, and the sizes the key's "largest" fields need.

Loops run over what the value list cell holds, not over the key's value count, so a count of
2**32-1 costs nothing.
"""

from __future__ import annotations

from typing import Callable

from ..records.bins import HBIN_BASE
from ..records.cells import NIL, VK_CELL
from ..records.data import data_problems
from ..records.lists import value_list_problems
from ..records.names import upcase
from ..records.nk import KEY_PREDEF_HANDLE
from ..records.problems import Described
from ..records.vk import VALUE_COMP_NAME, vk_problems
from .context import CheckedKey, Context


def check_values(ctx: Context, key: CheckedKey) -> tuple[list[str], int, int]:
    """Value names, and the largest name (UTF-16 bytes) and data size found."""
    fields = key.fields
    count, list_cell = fields.value_count, fields.values
    if count == 0 or fields.flags & KEY_PREDEF_HANDLE:
        return [], 0, 0
    if list_cell == NIL:
        ctx.out.add("E-VALUE-LIST", key.where, f"key {key.shown} claims {count} values but has no value list")
        return [], 0, 0
    cells, problems = value_list_problems(ctx.buf, list_cell, count, ctx.claim, key.described, key.where)
    if problems:  # nearly always empty: no call
        ctx.out.extend(problems)
    if cells is None:
        return [], 0, 0
    names: list[str] = []
    seen: set[str] = set()
    max_name = max_data = 0
    # How messages name what is wrong, made once per key (and into text only for a message).
    label = key.described
    described = (("value list entry of", label), ("value of", label), key.value_label)
    where = list_cell + HBIN_BASE  # file_offset, inlined
    for vk_cell in cells:
        value = _check_value(ctx, vk_cell, where, described)
        if value is None:
            continue
        name, name_size, data_size, vk_at = value
        folded = upcase(name)
        if folded in seen:
            ctx.out.add(
                "E-VK-DUPLICATE", vk_at, f"key {key.shown} has two values named {name!r} (names are case-insensitive)"
            )
        seen.add(folded)
        names.append(name)
        max_name = max(max_name, name_size)
        max_data = max(max_data, data_size)
    return names, max_name, max_data


def _check_value(ctx: Context, cell: int, where: int, described: tuple[Described, Described, Callable[[str], str]]
                 ) -> tuple[str, int, int, int] | None:
    entry, record, owner = described
    got = ctx.claim(cell, entry, VK_CELL, where)
    if got is None:
        return None
    at, length = got
    name, fields, problems = vk_problems(ctx.buf, at, length, record, owner)
    if problems:  # nearly always empty: no call
        ctx.out.extend(problems)
    if name is None:
        return None
    _, name_length, size_field, data_field, value_type, flags = fields  # vk.READ_FIELDS
    _, problems = data_problems(ctx.buf, size_field, data_field, value_type, ctx.minor, at - 4, ctx.claim,
                                (owner, name))
    if problems:  # nearly always empty: no call
        ctx.out.extend(problems)
    # The "largest value name" field counts UTF-16 bytes even for compressed names (4.4).
    name_size = 2 * name_length if flags & VALUE_COMP_NAME else name_length
    return name, name_size, size_field & 0x7FFFFFFF, at - 4
