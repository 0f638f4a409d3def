"""Checker, part 4: security cells (regf-format section 7).

Windows resolves the root key's ``sk`` at load time and walks the ring from there,
validating every descriptor; a broken ring or a malformed descriptor fails the load
(P0 report 01). Each key must point at an ``sk`` of that ring, and each ``sk``'s reference
count must equal the number of keys pointing at it: too low and Windows may free a
descriptor still in use, too high only leaks it.
"""

from __future__ import annotations

import struct

from ..errors import HiveFormatError
from .bins import file_offset
from .check_space import SK_CELL, Context
from .check_tree import KeyNode
from .sk import SK, SK_SIGNATURE, is_valid_descriptor

SE_DACL_PRESENT = 0x0004
SE_SACL_PRESENT = 0x0010
MAX_SUB_AUTHORITIES = 15
ACL_REVISIONS = (2, 3, 4)  # ACL_REVISION .. ACL_REVISION_DS
# ACE types whose SID sits right after the 4-byte header and the 4-byte mask.
SIMPLE_SID_ACES = frozenset({0x00, 0x01, 0x02, 0x03, 0x09, 0x0A, 0x0D, 0x0E, 0x11, 0x12, 0x13, 0x14})
_I_FLINK, _I_BLINK, _I_REFCOUNT, _I_SD_SIZE = 2, 3, 4, 5


def check_security(ctx: Context, root: KeyNode) -> None:
    ring = _walk_ring(ctx, root)
    descriptors: dict[bytes, int] = {}
    checked: dict[int, tuple | None] = {}
    for cell, (fields, at, length) in ring.items():
        checked[cell] = fields
        _check_descriptor(ctx, cell, fields, at, length, descriptors)
    for cell, (users, where, shown) in ctx.sk_users.items():
        if cell in ring:
            continue
        sk = _read_sk(ctx, cell, f"security cell of key {shown}", where, "E-SK-REF")
        checked[cell] = None if sk is None else sk[0]
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
        _check_descriptor(ctx, cell, *sk, descriptors)
    for cell, fields in checked.items():
        if fields is not None:
            _check_refcount(ctx, cell, fields[_I_REFCOUNT], ctx.sk_users.get(cell, [0])[0])


def _read_sk(ctx: Context, cell: int, what: str, where: int | None, code: str) -> tuple[tuple, int, int] | None:
    try:
        at, length = ctx.space.payload(cell, f"{what} (cell offset 0x{cell:x})")
    except HiveFormatError as err:
        ctx.out.add(code, where, err.detail)
        return None
    # The signature first: a pointer at a cell of another kind is a bad sk pointer.
    if length < SK.size or ctx.buf[at : at + 2] != SK_SIGNATURE:
        ctx.out.add(code, where, f"{what} points at file offset 0x{at - 4:x}, which is not a security cell (sk)")
        return None
    if ctx.claim(cell, SK_CELL, what, where, code) is None:
        return None
    return SK.struct.unpack_from(ctx.buf, at), at, length


def _walk_ring(ctx: Context, root: KeyNode) -> dict[int, tuple[tuple, int, int]]:
    """The sk cells met following flink from the root key's sk, in order."""
    start = root.field("security")
    first = _read_sk(ctx, start, "security cell of the root key", root.where, "E-SK-REF")
    if first is None:
        return {}
    ring = {start: first}
    cell, (fields, at, _) = start, first
    while True:
        following = fields[_I_FLINK]
        if following == start:
            break
        if following in ring:
            ctx.out.add(
                "E-SK-RING",
                at - 4,
                f"flink leads to the security cell at 0x{file_offset(following):x} a second time without "
                "returning to the root key's: the ring is broken",
            )
            return ring
        step = _read_sk(ctx, following, "flink of the security cell", at - 4, "E-SK-RING")
        if step is None:
            return ring
        if step[0][_I_BLINK] != cell:
            ctx.out.add(
                "E-SK-RING",
                step[1] - 4,
                f"blink is 0x{step[0][_I_BLINK]:x}, but the previous security cell in the ring is 0x{cell:x}",
            )
        ring[following] = step
        cell, (fields, at, _) = following, step
    if ring[start][0][_I_BLINK] != cell:
        ctx.out.add(
            "E-SK-RING",
            file_offset(start),
            f"blink of the root key's security cell is 0x{ring[start][0][_I_BLINK]:x}, but the ring ends at 0x{cell:x}",
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


def _check_descriptor(ctx: Context, cell: int, fields: tuple, at: int, length: int, seen: dict[bytes, int]) -> None:
    size = fields[_I_SD_SIZE]
    where = at - 4
    if size == 0 or SK.size + size > length:
        ctx.out.add(
            "E-SK-DESCRIPTOR", where, f"descriptor size {size} is zero or exceeds the cell ({length + 4} bytes)"
        )
        return
    sd = bytes(ctx.buf[at + SK.size : at + SK.size + size])
    problem = descriptor_problem(sd)
    if problem:
        ctx.out.add("E-SK-DESCRIPTOR", where, problem)
    first = seen.setdefault(sd, cell)
    if first != cell:
        ctx.out.add("I-SK-DUPLICATE", where, f"same descriptor as the security cell at 0x{file_offset(first):x}")


def descriptor_problem(sd: bytes) -> str | None:
    """Why a self-relative SECURITY_DESCRIPTOR is not structurally valid, or None."""
    problem = is_valid_descriptor(sd)
    if problem:
        return problem
    _, _, control, owner, group, sacl, dacl = struct.unpack_from("<BBHIIII", sd, 0)
    for label, offset in (("owner", owner), ("group", group)):
        if offset:
            problem = _sid_problem(sd, offset, len(sd))
            if problem:
                return f"{label} SID: {problem}"
    for label, offset, present in (("SACL", sacl, SE_SACL_PRESENT), ("DACL", dacl, SE_DACL_PRESENT)):
        if offset and control & present:
            problem = _acl_problem(sd, offset)
            if problem:
                return f"{label}: {problem}"
    return None


def _sid_problem(buf: bytes, at: int, end: int) -> str | None:
    if at + 8 > end:
        return f"at offset {at} does not fit"
    revision, count = buf[at], buf[at + 1]
    if revision != 1:
        return f"revision {revision}, expected 1"
    if count > MAX_SUB_AUTHORITIES:
        return f"{count} sub-authorities, at most {MAX_SUB_AUTHORITIES} allowed"
    if at + 8 + 4 * count > end:
        return f"{count} sub-authorities do not fit"
    return None


def _acl_problem(sd: bytes, at: int) -> str | None:
    if at + 8 > len(sd):
        return f"header at offset {at} does not fit the descriptor"
    revision, _, size, count, _ = struct.unpack_from("<BBHHH", sd, at)
    if revision not in ACL_REVISIONS:
        return f"revision {revision}, expected 2 to 4"
    if size < 8 or at + size > len(sd):
        return f"size {size} does not fit the descriptor"
    end = at + size
    ace = at + 8
    for index in range(count):
        if ace + 4 > end:
            return f"ACE {index} of {count} lies outside the ACL"
        ace_type, _, ace_size = struct.unpack_from("<BBH", sd, ace)
        if ace_size < 4 or ace + ace_size > end:
            return f"ACE {index} has size {ace_size}, which does not fit the ACL"
        if ace_type in SIMPLE_SID_ACES:
            problem = _sid_problem(sd, ace + 8, ace + ace_size)
            if problem:
                return f"SID of ACE {index}: {problem}"
        ace += ace_size
    return None
