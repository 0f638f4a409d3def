"""The ``hivetool`` command. Thin: parse options, call the library, format the result.

One place (:func:`main`) maps every :class:`~hivetool.errors.HivetoolError` to its message
and exit code; no traceback reaches the user unless ``HIVETOOL_DEBUG=1`` asks for one.
"""
from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
from typing import Any

import click

from ..errors import EXIT_IO, EXIT_MALFORMED, EXIT_USAGE, HivetoolError

# Command name -> (module, attribute). A command's module is imported only when that command
# runs (or help lists them all), so ``hivetool set`` does not pay for .reg, replay and ports
# code at start-up: image pipelines run it thousands of times.
COMMANDS = {
    "info": ("read_cmds", "info"),
    "ls": ("read_cmds", "ls_"),
    "get": ("read_cmds", "get"),
    "find": ("find_cmds", "find"),
    "recover": ("forensic_cmds", "recover"),
    "timeline": ("forensic_cmds", "timeline"),
    "set": ("edit_cmds", "set_"),
    "mkkey": ("edit_cmds", "mkkey"),
    "rm": ("edit_cmds", "rm"),
    "new": ("edit_cmds", "new"),
    "check": ("read_cmds", "check"),
    "ports": ("ports_cmds", "ports"),
    "export": ("patch_cmds", "export"),
    "import": ("patch_cmds", "import_"),
    "diff": ("patch_cmds", "diff"),
    "reg": ("reg_cmds", "reg"),
    "replay": ("log_cmds", "replay"),
    "compact": ("maint_cmds", "compact"),
    "image": ("image_cmds", "image"),
    "apply": ("apply_cmds", "apply"),
    "batch": ("batch_cmds", "batch"),
    "view": ("view_cmds", "view"),
}


class PipeClosed(Exception):
    """The reader of our standard output went away. Click turns a broken pipe into exit 1
    itself, so it is carried past click as this instead."""


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:  # whatever the command returns, as click.Group.invoke
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise PipeClosed() from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        # Importing a command's modules makes tens of thousands of objects, and the cyclic
        # garbage collector would scan them all a few dozen times over (milliseconds of every
        # run's start) to find nothing: module code makes no garbage cycles worth collecting.
        collecting = gc.isenabled()
        gc.disable()
        try:
            command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        finally:
            if collecting:
                gc.enable()
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="hivetool", prog_name="hivetool")
def cli() -> None:
    """Read and write Windows registry hives and .reg files, offline.

    Exit codes: 0 done, 1 check found problems, 2 usage, 3 malformed input,
    4 refused as unsafe, 5 key or value not found, 6 I/O error.
    """


def _escape_unprintable_output() -> None:
    """Names may hold lone UTF-16 surrogates (legal in a hive), and a terminal or pipe may not
    take every character: print such characters as backslash escapes instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process ended by SIGPIPE, as cat is


_ARGV: list[str] = []


def invoked_args() -> list[str]:
    """The arguments this run of the command line was given (receipts record them)."""
    return list(_ARGV)


def main(argv: list[str] | None = None) -> int:
    _ARGV[:] = list(sys.argv[1:] if argv is None else argv)
    _escape_unprintable_output()
    try:
        # Without standalone mode click returns the code of a ``click.exceptions.Exit``
        # raised inside a command (``check`` exits 1 that way) instead of raising it.
        code = cli.main(args=argv, prog_name="hivetool", standalone_mode=False)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as err:
        _show_usage_error(err)
        return EXIT_USAGE
    except click.ClickException as err:
        click.echo(f"hivetool: error: {err.format_message()}", err=True)
        return err.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("hivetool: aborted", err=True)
        return 130
    except HivetoolError as err:
        from .wording import in_cli_terms

        click.echo(f"hivetool: error: {in_cli_terms(str(err))}", err=True)
        return err.exit_code
    except (BrokenPipeError, PipeClosed):
        # The reader of our output went away (``| head``): not an error of ours. Nothing more
        # may reach the closed pipe, not even Python's flush at exit.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except RecursionError:
        click.echo("hivetool: error: input nests too deeply to process", err=True)
        return EXIT_MALFORMED
    except MemoryError:
        click.echo("hivetool: error: out of memory", err=True)
        return EXIT_IO
    except Exception as err:  # safety net: malformed input we failed to classify
        if os.environ.get("HIVETOOL_DEBUG"):
            raise
        click.echo(
            f"hivetool: error: unexpected {type(err).__name__}: {err} (malformed input, or a bug in "
            "hivetool; HIVETOOL_DEBUG=1 shows the traceback)",
            err=True,
        )
        return EXIT_MALFORMED


def _show_usage_error(err: click.UsageError) -> None:
    """Usage errors look like every other error (``hivetool: error: ...``, exit 2), then the
    command's usage line and where its help is, and a hint for the common slips."""
    from .usage_hints import hint_for

    message = err.format_message()
    click.echo(f"hivetool: error: {message[:1].lower() + message[1:]}", err=True)
    hint = hint_for(err, COMMANDS)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    ctx = err.ctx
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        click.echo(f"Try '{ctx.command_path} --help' for help.", err=True)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def entry_point() -> None:
    code = main()
    if code == EXIT_BROKEN_PIPE and hasattr(signal, "SIGPIPE"):
        # End the way cat does when its reader goes away: by SIGPIPE, silently, so that the
        # shell and `set -o pipefail` see the usual status.
        sys.stderr.flush()
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(code)
