"""Bounded resources: hostile claims cannot make hivetool allocate, recurse or loop without end.

Four hives that lie about their size or shape, each given to the commands that read and
write: a header claiming a 4 GiB hive-bins area; a chain of 100,000 nested keys; values
claiming up to 2 GiB of data (a 1.3 cell, a 1.5 db, and a db whose segment list names one
segment 65,535 times: a gigabyte from a few kilobytes); subkey lists that point back at
themselves. Each command runs in a fresh process under a timeout, its peak resident memory
measured against what the process used before the command; it must be refused (exit 3, or a ``check`` finding) or handled, with
peak memory below twice the file size plus a small constant, and no recursion-depth error.
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from hivetool.regf.records.bins import HBIN_BASE
from hivetool.regf.compact import TreeSource, build_hive
from hivetool.regf.records.base_block import BASE_BLOCK, stamp_clean
from hivetool.regf.hive import Hive
from hivetool.regf.records.nk import NK
from hivetool.regf.records.data import DB
from hivetool.regf.records.vk import VK
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
DEPTH = 100_000
SLACK = 8 * 1024 * 1024  # the "small constant": interpreter work that does not scale with the file
TIMEOUT = 240

CHILD = r"""
import json, os, resource, sys
spec = json.loads(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (spec["address_space"], spec["address_space"]))
import hivetool.cli, hivetool.regf.check, hivetool.regf.compact, hivetool.regfile.export  # imports are not the op
from hivetool.regf.hive import Hive
def status_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
argv = [arg.replace("@DEEP@", "\\".join(["k"] * spec["depth"])) for arg in spec["argv"]]
sys.stderr = open(spec["stderr"], "w")
sys.stdout = open(os.devnull, "w")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # reset the peak (VmHWM) to what the process holds now
base = status_kb("VmRSS")
try:
    if argv[0] == "walk":  # every key, as ls -r and export visit them (their text output alone is quadratic)
        code = sum(1 for key in Hive.open(argv[1]).walk())
    else:
        code = hivetool.cli.main(argv)
except MemoryError:
    code = "MemoryError"
