"""Values (``vk``), regf-format section 6.1. Where their data lives is :mod:`.data`."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .cells import NIL
from .names import decode_name
from .problems import Described, HiveFinding, describe, problem
from .record import ReadBuffer, Record

VK_SIGNATURE = b"vk"
VK = Record(
    "KeyValue",
    ("signature", "2s", VK_SIGNATURE),
    ("name_length", "H"),  # bytes as stored; 0 is the default value
    ("data_size", "I"),  # bit 31 set: the data (at most 4 bytes) is in the next field itself
    ("data", "I", NIL),  # the data cell (a db record for big data), or the inline bytes
    ("type", "I"),  # any 32-bit number; RegType names the usual ones
    ("flags", "H"),  # VALUE_COMP_NAME
    ("spare", "H"),  # garbage in many real hives: ignored, kept
)
assert VK.size == 20
VALUE_COMP_NAME = 0x0001  # the name is Latin-1 ("compressed"), else UTF-16LE

# What readers take from a value record, read with its name by vk_problems in one unpack: the
# record's fields in file order, without the spare field.
READ_FIELDS = ("signature", "name_length", "data_size", "data", "type", "flags")
READ = VK.view(*READ_FIELDS)
_SIZE = VK.size  # the fixed part; the name follows it


def vk_problems(
    buf: ReadBuffer, at: int, length: int, what: Described, owner: Callable[[str], str] | None = None
) -> tuple[str | None, tuple[Any, ...], Sequence[HiveFinding]]:
    """The value record whose payload (``length`` bytes) starts at file offset ``at``: its name
    (None when it cannot be read), its :data:`READ_FIELDS` (``()`` when the cell is too small),
    and what is wrong with it.

    ``what`` names the value before its name is known ("value of key 'A'"); ``owner(name)``
    once it is ("value 'x' of key 'A'"). The data is checked by :func:`.data.data_problems`.
    """
    if length < _SIZE:
        return None, (), [problem("E-VK-SIZE", at - 4,
                                  f"{describe(what)}: cell of {length + 4} bytes is too small for a value record")]
    fields = READ(buf, at)
    signature, name_length, _, _, _, flags = fields
    if signature != VK_SIGNATURE:
        return None, fields, [problem("E-VK-SIGNATURE", at - 4,
                                      f"{describe(what)}: expected a value record (vk), found {bytes(signature)!r}")]
    if _SIZE + name_length > length:
        return None, fields, [problem("E-VK-NAME", at - 4, (f"{describe(what)}: name length {name_length} exceeds "
                                                            f"the cell ({length + 4} bytes)"))]
    start = at + _SIZE
    if flags & VALUE_COMP_NAME:
        # decode_name's Latin-1 case, inlined: this runs for every value a walk reads.
        return buf[start : start + name_length].decode("latin-1"), fields, ()
    name = decode_name(bytes(buf[start : start + name_length]), False)
    if not name_length % 2:
        return name, fields, ()
    shown = owner(name) if owner else f"value {name!r}"
    return name, fields, [problem("W-NAME-ODD", at - 4, f"{shown}: UTF-16 name has an odd length ({name_length} bytes)")]


def new_vk(name_bytes: bytes, compressed: bool, **fields: int) -> bytes:
    """A value record payload (fields by name), then its name. The default value (empty name)
    has flags 0, as Windows writes it (6.1)."""
    flags = vk_flags(fields.pop("flags", 0), compressed, name_bytes)
    return VK.pack(name_length=len(name_bytes), flags=flags, **fields) + name_bytes


def vk_flags(flags: int, compressed: bool, name_bytes: bytes) -> int:
    """``flags`` as a value record whose name ``name_bytes`` is stored ``compressed`` (Latin-1)
    or not holds them: the compressed bit only with a name (6.1)."""
    flags &= ~VALUE_COMP_NAME
    if compressed and name_bytes:
        flags |= VALUE_COMP_NAME
    return flags
