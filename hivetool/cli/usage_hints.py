"""Hints for the slips people make most often on the command line, shown under a usage error."""
from __future__ import annotations

import difflib
import os
from typing import Iterable

import click

REG_STARTS = (b"\xff\xfe", b"\xef\xbb\xbf", b"Windows Registry Editor", b"REGEDIT")


def hint_for(err: click.UsageError, commands: Iterable[str]) -> str | None:
    """A sentence that says what was probably meant, or None."""
    ctx = err.ctx
    message = err.format_message()
    name = ctx.command.name if ctx is not None else None
    if isinstance(err, click.NoSuchOption) or "No such command" in message:
        if "No such command" in message:
            typed = message.split("'")[1] if "'" in message else ""
            close = difflib.get_close_matches(typed, list(commands), n=3, cutoff=0.6)
            if close:
                return "did you mean " + " or ".join(f"'hivetool {c}'" for c in close) + "?"
        return None
    if name == "set" and ("unexpected extra argument" in message or "Missing option '--type'" in message):
        return ("the type and the data are options: hivetool set HIVE KEY VALUE --type dword --data 1225 "
                "(-o OUT | --in-place)")
    if name in ("get", "rm") and "Missing argument 'VALUE'" in message:
        return "VALUE '@' names a key's default value"
    return None


def swapped_import_arguments(hive_path: str, reg_paths: tuple[str, ...]) -> str | None:
    """``hivetool import FILE.reg HIVE``: the first argument is a .reg file and a later one
    a hive. Only the first bytes of regular files are looked at."""
    if not _starts_with(hive_path, REG_STARTS) and not hive_path.lower().endswith(".reg"):
        return None
    if _starts_with(hive_path, (b"regf",)):
        return None
    for path in reg_paths:
        if _starts_with(path, (b"regf",)):
            return (f"the arguments look swapped: {path} is a hive and {hive_path} a .reg file; "
                    "the order is hivetool import HIVE FILE.reg... (-o OUT | --in-place)")
    return None


def _starts_with(path: str, prefixes: tuple[bytes, ...]) -> bool:
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as handle:
            head = handle.read(32)
    except OSError:
        return False
    return any(head.startswith(prefix) for prefix in prefixes)
