"""Big-hive figures: build a hive of 200+ MB with the bulk builder, then time opening it and
changing one value (beside a small hive of the same shape), and measure ``check`` and
``compact`` (wall time and peak resident memory, each in its own process).

    .venv/bin/python bench/bighive.py                 # print the figures
    .venv/bin/python bench/bighive.py --write         # also rewrite bench/RESULTS_bighive.md
    .venv/bin/python bench/bighive.py --groups 100    # a smaller hive, for a quick look

The hive: a root with GROUPS keys, each with ITEMS subkeys holding three values (a string, a
DWORD and a binary of BLOB bytes). Files go to /dev/shm when it exists.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hivetool.regf.compact import TreeSource, build_hive  # noqa: E402
from hivetool.timeutil import Clock  # noqa: E402

CLOCK = Clock(0x01DA_9B8C_0000_0000)
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())


class GroupsOfItems(TreeSource):
    """root -> ``groups`` keys 'Group00000'... -> ``items`` keys 'Item00000'... each, with values."""

    def __init__(self, groups: int, items: int, blob: int, timestamp: int = CLOCK.now()) -> None:
        super().__init__(timestamp=timestamp)
        self.groups, self.items, self.blob = groups, items, blob

    def name(self, handle: int) -> str:
        if handle <= self.groups:
            return f"Group{handle:05d}"
        return f"Item{(handle - self.groups - 1) % self.items:05d}"

    def child_handles(self, handle: int):
        if handle == 0:
            return range(1, self.groups + 1)
        if handle <= self.groups:
            first = self.groups + 1 + (handle - 1) * self.items
            return range(first, first + self.items)
        return ()

    def value_items(self, handle: int):
        if handle <= self.groups:
            return ()
        return (
            ("Name", 1, f"item {handle:010d} of the big hive\0".encode("utf-16-le")),
            ("Count", 4, (handle & 0xFFFFFFFF).to_bytes(4, "little")),
            ("Blob", 3, handle.to_bytes(8, "little") * (self.blob // 8)),
        )

    def key_path(self, group: int, item: int) -> str:
        return f"Group{group:05d}\\Item{item:05d}"


MEASURE = r"""
import json, os, sys, time
import hivetool.cli, hivetool.regf.check, hivetool.regf.compact
def kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
sys.stdout = open(os.devnull, "w")
base = kb("VmRSS")
start = time.perf_counter()
code = hivetool.cli.main(sys.argv[1:])
seconds = time.perf_counter() - start
print(json.dumps({"code": code, "seconds": seconds, "peak": kb("VmHWM") * 1024, "base": base * 1024}),
      file=sys.__stdout__)
"""


def measured(argv: list[str]) -> dict:
    """Run the CLI in a fresh process: exit code, seconds, peak resident memory (whole process)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def open_and_set_once(path: Path, key: str) -> tuple[float, dict]:
    from hivetool.regf.hive import Hive

    start = time.perf_counter()
    hive = Hive.open(path, CLOCK)
    opened = time.perf_counter()
    hive.set_value(key, "Count", 4, b"\x07\0\0\0")
    done = time.perf_counter()
    return done - start, {"open": opened - start, "set": done - opened, "nk_decodes": hive._engine.nk_decodes}


def open_and_add_once(path: Path, key: str) -> tuple[float, int]:
    """A value that did not exist: it needs new cells, and reusing free space the file had
    needs a search of the file for pointers to it (damage must not get worse)."""
    from hivetool.regf.hive import Hive

    hive = Hive.open(path, CLOCK)
    start = time.perf_counter()
    hive.set_value(key, "NewValue", 4, b"\x07\0\0\0")
    return time.perf_counter() - start, hive._engine.space.references().searches


