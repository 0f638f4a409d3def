"""hivetool find: search a hive or an image for key names, value names and data."""
from __future__ import annotations

from contextlib import closing
from typing import Any, Callable

import click

from ..errors import EXIT_FINDINGS
from ..forensics.find import Match
from ..image.target import HiveTarget, Target
from ..regf.hive.model import Key
from . import render
from .common import emit_json, json_option, replay_option, wait_option
from .salvage import refuse_with_replay, report_salvage, salvage_option
from .targets import open_for_read, user_option, warn_dirty


@click.command(name="find")
@click.argument("hive_path", metavar="TARGET")
@click.argument("pattern", metavar="PATTERN")
@click.option("--names", "names_only", is_flag=True, help="Search key and value names only.")
@click.option("--data", "data_only", is_flag=True, help="Search value data only.")
@click.option("--type", "type_texts", multiple=True, metavar="T",
              help="Only values of this type (sz, dword, binary, ..., or a number; repeat for several).")
@click.option("--since", metavar="TIME", help="Only keys written at or after TIME (ISO 8601, UTC if no zone).")
@click.option("--until", metavar="TIME", help="Only keys written at or before TIME.")
@click.option("-E", "--regex", is_flag=True, help="PATTERN is a regular expression (Python syntax), not a substring.")
@click.option("--case-sensitive", is_flag=True, help="Match case (by default case is ignored, as Windows does).")
@user_option
@json_option
@replay_option
@salvage_option
@wait_option
def find(hive_path: str, pattern: str, names_only: bool, data_only: bool, type_texts: tuple[str, ...],
         since: str | None, until: str | None, regex: bool, case_sensitive: bool, user: str | None, as_json: bool,
         replay_logs: bool, log_paths: tuple[str, ...], salvage: bool) -> None:
    """Keys and values whose name or data holds PATTERN (a substring, or with -E a regular
    expression; case-insensitive unless --case-sensitive). Data is searched as it reads:
    strings, each string of a list, numbers in decimal and hex, other data as hex and as the
    text it holds. An image is searched in every hive, with full registry paths. Exits 0 when
    something was found, 1 when nothing was (as grep does)."""
    from ..errors import UsageError
    from ..forensics.find import Search, compile_pattern
    from ..regf.records.types import parse_type
    from ..timeutil import parse_timestamp

    if names_only and data_only:
        raise UsageError("--names and --data exclude each other (without either, both are searched)")
    search = Search(compile_pattern(pattern, regex, case_sensitive), names=not data_only, data=not names_only,
                    types=frozenset(parse_type(t) for t in type_texts) if type_texts else None,
                    since=parse_timestamp(since) if since else None,
                    until=parse_timestamp(until) if until else None)
    refuse_with_replay(salvage, replay_logs, log_paths)
    target = open_for_read(hive_path, replay_logs, log_paths, user, salvage=salvage)
    found: list[dict[str, Any]] = []
    count = 0
    with closing(target):
        for match in search.in_trees(_trees(target)):
            count += 1
            if as_json:
                found.append(_match_json(match))
            else:
                click.echo(_match_line(match))
        warn_dirty(target)
        problems = report_salvage(target, salvage, as_json)
    if as_json:
        document = {"command": "find", "target": hive_path, "pattern": pattern, "regex": regex,
                    "count": count, "matches": found}
        emit_json(dict(document, problems=problems) if salvage else document)
    if not count:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _trees(target: Target) -> list[tuple[Key, Callable[[Key], str]]]:
    """Each hive's root and how its keys are shown: the stored path for a hive file (as ``ls``
    shows it), the full registry path for an image."""
    from ..forensics.tolerant import tolerant_key  # --salvage: a walk that skips what it cannot read

    if isinstance(target, HiveTarget):
        return [(tolerant_key(target.hive.root), lambda key: key.path or "\\")]  # type: ignore[list-item]
    trees: list[tuple[Key, Callable[[Key], str]]] = []
    for slot in target.slots():
        hive = target.open(slot)
        mount = slot.mount or ""

        def shown(key: Key, mount: str = mount) -> str:  # the default binds this slot's mount
            return f"{mount}\\{key.path}" if key.path else mount

        trees.append((tolerant_key(hive.root), shown))  # type: ignore[arg-type]
    return trees


def _match_json(match: Match) -> dict[str, Any]:
    document: dict[str, Any] = {"kind": match.kind, "path": match.path, "matched": match.matched,
                                "last_write": match.key.last_write_iso, "last_write_filetime": match.key.last_write}
    if match.value is not None:
        document["value"] = render.value_json(match.value)
    return document


def _match_line(match: Match) -> str:
    if match.value is None:
        return f"key    {match.path}  (last write {match.key.last_write_iso})"
    value = match.value
    return f"value  {match.path}  {render.value_name(value.name)} = {value.type_name} {render.value_text(value)}"
