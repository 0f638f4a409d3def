"""Big hives: a hive of more than 200 MB, laid out by the bulk builder (400,000 keys with
1.2 million values), behaves like a small one where it should.

* Opening it and changing one value decodes as many key nodes and changes as many pages as
  the same edit on a 111-key hive of the same shape (counters, not clocks: the wall-clock
  figures are in bench/RESULTS_bighive.md, made by bench/bighive.py).
* ``check`` and ``compact`` finish with peak memory below twice the file size (measured as
  the growth of the peak resident memory of their own process).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hivetool.regf.compact import build_hive
from hivetool.regf.hive import Hive

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bighive import CLOCK, GroupsOfItems  # noqa: E402

pytestmark = pytest.mark.slow
GROUPS, ITEMS, BLOB = 400, 1000, 320
MIN_SIZE = 200 * 1000 * 1000
PAGE = 4096

MEASURE = r"""
import json, os, sys
import hivetool.cli, hivetool.regf.check, hivetool.regf.compact
def kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
sys.stdout = open(os.devnull, "w")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts from what the interpreter holds now
base = kb("VmRSS")
code = hivetool.cli.main(sys.argv[1:])
print(json.dumps({"code": code, "growth": (kb("VmHWM") - base) * 1024}), file=sys.__stdout__)
"""


def measured(argv: list[str]) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], result["growth"]


@pytest.fixture(scope="module")
def hives(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("big")
    paths = {"big": work / "big.hiv", "small": work / "small.hiv"}
    summary = build_hive(GroupsOfItems(GROUPS, ITEMS, BLOB), paths["big"], CLOCK)
    assert summary.keys == 1 + GROUPS + GROUPS * ITEMS and summary.values == 3 * GROUPS * ITEMS
    build_hive(GroupsOfItems(10, 10, BLOB), paths["small"], CLOCK)
    return paths


def test_the_big_hive_is_big(hives):
    assert hives["big"].stat().st_size >= MIN_SIZE


def changed_pages(before: bytes | bytearray, after: bytes) -> int:
    view_a, view_b = memoryview(before), memoryview(after)
    return sum(view_a[i : i + PAGE] != view_b[i : i + PAGE] for i in range(0, len(before), PAGE))


def edit_counters(path: Path, key: str) -> dict[str, int]:
    hive = Hive.open(path, CLOCK)
    original = bytes(hive._engine.buf)
    hive.set_value(key, "Count", 4, b"\x07\0\0\0")
    saved = hive.to_bytes()
    assert len(saved) == len(original)
    return {"nk_decodes": hive._engine.nk_decodes, "changed_pages": changed_pages(original, saved)}


def test_open_and_set_one_value_costs_the_same_as_on_a_small_hive(hives):
    big = edit_counters(hives["big"], f"Group{GROUPS // 2:05d}\\Item{ITEMS // 2:05d}")
    small = edit_counters(hives["small"], "Group00005\\Item00005")
    # Same depth, same edit: the same key nodes decoded; the same pages changed (base block,
    # first bin header with its time copy, the key's nk and the value's vk).
    for counter in ("nk_decodes", "changed_pages"):
        assert big[counter] <= 3 * small[counter], (counter, big, small)
    assert big["changed_pages"] <= 4


def test_check_stays_below_twice_the_file_size(hives):
    code, growth = measured(["check", str(hives["big"])])
    assert code == 0
    assert growth < 2 * hives["big"].stat().st_size, growth


def test_compact_stays_below_twice_the_file_size(hives):
    out = hives["big"].parent / "compacted.hiv"
    code, growth = measured(["compact", str(hives["big"]), "-o", str(out), "--timestamp", "@0"])
    size = hives["big"].stat().st_size
    assert code == 0
    assert growth < 2 * size, growth
    assert out.stat().st_size <= size
    compacted = Hive.open(out)
    assert len(compacted.root.subkeys()) == GROUPS
    original = Hive.open(hives["big"])
    for group, item in ((1, 0), (GROUPS // 3, ITEMS - 1), (GROUPS, ITEMS // 7)):
        path = f"Group{group:05d}\\Item{item:05d}"
        assert [(v.name, v.type, v.raw) for v in compacted.key(path).values()] == [
            (v.name, v.type, v.raw) for v in original.key(path).values()
        ]
    out.unlink()
