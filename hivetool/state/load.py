"""Loading state files, in order, into one :class:`~.model.DesiredState`.

A file is a .reg file when its name ends in ``.reg`` or it starts like one (a UTF-16
byte-order mark, ``Windows Registry Editor``, ``REGEDIT``); otherwise it is TOML. ``-`` is
standard input. The items of all files are folded with the rules of :mod:`.fold` (a later
file wins), and the ``[[ports]]`` items of one profile are merged into one request
(:func:`.ports_load.merge`), placed where its latest surviving setting was declared.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import replace
from pathlib import Path
from typing import AbstractSet, Iterable

from ..fileio import STDOUT, read_stream_input
from ..profiles import catalog
from ..regf.records.names import upcase
from .address import text_address
from .fold import C_ABSENT_KEY, C_ABSENT_VALUE, C_EXACT, C_KEY, C_VALUE, Claim, fold
from .model import EXACT, KEY, PORTS, VALUE, DesiredState, Item, PortSetting
from .ports_load import merge, setting_path
from .regstate import load_reg
from .tomlfile import load_toml


def is_reg_file(path: str, data: bytes | bytearray) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in (".reg", ".toml"):
        return suffix == ".reg"
    head = bytes(data[:64])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith((b"Windows Registry Editor", b"REGEDIT"))


def load_states(paths: Iterable[str | os.PathLike[str]], encoding: str | None = None) -> DesiredState:
    """Read each state file (TOML or .reg) and fold them, later files winning.

    ``encoding`` is the code page of .reg files without a byte-order mark, as ``import
    --encoding``; TOML is always UTF-8. Errors: StateError or RegFileError (exit 3, with
    ``file:line``), HiveIOError (exit 6) for a file that cannot be read."""
    counter = itertools.count()

    def next_seq() -> int:
        return next(counter)

    state = DesiredState()
    items: list[Item] = []
    section_keys: set[int] = set()
    for given in paths:
        path = os.fspath(given)
        shown = "<stdin>" if path == STDOUT else path
        data = read_stream_input(path, "state file")
        state.sources.append(shown)
        if is_reg_file(path, data):
            found, warnings, sections = load_reg(data, shown, encoding, next_seq)
            section_keys |= sections
        else:
            found, warnings = load_toml(data, shown, next_seq)
        if not found:
            warnings = [*warnings, f"{shown}: declares nothing"]
        items.extend(found)
        state.warnings.extend(warnings)
    state.items = fold_items(items, section_keys)
    return state


def _claims(items: list[Item], section_keys: AbstractSet[int]) -> list[Claim]:
    claims = []
    for item in items:
        if item.kind == PORTS and item.ports is not None:
            profile = catalog.profile(item.ports.profile)
            for setting in item.ports.settings:
                entry = profile.setting(setting.name)
                scope, parts = text_address(setting_path(profile, entry))
                claims.append(Claim(C_VALUE, scope, parts, upcase(entry.value), setting.seq, (item, setting)))
            continue
        scope, parts = text_address(item.path)
        if item.kind == VALUE:
            kind = C_VALUE
        elif item.kind == KEY:
            kind = C_KEY
        elif item.kind == EXACT:
            kind = C_EXACT
        else:
            kind = C_ABSENT_KEY if item.name is None else C_ABSENT_VALUE
        name = upcase(item.name) if item.name is not None else None
        claims.append(Claim(kind, scope, parts, name, item.seq, item, droppable=id(item) in section_keys))
    return claims


def fold_items(items: list[Item], section_keys: AbstractSet[int] = frozenset()) -> list[Item]:
    """The items that remain when ``items`` (in declaration order) are folded."""
    kept, _ = fold(_claims(items, section_keys))
    result: list[Item] = []
    ports_items = [item for item in items if item.kind == PORTS]
    surviving: dict[int, list[PortSetting]] = {}
    for claim in kept:
        if isinstance(claim.payload, tuple):
            item, setting = claim.payload
            surviving.setdefault(id(item), []).append(setting)
            continue
        item = claim.payload
        assert isinstance(item, Item)
        if claim.kind == C_EXACT and item.kind != EXACT:  # an absent key narrowed by later items
            item = replace(item, kind=EXACT)
        result.append(item)
    result.extend(_merged_ports(ports_items, surviving))
    result.sort(key=lambda item: item.seq)
    return result


def _merged_ports(ports_items: list[Item], surviving: dict[int, list[PortSetting]]) -> list[Item]:
    """One item per profile: its surviving settings, the options of all its items."""
    by_profile: dict[str, list[Item]] = {}
    for item in ports_items:
        assert item.ports is not None
        by_profile.setdefault(item.ports.profile, []).append(item)
    merged = []
    for group in by_profile.values():
        specs = [replace(item.ports, settings=tuple(surviving.get(id(item), ()))) for item in group
                 if item.ports is not None]
        spec = merge(specs)
        if not spec.settings:
            continue
        latest = max(spec.settings, key=lambda s: s.seq)
        owner = next(item for item in group if item.ports is not None and latest in item.ports.settings)
        merged.append(Item(PORTS, "", owner.origin, latest.seq, ports=spec))
    return merged


__all__ = ["fold_items", "is_reg_file", "load_states"]
