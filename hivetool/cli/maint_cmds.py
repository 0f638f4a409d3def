"""Maintenance commands: compact."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from ..errors import UsageError
from ..timeutil import Clock
from .common import emit_json, guard_output, json_option, note, open_hive, wait_option
from .progress_bar import progress_for_terminal

if TYPE_CHECKING:
    from ..regf.compact import LayoutSummary
    from ..regf.hive import Hive


@click.command()
@click.argument("hive_path", metavar="TARGET")
@click.option("-o", "--output", required=True, metavar="OUT", help="Write the compacted hive here (a new file).")
@click.option("--timestamp", metavar="TS",
              help="The header's last-written time (ISO 8601, UTC when no zone, or @epoch). "
              "Default: SOURCE_DATE_EPOCH, then now. Key times are kept as they are.")
@click.option("--verify", is_flag=True,
              help="Before OUT appears, re-read it with python-registry and regipy and refuse (exit 4) "
              "if either disagrees on a spread of up to 100 keys and their values.")
@click.option("--hive-version", type=click.Choice(["1.3", "1.5"]),
              help="Convert to this format version (default: keep the input's).")
@json_option
@wait_option
def compact(hive_path: str, output: str, timestamp: str | None, verify: bool, hive_version: str | None,
            as_json: bool) -> None:
    """Rewrite HIVE without free space or slack, like `reg save`: same keys, values, class
    names, security descriptors, flags and key times; free cells and remnants of deleted
    data are dropped and subkey lists are written in canonical form. An image: every hive,
    each to its path below the folder OUT."""
    from contextlib import closing

    from ..image.spec import HIVE, parse_target
    from .targets import open_for_read

    minor = None if hive_version is None else int(hive_version.split(".")[1])
    done: list[dict[str, Any]] = []
    if parse_target(hive_path).kind == HIVE:
        guard_output(output, (hive_path,))
        done.append(_compact_one(open_hive(hive_path, Clock.resolve(timestamp)), hive_path, output, minor, verify,
                                 as_json))
        _finish(hive_path, done, as_json)
        return
    root = Path(output)
    if root.exists() and not root.is_dir():
        raise UsageError(f"-o {output}: compacting an image writes a folder of hives")
    target = open_for_read(hive_path)
    target.options.clock = Clock.resolve(timestamp)
    with closing(target):
        for slot in target.slots():
            out = root / slot.relative
            out.parent.mkdir(parents=True, exist_ok=True)
            guard_output(str(out), (str(slot.local),))
            done.append(_compact_one(target.open(slot), slot.relative, str(out), minor, verify, as_json))
    _finish(hive_path, done, as_json)


def _finish(target: str, done: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json({"command": "compact", "target": target, "hives": done})


def _compact_one(hive: Hive, shown: str, target: str, minor: int | None, verify: bool,
                 quiet: bool) -> dict[str, Any]:
    from ..regf.compact import compact_hive

    check: Callable[[str, LayoutSummary], None] | None = None
    if verify:
        from ..verify import Expect, verify_hive_file

        def check(temp_path: str, summary: LayoutSummary) -> None:
            expectations = [
                Expect(key) if name is None else Expect(key, name, value_type, raw)
                for key, name, value_type, raw in summary.sample
            ]
            verify_hive_file(temp_path, expectations)

    progress = progress_for_terminal()
    try:
        summary = compact_hive(hive, target, minor, verify=check, progress=progress)
    finally:
        progress.close()
    before = hive.size
    if not quiet:
        note(f"compacted {shown} ({before} bytes) -> {target} ({summary.file_size} bytes, version "
             f"1.{summary.minor}): {summary.keys} keys, {summary.values} values, {summary.security_cells} "
             "security descriptors")
    return {"hive": shown, "output": target, "size_before": before, "size_after": summary.file_size,
            "version": f"1.{summary.minor}", "keys": summary.keys, "values": summary.values,
            "security_descriptors": summary.security_cells}
