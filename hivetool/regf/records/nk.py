"""Key nodes (``nk``, regf-format section 4)."""
from __future__ import annotations

from typing import Callable, Sequence

from .cells import NIL
from .names import MAX_KEY_NAME_CHARS, decode_name
from .problems import Described, HiveFinding, describe, problem
from .record import ReadBuffer, Record

NK_SIGNATURE = b"nk"
NK = Record(
    "KeyNode",
    ("signature", "2s", NK_SIGNATURE),
    ("flags", "H"),  # KEY_* below
    ("timestamp", "Q"),  # last written (FILETIME): when its values or subkey set last changed
    ("access_bits", "B"),
    ("layered_bits", "B"),
    ("spare", "H"),
    ("parent", "I", NIL),  # the key whose subkey list holds this one; NIL at the root
    ("subkey_count", "I"),
    ("volatile_subkey_count", "I"),  # in-memory only; files copied from a live system keep junk
    ("subkeys", "I", NIL),  # the subkey list (a leaf or an ri)
    ("volatile_subkeys", "I", NIL),
    ("value_count", "I"),  # with KEY_PREDEF_HANDLE: a predefined handle, not a count
    ("values", "I", NIL),  # the value list
    ("security", "I", NIL),  # the sk cell, shared and reference-counted
    ("class_cell", "I", NIL),
    # Only the low 16 bits are the largest-name field; the next two bytes are user/virtualisation
    # and debug flags that a writer must preserve (regf-format 4.1 trap).
    ("max_subkey_name", "H"),  # the "largest" fields count UTF-16 bytes, even for Latin-1 names
    ("user_flags", "B"),
    ("debug_flags", "B"),
    ("max_subkey_class", "I"),
    ("max_value_name", "I"),
    ("max_value_data", "I"),
    ("workvar", "I"),
    ("name_length", "H"),  # bytes as stored; the name follows the 76 fixed bytes
    ("class_length", "H"),
)
assert NK.size == 76

KEY_VOLATILE = 0x0001
KEY_HIVE_EXIT = 0x0002
KEY_HIVE_ENTRY = 0x0004
KEY_NO_DELETE = 0x0008
KEY_SYM_LINK = 0x0010
KEY_COMP_NAME = 0x0020  # the name is Latin-1 ("compressed"), else UTF-16LE
KEY_PREDEF_HANDLE = 0x0040
ROOT_FLAGS = KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME

_NAME_FIELDS = NK.view("signature", "flags", "name_length")
_SIZE = NK.size  # the fixed part; the name follows it


def nk_problems(
    buf: ReadBuffer, at: int, length: int, what: Described, owner: Callable[[str], str] | None = None,
    not_nk: str = "E-NK-SIGNATURE",
) -> tuple[str | None, Sequence[HiveFinding]]:
    """The name of the key node whose payload (``length`` bytes) starts at file offset ``at``,
    and what is wrong with the record; the name is None when it cannot be read.

    ``what`` names the pointer that led here, for the problems that keep the record from being
    read; ``owner(name)`` names the key ("key 'A\\B'") for those found in its name. A cell
    that is no key node at all is reported as ``not_nk`` (E-ROOT for the base block's pointer).
    """
    if length < _SIZE:
        return None, [problem("E-NK-SIZE", at - 4,
                              f"{describe(what)}: cell of {length + 4} bytes is too small for a 76-byte key node")]
    signature, flags, name_length = _NAME_FIELDS(buf, at)
    if signature != NK_SIGNATURE:
        return None, [problem(not_nk, at - 4,
                              f"{describe(what)}: expected a key node (nk), found {bytes(signature)!r}")]
    if name_length == 0 or _SIZE + name_length > length:
        return None, [problem("E-NK-NAME", at - 4, (f"{describe(what)}: key name length {name_length} is zero or "
                                                    f"exceeds the cell ({length + 4} bytes)"))]
    start = at + _SIZE
    compressed = flags & KEY_COMP_NAME
    if compressed:  # decode_name's Latin-1 case, inlined: this runs for every key a walk reads
        name = buf[start : start + name_length].decode("latin-1")
    else:
        name = decode_name(bytes(buf[start : start + name_length]), False)
    if (compressed or not name_length % 2) and "\\" not in name and len(name) <= MAX_KEY_NAME_CHARS:
        return name, ()  # nearly every key
    found = []
    if not compressed and name_length % 2:
        shown = owner(name) if owner else f"key {name!r}"
        found.append(problem("W-NAME-ODD", at - 4, f"{shown}: UTF-16 name has an odd length ({name_length} bytes)"))
    if "\\" in name:
        found.append(problem("E-NK-NAME-CHAR", at - 4, f"key name {name!r} contains a backslash, the path separator"))
    if len(name) > MAX_KEY_NAME_CHARS:
        found.append(problem("W-NK-NAME-LONG", at - 4, (f"key name of {len(name)} characters exceeds the "
                                                        f"{MAX_KEY_NAME_CHARS} Windows allows")))
    return name, found


def new_nk(name_bytes: bytes, compressed: bool, **fields: int) -> bytes:
    """A key node payload: the record (fields by name; a new key has no subkeys, values or
    class, and its "largest" fields start at 0), then its name."""
    flags = nk_flags(fields.pop("flags", 0), compressed)
    return NK.pack(flags=flags, name_length=len(name_bytes), **fields) + name_bytes


def nk_flags(flags: int, compressed: bool) -> int:
    """``flags`` as a key node whose name is stored ``compressed`` (Latin-1) or not holds them."""
    return (flags & ~KEY_COMP_NAME) | (KEY_COMP_NAME if compressed else 0)
