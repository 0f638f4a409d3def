"""hivex (``hivexml``), and what it cannot show:

* names are cut at a NUL; string data (REG_SZ, REG_EXPAND_SZ, REG_LINK) is decoded up to
  the first UTF-16 NUL, an odd last byte dropped, and shown as text (invalid UTF-16: the
  raw bytes as ``bad-*``); REG_MULTI_SZ as its list of strings; REG_DWORD/_BIG_ENDIAN as
  a signed int32 of the first 4 bytes and REG_QWORD as a signed int64 of the first 8
  (shorter data shows ``-1``); every other type as base64 of the raw bytes;
* libxml2 writes control characters of names raw, which XML forbids: both sides map
  them to private-use characters before comparing.

Only hivexml's output is parsed here; no hivex code is used.
"""
from __future__ import annotations

import base64
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from io import BytesIO
from pathlib import Path

from .model import Content, Reader, Record, View, join, tool_missing


_XML_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PRIVATE = 0xF700  # control character c travels as U+F700 + c
_TRANSPORT = {c: _PRIVATE + c for c in (*range(0, 9), 11, 12, *range(14, 32))}
_HIVEX_TEXT_KINDS = {1: "string", 2: "expand", 6: "link"}
_HIVEX_OTHER_KINDS = {8: "resource-list", 9: "resource-description", 10: "resource-requirements"}


def _hivexml_read(path: Path | str) -> View:
    done = subprocess.run(["hivexml", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"hivexml failed on {path}: {done.stderr.decode(errors='replace')[:500]}")
    xml = _XML_FORBIDDEN.sub(lambda m: chr(_PRIVATE + m[0][0]).encode(), done.stdout)
    keys: Counter = Counter()
    values: Counter = Counter()
    stack: list[str] = []
    for event, element in ET.iterparse(BytesIO(xml), events=("start", "end")):
        if element.tag == "node":
            if event == "start":
                is_root = element.get("root") == "1"
                stack.append("" if is_root else join(stack[-1], element.get("name", "")))
                keys[stack[-1]] += 1
            else:
                stack.pop()
                element.clear()
        elif element.tag == "value" and event == "end":
            name = "" if element.get("default") == "1" else element.get("key", "")
            values[(stack[-1], name, _hivexml_payload(element))] += 1
    return View(keys, values)


def _hivexml_payload(element: ET.Element) -> tuple:
    kind = element.get("type", "")
    text = element.get("value")
    if kind == "string-list":
        return (kind, tuple(s.text or "" for s in element.findall("string")))
    if element.get("encoding") == "base64":
        return (kind, base64.b64decode(text or ""))
    if kind in ("int32", "int64"):
        return (kind, int(text or "0"))
    return (kind, text or "")


def _utf16_prefix(raw: bytes) -> bytes:
    """hivex's string length: whole UTF-16 units up to the first NUL unit."""
    at = 0
    while len(raw) - at >= 2 and raw[at : at + 2] != b"\0\0":
        at += 2
    return raw[:at]


def _hivex_payload(record: Record) -> tuple:
    t, raw = record.type, record.raw
    if t in _HIVEX_TEXT_KINDS:
        try:
            return (_HIVEX_TEXT_KINDS[t], _utf16_prefix(raw).decode("utf-16-le").translate(_TRANSPORT))
        except UnicodeDecodeError:
            return ("bad-" + _HIVEX_TEXT_KINDS[t], raw)
    if t == 7:
        pieces, at = [], 0
        while at < len(raw):
            piece = _utf16_prefix(raw[at:])
            try:
                pieces.append(piece.decode("utf-16-le").translate(_TRANSPORT))
            except UnicodeDecodeError:
                return ("bad-string-list", raw)
            at += len(piece) + 2
        return ("string-list", tuple(pieces))
    if t in (4, 5):
        order = "little" if t == 4 else "big"
        return ("int32", int.from_bytes(raw[:4], order, signed=True) if len(raw) >= 4 else -1)
    if t == 11:
        return ("int64", int.from_bytes(raw[:8], "little", signed=True) if len(raw) >= 8 else -1)
    if t == 0:
        return ("none", raw)
    if t == 3:
        return ("binary", raw)
    return (_HIVEX_OTHER_KINDS.get(t, "unknown"), raw)


def _hivex_name(name: str) -> str:
    return name.split("\0", 1)[0].translate(_TRANSPORT)


def _hivexml_expect(content: Content) -> View:
    def path_of(path: str) -> str:
        return "\\".join(_hivex_name(p) for p in path.split("\\")) if path else ""

    keys = Counter(path_of(path) for path in content.keys)
    values = Counter((path_of(r.key), _hivex_name(r.name), _hivex_payload(r)) for r in content.values)
    return View(keys, values)


HIVEXML = Reader("hivexml", _hivexml_read, _hivexml_expect, tool_missing("hivexml", "libhivex-bin"))
