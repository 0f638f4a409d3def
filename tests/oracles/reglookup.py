"""reglookup, and what it cannot show:

* it prints ``%XX`` for bytes outside 0x20-0x7E, ``%`` and each field's special characters;
  names and strings are converted to US-ASCII: a compressed name shows its raw bytes, a
  UTF-16 name or string that is not pure ASCII shows its raw UTF-16 bytes, an ASCII one
  its text up to the first NUL;
* big data (1.5) is reassembled from its segments sorted by file offset, so a value
  whose segments are not in ascending order cannot be shown;
* REG_DWORD/_BIG_ENDIAN/REG_QWORD print the first 4/8 bytes as hex (shorter: raw),
  REG_MULTI_SZ prints its non-empty strings joined by ``|``, unknown types print raw,
  empty data prints ``(null)``; type 0x7FFFFFFF prints as ``KEY``.
"""
from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from .model import BIG_DATA_LIMIT, OPAQUE, Content, Opaque, Reader, Record, View, tool_missing


_RL_TYPES = ("NONE", "SZ", "EXPAND_SZ", "BINARY", "DWORD", "DWORD_BE", "LINK", "MULTI_SZ",
             "RSRC_LIST", "RSRC_DESC", "RSRC_REQ_LIST", "QWORD")
_RL_KEY_SPECIAL = ',"/'
_RL_SUBFIELD_SPECIAL = ',"|'
_RL_COMMON_SPECIAL = ',"'


def _rl_table(special: str) -> dict[int, str]:
    return {
        b: f"%{b:02X}" for b in range(256) if b < 32 or b > 126 or chr(b) == "%" or chr(b) in special
    }


_RL_QUOTE = {s: _rl_table(s) for s in (_RL_KEY_SPECIAL, _RL_SUBFIELD_SPECIAL, _RL_COMMON_SPECIAL)}


def _rl_quote(raw: bytes, special: str) -> str:
    """reglookup's quoting: %XX for non-printable bytes, '%' and the field's specials."""
    return raw.decode("latin-1").translate(_RL_QUOTE[special])


def _rl_ascii(raw: bytes) -> str | None:
    """reglookup's iconv UTF-16LE -> US-ASCII: the text, or None when it fails."""
    if len(raw) % 2:
        return None
    try:
        text = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return None
    return text if text.isascii() else None


def _rl_name(name: str, utf16: bool) -> str:
    if not utf16:
        return _rl_quote(name.encode("latin-1").split(b"\0", 1)[0], _RL_KEY_SPECIAL)
    raw = name.encode("utf-16-le", "surrogatepass")
    text = _rl_ascii(raw)
    if text is None:
        return _rl_quote(raw, _RL_KEY_SPECIAL)
    return _rl_quote(text.split("\0", 1)[0].encode("ascii"), _RL_KEY_SPECIAL)


def _rl_data(t: int, raw: bytes) -> str:
    if not raw:
        return "(null)"
    if t in (1, 2, 6, 7):
        text = _rl_ascii(raw)
        if text is None:
            return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)
        if t != 7:
            return _rl_quote(text.split("\0", 1)[0].encode("ascii"), _RL_COMMON_SPECIAL)
        starts = [0] + [i + 1 for i in range(len(text) - 1) if text[i] == "\0" and text[i + 1] != "\0"]
        strings = (text[s:].split("\0", 1)[0] for s in starts)
        return "|".join(_rl_quote(s.encode("ascii"), _RL_SUBFIELD_SPECIAL) for s in strings)
    if t in (4, 5):
        if len(raw) < 4:
            return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)
        return "0x%08X" % int.from_bytes(raw[:4], "little" if t == 4 else "big")
    if t == 11:
        if len(raw) < 8:
            return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)
        return "0x%016X" % int.from_bytes(raw[:8], "little")
    if t < len(_RL_TYPES):
        return _rl_quote(raw, _RL_COMMON_SPECIAL)
    return _rl_quote(raw, _RL_SUBFIELD_SPECIAL)  # "could not be interpreted": raw buffer


def _rl_type(t: int) -> str:
    if t == 0x7FFFFFFF:
        return "KEY"  # regfi's own marker for keys
    return _RL_TYPES[t] if t < len(_RL_TYPES) else f"0x{t:08X}"


def _reglookup_read(path: Path | str) -> View:
    done = subprocess.run(["reglookup", "-H", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"reglookup failed on {path}: {done.stderr.decode(errors='replace')[:500]}")
    keys: Counter = Counter()
    values: Counter = Counter()
    for line in done.stdout.decode("latin-1").splitlines():
        fields = line.split(",")
        if len(fields) != 4:
            raise AssertionError(f"reglookup line with {len(fields)} fields: {line[:200]!r}")
        where, kind, data, mtime = fields
        if mtime:  # keys carry their last-write time, values never do
            keys[where] += 1
        else:
            values[(where, kind, data)] += 1
    return View(keys, values)


def _reglookup_expect(content: Content) -> View:
    def path_of(path: str) -> str:
        parts = path.split("\\") if path else []
        return "/" + "/".join(_rl_name(p, u) for p, u in zip(parts, content.keys[path]))

    keys = Counter(path_of(path) for path in content.keys)
    def data_of(r: Record) -> str | Opaque:
        # regfi gathers big-data segments sorted by file offset, not in list order.
        if content.minor >= 5 and len(r.raw) > BIG_DATA_LIMIT and r.ascending is not True:
            return OPAQUE
        return _rl_data(r.type, r.raw)

    values = Counter(
        (path_of(r.key) + "/" + (_rl_name(r.name, r.name_utf16) if r.name else ""), _rl_type(r.type), data_of(r))
        for r in content.values
    )
    return View(keys, values)


REGLOOKUP = Reader("reglookup", _reglookup_read, _reglookup_expect, tool_missing("reglookup", "reglookup"))
