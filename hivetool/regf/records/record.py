"""Declaring a fixed-size record once, and reading and writing its fields by name.

A :class:`Record` is built from ``(name, struct code[, default])`` entries in file order, and
everything else about the record comes from that one declaration, the way fontTools drives a
table's ``decompile`` and ``compile`` from one format string:

* ``unpack(buf, at)`` gives a named tuple (``rec.flags``); ``pack(flags=...)`` gives the bytes,
  every field not named taking its declared default (the signature, zeros, NIL pointers);
* ``read`` and ``write`` get or set one field in place, by name, and ``offset[name]`` says where
  it is (for a pointer's position, or an error's file offset);
* ``view("a", "b")`` is the fast path for hot loops: a struct compiled from the declaration
  that unpacks only those fields and skips the rest as padding, so a walk over 100,000 keys
  builds only the numbers it uses (about three times faster than unpacking the whole record).

All records are little-endian. Unknown or reserved bytes are declared as fields too, so a
record read and packed again is the same bytes (STYLE principle 2).
"""
from __future__ import annotations

import struct
from collections import namedtuple
from typing import TYPE_CHECKING, Any, Callable, Union

if TYPE_CHECKING:
    import mmap

# What records are read from: a file's bytes, or a whole hive image (see HiveImage).
ReadBuffer = Union[bytes, bytearray, "mmap.mmap"]
# A whole hive file in memory: read into a bytearray, or (a big file) mapped copy-on-write.
HiveImage = Union[bytearray, "mmap.mmap"]

View = Callable[[Any, int], tuple[Any, ...]]  # (buffer, offset) -> the chosen fields, in file order
_new_tuple = tuple.__new__


class Record:
    """One record layout; see the module docstring."""

    def __init__(self, name: str, *fields: tuple[str, str] | tuple[str, str, Any]) -> None:
        self.name = name
        self.fields: tuple[str, ...] = tuple(spec[0] for spec in fields)
        self.codes: dict[str, str] = {spec[0]: spec[1] for spec in fields}
        self.defaults: dict[str, Any] = {spec[0]: _default(*spec) for spec in fields}
        self.offset: dict[str, int] = {}
        self._one: dict[str, struct.Struct] = {}
        at = 0
        for field, code in self.codes.items():
            self.offset[field] = at
            self._one[field] = struct.Struct("<" + code)
            at += self._one[field].size
        self.struct = struct.Struct("<" + "".join(self.codes.values()))
        self.size = self.struct.size
        self.signature: bytes | None = self.defaults.get("signature")
        # Tuple, pack and pack_into are made when first used (see __getattr__): building them
        # for every record at import would slow every command's start for the few that use them.

    # The class of what unpack returns: a tuple whose fields have the declared names.
    Tuple: Any

    def __getattr__(self, name: str) -> Any:
        if name == "Tuple":
            self.Tuple = namedtuple(self.name, self.fields)  # type: ignore[misc]
            return self.Tuple
        if name in ("pack", "pack_into"):
            self.pack, self.pack_into = _packers(self)
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<Record {self.name}: {self.size} bytes, {', '.join(self.fields)}>"

    # ------------------------------------------------------------------ reading
    def unpack(self, buf: Any, at: int = 0) -> Any:
        """Every field of the record at ``at``, as a named tuple."""
        return _new_tuple(self.Tuple, self.struct.unpack_from(buf, at))

    def read(self, buf: Any, at: int, field: str) -> Any:
        """One field of the record at ``at``."""
        return self._one[field].unpack_from(buf, at + self.offset[field])[0]

    def view(self, *fields: str) -> View:
        """A function ``(buf, at) -> tuple`` of just ``fields`` (given in file order)."""
        wanted = set(fields)
        unknown = wanted - set(self.fields)
        if unknown or list(fields) != [f for f in self.fields if f in wanted]:
            raise ValueError(f"{self.name}.view{fields}: name fields of the record, in file order")
        codes, skip = [], 0
        for field in self.fields:
            if field in wanted:
                if skip:
                    codes.append(f"{skip}x")
                    skip = 0
                codes.append(self.codes[field])
            else:
                skip += self._one[field].size
        return struct.Struct("<" + "".join(codes)).unpack_from  # trailing fields are not read

    # ------------------------------------------------------------------ writing
    # pack(**fields) -> bytes, and pack_into(buf, at, record=None, /, **fields): the record's
    # bytes, a field not named taking its declared default; pack_into writes a whole record
    # (e.g. from unpack, perhaps changed with _replace) or fields by name. Both are made for
    # each record from its declaration (see _packers), so naming fields costs no more than
    # passing them in order.
    pack: Callable[..., bytes]
    pack_into: Callable[..., None]

    def write(self, buf: HiveImage, at: int, field: str, value: Any) -> None:
        """Change one field of the record at ``at`` in place."""
        self._one[field].pack_into(buf, at + self.offset[field], value)


def _packers(record: Record) -> tuple[Callable[..., bytes], Callable[..., None]]:
    """``pack`` and ``pack_into`` for ``record``, as functions whose keyword-only parameters are
    its fields with their declared defaults: Python binds the names (and refuses unknown ones)
    itself, as fast as a positional call."""
    params = ", ".join(f"{field}=_defaults[{i}]" for i, field in enumerate(record.fields))
    args = ", ".join(record.fields)
    source = (
        f"def pack(*, {params}):\n"
        f"    return _pack({args})\n"
        f"def pack_into(buf, at, record=None, /, *, {params}):\n"
        f"    if record is not None:\n"
        f"        return _pack_into(buf, at, *record)\n"
        f"    return _pack_into(buf, at, {args})\n"
    )
    namespace: dict[str, Any] = {"_defaults": tuple(record.defaults.values()), "_pack": record.struct.pack,
                                 "_pack_into": record.struct.pack_into}
    exec(compile(source, f"<record {record.name}>", "exec"), namespace)
    pack, pack_into = namespace["pack"], namespace["pack_into"]
    pack.__doc__ = f"The bytes of a {record.name}; a field not named takes its declared default."
    pack_into.__doc__ = f"Write a {record.name} at ``at``: a whole record, or fields by name."
    return pack, pack_into


def _default(field: str, code: str, default: Any = None) -> Any:
    """Zero bytes for a byte string, 0 for a number, unless the declaration says otherwise."""
    if default is not None:
        return default
    return bytes(struct.calcsize("<" + code)) if code.endswith("s") else 0
