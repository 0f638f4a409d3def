"""A target: what a command works on, seen as one logical registry.

Every command resolves its KEY arguments here, through :meth:`Target.locate`, so that
``CurrentControlSet``, ``HKCU``, ``HKCR`` and the root names mean the same in every command and
for every kind of target:

* :class:`HiveTarget`: one hive file. KEY is a path inside the hive, or a full registry path
  below the hive's root (``HKLM\\SYSTEM\\...`` on a SYSTEM hive).
* :class:`ImageTarget`: a Windows image (a folder or ``FILE.wim:INDEX``). KEY is a full
  registry path, mapped to the hive that holds it (:mod:`.mapping`).

Hives open lazily, each once. Writing goes through :meth:`Target.commit`: every changed hive
is staged and synced before any replaces its file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import KeyNotFound, UsageError
from ..inputs import DEFAULT_WAIT
from ..paths import (
    CURRENT_CONTROL_SET, ControlSetChoice, PathMapper, infer_root, is_logical, read_control_set, select_control_sets,
)
from ..progress import Progress
from ..regf.hive import Hive
from ..regf.records.names import upcase
from ..slotted import Slotted
from ..timeutil import Clock


class OpenOptions(Slotted):
    """How a command opens the hives of its target."""

    __slots__ = ("clock", "replay_logs", "log_paths", "for_update", "wait", "control_set_mode", "root", "user",
                 "progress", "open_hive")

    def __init__(self, clock: Clock | None = None, replay_logs: bool = False, log_paths: tuple[str, ...] = (),
                 for_update: bool = False, wait: float = DEFAULT_WAIT, control_set_mode: str | int = "auto",
                 root: str | None = None, user: str | None = None, progress: Progress | None = None,
                 open_hive: Callable[[Path, Clock | None], Hive] | None = None) -> None:
        self.clock = clock
        self.replay_logs = replay_logs
        self.log_paths = log_paths
        self.for_update = for_update  # an in-place edit: exclusive locks until the end
        self.wait = wait
        self.control_set_mode = control_set_mode  # where writes through CurrentControlSet go
        self.root = root  # --root for a single hive
        self.user = user  # --user: whose profile HKCU is
        self.progress = progress
        # Opens a hive file instead of Hive.open: --salvage passes the damaged-hive reader of the
        # forensics layer this way (that layer sits above this one and may not be imported here).
        self.open_hive = open_hive


class Slot(Slotted):
    """One hive of a target: the registry path it is mounted at and its file."""

    __slots__ = ("mount", "shown", "local", "role", "relative", "hive", "notes", "skipped")

    def __init__(self, mount: str | None, shown: str, local: Path, role: str = "", relative: str = "",
                 hive: Hive | None = None, notes: list[str] | None = None, skipped: list[str] | None = None) -> None:
        self.mount = mount  # None until known (a single hive's root is inferred when first needed)
        self.shown = shown  # how messages name it: the file, or the image-relative path
        self.local = local  # the file to read
        self.role = role
        self.relative = relative  # stored path below an image's root
        self.hive = hive
        self.notes: list[str] = [] if notes is None else notes  # what opening it reported (replay)
        self.skipped: list[str] = [] if skipped is None else skipped

    @property
    def mounted_at(self) -> str:
        """``mount``, for a slot whose mount is known: every hive of an image (a single hive's
        is inferred when first needed, by :meth:`HiveTarget.mount`)."""
        if self.mount is None:
            raise ValueError(f"{self.shown}: where the hive is mounted is not known yet")
        return self.mount


class Location(Slotted):
    """Where a registry path lands: a hive and the path inside it."""

    __slots__ = ("slot", "path")

    def __init__(self, slot: Slot, path: str) -> None:
        self.slot = slot
        self.path = path  # hive-relative ('' = the hive's root key)

    @property
    def hive(self) -> Hive:
        assert self.slot.hive is not None
        return self.slot.hive

    @property
    def logical(self) -> str:
        mount = self.slot.mount or ""
        if not mount:
            return self.path
        return mount + ("\\" + self.path if self.path else "")


class Target:
    """The common part of a hive file and an image."""

    kind = ""

    def __init__(self, options: OpenOptions) -> None:
        self.options = options
        self.warnings: list[str] = []
        self.control_set_choice: ControlSetChoice | None = None

    # ------------------------------------------------------------------ hives
    def slots(self) -> list[Slot]:
        raise NotImplementedError

    def open(self, slot: Slot) -> Hive:
        """The slot's hive, opened once: through its logs with --replay-logs, locked for
        update with --in-place."""
        if slot.hive is not None:
            return slot.hive
        options = self.options
        if options.open_hive is not None:
            hive = options.open_hive(slot.local, options.clock)
        elif options.replay_logs or options.log_paths:
            from ..regf.logs import open_replayed

            hive, report = open_replayed(slot.local, options.clock, list(options.log_paths) or None,
                                         for_update=options.for_update, wait=options.wait,
                                         progress=options.progress or _quiet())
            slot.skipped.extend(report.skipped)
            if report.applied_anything:
                slot.notes.append(report.summary())
        else:
            hive = Hive.open(slot.local, options.clock, for_update=options.for_update, wait=options.wait)
        hive.path = str(slot.local)
        slot.hive = hive
        return hive

    def opened(self) -> list[Slot]:
        return [slot for slot in self.slots() if slot.hive is not None]

    def changed(self) -> list[Slot]:
        """The hives a commit writes: edited, or recovered from their logs."""
        return [slot for slot in self.opened() if slot.hive is not None and
                (slot.hive.modified or slot.hive.modified_by_replay)]

    def close(self) -> None:
        for slot in self.opened():
            if slot.hive is not None:  # opened() lists only these; the test is for the type checker
                slot.hive.close()

    # ------------------------------------------------------------------ paths
    def locate(self, path: str, write: bool = False) -> list[Location]:
        """Where ``path`` lands: one location to read; one or more to write (CurrentControlSet
        may stand for two control sets)."""
        raise NotImplementedError

    def _control_sets(self, hive: Hive, write: bool) -> ControlSetChoice:
        choice = select_control_sets(hive, self.options.control_set_mode) if write else read_control_set(hive)
        if self.control_set_choice is None:
            self.control_set_choice = choice
            self.warnings.extend(choice.warnings)
        return choice

    def _expand_control_set(self, slot: Slot, path: str, write: bool) -> list[Location]:
        """A path in a SYSTEM hive whose first name is CurrentControlSet, expanded."""
        hive = self.open(slot)
        head, sep, rest = path.partition("\\")
        if upcase(head) != upcase(CURRENT_CONTROL_SET) or not _is_system(hive):
            return [Location(slot, path)]
        choice = self._control_sets(hive, write)
        return [Location(slot, name + sep + rest) for name in choice.sets]


def _is_system(hive: Hive) -> bool:
    """A SYSTEM hive: CurrentControlSet is a link that exists only on a running system."""
    try:
        hive.root.subkey("Select")
    except KeyNotFound:
        return False
    return True


def _quiet() -> Progress:
    from ..progress import QUIET

    return QUIET


class HiveTarget(Target):
    """One hive file."""

    kind = "hive"

    def __init__(self, path: str, options: OpenOptions) -> None:
        super().__init__(options)
        self.path = path
        self.slot = Slot(None, path, Path(path))

    def slots(self) -> list[Slot]:
        return [self.slot]

    @property
    def hive(self) -> Hive:
        return self.open(self.slot)

    def mount(self) -> str:
        """The registry path the hive is mounted at (--root, else inferred; UsageError if not)."""
        if self.slot.mount is None:
            choice = infer_root(self.hive, self.path, self.options.root)
            self.slot.mount = choice.root
            self.root_reason = choice.reason
        return self.slot.mount

    def locate(self, path: str, write: bool = False) -> list[Location]:
        if path and is_logical(path):
            mapper = PathMapper(self.hive, self.mount(), self.options.control_set_mode if write else "read")
            found = [Location(self.slot, relative) for relative in mapper.map(path)]
            if mapper.control_set_choice is not None and self.control_set_choice is None:
                self.control_set_choice = mapper.control_set_choice
                self.warnings.extend(mapper.control_set_choice.warnings)
            return found
        return self._expand_control_set(self.slot, path.strip("\\"), write)


def open_target(text: str, options: OpenOptions) -> Target:
    """The target a TARGET argument names (see :mod:`.spec`)."""
    from .spec import HIVE, parse_target

    spec = parse_target(text)
    if spec.kind == HIVE:
        if options.user is not None:
            raise UsageError("user= names a user of an image; a single hive file has no users to choose from")
        return HiveTarget(text, options)
    from .image import ImageTarget

    return ImageTarget(spec, options)


__all__ = ["HiveTarget", "Location", "OpenOptions", "Slot", "Target", "open_target"]
