"""Shell completion of KEY arguments from the hive named earlier on the command line.

Click drives completion (``eval "$(_HIVETOOL_COMPLETE=bash_source hivetool)"``); this module
only lists the subkeys that match what was typed. Key paths are ``\\``-separated, and the
backslash is special to shells, so what bash receives is escaped for it: click's bash
script reads each completion with ``read`` (which eats one level of backslashes) and
inserts it as typed text (which the shell unescapes once more when the command runs).
zsh and fish quote what they insert themselves.
"""
from __future__ import annotations

import os

import click
from click.shell_completion import CompletionItem

MAX_ITEMS = 500  # a key with thousands of subkeys: the first ones are enough to go on typing
_SHELL_SPECIAL = set(" \t\"'`$&|;<>()[]{}*?!#~=%")
_LOCK_WAIT = 0.5  # seconds: completion must never hang on a hive another process holds


def complete_key(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    hive_path = ctx.params.get("hive_path")
    if not hive_path:
        return []
    try:
        from ..regf.hive import Hive
        from ..regf.records.names import upcase

        hive = Hive.open(hive_path, wait=_LOCK_WAIT)
        parent_path, separator, prefix = incomplete.lstrip("\\").rpartition("\\")
        parent = hive.key(parent_path)
        wanted = upcase(prefix)
        names = [sub.name for sub in parent.subkeys() if upcase(sub.name).startswith(wanted)][:MAX_ITEMS]
    except Exception:  # completion must never print a traceback into the user's shell
        return []
    lead = parent_path + separator
    return [CompletionItem(_for_shell(lead + name)) for name in names]


def _for_shell(path: str) -> str:
    if not os.environ.get("_HIVETOOL_COMPLETE", "").startswith("bash"):
        return path
    joined = os.environ.get("COMP_WORDS", "")
    words = joined.split("\n" if "\n" in joined else " ")  # click's bash script joins them with newlines
    index = int(os.environ.get("COMP_CWORD", "0") or 0)
    current = words[index] if 0 <= index < len(words) else ""
    if current[:1] not in ("'", '"'):  # an unquoted word: escape what the shell would take
        path = "".join("\\" + c if c in _SHELL_SPECIAL or c == "\\" else c for c in path)
    return path.replace("\\", "\\\\")  # for the `read` in click's bash script
