"""Reading a .reg file takes memory in proportion to the file, whatever the shape of its lines.

One hex value of megabytes, as regedit wraps it (a continuation line per 25 bytes) or on a
single line, must not cost more than a small multiple of the file: a 10 MB value (a 30 MB
file) used to take 1.5 to 2.8 GB, because a regular expression that repeats once per byte
keeps state for every repetition. Each case runs in a fresh process whose address space is
capped (RLIMIT_AS), so going over the bound ends in MemoryError rather than a slow machine.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from hivetool.regf.hive import Hive
from hivetool.regfile.encoding import WINDOWS_ANSI_ERRORS
from hivetool.timeutil import Clock

VALUE_SIZE = 4 << 20
BASE = 64 << 20  # the interpreter and hivetool's modules (about 20 MB), and room to spare
KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\big"

CHILD = r"""
import json, os, resource, sys
spec = json.loads(sys.argv[1])
import hivetool.cli, hivetool.regfile.apply, hivetool.regfile.parse  # imports are not the op
resource.setrlimit(resource.RLIMIT_AS, (spec["limit"], spec["limit"]))
sys.stderr = open(spec["stderr"], "w")
sys.stdout = open(os.devnull, "w")
try:
    code = hivetool.cli.main(spec["argv"])
except MemoryError:
    code = "MemoryError"
sys.stderr.close()
print(json.dumps({"code": code}), file=sys.__stdout__)
"""


def run_capped(argv: list[str], limit: int, work: Path) -> tuple[object, str]:
    stderr = work / "stderr.txt"
    spec = {"argv": argv, "limit": limit, "stderr": str(stderr)}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["code"], stderr.read_text(errors="replace")


def regedit_wrapped(prefix: str, data: bytes) -> str:
    """Hex data wrapped as regedit wraps it (reg-format 8.1)."""
    first = max(1, -(-(77 - len(prefix)) // 3))
    pieces = [data[:first].hex(",")] + [data[at:at + 25].hex(",") for at in range(first, len(data), 25)]
    return prefix + ",\\\r\n  ".join(pieces)


def odd_layout(prefix: str, data: bytes) -> str:
    """One-digit bytes, blanks after commas, a comment line between continuation lines."""
    items = [f"{b:x}" for b in data]
    lines = [" " + ", ".join(items[at:at + 20]) for at in range(0, len(items), 20)]
    return prefix + "\\ ;start\r\n" + ",\\\r\n;between\r\n".join(lines)


@pytest.fixture(scope="module")
def value() -> bytes:
    return random.Random(7).randbytes(VALUE_SIZE)


@pytest.fixture(scope="module")
def files(value, tmp_path_factory) -> dict[str, tuple[Path, int, bytes]]:
    """name -> (file, value type, the bytes an import stores)."""
    work = tmp_path_factory.mktemp("big")
    out = {}
    head = f"[{KEY}]\r\n"
    text = "\ufeffWindows Registry Editor Version 5.00\r\n\r\n" + head + regedit_wrapped('"Big"=hex:', value) + "\r\n\r\n"
    out["regedit layout, UTF-16"] = (work / "wrapped.reg", 3, value)
    out["regedit layout, UTF-16"][0].write_bytes(text.encode("utf-16-le"))
    # One line, hex(2) in an ANSI file: the bytes are ANSI text, widened to UTF-16 (5.5).
    text = "REGEDIT4\r\n\r\n" + head + '"Big"=hex(2):' + value.hex(",") + "\r\n\r\n"
    widened = (value + b"\0").decode("cp1252", WINDOWS_ANSI_ERRORS).encode("utf-16-le")
    out["one line, ANSI"] = (work / "line.reg", 2, widened)
    out["one line, ANSI"][0].write_bytes(text.encode("ascii"))
    small = value[: 1 << 20]
    text = "REGEDIT4\r\n\r\n" + head + odd_layout('"Big"=hex:', small) + "\r\n\r\n"
    out["odd layout, ANSI"] = (work / "odd.reg", 3, small)
    out["odd layout, ANSI"][0].write_bytes(text.encode("ascii"))
    return out


# The bound, as a multiple of the file's size on top of BASE. The file's bytes and its lines
# are held while it is read (about 2x for UTF-16, where a character takes two bytes; 3x for a
# one-line ANSI file, whose hex(2) bytes are widened to UTF-16 too).
BOUNDS = {"regedit layout, UTF-16": 1.5, "one line, ANSI": 2.0, "odd layout, ANSI": 3.0}


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_reg_check_of_a_multi_megabyte_hex_value_stays_within_a_few_times_the_file(name, files, tmp_path):
    path, _, _ = files[name]
    limit = BASE + int(BOUNDS[name] * path.stat().st_size)
    code, err = run_capped(["reg", "check", str(path)], limit, tmp_path)
    assert code == 0, err[-1000:]  # exit 0: no line Windows would skip


@pytest.mark.parametrize("name", ["regedit layout, UTF-16", "one line, ANSI"])
def test_import_of_a_multi_megabyte_hex_value_stays_within_a_few_times_the_file(name, files, tmp_path):
    path, value_type, stored = files[name]
    hive_path = tmp_path / "SOFTWARE"
    Hive.new(5, "ROOT", Clock(0x01DA_9B8C_0000_0000)).save(hive_path)
    out = tmp_path / "out.hiv"
    # The hive holds the value once more, in its big-data cells.
    limit = BASE + int(BOUNDS[name] * path.stat().st_size) + 2 * len(stored)
    code, err = run_capped(["import", str(hive_path), str(path), "--root", "HKEY_LOCAL_MACHINE\\SOFTWARE",
                            "-o", str(out)], limit, tmp_path)
    assert code == 0, err[-1000:]
    got = Hive.open(out).key("big").value("Big")
    assert (got.type, got.raw) == (value_type, stored)
