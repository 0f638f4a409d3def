"""What a state means for one target: entries, each one fact at one place in one hive.

An item becomes one entry per place a write would go (``CurrentControlSet`` with
``--control-set auto`` may be two control sets); a ``[[ports]]`` item one entry per setting and
control set. Checking and applying work on entries only, so both see exactly the same places.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..image.target import Location, Target
from ..profiles.plan import Plan as ProfilePlan
from ..regfile.patch import Origin
from .model import Item


@dataclass
class Entry:
    item: Item
    kind: str  # VALUE, KEY, ABSENT or EXACT, after the fold over places (an ABSENT may become EXACT)
    location: Location  # the hive and the path inside it
    given: str  # the path as the state says it (CurrentControlSet kept): fixes are written with it
    name: str | None  # the value name ('' default); None for a key
    expected: tuple[int, bytes] | None  # VALUE: type and bytes
    seq: int
    origin: Origin  # the item's, or for a ports entry its setting's
    setting: str | None = None  # ports entries: the setting (``reserve`` for ReservedPorts)

    @property
    def path(self) -> str:
        """The logical path of the key compared or changed (``HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\...``)."""
        return self.location.logical


@dataclass
class StatePlan:
    """A state mapped onto a target; nothing in the target has changed."""

    target: Target
    entries: list[Entry] = field(default_factory=list)
    foreign: list[tuple[Item, str]] = field(default_factory=list)  # skipped, and why
    ports: list[tuple[Item, ProfilePlan]] = field(default_factory=list)  # for reports: OS, findings
    warnings: list[str] = field(default_factory=list)


__all__ = ["Entry", "StatePlan"]
