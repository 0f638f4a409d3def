"""CSV lines as RFC 4180 quotes them, ended by "\\n".

A field is quoted when it holds a comma, a double quote, a line feed or a carriage return,
with its quotes doubled. The csv module, told to end lines with "\\n", leaves a carriage
return unquoted, and then its own reader (and spreadsheets) end the row there: registry
strings hold CRLF text (descriptions, licence texts). Everything else is written as the csv
module writes it: numbers in decimal, None as an empty field, other text as it is.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

needs_quotes = re.compile('[,"\r\n]').search  # not None: the text must be quoted()


def field(value: Any) -> str:
    """One field: text quoted when it must be, None empty, anything else ``str()``."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if needs_quotes(text) is None:
        return text
    return quoted(text)


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def line(values: Iterable[Any]) -> str:
    """One row, with its line end (a row of one empty field is written ``""``, as the csv
    module writes it: an empty line would read back as no row at all)."""
    fields = list(map(field, values))
    if fields == [""]:
        return '""\n'
    return ",".join(fields) + "\n"
