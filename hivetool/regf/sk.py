"""Security cells (``sk``): one shared, reference-counted ring (regf-format section 7)."""
from __future__ import annotations

import struct

from ..errors import HiveFormatError
from .bins import HBIN_BASE
from .cells import CellSpace
from .layout import Layout
from .nk import NK

SK = Layout(
    "KeySecurity",
    ("signature", "2s"),
    ("reserved", "H"),
    ("flink", "I"),
    ("blink", "I"),
    ("refcount", "I"),
    ("descriptor_size", "I"),
)
assert SK.size == 20
SK_SIGNATURE = b"sk"


def read_sk(space: CellSpace, cell: int, what: str = "security cell") -> tuple[tuple, int]:
    at, length = space.payload(cell, what)
    if length < SK.size:
        raise HiveFormatError("sk cell is too small for its header", at - 4)
    fields = SK.struct.unpack_from(space.buf, at)
    if fields[0] != SK_SIGNATURE:
        raise HiveFormatError(f"{what}: expected sk, found {bytes(fields[0])!r}", at)
    return fields, at


def descriptor(space: CellSpace, cell: int) -> bytes:
    fields, at = read_sk(space, cell)
    size = fields[5]
    return bytes(space.buf[at + SK.size : at + SK.size + size])


def add_reference(space: CellSpace, cell: int) -> None:
    fields, at = read_sk(space, cell)
    if fields[4] >= 0xFFFFFFFF:
        raise HiveFormatError("sk reference count would overflow", at)
    SK.write(space.buf, at, "refcount", fields[4] + 1)


def drop_reference(space: CellSpace, cell: int, user: int | None = None) -> None:
    """Decrement; at zero unlink the cell from the ring and free it (never store 0, P0 10).

    ``user`` is the nk that stops using the cell. A count that reaches zero while another key
    still points at the cell was too low (a damaged hive): the cell then stays, with count 1,
    since unlinking it would leave that key with a security cell outside the ring.
    """
    fields, at = read_sk(space, cell)
    count = fields[4]
    if count > 1:
        SK.write(space.buf, at, "refcount", count - 1)
        return
    flink, blink = fields[2], fields[3]
    if flink != cell:
        _, prev_at = read_sk(space, blink, "sk ring neighbour")
        _, next_at = read_sk(space, flink, "sk ring neighbour")
        links = (prev_at + SK.offset["flink"], next_at + SK.offset["blink"])
        if space.held_elsewhere(cell, links + _fields_of(user)):
            SK.write(space.buf, at, "refcount", 1)
            return
        SK.write(space.buf, prev_at, "flink", flink)
        SK.write(space.buf, next_at, "blink", blink)
        space.free(cell)
    else:
        # The last descriptor of a hive is never freed: the root key still needs one.
        SK.write(space.buf, at, "refcount", 1)


def _fields_of(user: int | None) -> tuple[int, ...]:
    """File position of the security field of the nk at cell offset ``user``."""
    if user is None:
        return ()
    return (HBIN_BASE + user + 4 + NK.offset["security"],)


def new_sk_payload(cell: int, descriptor_bytes: bytes, refcount: int = 1) -> bytes:
    return SK.pack(
        signature=SK_SIGNATURE,
        reserved=0,
        flink=cell,
        blink=cell,
        refcount=refcount,
        descriptor_size=len(descriptor_bytes),
    ) + descriptor_bytes


def is_valid_descriptor(sd: bytes) -> str | None:
    """Why a self-relative SECURITY_DESCRIPTOR is malformed, or None when it is sound."""
    if len(sd) < 20:
        return f"descriptor of {len(sd)} bytes is shorter than its 20-byte header"
    revision, _, control, owner, group, sacl, dacl = struct.unpack_from("<BBHIIII", sd, 0)
    if revision != 1:
        return f"descriptor revision {revision}, expected 1"
    if not control & 0x8000:
        return "descriptor is not self-relative (control bit 0x8000 clear)"
    for label, offset in (("owner", owner), ("group", group), ("SACL", sacl), ("DACL", dacl)):
        if offset and offset >= len(sd):
            return f"{label} offset {offset} lies outside the {len(sd)}-byte descriptor"
    return None


