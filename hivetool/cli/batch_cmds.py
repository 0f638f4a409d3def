"""hivetool batch: one reading command over many targets, here or on a Dask cluster."""
from __future__ import annotations

import os
import signal
import stat
import sys
from types import FrameType
from typing import TYPE_CHECKING

import click

from ..batch.frames import Message
from ..errors import UsageError
from .common import emit_json, json_option, note, warn

if TYPE_CHECKING:
    from ..batch.pool import Pool
    from ..batch.run import BatchSettings, Command
    from .batch_report import Tally

_HIVE_OR_WIM = (b"regf", b"MSWIM\0\0\0")


@click.command(name="batch")
@click.argument("items", nargs=-1, metavar="TARGETS... -- COMMAND [ARGS]")
@click.option("-j", "--jobs", type=click.IntRange(1, 4096), metavar="N",
              help="Worker processes on this machine (default: one per CPU).")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Run the targets as tasks on this Dask scheduler (tcp://HOST:8786); needs hivetool[dask].")
@click.option("--out", "out_path", metavar="RESULTS.jsonl",
              help="Write the results here (one JSON line per target) instead of standard output.")
@click.option("--resume", is_flag=True,
              help="Keep RESULTS.jsonl and skip the targets it holds with the same sha256 and command.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Seconds a target may take; one that takes longer is stopped and recorded.")
@click.option("--max-memory", "max_memory", type=click.IntRange(min=16), metavar="MB",
              help="Memory a target may use (address space, MiB); over it, it fails and is recorded.")
@click.option("--fail-on", "fail_on", metavar="CODES",
              help="Exit 1 if a target ended so: exit codes and/or timeout, died, any (e.g. 1,3,timeout).")
@json_option
def batch(items: tuple[str, ...], jobs: int | None, dask_address: str | None, out_path: str | None, resume: bool,
          timeout: float | None, max_memory: int | None, fail_on: str | None, as_json: bool) -> None:
    """Run a reading COMMAND (info, ls, get, check, export, ports check, apply --check, ...) on
    every target: hive files, image folders, FILE.wim:INDEX, globs, @list.txt, and folders,
    which are searched (a folder holding Windows/System32/config is one image; .LOG files are
    never targets). ARGS are the command's, without the target; {name} in them is a file name
    made of the target (for -o). One JSON line per target: target, sha256, exit_code, output
    (the command's JSON), error, seconds, command. Exits 0 when every target ran, whatever
    their own exit codes, unless --fail-on says otherwise.
    """
    from ..batch.run import BatchSettings, Command, local_pool
    from ..batch.targets import expand_targets
    from .batch_report import fail_on_set

    named, command_line = _split_at_separator(items)
    failing = fail_on_set(fail_on)
    if resume and out_path is None:
        raise UsageError("--resume continues a results file: give it with --out RESULTS.jsonl")
    if as_json and out_path is None:
        raise UsageError("--json prints the summary on standard output: give the results file with --out")
    command = Command(command_line)
    settings = BatchSettings(jobs=jobs, dask=dask_address, timeout=timeout, max_memory_mb=max_memory)
    pool = None if dask_address else local_pool(command, settings)  # they start while targets are found
    try:
        found = expand_targets(named)
        for message in found.notes:
            warn(message)
        if not found.targets:
            raise UsageError(f"no targets: {' '.join(named)} name no hive file, image or WIM")
        if out_path is not None:
            _refuse_results_over_inputs(out_path, found.targets)
        tally, stats, interrupted = _run(found.targets, command, settings, pool, out_path, resume)
    finally:
        if pool is not None:
            pool.close()
    summary = tally.summary(out_path, failing, interrupted, stats.get("workers"))
    note(tally.describe(summary))
    if as_json:
        emit_json(summary)
    if interrupted:
        raise click.exceptions.Exit(130)
    if summary["failed_on"]:
        raise click.exceptions.Exit(1)


def _run(targets: list[str], command: Command, settings: BatchSettings, pool: Pool | None, out_path: str | None,
         resume: bool) -> tuple[Tally, Message, bool]:
    """Run the batch, writing each result as it comes; a Ctrl-C or a SIGTERM ends it between
    two lines (the results file stays whole: --resume continues it)."""
    from ..batch.results import ResultsFile, line_of, write_all
    from ..batch.run import run_tasks, tasks_for
    from .batch_report import Tally, progress_for

    results = ResultsFile(out_path, resume) if out_path is not None else None
    tally = Tally(len(targets))
    stats: Message = {}
    interrupted = False
    progress = progress_for(tally)
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        known = (lambda target: results.known(target, command.line)) if results is not None else (lambda target: None)
        for result in run_tasks(tasks_for(targets, command, known), command, settings, stats, pool):
            if result.get("skipped"):
                assert results is not None
                tally.add(results.previous[result["target"]], skipped=True)
            else:
                if results is not None:
                    results.write(result)
                else:
                    sys.stdout.flush()
                    write_all(sys.stdout.fileno(), line_of(result))
                tally.add(result)
            progress.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        progress.close()
        if results is not None:
            results.close()
    return tally, stats, interrupted


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _split_at_separator(items: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """TARGETS before ``--``, COMMAND [ARGS] after it. Click hands both over as one list (``--``
    only ends its option parsing), so the position comes from the words the command was given."""
    from . import invoked_args

    argv = invoked_args()
    if "--" not in argv:
        raise UsageError("put the command after --, e.g. hivetool batch hives/ -- check")
    after = len(argv) - argv.index("--") - 1
    words = list(items)
    if after == 0:
        raise UsageError("give the command to run after --, e.g. hivetool batch hives/ -- check")
    targets, command_line = words[:len(words) - after], words[len(words) - after:]
    if not targets:
        raise UsageError("give the targets before --, e.g. hivetool batch hives/ -- check")
    return targets, command_line


def _refuse_results_over_inputs(out_path: str, targets: list[str]) -> None:
    """The results file is written as the batch goes: it must not be a target, nor any hive or
    WIM (a file a later batch would take for one), nor something other than a file."""
    try:
        info = os.stat(out_path)
    except OSError:
        return
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"--out {out_path}: is a directory; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"--out {out_path}: is not a regular file; refusing to write results into it")
    with open(out_path, "rb") as handle:
        head = handle.read(8)
    if any(head.startswith(magic) for magic in _HIVE_OR_WIM):
        raise UsageError(f"--out {out_path}: is a hive or a WIM, not a results file; refusing to overwrite it")
    for target in targets:
        try:
            other = os.stat(target.rsplit(":", 1)[0] if not os.path.exists(target) else target)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
            raise UsageError(f"--out {out_path}: is one of the targets")