growth = (status_kb("VmHWM") - base) * 1024
sys.stderr.close()
print(json.dumps({"code": code, "peak": growth}), file=sys.__stdout__)
"""


def run_measured(argv: list[str], work: Path, depth: int = 0) -> tuple[object, int, str]:
    """Run the CLI in a fresh process; returns (exit code, growth of its peak resident memory
    over what it used before the command, stderr)."""
    stderr = work / "stderr.txt"
    spec = {"argv": argv, "depth": depth, "stderr": str(stderr), "address_space": 3 << 30}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], result["peak"], stderr.read_text(errors="replace")


def assert_bounded(argv: list[str], path: Path, work: Path, allowed: set[int], depth: int = 0) -> None:
    code, peak, err = run_measured(argv, work, depth)
    limit = 2 * path.stat().st_size + SLACK
    assert code in allowed, f"{argv[0]}: exit {code}: {err[-500:]}"
    assert "nests too deeply" not in err and "unexpected" not in err, err[-500:]
    assert peak < limit, f"{argv[0]}: peak {peak} bytes for a {path.stat().st_size}-byte file (limit {limit})"


def commands(path: Path, work: Path, key: str, value: str) -> dict[str, tuple[list[str], set[int]]]:
    p = str(path)
    return {
        "info": (["info", p], {0, 3}),
        "ls -r": (["ls", p, "-r"], {0, 3}),
        "get": (["get", p, key, value], {0, 3, 5}),
        "check": (["check", p], {0, 1}),
        "export": (["export", p, "--root", "HKEY_LOCAL_MACHINE\\SOFTWARE"], {0, 3}),
        "set": (["set", p, key, "new", "--type", "dword", "--data", "1", "-o", str(work / "set.hiv")], {0, 3}),
        "compact": (["compact", p, "-o", str(work / "compact.hiv")], {0, 3}),
    }


def base_hive(minor: int = 5) -> Hive:
    hive = Hive.new(minor, clock=CLOCK)
    hive.set_value(hive.create_key("a\\b"), "v", 3, b"\x01\x02\x03\x04\x05\x06")
    hive.create_key("a\\c")
    return hive


# --------------------------------------------------------------------------- 4 GiB header
def test_header_claiming_four_gib_of_bins(tmp_path):
    data = bytearray(base_hive().to_bytes())
    BASE_BLOCK.write(data, 0, "hbins_size", 0xFFFFF000)
    stamp_clean(data, 2, CLOCK.now(), 0xFFFFF000)  # a consistent, clean header that lies
    path = tmp_path / "huge-claim.hiv"
    path.write_bytes(data)
    for name, (argv, allowed) in commands(path, tmp_path, "a\\b", "v").items():
        allowed = {1} if name == "check" else {3}  # refused, naming the header field
        assert_bounded(argv, path, tmp_path, allowed)
    assert "truncated" in run_measured(["ls", str(path)], tmp_path)[2]


# --------------------------------------------------------------------------- deep chain
class Chain(TreeSource):
    """root -> k -> k -> ... (DEPTH keys); the deepest holds a value."""

    def name(self, handle: int) -> str:
        return "k"

    def child_handles(self, handle: int):
        return (handle + 1,) if handle < DEPTH else ()

    def value_items(self, handle: int):
        return [("leaf", 4, b"\x2a\0\0\0")] if handle == DEPTH else []


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chain") / "chain.hiv"
    build_hive(Chain(timestamp=CLOCK.now()), path, CLOCK)
    return path


@pytest.mark.parametrize("name", [
    "compact", "set at depth 10,000", "ls at depth 10,000",
    "get", "walk", "info", "check",
])
def test_a_chain_of_100000_keys(name, chain, tmp_path):
    depth = DEPTH if "10,000" not in name else 10_000
    argv, allowed = {
        **commands(chain, tmp_path, "@DEEP@", "leaf"),
        "walk": (["walk", str(chain)], {DEPTH + 1}),
        "set at depth 10,000": (["set", str(chain), "@DEEP@", "x", "--type", "dword", "--data", "1",
                                 "-o", str(tmp_path / "set.hiv")], {0}),
        "ls at depth 10,000": (["ls", str(chain), "@DEEP@"], {0}),
    }[name]
    # The chain is sound: every command must succeed (check: it warns that Windows stops at 512 levels).
    if name == "check":
        allowed = {0, 1}
    elif name != "walk":
        allowed = {0}
    assert_bounded(argv, chain, tmp_path, allowed, depth=depth)
    if name == "compact":  # down the chain by cells (a path lookup builds every prefix: quadratic)
        out = Hive.open(tmp_path / "compact.hiv")
        cell, depth = out._engine.root_cell, 0
        while out._engine.child_cells(cell):
            (cell,) = out._engine.child_cells(cell)
            depth += 1
        assert depth == DEPTH and out._engine.read_value(out._engine.value_cells(cell)[0]).raw == b"\x2a\0\0\0"


# --------------------------------------------------------------------------- values claiming gigabytes
def _set_vk(hive: Hive, key: str, name: str, **fields) -> None:
    cells = hive._engine.value_cells(hive.key(key).cell)
    cell = next(c for c in cells if hive._engine.value_name(c) == name)
    at = HBIN_BASE + cell + 4
    for field, number in fields.items():
        VK.write(hive._engine.buf, at, field, number)


def written(work: Path, hives: dict[str, bytes]) -> dict[str, Path]:
    paths = {name: work / f"{name}.hiv" for name in hives}
    for name, data in hives.items():
        paths[name].write_bytes(data)
    return paths


def huge_value_hives(work: Path) -> dict[str, Path]:
    out = {}
    hive = base_hive(3)  # 1.3: one cell of 6 bytes claims 2 GiB - 1
    _set_vk(hive, "a\\b", "v", data_size=0x7FFFFFFF)
    out["cell-1.3"] = hive.to_bytes()
    hive = base_hive(5)  # 1.5: a small value claims 2 GiB - 1 (its cell is no db)
    _set_vk(hive, "a\\b", "v", data_size=0x7FFFFFFF)
    out["claim-1.5"] = hive.to_bytes()
    hive = base_hive(5)  # 1.5: a real db whose 65,535 segment slots all name the same segment
    hive.set_value("a\\b", "big", 3, b"\x07" * 20_000)
    value = hive.key("a\\b").value("big")
    vk = VK.unpack(hive._engine.buf, HBIN_BASE + value.cell + 4)
    db_at = HBIN_BASE + vk.data + 4
    _, _, seg_list = DB.struct.unpack_from(hive._engine.buf, db_at)
    first_segment = struct.unpack_from("<I", hive._engine.buf, HBIN_BASE + seg_list + 4)[0]
    count = 0xFFFF
    listing = hive._engine.space.alloc(4 * count)
    struct.pack_into(f"<{count}I", hive._engine.buf, HBIN_BASE + listing + 4, *([first_segment] * count))
    DB.pack_into(hive._engine.buf, db_at, (b"db", count, listing))
    _set_vk(hive, "a\\b", "big", data_size=count * 16_344)
    out["repeated-segments"] = hive.to_bytes()
    return written(work, out)


HUGE = ["cell-1.3", "claim-1.5", "repeated-segments"]


@pytest.mark.parametrize("name", ["info", "ls -r", "get", "check", "export", "set", "compact"])
@pytest.mark.parametrize("hive_name", HUGE)
def test_values_claiming_gigabytes(hive_name, name, tmp_path):
    path = huge_value_hives(tmp_path)[hive_name]
    argv, allowed = commands(path, tmp_path, "a\\b", "big" if hive_name == "repeated-segments" else "v")[name]
    if name in ("get", "export", "compact"):
        allowed = {3}  # the claimed data cannot be read: refused, with the offset
    if name == "check":
        allowed = {1}
    assert_bounded(argv, path, tmp_path, allowed)


# --------------------------------------------------------------------------- lists pointing back
def cyclic_hives(work: Path) -> dict[str, Path]:
    out = {}
    for minor in (5, 3):
        hive = base_hive(minor)
        a = hive.key("a")
        b_cell = hive.key("a\\b").cell
        sub = NK.read(hive._engine.buf, HBIN_BASE + a.cell + 4, "subkeys")
        # a's leaf: the entry for b now names a itself (a key that is its own child).
        struct.pack_into("<I", hive._engine.buf, HBIN_BASE + sub + 8, a.cell)
        out[f"self-{minor}"] = hive.to_bytes()
        hive = base_hive(minor)
        b = hive.key("a\\b")
        leaf = hive._engine.space.alloc(12)
        hive._engine.buf[HBIN_BASE + leaf + 4 : HBIN_BASE + leaf + 16] = struct.pack("<2sHII", b"lh" if minor == 5 else b"lf", 1,
                                                                             hive._engine.root_cell, 0)
        at = HBIN_BASE + b.cell + 4
        NK.write(hive._engine.buf, at, "subkeys", leaf)
        NK.write(hive._engine.buf, at, "subkey_count", 1)  # b's child is the root: a cycle through three keys
        out[f"root-{minor}"] = hive.to_bytes()
        del b_cell
    hive = base_hive(5)
    for i in range(600):
        hive.create_key(f"many\\k{i:03d}")
    many = hive.key("many")
    ri = NK.read(hive._engine.buf, HBIN_BASE + many.cell + 4, "subkeys")
    struct.pack_into("<I", hive._engine.buf, HBIN_BASE + ri + 8, ri)  # the ri lists itself as its first leaf
    out["ri-self"] = hive.to_bytes()
    return written(work, out)


@pytest.mark.parametrize("name", ["info", "ls -r", "get", "check", "export", "set", "compact"])
@pytest.mark.parametrize("hive_name", ["self-5", "self-3", "root-5", "root-3", "ri-self"])
def test_lists_that_point_back(hive_name, name, tmp_path):
    path = cyclic_hives(tmp_path)[hive_name]
    key = "many\\k010" if hive_name == "ri-self" else "a\\c"
    argv, allowed = commands(path, tmp_path, key, "nothing")[name]
    if name in ("ls -r", "export", "compact"):
        allowed = {3}  # a whole-tree walk meets the cycle: refused, with the offset
    if name == "check":
        allowed = {1}
    assert_bounded(argv, path, tmp_path, allowed)
