"""Small record classes made without :mod:`dataclasses`.

Every ``hivetool`` command imports about a dozen record classes (findings, paths, targets)
before it reads a byte of a hive. ``@dataclass`` writes each class's methods as source text
and compiles them at import: 3 million instructions a class, about 7 ms of every process,
as much as the whole work of a ``set``. These classes name their fields in ``__slots__`` and
write their ``__init__`` by hand (compiled once, into the .pyc); :class:`Slotted` gives them
a repr and equality over those fields, :class:`Frozen` a hash as well, for records that
nothing changes once made (their fields are ``Final``, which the type check holds to).
"""
from __future__ import annotations

from typing import Any, ClassVar


class Slotted:
    """Equality and a repr over the fields named in ``__slots__`` (base classes' first)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._fields = cls._fields + tuple(cls.__dict__.get("__slots__", ()))

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slotted) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if not name.startswith("_"))
        return f"{type(self).__qualname__}({shown})"


class Frozen(Slotted):
    """A :class:`Slotted` record that is never changed once made, so it can be hashed."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._values())
