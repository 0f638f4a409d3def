"""TARGET arguments: open a hive file or a Windows image the same way in every command, and
write what changed back, all or nothing."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar, cast

import click

from ..errors import UsageError
from ..fileio import refuse_output_over_inputs
from ..image.spec import FOLDER, HIVE, WIM, parse_target
from ..image.target import HiveTarget, Location, OpenOptions, Slot, Target, open_target
from ..slotted import Slotted
from ..timeutil import Clock
from ..verify import Expect
from .common import WriteTarget, current_wait, input_files, note, save, warn

if TYPE_CHECKING:
    from ..image.image import ImageTarget
    from ..progress import Progress

_F = TypeVar("_F", bound=Callable[..., Any])  # a command function, returned as it was given


def user_option(func: _F) -> _F:
    return click.option(
        "--user", metavar="NAME|SID|default",
        help="In an image: whose profile HKCU (and HKCR's user part) is: a profile folder name, a SID, "
        "or default (the Default profile new accounts are made from).",
    )(func)


def control_set_option(func: _F) -> _F:
    return click.option(
        "--control-set", "control_set", default="auto", show_default=True, metavar="MODE",
        help="Where CurrentControlSet writes go: auto (Select\\Default's set, plus Select\\Current's when it "
        "differs), default, current, all, or a set number N. Reads use Select\\Current's.",
    )(func)


def open_for_read(text: str, replay_logs: bool = False, log_paths: Iterable[str] = (), user: str | None = None,
                  root: str | None = None, progress: Progress | None = None, salvage: bool = False) -> Target:
    """``salvage``: read damaged hives as far as they go (:mod:`hivetool.forensics.salvage`)."""
    options = OpenOptions(replay_logs=replay_logs, log_paths=tuple(log_paths), wait=current_wait(), user=user,
                          root=root, progress=progress)
    if salvage:
        from ..forensics.salvage import open_salvaged

        wait = current_wait()
        options.open_hive = lambda path, clock: open_salvaged(path, clock, wait)
    return open_target(text, options)


def open_for_write(text: str, write: WriteTarget, replay_logs: bool = False, log_paths: Iterable[str] = (),
                   user: str | None = None, control_set: str | int = "auto", root: str | None = None,
                   progress: Progress | None = None) -> Target:
    options = OpenOptions(clock=write.clock, replay_logs=replay_logs, log_paths=tuple(log_paths),
                          for_update=write.in_place, wait=current_wait(), control_set_mode=control_set,
                          user=user, root=root, progress=progress)
    return open_target(text, options)


def write_target_for(text: str, output: str | None, in_place: bool, timestamp: str | None, verify: bool,
                     other_inputs: Iterable[str] = ()) -> WriteTarget:
    """Validate WRITE for a TARGET before anything is read: for a hive the rules of
    :func:`~hivetool.cli.common.write_target`; for an image folder, ``-o`` is a folder that is
    not the image; for a WIM, ``-o`` is a new WIM file that is not the source."""
    from .common import write_target

    spec = parse_target(text)
    if spec.kind == HIVE:
        return write_target(text, output, in_place, timestamp, verify, tuple(other_inputs))
    if in_place and output is not None:
        raise UsageError("give either -o OUT or --in-place, not both")
    if not in_place and output is None:
        what = "OUTDIR for a folder of the changed hives" if spec.kind == FOLDER else "OUT.wim for a changed copy"
        raise UsageError(f"say where to write: -o {what}, or --in-place to change the image")
    if output is not None:
        if output == "-":
            raise UsageError("-o -: an image's changes are files; name a folder or a WIM file")
        source = spec.path
        if os.path.exists(output) and os.path.exists(source) and os.path.samefile(output, source):
            raise UsageError(f"-o {output} is the image itself: use --in-place to change it")
        if spec.kind == WIM:
            refuse_output_over_inputs(output, [spec.path, *[p for p in other_inputs if p != "-"]])
        elif os.path.exists(output) and not os.path.isdir(output):
            # Hives go below OUTDIR by renames: no input file is ever written through.
            raise UsageError(f"-o {output}: an image folder's output is a folder (its changed hives go below it)")
    return WriteTarget(output or str(spec), Clock.resolve(timestamp), verify, in_place)


def refuse_over_target_files(output: str | None, target: Target) -> None:
    """An output (a receipt, a fix .reg) may not name a file of the target either: in an image,
    any hive or transaction log (checked once the image's hives are known, before any write)."""
    if output is None:
        return
    from ..regf.hive.files import find_logs

    files = []
    for slot in target.slots():
        files.append(str(slot.local))
        files.extend(str(log) for log in find_logs(slot.local))
    refuse_output_over_inputs(output, files)


def warn_dirty(target: Target) -> None:
    """Reading a dirty hive without its logs shows stale data: say so, once per hive."""
    for slot in target.opened():
        for problem in slot.skipped:
            warn(problem)
        for line in slot.notes:
            note(line)
        hive = slot.hive
        if hive is not None and hive.dirty and not hive.modified_by_replay:
            warn(f"{slot.shown} is dirty (sequence numbers {'/'.join(map(str, hive.sequence_numbers))}); the newest "
                 "changes may be in its transaction logs, so what is shown may be stale (--replay-logs reads "
                 "through them)")
        slot.skipped, slot.notes = [], []


def say_control_sets(target: Target) -> None:
    """The warnings the target's mapping gathered (a second control set written, ...), once each."""
    for message in dict.fromkeys(target.warnings):
        warn(message)
    target.warnings.clear()


class Outcome(Slotted):
    """What a write did: whether any hive changed, and the files written. A command that changes
    nothing writes nothing in place, and with -o hands on an unchanged copy of its input."""

    __slots__ = ("changed", "written")

    def __init__(self, changed: bool, written: list[str]) -> None:
        self.changed = changed
        self.written = written


def commit(target: Target, write: WriteTarget, expect: list[tuple[Location, Expect]] | None = None) -> Outcome:
    """Write the target's changed hives (with --verify, each read back first). A single hive
    goes through the usual save; an image's hives go together, all or nothing."""
    if not target.changed():
        return Outcome(False, [] if write.in_place else _unchanged_copy(target, write.path))
    if isinstance(target, HiveTarget):
        save(target.hive, write, [e for _, e in expect or []])
        return Outcome(True, [write.path])
    from ..verify import verify_hive_file

    def verify_for(slot: Slot) -> Callable[[str], None] | None:
        if not write.verify:
            return None
        wanted = [e for location, e in expect or [] if location.slot is slot]
        return lambda temp_path: verify_hive_file(temp_path, wanted)

    image = cast("ImageTarget", target)  # a target is a hive file or an image
    written = image.commit(None if write.in_place else write.path, verify_for, in_place=write.in_place)
    for relative in getattr(target, "emptied_logs", []):
        note(f"emptied the stale transaction log {relative}")
    return Outcome(True, written)


def _unchanged_copy(target: Target, output: str) -> list[str]:
    """-o when nothing changed: a byte-identical copy of a hive file or a WIM; for an image
    folder, whose output holds only changed hives, the (empty) output folder."""
    from ..fileio import copy_file
    from ..image.spec import WIM

    if isinstance(target, HiveTarget):
        copy_file(target.path, output)
        return [output]
    spec = getattr(target, "spec", None)
    if spec is not None and spec.kind == WIM:
        copy_file(spec.path, output)
        return [f"{output}:{spec.index}"]
    os.makedirs(output, exist_ok=True)
    return [output]


__all__ = ["Outcome", "commit", "control_set_option", "input_files", "open_for_read", "open_for_write",
           "say_control_sets", "user_option", "warn_dirty", "write_target_for"]
