"""The ``hivetool`` command. Thin: parse options, call the library, format the result.

One place (:func:`main`) maps every :class:`~hivetool.errors.HivetoolError` to its message
and exit code; no traceback reaches the user unless ``HIVETOOL_DEBUG=1`` asks for one.
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from ..errors import EXIT_MALFORMED, EXIT_USAGE, HivetoolError

# Command name -> (module, attribute). A command's module is imported only when that command
# runs (or help lists them all), so ``hivetool set`` does not pay for .reg, replay and ports
# code at start-up: image pipelines run it thousands of times.
COMMANDS = {
    "info": ("hive_cmds", "info"),
    "ls": ("hive_cmds", "ls_"),
    "get": ("hive_cmds", "get"),
    "set": ("hive_cmds", "set_"),
    "mkkey": ("hive_cmds", "mkkey"),
    "rm": ("hive_cmds", "rm"),
    "new": ("hive_cmds", "new"),
    "check": ("hive_cmds", "check"),
    "ports": ("ports_cmds", "ports"),
    "export": ("reg_cmds", "export"),
    "import": ("reg_cmds", "import_"),
    "diff": ("reg_cmds", "diff"),
    "reg": ("reg_cmds", "reg"),
    "replay": ("log_cmds", "replay"),
    "compact": ("maint_cmds", "compact"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)


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


def main(argv: list[str] | None = None) -> int:
    _escape_unprintable_output()
    try:
        # Without standalone mode click returns the code of a ``click.exceptions.Exit``
        # raised inside a command (``check`` exits 1 that way) instead of raising it.
        code = cli.main(args=argv, prog_name="hivetool", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as err:
        err.show()
        return EXIT_USAGE if isinstance(err, click.UsageError) else err.exit_code
    except click.exceptions.Abort:
        click.echo("hivetool: aborted", err=True)
        return 130
    except HivetoolError as err:
        click.echo(f"hivetool: error: {err}", err=True)
        return err.exit_code
    except BrokenPipeError:
        # The reader of our output went away (``| head``): not an error of ours.
        sys.stderr.close()
        return 0
    except RecursionError:
        click.echo("hivetool: error: input nests too deeply to process", err=True)
        return EXIT_MALFORMED
    except Exception as err:  # safety net: malformed input we failed to classify
        if os.environ.get("HIVETOOL_DEBUG"):
            raise
        click.echo(
            f"hivetool: error: unexpected {type(err).__name__}: {err} (malformed input, or a bug in "
            "hivetool; HIVETOOL_DEBUG=1 shows the traceback)",
            err=True,
        )
        return EXIT_MALFORMED


def entry_point() -> None:
    sys.exit(main())
