"""``hivetool replay``: a dirty hive and its transaction logs -> one clean hive."""
from __future__ import annotations

import heapq
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..regf.hive import Hive
from ..regf.hive.model import Value
from ..regf.logs import open_replayed
from ..verify import Expect
from ..errors import UsageError
from .common import current_wait, emit_json, json_option, note, save, warn, write_options, write_target
from .progress_bar import progress_for_terminal

if TYPE_CHECKING:
    from ..image.target import Location, Slot

# --verify re-reads the most recently written keys: those are the ones the logs most likely
# changed, and a sample keeps the check quick (the readers look each value up by a scan of its
# key). Only what both readers show faithfully is compared: ASCII names, and data that is not
# stored inline nor of a type they reinterpret.
VERIFIED_KEYS = 20
VERIFIED_VALUES_PER_KEY = 5
_PLAIN_TYPES = {1, 2, 3, 7}  # strings, binary, multi-string: compared byte for byte when > 4 bytes


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _verifiable(value: Value) -> bool:
    if not _plain(value.name):
        return False
    if value.type in _PLAIN_TYPES:
        return len(value.raw) > 4
    return (value.type, len(value.raw)) in ((4, 4), (11, 8))


def _recent_values(hive: Hive) -> list[Expect]:
    keys = heapq.nlargest(VERIFIED_KEYS, hive.walk(), key=lambda key: key.last_write)
    expect = []
    for key in keys:
        if not _plain(key.path):
            continue
        expect.append(Expect(key.path))
        values = [v for v in key.values() if _verifiable(v)][:VERIFIED_VALUES_PER_KEY]
        expect.extend(Expect(key.path, v.name, v.type, v.raw) for v in values)
    return expect


@click.command()
@click.argument("hive_path", metavar="HIVE")
@click.option(
    "--log",
    "log_paths",
    multiple=True,
    metavar="FILE",
    help="Replay this log (repeat for several) instead of the logs found beside HIVE.",
)
@write_options
@json_option
def replay(hive_path: str, log_paths: tuple[str, ...], output: str | None, in_place: bool, timestamp: str | None,
           verify: bool, as_json: bool) -> None:
    """Replay HIVE's transaction logs as Windows does when it loads a dirty hive, and save
    the result as a clean hive.

    Logs are HIVE.LOG, HIVE.LOG1 and HIVE.LOG2 beside it (any case) unless --log is given.
    Both formats are read: the new one (Windows 8.1 and later, hashed entries) and the old
    one (dirty-page bitmap). What is damaged or belongs elsewhere is skipped and reported;
    nothing usable at all is an error (exit 3). With -o the input and its logs are left
    untouched; with --in-place the logs are emptied once the clean hive is in place.

    An image: every dirty hive is replayed, and all of them written together (-o OUTDIR holds
    the replayed hives at their paths in the image).
    """
    from ..image.spec import HIVE, parse_target

    if parse_target(hive_path).kind != HIVE:
        if log_paths:
            raise UsageError("--log names the logs of one hive file; in an image each hive's logs are beside it")
        _replay_image(hive_path, output, in_place, timestamp, verify, as_json)
        return
    target = write_target(hive_path, output, in_place, timestamp, verify, log_paths)
    progress = progress_for_terminal()
    try:
        hive, report = open_replayed(hive_path, target.clock, list(log_paths) or None, for_update=in_place,
                                     wait=current_wait(), progress=progress)
    finally:
        progress.close()
    if not as_json:
        for problem in report.skipped:
            warn(problem)
    written: str | None = None
    emptied: list[Path] = []
    if report.dirty:
        emptied = save(hive, target, _recent_values(hive) if verify else None)
        written = target.path
    elif not in_place:  # clean: nothing to replay; the output is the input, unchanged
        from ..fileio import copy_file

        copy_file(hive_path, target.path)
        written = target.path
    if as_json:
        emit_json(dict(report.to_json(), output=written, changed=report.dirty,
                       emptied_logs=[str(log) for log in emptied]))
        return
    note(report.summary() + (f" -> {written}" if written else "; nothing written"))


def _replay_image(image_path: str, output: str | None, in_place: bool, timestamp: str | None, verify: bool,
                  as_json: bool) -> None:
    from contextlib import closing

    from .targets import commit, open_for_write, write_target_for

    write = write_target_for(image_path, output, in_place, timestamp, verify)
    with closing(progress_for_terminal()) as progress:
        target = open_for_write(image_path, write, replay_logs=True, progress=progress)
    with closing(target):
        reports = []
        for slot in target.slots():
            hive = target.open(slot)
            reports.append((slot, hive))
            for problem in slot.skipped:
                if not as_json:
                    warn(f"{slot.relative}: {problem}")
        expect = [(loc, e) for slot, hive in reports if hive.modified_by_replay
                  for loc, e in _expect_in(slot, hive, verify)]
        outcome = commit(target, write, expect)
    written = outcome.written
    replayed = [slot for slot, hive in reports if hive.modified_by_replay]
    if as_json:
        emit_json({"command": "replay", "image": image_path, "changed": outcome.changed,
                   "replayed": [{"mount": s.mount, "path": s.relative, "notes": s.notes} for s in replayed],
                   "written": written})
        return
    for slot in replayed:
        note(f"{slot.mount} ({slot.relative}): " + "; ".join(slot.notes))
    note(f"replayed {len(replayed)} dirty hive(s)" + (f" -> {', '.join(written)}" if written else "; nothing written"))


def _expect_in(slot: Slot, hive: Hive, verify: bool) -> list[tuple[Location, Expect]]:
    from ..image.target import Location

    if not verify:
        return []
    return [(Location(slot, ""), e) for e in _recent_values(hive)]
