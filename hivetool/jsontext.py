"""JSON text as ``json.dumps(document, indent=2, ensure_ascii=False)`` writes it, faster.

With ``indent`` the standard library encodes in Python through a chain of generators (its C
encoder serves only compact output), which made a whole-hive ``ls -r --json`` spend more time
formatting than reading the hive. :func:`pretty` produces the same characters with one
recursive function over the types a document holds (dicts with string keys, lists, strings,
integers, booleans, None) and the C string escaper; anything else (floats, tuples, other
keys) goes to ``json.dumps`` itself, so the output is always what the standard library
writes. :func:`write_array` streams a list, one element at a time, in the same form.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from json.encoder import encode_basestring as _string  # the C escaper when available

_INDENT = "  "


def pretty(document: Any, pad: str = "\n") -> str:
    """``document`` as indented JSON; ``pad`` is the newline and indentation it sits at."""
    kind = type(document)
    if kind is str:
        return _string(document)
    if kind is int:
        return int.__repr__(document)
    if document is None:
        return "null"
    if document is True:
        return "true"
    if document is False:
        return "false"
    if kind is dict:
        if not document:
            return "{}"
        inner = pad + _INDENT
        parts = []
        for key, item in document.items():
            if type(key) is not str:
                return _standard(document, pad)
            named = _NAMES.get(key)
            if named is None:
                named = _string(key) + ": "
                if len(_NAMES) < _NAMES_KEPT:
                    _NAMES[key] = named
            # strings and integers inline: most items are, and a call per item is the cost
            item_kind = type(item)
            if item_kind is str:
                parts.append(named + _string(item))
            elif item_kind is int:
                parts.append(named + int.__repr__(item))
            else:
                parts.append(named + pretty(item, inner))
        return "{" + inner + ("," + inner).join(parts) + pad + "}"
    if kind is list:
        if not document:
            return "[]"
        inner = pad + _INDENT
        texts = [_string(item) if type(item) is str else pretty(item, inner) for item in document]
        return "[" + inner + ("," + inner).join(texts) + pad + "]"
    return _standard(document, pad)


_NAMES: dict[str, str] = {}  # a dict key, escaped and followed by ": " (documents repeat theirs)
_NAMES_KEPT = 4096


def _standard(document: Any, pad: str) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False).replace("\n", pad)


ITEM_PAD = "\n  "  # where the items of a top-level list sit


def write_array(texts: Iterable[str], write: Callable[[str], Any]) -> None:
    """Write a list as ``pretty`` would write it whole, from its items' texts (each made with
    ``pretty(item, ITEM_PAD)``), one at a time, so the first is out before the last is read."""
    first = True
    for text in texts:
        write(("[" if first else ",") + ITEM_PAD + text)
        first = False
    write("[]\n" if first else "\n]\n")


string: Callable[[str], str] = _string  # a JSON string literal, non-ASCII kept as it is
