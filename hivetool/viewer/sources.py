"""The targets a viewer serves: each TARGET named on the command line, in one or two states.

A dirty hive reads one way as stored and another with its transaction logs replayed (as
Windows would load it); the viewer shows both, so each target has a :class:`State` per way of
reading it, opened on first use. Only these targets are ever opened: a request chooses one by
its role (``main`` or ``compare``), never by a path.

Hives are not safe to read from two threads at once (lazy caches, a mapped file that a
replay turns into a copy), so each state has a lock that every request holds while it reads.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import HivetoolError
from ..image.target import HiveTarget, OpenOptions, Slot, Target, open_target
from ..regf.hive import Hive
from ..regf.hive.files import find_logs

MAIN, COMPARE = "main", "compare"


def readable(target: Target) -> tuple[list[tuple[Slot, Hive]], list[str]]:
    """The hives of ``target`` that open, and why the others do not. A hive file that cannot be
    read is an error; in an image, one damaged hive must not hide the others."""
    if isinstance(target, HiveTarget):
        return [(target.slot, target.hive)], []
    found, problems = [], []
    for slot in target.slots():
        try:
            hive = target.open(slot)
            hive.root  # noqa: B018 - a hive whose root key cannot be read opens, yet shows nothing
            found.append((slot, hive))
        except HivetoolError as err:
            problems.append(f"{slot.mount or slot.shown}: {err}")
    return found, problems


@dataclass
class State:
    """One target read one way: as stored, or through its transaction logs."""

    target: Target
    replayed: bool
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Results that take a walk of every key (timeline, recovery), kept for the next request.
    cache: dict[str, Any] = field(default_factory=dict)

    def cached(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self.cache:
            self.cache[name] = make()
        return self.cache[name]


class Source:
    """One TARGET of the command line (a hive file, an image folder or ``FILE.wim:INDEX``)."""

    def __init__(self, role: str, text: str, user: str | None = None) -> None:
        self.role = role
        self.text = text
        self.user = user
        self._states: dict[bool, State] = {}
        self._opening = threading.Lock()

    def state(self, replayed: bool) -> State:
        """The target read as stored, or with its logs replayed; opened once, on first use."""
        with self._opening:
            found = self._states.get(replayed)
            if found is None:
                options = OpenOptions(replay_logs=replayed, user=self.user)
                found = self._states[replayed] = State(open_target(self.text, options), replayed)
            return found

    def open_all(self, replayed: bool) -> list[str]:
        """Open the state and every hive in it now, so that a malformed hive file is reported
        when the viewer starts rather than in the middle of a request. Returns what could not
        be read of an image (the rest is shown)."""
        state = self.state(replayed)
        with state.lock:
            return readable(state.target)[1]

    def describe(self, replayed: bool) -> dict[str, Any]:
        """What the page says about the target: its kind, its hives and whether any is dirty
        (a dirty hive with logs beside it is what makes the replay toggle appear)."""
        state = self.state(replayed)
        with state.lock:
            target = state.target
            hives = []
            opened, problems = readable(target)
            for slot, hive in opened:
                logs = [log.name for log in find_logs(slot.local)]
                hives.append({
                    "mount": slot.mount, "file": slot.shown, "role": slot.role, "version": hive.version,
                    "dirty": hive.dirty, "sequence": list(hive.sequence_numbers), "logs": logs,
                    "replayed": hive.modified_by_replay, "notes": list(slot.notes), "skipped": list(slot.skipped),
                })
            document: dict[str, Any] = {
                "role": self.role, "target": self.text, "kind": target.kind, "replayed": replayed, "hives": hives,
                "replayable": any(h["dirty"] and h["logs"] for h in hives), "problems": problems,
            }
            if isinstance(target, HiveTarget):
                root = target.hive.root
                document["root_name"] = root.name
                document["mount"] = _mount_of(target)
            return document

    def close(self) -> None:
        with self._opening:
            for state in self._states.values():
                with state.lock:
                    state.target.close()
            self._states.clear()


def _mount_of(target: HiveTarget) -> str | None:
    """Where the hive would be mounted in a registry, when that can be told (shown beside the
    tree; pasted full paths such as ``HKLM\\SYSTEM\\...`` need it)."""
    from ..errors import HivetoolError

    try:
        return target.mount()
    except HivetoolError:
        return None


class Sources:
    """The targets of one viewer: ``main``, and ``compare`` with ``--compare``."""

    def __init__(self, main: Source, compare: Source | None = None) -> None:
        self.main = main
        self.compare = compare

    def get(self, role: str) -> Source:
        if role == MAIN:
            return self.main
        if role == COMPARE and self.compare is not None:
            return self.compare
        from ..errors import UsageError

        raise UsageError(f"no target {role!r}: this viewer serves {', '.join(self.roles())}")

    def roles(self) -> list[str]:
        return [MAIN] + ([COMPARE] if self.compare is not None else [])

    def close(self) -> None:
        self.main.close()
        if self.compare is not None:
            self.compare.close()


__all__ = ["COMPARE", "MAIN", "Source", "Sources", "State", "readable"]
