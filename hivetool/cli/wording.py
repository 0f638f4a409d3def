"""The library speaks of its keyword arguments (``replay_logs=True``); the command line of its
options (``--replay-logs``). Messages from the library pass through :func:`in_cli_terms` on their
way to the terminal, so each layer names what its user can type."""
from __future__ import annotations

import re

_TERMS = [
    (re.compile(r"\bopen it with replay_logs=True, or replay it with hivetool\.replay\(\)"),
     "--replay-logs, or `hivetool replay`"),
    (re.compile(r"\breplay_logs=True\b"), "--replay-logs"),
    (re.compile(r"\bhivetool\.replay\(\)"), "`hivetool replay`"),
    (re.compile(r"\bskip_foreign=True\b"), "--skip-foreign"),
    (re.compile(r"\bforce=True\b"), "--force"),
    (re.compile(r"\breserve=True\b"), "--reserve"),
    (re.compile(r"\broot=\.\.\."), "--root"),
    (re.compile(r"\broot=(?=['\"])"), "--root "),
    (re.compile(r"\bcontrol_set_mode='(\w+)' or '(\w+)'"), r"--control-set \1 or \2"),
    (re.compile(r"\bcontrol_set_mode='?(\w+)'?"), r"--control-set \1"),
    (re.compile(r"\bos_choice='([^']*)'"), r"--os '\1'"),
    (re.compile(r"\buser='([^']*)'"), r"--user \1"),
    (re.compile(r"\buser=(?=NAME)"), "--user "),
    (re.compile(r"\buser= "), "--user "),
]


def in_cli_terms(message: str) -> str:
    """``message`` with the library's keyword arguments named as the command line's options."""
    for pattern, replacement in _TERMS:
        message = pattern.sub(replacement, message)
    return message
