"""The .reg file that brings a running machine to a state, from the results of a check.

Only what was not ``ok`` is written, with each path as the state gives it: ``CurrentControlSet``
stays ``CurrentControlSet`` (on a running Windows it is the set in use; one line fixes what
the check found in either control set), root names are written long, as regedit writes them.
A missing value is set (its section line creates the key), a missing key gets a section of
its own, an unexpected key is ``[-KEY]``, an unexpected value ``"name"=-``, and the undeclared
content of an exact key is deleted piece by piece (deleting the whole key would also delete
what the state declares in it). Each fix appears once, however many places found it.

The ``ReservedPorts`` entry of ``[[ports]] reserve = true`` is left out, as ``hivetool ports
reg`` leaves it out: a .reg file can only replace a REG_MULTI_SZ whole, which would wipe the
reservations the running machine has and the offline hive does not show.
"""
from __future__ import annotations

from typing import Iterable

from ..regf.records.names import upcase
from ..regfile.emit import DIALECT_5, emit_patch
from ..regfile.patch import Patch
from .check import DIFFERS, MISSING, UNEXPECTED, ItemResult
from .model import ABSENT, EXACT, KEY, VALUE
from .ports_plan import RESERVE


def fix_reg(results: Iterable[ItemResult]) -> Patch:
    """A Patch that, imported, fixes every result that is not ok."""
    patch = Patch()
    done: set[tuple[object, ...]] = set()

    def once(*fact: object) -> bool:
        marker = tuple(upcase(part) if isinstance(part, str) else part for part in fact)
        if marker in done:
            return False
        done.add(marker)
        return True

    for result in results:
        if result.ok or result.setting == RESERVE:
            continue
        given, name, origin = result.given, result.name, result.origin
        if result.kind == VALUE and result.status in (MISSING, DIFFERS) and result.expected is not None:
            if once("value", given, name):
                patch.set_value(given, name or "", result.expected[0], result.expected[1], origin)
        elif result.kind == KEY and result.status == MISSING:
            if once("key", given):
                patch.create_key(given, origin)
        elif result.kind == ABSENT and result.status == UNEXPECTED:
            if name is None and once("-key", given):
                patch.delete_key(given, origin)
            elif name is not None and once("-value", given, name):
                patch.delete_value(given, name, origin)
        elif result.kind == EXACT:
            if result.status == MISSING and once("key", given):
                patch.create_key(given, origin)
            for extra in result.extras:
                inner = given + ("\\" + extra.relative if extra.relative else "")
                if extra.name is None and once("-key", inner):
                    patch.delete_key(inner, origin)
                elif extra.name is not None and once("-value", inner, extra.name):
                    patch.delete_value(inner, extra.name, origin)
    return patch


def fix_reg_bytes(results: Iterable[ItemResult], dialect: str = DIALECT_5, codepage: str = "cp1252") -> bytes:
    """:func:`fix_reg` as the bytes of a .reg file, laid out as regedit writes one (UTF-16LE
    with a BOM for 5.00)."""
    return emit_patch(fix_reg(results), dialect, False, codepage).finish()


__all__ = ["fix_reg", "fix_reg_bytes"]
