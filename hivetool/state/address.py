"""Registry paths in state files: checked once when read, compared case-insensitively.

A state's paths are full registry paths (a state file is not tied to one hive), written with
the long or the short root names; they are kept with the long name and the rest as written,
so ``CurrentControlSet`` survives until a target resolves it and fixes for a live machine can
be written the way the state said them.
"""
from __future__ import annotations

from ..errors import UsageError
from ..paths import HKLM, HKU, normalize_path
from ..regf.records.names import check_key_name, check_value_name, upcase
from .values import DataProblem

CONTAINERS = (HKLM, HKU)  # they hold hives, not values: no item can be about them alone


def item_path(text: str, field: str = "path") -> str:
    """``text`` with the long root name; DataProblem (naming ``field``) when it is no key path."""
    try:
        logical = normalize_path(text)
    except UsageError as err:
        raise DataProblem(str(err), field) from None
    head, _, rest = logical.path.partition("\\")
    if not rest and head in CONTAINERS:
        raise DataProblem(f"{head} holds hives, not keys or values: name one, e.g. {head}\\"
                          + ("SOFTWARE" if head == HKLM else ".DEFAULT"), field)
    for part in rest.split("\\") if rest else ():
        problem = check_key_name(part)
        if problem:
            raise DataProblem(f"{logical.path}: {problem}", field)
    return logical.path


def value_name(text: str, field: str = "name") -> str:
    """``""`` and ``"@"`` are the default value, as in .reg files and ``hivetool get``."""
    name = "" if text == "@" else text
    problem = check_value_name(name)
    if problem:
        raise DataProblem(problem, field)
    return name


def text_address(path: str) -> tuple[str, tuple[str, ...]]:
    """(root, upcased names below it) of a normalised path: how items are compared."""
    head, _, rest = path.partition("\\")
    return head, tuple(upcase(part) for part in rest.split("\\")) if rest else ()


__all__ = ["item_path", "text_address", "value_name"]
