"""What a check finds, for every check in hivetool: a stable code, a level and one sentence.

The structural check of a hive (:mod:`hivetool.regf.check`) and the port rules of the profiles
(:mod:`hivetool.profiles.rules`) both report findings; each kind adds where it applies (a file
offset, or a setting and the article the rule rests on) in a subclass of :class:`Finding`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    code: str  # stable, for scripts: E-NK-NAME, P-EPMAP
    level: str  # error, warning, info or notice: what the CLI does with it
    message: str  # one sentence, saying what is wrong and where