NOTES = """
Notes:

- A hive of 8 MiB or more is mapped copy-on-write instead of read (`inputs.InputFile.read_hive`):
  pages load as they are touched and edits never reach the file. What opening still costs is
  the walk over every bin header (about 60,000 here): every pointer is checked against the real
  bin layout, which only that walk gives. Changing an existing value is independent of the
  size: the same 5 key nodes are decoded on both hives, and a save changes the same pages (base
  block, first bin header, the value's cell); tests/test_bighive.py asserts these counters. A
  hive that must grow (a new bin) moves into memory once, since a mapped file cannot grow.
- A new value needs new cells. Free space the file already had is handed out only after a
  search of the file shows that nothing points at it (a damaged hive must not gain a second
  owner for a cell); each search is one pass over the file per 64 KiB window of cells, about
  0.3 ms per MB. That is the cost in the "add one new DWORD" row; on the 11.7 MB SYSTEM hive of
  `bench/RESULTS.md` it is a few milliseconds.
- `check` indexes cell starts in a bitmap (one bit per 8 bytes) and keeps one byte of marks
  per 8-byte cell slot. `compact` streams its output bin by bin.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--blob", type=int, default=8)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    big_path, small_path = SCRATCH / "bighive.hiv", SCRATCH / "smallhive.hiv"
    tree = GroupsOfItems(args.groups, args.items, args.blob)
    start = time.perf_counter()
    summary = build_hive(tree, big_path, CLOCK)
    build_seconds = time.perf_counter() - start
    build_hive(GroupsOfItems(10, 10, args.blob), small_path, CLOCK)
    key = tree.key_path(args.groups // 2, args.items // 2)
    rows = {}
    for label, path, k in (("big", big_path, key), ("small", small_path, "Group00005\\Item00005")):
        runs = [open_and_set_once(path, k) for _ in range(5)]
        rows[label] = (statistics.median(r[0] for r in runs), runs[0][1])
        adds = [open_and_add_once(path, k) for _ in range(3)]
        rows[label + "-add"] = (statistics.median(a[0] for a in adds), adds[0][1])
    check = measured(["check", str(big_path)])
    compact = measured(["compact", str(big_path), "-o", str(SCRATCH / "bighive.compact.hiv"), "--timestamp", "@0"])
    size = big_path.stat().st_size
    lines = [
        "# Big hive figures",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"files on {SCRATCH}. Produced by `bench/bighive.py`.",
        "",
        f"Hive: {summary.keys:,} keys, {summary.values:,} values, {size:,} bytes "
        f"({args.groups} groups x {args.items} items), built by the bulk builder in {build_seconds:.1f} s.",
        "",
        "| job | big hive | small hive (111 keys) |",
        "|---|---|---|",
        f"| open + set one DWORD (median of 5) | {rows['big'][0] * 1000:.1f} ms | {rows['small'][0] * 1000:.1f} ms |",
        f"| open alone (reading the file; first run) | {rows['big'][1]['open'] * 1000:.1f} ms | "
        f"{rows['small'][1]['open'] * 1000:.1f} ms |",
        f"| set alone (first run) | {rows['big'][1]['set'] * 1000:.2f} ms | {rows['small'][1]['set'] * 1000:.2f} ms |",
        f"| key nodes decoded | {rows['big'][1]['nk_decodes']} | {rows['small'][1]['nk_decodes']} |",
        f"| add one new DWORD, after opening (median of 3) | {rows['big-add'][0] * 1000:.1f} ms, "
        f"{rows['big-add'][1]} search(es) | {rows['small-add'][0] * 1000:.2f} ms, {rows['small-add'][1]} search(es) |",
        "",
        "| job (own process) | exit | seconds | peak RSS | peak RSS / file size |",
        "|---|---|---|---|---|",
    ]
    for label, result in (("check", check), ("compact", compact)):
        lines.append(f"| {label} | {result['code']} | {result['seconds']:.1f} | {result['peak'] / 2**20:.0f} MiB "
                     f"(interpreter alone {result['base'] / 2**20:.0f} MiB) | {result['peak'] / size:.2f} |")
    compacted = SCRATCH / "bighive.compact.hiv"
    if compacted.exists():
        lines.append("")
        lines.append(f"Compacted: {compacted.stat().st_size:,} bytes (input {size:,}).")
    text = "\n".join(lines) + "\n" + NOTES
    print(text)
    if args.write:
        (HERE / "RESULTS_bighive.md").write_text(text)
    for path in (big_path, small_path, compacted):
        if path.exists():
            path.unlink()


if __name__ == "__main__":
    main()
