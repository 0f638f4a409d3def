"""Checker, part 4: security cells (regf-format section 7).

Windows resolves the root key's ``sk`` at load time and walks the ring from there,
validating every descriptor; a broken ring or a malformed descriptor fails the load
(P0 report 01). Each key must point at an ``sk`` of that ring, and each ``sk``'s reference
count must equal the number of keys pointing at it: too low and Windows may free a
descriptor still in use, too high only leaks it. Each sk's own problems (is it one, does its
descriptor hold together) come from :func:`~..records.sk.sk_problems`.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from ...errors import HiveFormatError
from ..records.bins import file_offset
from ..records.cells import SK_CELL
from ..records.problems import HiveFinding
from ..records.sk import sk_problems
from .context import CheckedKey, Context


class _Sk(NamedTuple):
    rec: Any  # the sk record
    at: int  # file offset of its payload
    descriptor: bytes | None  # None when its size does not fit the cell
    problems: Sequence[HiveFinding]  # of the descriptor, reported in ring order


def check_security(ctx: Context, root: CheckedKey) -> None:
    ring = _walk_ring(ctx, root)
    descriptors: dict[bytes, int] = {}
    checked: dict[int, _Sk | None] = {}
    sk: _Sk | None
    for cell, sk in ring.items():
        checked[cell] = sk
        _check_descriptor(ctx, cell, sk, descriptors)
    for cell, (users, where, shown) in ctx.sk_users.items():
        if cell in ring:
            continue
        sk = _read_sk(ctx, cell, f"security cell of key {shown}", where, "E-SK-REF")
        checked[cell] = sk
        if sk is None:
            if users > 1:
                ctx.out.add("E-SK-REF", where, f"... and {users - 1} more keys use the same security pointer")
            continue
        ctx.out.add(
            "E-SK-RING",
            file_offset(cell),
            f"security cell used by {users} key(s) (first: {shown}) is not in the ring that starts at the root "
            "key's security cell",
        )
        _check_descriptor(ctx, cell, sk, descriptors)
    for cell, sk in checked.items():
        if sk is not None:
            _check_refcount(ctx, cell, sk.rec.refcount, ctx.sk_users.get(cell, [0])[0])


def _read_sk(ctx: Context, cell: int, what: str, where: int | None, code: str) -> _Sk | None:
    try:
        at, length = ctx.space.payload(cell, f"{what} (cell offset 0x{cell:x})")
    except HiveFormatError as err:
        ctx.out.add(code, where, err.detail)
        return None
    # The signature first: a pointer at a cell of another kind is a bad sk pointer.
    rec, descriptor, problems = sk_problems(ctx.buf, at, length, what, code, where)
    if rec is None:
        ctx.out.extend(problems)
        return None
    if ctx.claim(cell, what, SK_CELL, where, code) is None:
        return None
    return _Sk(rec, at, descriptor, problems)


def _walk_ring(ctx: Context, root: CheckedKey) -> dict[int, _Sk]:
    """The sk cells met following flink from the root key's sk, in order."""
    start = root.fields.security
    first = _read_sk(ctx, start, "security cell of the root key", root.where, "E-SK-REF")
    if first is None:
        return {}
    ring = {start: first}
    cell, sk = start, first
    while True:
        following = sk.rec.flink
        if following == start:
            break
        if following in ring:
            ctx.out.add(
                "E-SK-RING",
                sk.at - 4,
                f"flink leads to the security cell at 0x{file_offset(following):x} a second time without "
                "returning to the root key's: the ring is broken",
            )
            return ring
        step = _read_sk(ctx, following, "flink of the security cell", sk.at - 4, "E-SK-RING")
        if step is None:
            return ring
        if step.rec.blink != cell:
            ctx.out.add(
                "E-SK-RING",
                step.at - 4,
                f"blink is 0x{step.rec.blink:x}, but the previous security cell in the ring is 0x{cell:x}",
            )
        ring[following] = step
        cell, sk = following, step
    if ring[start].rec.blink != cell:
        ctx.out.add(
            "E-SK-RING",
            file_offset(start),
            f"blink of the root key's security cell is 0x{ring[start].rec.blink:x}, but the ring ends at 0x{cell:x}",
        )
    return ring


def _check_refcount(ctx: Context, cell: int, stored: int, users: int) -> None:
    where = file_offset(cell)
    if stored < users:
        ctx.out.add(
            "E-SK-REFCOUNT", where, f"reference count {stored} is lower than the {users} keys using this security cell"
        )
    elif stored > users:
        ctx.out.add(
            "W-SK-REFCOUNT", where, f"reference count {stored} is higher than the {users} keys using this security cell"
        )
    elif stored == 0:
        # A zero count loads, but Windows 11 bugchecks if it is referenced again (P0 10).
        ctx.out.add("W-SK-REFCOUNT", where, "reference count is 0 (a security cell no key uses is still in the ring)")


def _check_descriptor(ctx: Context, cell: int, sk: _Sk, seen: dict[bytes, int]) -> None:
    ctx.out.extend(sk.problems)
    if sk.descriptor is None:
        return
    first = seen.setdefault(sk.descriptor, cell)
    if first != cell:
        ctx.out.add("I-SK-DUPLICATE", sk.at - 4, f"same descriptor as the security cell at 0x{file_offset(first):x}")
