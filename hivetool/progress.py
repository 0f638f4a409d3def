"""How far a long job has got, told by the loops that do the work.

The engine and the .reg code call :meth:`Progress.stage` and :meth:`Progress.advance`; what
a user sees is the command line's choice (a bar on a terminal, nothing otherwise). The base
class shows nothing and costs one method call per step, so library users pay nothing.
"""
from __future__ import annotations


class Progress:
    """Shows nothing; subclasses draw."""

    def stage(self, what: str, total: int | None = None, unit: str = "") -> None:
        """A new phase of the job: ``total`` steps of ``unit`` (None: not known in advance)."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current phase are done."""

    def close(self) -> None:
        """The job is over (or failed): take the display away."""


QUIET = Progress()
