"""What is wrong with a record, said once for every reader of it.

Each record module has one function that lists a record's problems as :class:`HiveFinding`
objects (code, level, message, file offset). Its three users differ only in what they do with
the list: the engine's decoders raise the first problem they cannot read past
(:func:`raise_first`, a :class:`~hivetool.errors.HiveFormatError` with the file offset), the
checker reports them all, and compaction raises the first one it cannot rewrite faithfully.

A problem function is told what the record is (``what``: "subkey list entry of key 'A'") so its
messages say where without the caller rebuilding them; ``what`` may be a function, so that the
description of the hundreds of thousands of sound records in a big hive is never built.
"""
from __future__ import annotations

from typing import Any, Callable, Collection, Final, Iterable, TypeVar, Union

from ...errors import HiveFormatError
from ...findings import Finding
from .check_codes import level_of

# What a record or pointer is, for messages: a string; or, made into one only when a message
# needs it (the descriptions of the millions of sound records of a big hive are never built),
# a function of no arguments, a pair (prefix, Described), or a pair (function, its argument).
Described = Union[str, Callable[[], str], "tuple[str, Described]", "tuple[Callable[[Any], str], Any]"]
_T = TypeVar("_T")


def nk_at(where: int) -> str:
    """How the engine names a key in messages: ``the nk at file offset 0x2020``. As ``(nk_at,
    where)`` it is a Described that is formatted only when a message needs it."""
    return f"the nk at file offset 0x{where:x}"


def value_named(name: str) -> str:
    """``value 'Port'``; as ``(value_named, name)`` a Described formatted only when needed."""
    return f"value {name!r}"


def describe(what: Described) -> str:
    if isinstance(what, str):
        return what
    if isinstance(what, tuple):
        head, tail = what
        return f"{head} {describe(tail)}" if isinstance(head, str) else head(tail)
    return what()


class HiveFinding(Finding):
    """A finding in a hive file; ``file_offset`` is None where no place can be named."""

    __slots__ = ("file_offset",)

    def __init__(self, code: str, level: str, message: str, file_offset: int | None) -> None:
        super().__init__(code, level, message)
        self.file_offset: Final = file_offset

    def line(self) -> str:
        """``error  E-CELL-SIZE  0x1a020  cell size 12 is not a multiple of 8``."""
        where = "-" if self.file_offset is None else f"0x{self.file_offset:x}"
        return f"{self.level}  {self.code}  {where}  {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level, "offset": self.file_offset, "message": self.message}

    def error(self) -> HiveFormatError:
        return HiveFormatError(self.message, self.file_offset)


def problem(code: str, file_offset: int | None, message: str) -> HiveFinding:
    """A finding whose level follows from its code (see :mod:`.check_codes`)."""
    return HiveFinding(code, level_of(code), message, file_offset)


def raise_first(problems: Iterable[HiveFinding], tolerated: Collection[str] = ()) -> None:
    """Raise the first problem whose code is not ``tolerated``."""
    for found in problems:
        if found.code not in tolerated:
            raise found.error()


def required(result: _T | None, problems: Iterable[HiveFinding], tolerated: Collection[str] = ()) -> _T:
    """``result``, once no problem but the ``tolerated`` ones is there; raise the first other.
    (A problem function returns None only together with the problem that explains it.)"""
    raise_first(problems, tolerated)
    if result is None:
        raise HiveFormatError("a record cannot be read, for a reason its check did not name")
    return result
