"""Security cells in an edited hive: reading one, and counting the keys that share it
(regf-format section 7: one ring, each cell reference-counted, never freed while used)."""
from __future__ import annotations

from typing import Any

from ...errors import HiveFormatError
from ..records.bins import HBIN_BASE
from ..records.nk import NK
from ..records.problems import raise_first
from ..records.sk import READABLE, SK, sk_problems
from .space import CellSpace


def read_sk(space: CellSpace, cell: int, what: str = "security cell") -> tuple[Any, int]:
    """The sk record at ``cell`` and the file offset of its payload; raises when the pointer or
    the cell is no security cell (a malformed descriptor is the checker's to report)."""
    at, length = space.payload(cell, what)
    rec, _, problems = sk_problems(space.buf, at, length, what, "E-SK-REF", at - 4)
    raise_first(problems, READABLE)
    return rec, at


def descriptor(space: CellSpace, cell: int) -> bytes:
    """The descriptor bytes of the sk at ``cell``, as far as its size field and cell reach."""
    rec, at = read_sk(space, cell)
    return bytes(space.buf[at + SK.size : at + SK.size + rec.descriptor_size])


def add_reference(space: CellSpace, cell: int) -> None:
    rec, at = read_sk(space, cell)
    if rec.refcount >= 0xFFFFFFFF:
        raise HiveFormatError("sk reference count would overflow", at)
    SK.write(space.buf, at, "refcount", rec.refcount + 1)


def drop_reference(space: CellSpace, cell: int, user: int | None = None) -> None:
    """Decrement; at zero unlink the cell from the ring and free it (never store 0, P0 10).

    ``user`` is the nk that stops using the cell. A count that reaches zero while another key
    still points at the cell was too low (a damaged hive): the cell then stays, with count 1,
    since unlinking it would leave that key with a security cell outside the ring.
    """
    rec, at = read_sk(space, cell)
    if rec.refcount > 1:
        SK.write(space.buf, at, "refcount", rec.refcount - 1)
        return
    flink, blink = rec.flink, rec.blink
    if flink != cell:
        _, prev_at = read_sk(space, blink, "sk ring neighbour")
        _, next_at = read_sk(space, flink, "sk ring neighbour")
        links = (prev_at + SK.offset["flink"], next_at + SK.offset["blink"])
        if space.held_elsewhere(cell, links + _security_field_of(user)):
            SK.write(space.buf, at, "refcount", 1)
            return
        SK.write(space.buf, prev_at, "flink", flink)
        SK.write(space.buf, next_at, "blink", blink)
        space.free(cell)
    else:
        # The last descriptor of a hive is never freed: the root key still needs one.
        SK.write(space.buf, at, "refcount", 1)


def _security_field_of(user: int | None) -> tuple[int, ...]:
    """File position of the security field of the nk at cell offset ``user``."""
    if user is None:
        return ()
    return (HBIN_BASE + user + 4 + NK.offset["security"],)
