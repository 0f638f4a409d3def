"""Key nodes (``nk``, regf-format section 4)."""
from __future__ import annotations

from ..errors import HiveFormatError
from .layout import Layout
from .names import decode_name

NK = Layout(
    "KeyNode",
    ("signature", "2s"),
    ("flags", "H"),
    ("timestamp", "Q"),
    ("access_bits", "B"),
    ("layered_bits", "B"),
    ("spare", "H"),
    ("parent", "I"),
    ("subkey_count", "I"),
    ("volatile_subkey_count", "I"),
    ("subkeys", "I"),
    ("volatile_subkeys", "I"),
    ("value_count", "I"),
    ("values", "I"),
    ("security", "I"),
    ("class_cell", "I"),
    # Only the low 16 bits are the largest-name field; the next two bytes are user/virtualisation
    # and debug flags that a writer must preserve (regf-format 4.1 trap).
    ("max_subkey_name", "H"),
    ("user_flags", "B"),
    ("debug_flags", "B"),
    ("max_subkey_class", "I"),
    ("max_value_name", "I"),
    ("max_value_data", "I"),
    ("workvar", "I"),
    ("name_length", "H"),
    ("class_length", "H"),
)
assert NK.size == 76
NK_SIGNATURE = b"nk"
NIL = 0xFFFFFFFF

KEY_VOLATILE = 0x0001
KEY_HIVE_EXIT = 0x0002
KEY_HIVE_ENTRY = 0x0004
KEY_NO_DELETE = 0x0008
KEY_SYM_LINK = 0x0010
KEY_COMP_NAME = 0x0020
KEY_PREDEF_HANDLE = 0x0040
ROOT_FLAGS = KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME

I_FLAGS = NK.fields.index("flags")
I_TIMESTAMP = NK.fields.index("timestamp")
I_PARENT = NK.fields.index("parent")
I_SUBKEY_COUNT = NK.fields.index("subkey_count")
I_SUBKEYS = NK.fields.index("subkeys")
I_VALUE_COUNT = NK.fields.index("value_count")
I_VALUES = NK.fields.index("values")
I_SECURITY = NK.fields.index("security")
I_NAME_LENGTH = NK.fields.index("name_length")
I_CLASS_CELL = NK.fields.index("class_cell")
I_CLASS_LENGTH = NK.fields.index("class_length")
I_MAX_SUBKEY_NAME = NK.fields.index("max_subkey_name")
I_MAX_VALUE_NAME = NK.fields.index("max_value_name")
I_MAX_VALUE_DATA = NK.fields.index("max_value_data")


def decode_nk(buf: bytes | bytearray, at: int, length: int, cell: int) -> tuple[tuple, str]:
    """The fixed fields and the name of the nk whose payload starts at file offset ``at``."""
    if length < NK.size:
        raise HiveFormatError(f"nk cell of {length} bytes is smaller than the 76-byte key node", at - 4)
    fields = NK.struct.unpack_from(buf, at)
    if fields[0] != NK_SIGNATURE:
        raise HiveFormatError(f"expected a key node (nk) at cell 0x{cell:x}, found {bytes(fields[0])!r}", at)
    name_length = fields[I_NAME_LENGTH]
    if name_length == 0 or NK.size + name_length > length:
        raise HiveFormatError(
            f"nk name length {name_length} is zero or exceeds the cell size {length + 4}", at - 4
        )
    raw = bytes(buf[at + NK.size : at + NK.size + name_length])
    return fields, decode_name(raw, bool(fields[I_FLAGS] & KEY_COMP_NAME))


def new_nk_payload(
    name_bytes: bytes, compressed: bool, parent: int, security: int, timestamp: int, flags: int = 0
) -> bytes:
    """A new key node: no subkeys, values or class; the "largest" fields start at 0."""
    return NK.struct.pack(
        NK_SIGNATURE, flags | (KEY_COMP_NAME if compressed else 0), timestamp, 0, 0, 0, parent,
        0, 0, NIL, NIL, 0, NIL, security, NIL, 0, 0, 0, 0, 0, 0, 0, len(name_bytes), 0,
    ) + name_bytes
