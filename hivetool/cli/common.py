"""Options and helpers shared by the commands (the WRITE group, --json, opening hives)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple, Sequence, TypeVar

import click

from ..errors import UsageError
from ..fileio import Chunk, check_output_target, refuse_output_over_inputs
from ..inputs import DEFAULT_WAIT
from ..regf.hive import Hive
from ..timeutil import Clock

if TYPE_CHECKING:
    from ..verify import Expect

_WAIT = "hivetool.wait"
# A command function (or a click command) that an option decorator returns as it was given.
_F = TypeVar("_F", bound=Callable[..., Any])


def json_option(func: _F) -> _F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")(func)


def _remember_wait(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta[_WAIT] = value
    return value


def wait_option(func: _F) -> _F:
    """--wait SECONDS: how long to wait for a lock another process holds on a hive."""
    return click.option(
        "--wait", type=click.FloatRange(min=0), default=DEFAULT_WAIT, show_default=True, metavar="SECONDS",
        expose_value=False, callback=_remember_wait, is_eager=True,
        help="Wait this long for another process that holds the hive (an in-place edit locks it; "
        "readers share a lock), then give up with exit 4.",
    )(func)


def current_wait() -> float:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_WAIT, DEFAULT_WAIT) if ctx is not None else DEFAULT_WAIT


def write_options(func: _F) -> _F:
    """WRITE = (-o OUT | --in-place) [--timestamp TS] [--verify] [--wait SECONDS]."""
    func = wait_option(func)
    func = click.option(
        "--verify",
        is_flag=True,
        help="Re-read the output with python-registry and regipy before it replaces anything; "
        "refuse (exit 4) if either disagrees.",
    )(func)
    func = click.option(
        "--timestamp",
        metavar="TS",
        help="Fix every timestamp written (ISO 8601, UTC when no zone, or @epoch). "
        "Default: SOURCE_DATE_EPOCH, then now.",
    )(func)
    func = click.option("--in-place", is_flag=True, help="Replace the input atomically.")(func)
    func = click.option("-o", "--output", metavar="OUT", help="Write a new file; the input is left untouched.")(func)
    return func


class WriteTarget(NamedTuple):
    path: str
    clock: Clock
    verify: bool
    in_place: bool


def input_files(hives: Sequence[str] = (), others: Sequence[str] = ()) -> list[str]:
    """Every file a command reads: each hive with the transaction logs beside it, and the
    other inputs (.reg files, logs, data files); ``-`` (standard input) is none."""
    from ..regf.hive.files import find_logs

    found: list[str] = []
    for hive in hives:
        if hive:
            found.append(str(hive))
            found.extend(str(log) for log in find_logs(hive))
    found.extend(str(path) for path in others if path and path != "-")
    return found


def guard_output(output: str | None, hives: Sequence[str] = (), others: Sequence[str] = (),
                 stdout_allowed: bool = False) -> None:
    """Refuse (exit 2), before anything is read, an output that names an input (also
    through a link) or a file that is not regular. Every command that writes calls it."""
    if output is not None:
        refuse_output_over_inputs(output, input_files(hives, others), stdout_allowed)


def write_target(hive_path: str, output: str | None, in_place: bool, timestamp: str | None, verify: bool,
                 other_inputs: Sequence[str] = (), other_hives: Sequence[str] = ()) -> WriteTarget:
    """Validate the WRITE options before any work is done: -o must not name an input."""
    path = check_output_target(hive_path, output, in_place)
    if output == "-":
        raise UsageError("-o -: a hive is written to a file, atomically; standard output takes text only "
                         "(name a file, or ./- for one called -)")
    if not in_place:
        guard_output(path, (hive_path, *other_hives), other_inputs)
    return WriteTarget(path, Clock.resolve(timestamp), verify, in_place)


def replay_option(func: _F) -> _F:
    """--replay-logs [--log FILE ...]: read a dirty hive through its transaction logs."""
    func = click.option(
        "--log",
        "log_paths",
        multiple=True,
        metavar="FILE",
        help="Replay this transaction log (repeat for several) instead of the logs found beside "
        "HIVE; implies --replay-logs.",
    )(func)
    func = click.option(
        "--replay-logs",
        is_flag=True,
        help="If HIVE is dirty, replay its transaction logs (HIVE.LOG1/.LOG2 beside it) in memory "
        "first, as Windows does when it loads a hive. Nothing is written unless the command writes; "
        "with --in-place the stale logs are emptied once the clean hive is safely in place.",
    )(func)
    return func


def open_hive(
    path: str, clock: Clock | None = None, replay_logs: bool = False, logs: tuple[str, ...] | list[str] | None = None,
    for_update: bool = False,
) -> Hive:
    """Open a hive; with ``replay_logs`` (or explicit ``logs``) a dirty one is replayed first,
    and what the replay skipped is said on stderr. ``for_update`` (an in-place edit) holds
    an exclusive lock on the file until the process ends."""
    wait = current_wait()
    if not (replay_logs or logs):
        return Hive.open(path, clock, for_update=for_update, wait=wait)
    from ..regf.logs import open_replayed

    from .progress_bar import progress_for_terminal

    progress = progress_for_terminal()
    try:
        hive, report = open_replayed(path, clock, list(logs) if logs else None, for_update=for_update, wait=wait,
                                     progress=progress)
    finally:
        progress.close()
    for problem in report.skipped:
        warn(problem)
    if report.applied_anything:
        note(report.summary())
    return hive


def emit_json(document: Any) -> None:
    import json  # here: most runs print no JSON, and every command imports this module

    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def warn(message: str) -> None:
    from .wording import in_cli_terms

    _clear_progress()
    click.echo(f"hivetool: warning: {in_cli_terms(message)}", err=True)


def note(message: str) -> None:
    _clear_progress()
    click.echo(message, err=True)


def _clear_progress() -> None:
    from .progress_bar import clear_for_message

    clear_for_message()


def save(hive: Hive, target: WriteTarget, expectations: list[Expect] | None = None) -> list[Path]:
    """Save atomically; with --verify the independent readers must agree first.
    Returns the stale transaction logs emptied (a replayed hive saved in place)."""
    verify: Callable[[str], None] | None = None
    if target.verify:
        from ..verify import verify_hive_file

        def verify(temp_path: str) -> None:
            verify_hive_file(temp_path, expectations or [])

    if hive.modified_by_replay:
        from ..regf.logs import save_replayed

        emptied = save_replayed(hive, target.path, verify=verify, in_place=target.in_place)
        for log in emptied:
            note(f"emptied the stale transaction log {log}")
        return emptied
    hive.save(target.path, verify=verify, in_place=target.in_place)
    return []


def stdout_binary(data: Chunk) -> None:
    """Write bytes to standard output. A pipe may take only part of a big write when its
    reader goes away; the loop then meets the broken pipe instead of losing the rest silently."""
    sys.stdout.flush()
    out = sys.stdout.buffer
    view = memoryview(data)
    while view:
        written = out.write(view)
        if written is None or written <= 0:
            raise BrokenPipeError("standard output accepts no more data")
        view = view[written:]
    out.flush()


def utf8_option(func: _F) -> _F:
    return click.option(
        "--utf8", is_flag=True,
        help="Write a version 5.00 file in UTF-8 (no BOM) instead of regedit's UTF-16, also to files and pipes. "
        "A terminal gets UTF-8 anyway.",
    )(func)


def write_reg_text(data: Chunk | Iterable[Chunk], output: str | None, utf16: bool, utf8: bool) -> None:
    """Write a .reg file to ``output`` (atomically) or to standard output (None or ``-``).

    ``data`` is bytes or an iterable of byte chunks (an export streams its file). ``utf16``:
    it is regedit's UTF-16LE with a BOM (version 5.00), each chunk whole characters. That is
    what files and pipes get, as regedit writes it; a terminal would show it as spaced-out
    garbage, so a terminal, and any output with ``utf8``, gets the same text in UTF-8 without
    a BOM.
    """
    from ..fileio import STDOUT, atomic_write

    chunks: Iterable[Chunk] = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
    to_stdout = output is None or output == STDOUT
    if utf16 and (utf8 or (to_stdout and _stdout_is_terminal())):
        if not utf8:
            note("writing UTF-8 to the terminal; files and pipes get regedit's UTF-16 (--utf8 asks for "
                 "UTF-8 everywhere)")
        chunks = _utf16_to_utf8(chunks)
    if output is not None and not to_stdout:
        atomic_write(output, chunks)
    else:
        for chunk in chunks:
            stdout_binary(chunk)


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _utf16_to_utf8(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    warned = False
    for index, given in enumerate(chunks):
        chunk = bytes(given)
        if index == 0 and chunk[:2] == b"\xff\xfe":
            chunk = chunk[2:]
        text = chunk.decode("utf-16-le", "surrogatepass")
        try:
            yield text.encode("utf-8")
        except UnicodeEncodeError:
            if not warned:
                warn("names or strings hold lone UTF-16 surrogates, which UTF-8 cannot carry: they are written as "
                     "\\udXXX escapes (regedit's UTF-16 keeps them: drop --utf8)")
                warned = True
            yield text.encode("utf-8", "backslashreplace")
