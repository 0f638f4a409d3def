"""What a check finds, for every check in hivetool: a stable code, a level and one sentence.

The structural check of a hive (:mod:`hivetool.regf.check`) and the port rules of the profiles
(:mod:`hivetool.profiles.rules`) both report findings; each kind adds where it applies (a file
offset, or a setting and the article the rule rests on) in a subclass of :class:`Finding`.
"""
from __future__ import annotations

from typing import Final

from .slotted import Frozen


class Finding(Frozen):
    __slots__ = ("code", "level", "message")

    def __init__(self, code: str, level: str, message: str) -> None:
        self.code: Final = code  # stable, for scripts: E-NK-NAME, P-EPMAP
        self.level: Final = level  # error, warning, info or notice: what the CLI does with it
        self.message: Final = message  # one sentence, saying what is wrong and where
