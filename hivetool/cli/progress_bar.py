"""A progress bar on standard error, for work that takes more than a couple of seconds.

tqdm draws it. It is imported only when a bar is about to appear (a job still running after
``DELAY`` seconds, with standard error on a terminal), so quick commands and commands whose
standard error is a file or a pipe never pay for the import (about 40-80 ms here).
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any

from ..progress import QUIET, Progress

DELAY = 2.0  # seconds of work before a bar appears; HIVETOOL_PROGRESS_DELAY overrides (tests)
_CHECK_EVERY = 256  # steps between looks at the clock while no bar is shown
_shown: "TerminalProgress | None" = None  # the bar on screen, cleared before any message


def clear_for_message() -> None:
    """Erase the bar from its line so a message printed now gets a line of its own; the bar
    draws itself again at its next update."""
    if _shown is not None and _shown.bar is not None:
        _shown.bar.clear()


class TerminalProgress(Progress):
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.bar: Any = None  # a tqdm bar, once shown (tqdm has no type information)
        self.total: int | None = None
        self.what, self.unit = "", ""
        self.started = time.monotonic()
        self.done = 0
        self.pending = 0

    def stage(self, what: str, total: int | None = None, unit: str = "") -> None:
        self._hide()
        self.what, self.total, self.unit, self.done, self.pending = what, total, unit, 0, 0
        if self.delay <= 0:
            self._show()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self.bar is not None:
            self.bar.update(steps)
            if self.total is not None and self.done >= self.total:
                self._hide()  # the stage is over: what is printed next must not share its line
            return
        self.pending += steps
        if self.pending >= _CHECK_EVERY or self.delay <= 0:
            self.pending = 0
            if time.monotonic() - self.started >= self.delay:
                self._show()

    def _show(self) -> None:
        from tqdm import tqdm

        global _shown
        _shown = self
        self.bar = tqdm(total=self.total, initial=self.done, desc=self.what, unit=" " + (self.unit or "steps"),
                        file=sys.stderr, leave=False, dynamic_ncols=True, unit_scale=self.unit == "B")

    def _hide(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        global _shown
        self._hide()
        if _shown is self:
            _shown = None


def progress_for_terminal() -> Progress:
    """A bar when standard error is a terminal, else the silent default."""
    try:
        if not sys.stderr.isatty():
            return QUIET
    except (AttributeError, ValueError):
        return QUIET
    try:
        delay = float(os.environ.get("HIVETOOL_PROGRESS_DELAY", DELAY))
    except ValueError:
        delay = DELAY
    return TerminalProgress(delay)
