"""Security cells (``sk``) and the self-relative security descriptors they hold (regf-format
section 7). The cells form one ring per hive, each shared by the keys that point at it."""
from __future__ import annotations

import struct
from typing import Any, Sequence

from .problems import Described, HiveFinding, describe, problem
from .record import ReadBuffer, Record

SK_SIGNATURE = b"sk"
SK = Record(
    "KeySecurity",
    ("signature", "2s", SK_SIGNATURE),
    ("reserved", "H"),
    ("flink", "I"),  # the next sk of the ring (itself when it is the only one)
    ("blink", "I"),  # the previous one: compared with the ring, never followed
    ("refcount", "I"),  # the keys pointing here; never 0 on disk (P0 10)
    ("descriptor_size", "I"),  # the descriptor follows the 20 fixed bytes
)
assert SK.size == 20

SE_DACL_PRESENT = 0x0004
SE_SACL_PRESENT = 0x0010
SE_SELF_RELATIVE = 0x8000
MAX_SUB_AUTHORITIES = 15
ACL_REVISIONS = (2, 3, 4)  # ACL_REVISION .. ACL_REVISION_DS
# ACE types whose SID sits right after the 4-byte header and the 4-byte mask.
SIMPLE_SID_ACES = frozenset({0x00, 0x01, 0x02, 0x03, 0x09, 0x0A, 0x0D, 0x0E, 0x11, 0x12, 0x13, 0x14})
_DESCRIPTOR_HEAD = struct.Struct("<BBHIIII")  # revision, sbz1, control, owner, group, SACL, DACL
# A reader of the ring or of one key's descriptor can go on past a malformed descriptor.
READABLE = frozenset({"E-SK-DESCRIPTOR"})


def sk_problems(
    buf: ReadBuffer, at: int, length: int, what: Described, code: str = "E-SK-REF", where: int | None = None
) -> tuple[Any, bytes | None, Sequence[HiveFinding]]:
    """The security record whose payload (``length`` bytes) starts at file offset ``at``, its
    descriptor (None when its size does not fit the cell) and what is wrong with them; the
    record is None too when the cell is no sk at all.

    That is a fault of the pointer that led here (``code`` at the record ``where`` holding it,
    E-SK-REF from a key, E-SK-RING from the ring), since Windows tests the signature first.
    """
    if length < SK.size or buf[at : at + 2] != SK_SIGNATURE:
        return None, None, [problem(code, where, (f"{describe(what)} points at file offset 0x{at - 4:x}, which is "
                                                  "not a security cell (sk)"))]
    rec = SK.unpack(buf, at)
    size = rec.descriptor_size
    if size == 0 or SK.size + size > length:
        return rec, None, [problem("E-SK-DESCRIPTOR", at - 4,
                                   f"descriptor size {size} is zero or exceeds the cell ({length + 4} bytes)")]
    descriptor = bytes(buf[at + SK.size : at + SK.size + size])
    why = descriptor_problem(descriptor)
    return rec, descriptor, ([problem("E-SK-DESCRIPTOR", at - 4, why)] if why else ())


def descriptor_problem(sd: bytes) -> str | None:
    """Why a self-relative SECURITY_DESCRIPTOR is not structurally valid (what Windows checks
    of every descriptor in the ring when it loads a hive), or None."""
    if len(sd) < _DESCRIPTOR_HEAD.size:
        return f"descriptor of {len(sd)} bytes is shorter than its 20-byte header"
    revision, _, control, owner, group, sacl, dacl = _DESCRIPTOR_HEAD.unpack_from(sd, 0)
    if revision != 1:
        return f"descriptor revision {revision}, expected 1"
    if not control & SE_SELF_RELATIVE:
        return "descriptor is not self-relative (control bit 0x8000 clear)"
    for label, offset in (("owner", owner), ("group", group), ("SACL", sacl), ("DACL", dacl)):
        if offset and offset >= len(sd):
            return f"{label} offset {offset} lies outside the {len(sd)}-byte descriptor"
    for label, offset in (("owner", owner), ("group", group)):
        why = _sid_problem(sd, offset, len(sd)) if offset else None
        if why:
            return f"{label} SID: {why}"
    for label, offset, present in (("SACL", sacl, SE_SACL_PRESENT), ("DACL", dacl, SE_DACL_PRESENT)):
        why = _acl_problem(sd, offset) if offset and control & present else None
        if why:
            return f"{label}: {why}"
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
            why = _sid_problem(sd, ace + 8, ace + ace_size)
            if why:
                return f"SID of ACE {index}: {why}"
        ace += ace_size
    return None


def new_sk(cell: int, descriptor: bytes, refcount: int = 1) -> bytes:
    """A security cell alone in its ring (flink and blink point at itself), then its descriptor."""
    return SK.pack(flink=cell, blink=cell, refcount=refcount, descriptor_size=len(descriptor)) + descriptor
