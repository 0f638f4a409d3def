"""Figures for the forensic commands: recover against the ground truth, recover on real hives,
and the speed and memory of recover and timeline on the biggest SYSTEM hive of the corpus.

    .venv/bin/python bench/recover.py            # print the report
    .venv/bin/python bench/recover.py --write    # also rewrite bench/RESULTS_recover.md

Ground truth: the layouts of tests/recovery_layouts.py (hives built and edited with hivetool's
library, every deletion recorded), 30 seeds each. Real hives: every corpus hive, counts only
(nobody knows what was deleted from them); the corpus README's own count of remnants at free
cell starts and Debian's reglookup-recover (the one recovering peer on this machine) beside
them. Speed and memory: whole `hivetool` processes under /usr/bin/time -v, outputs on /dev/shm,
best of three runs, beside reglookup-recover and reglookup-timeline (C).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from recovery_layouts import LAYOUTS, Score, score  # noqa: E402

CORPUS = Path(os.environ.get("HIVETOOL_CORPUS", ROOT.parent / "shared" / "corpus"))
SYSTEM = CORPUS / "mkorman90+regipy/regipy_tests/data/SYSTEM"
SYSTEM_B = CORPUS / "mkorman90+regipy/regipy_tests/data/SYSTEM_B"
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
HIVETOOL = str(Path(sys.executable).with_name("hivetool"))
SEEDS = 30
DATA_CLAIM = "data called intact but differs"


def pct(part: int, whole: int) -> str:
    return "-" if not whole else f"{100 * part / whole:.2f} %"


# ---------------------------------------------------------------------- ground truth
def ground_truth() -> list[str]:
    lines = ["## Ground truth", "",
             f"Hives built and edited with hivetool's library ({SEEDS} seeds per layout); every deletion is recorded "
             "with the bytes of its record and data. *Intact*: those bytes are unchanged in the final file and the "
             "cell holds no live record again. Recall = intact items reported / intact items. Item precision = "
             "reported items that are a deleted item at that offset with the right name, type, last-write time and "
             "(when not partial) path / reported items. Data precision = values reported `intact` whose data is the "
             "deleted data / values reported `intact`. Rooted = intact items whose path reaches the root.", "",
             "| layout | what | deleted | intact | recall | reported | item precision | reported intact | "
             "data precision | rooted |", "|---|---|---|---|---|---|---|---|---|---|"]
    total = Score()
    for layout in LAYOUTS:
        result = Score()
        for seed in range(SEEDS):
            final, truth = layout.make(seed)
            result.add(score(final, truth))
        total.add(result)
        lines.append(_truth_row(layout.name, layout.what, result))
    lines.append(_truth_row("**all**", "", total))
    wrong = [w for w in total.wrong if DATA_CLAIM not in w]
    lines += ["", f"Items live, invented, or with a wrong name, type, time or path: **{len(wrong)}**. "
              f"Values called intact whose data differs: **{len(total.wrong) - len(wrong)}** "
              "(all in layouts where freed space was taken and freed again: see below).", ""]
    return lines


def _truth_row(name: str, what: str, result: Score) -> str:
    data_wrong = sum(DATA_CLAIM in w for w in result.wrong)
    item_wrong = len(result.wrong) - data_wrong
    return (f"| {name} | {what} | {result.deleted} | {result.intact} | {pct(result.found_intact, result.intact)} | "
            f"{result.reported} | {pct(result.reported - item_wrong, result.reported)} | {result.reported_intact_state} | "
            f"{pct(result.reported_intact_state - data_wrong, result.reported_intact_state)} | "
            f"{pct(result.rooted, result.intact)} |")


# ---------------------------------------------------------------------- real hives
def _corpus_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (CORPUS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 9 and cells[0] not in ("file", "---") and not set(cells[0]) <= {"-"}:
            rows.append((cells[0], cells[1], cells[-1]))
    return rows


def _reglookup_counts(path: Path) -> str:
    if not shutil.which("reglookup-recover"):
        return "-"
    done = subprocess.run(["reglookup-recover", str(path)], capture_output=True, text=True, errors="replace")
    kinds = Counter(line.split(",")[2] for line in done.stdout.splitlines()[1:] if line.count(",") >= 3)
    return f"{kinds.get('KEY', 0)} / {kinds.get('VALUE', 0)}"


def real_hives() -> list[str]:
    from hivetool.forensics.carve import FREE_CELL
    from hivetool.forensics.recover import recover
    from hivetool.forensics.salvage import open_salvaged
    from hivetool.regf.hive import Hive

    lines = ["## Real hives (counts only)", "",
             "Every hive of the corpus (broken ones read with --salvage). *At free-cell starts* counts the records "
             "found where a free cell begins, which is what the corpus README's note counts (`nk N, vk M`); "
             "hivetool also reads remnants inside merged free cells, slack and the bytes past the last bin. "
             "reglookup-recover (Debian reglookup, C) is the other tool here that recovers; its keys / values "
             "beside ours.", "",
             "| hive | role | MB | keys | values | intact | partly overwritten | gone | at free-cell starts (nk/vk) | "
             "corpus README | reglookup-recover keys / values | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for relative, role, notes in _corpus_rows():
        path = CORPUS / relative
        if role in ("log", ".reg") or not path.is_file() or path.stat().st_size < 8192:
            continue
        start = time.perf_counter()
        try:
            hive = open_salvaged(path) if role.startswith("broken") else Hive.open(path)
            result = recover(hive)
        except Exception as err:  # noqa: BLE001 - a row says what happened
            lines.append(f"| {relative} | {role[:9]} | - | {type(err).__name__}: {err} |||||||||")
            continue
        seconds = time.perf_counter() - start
        counts = result.counts()
        starts = Counter(item.kind for item in result.items if item.found_in == FREE_CELL)
        note = re.search(r"nk (\d+), vk (\d+)", notes)
        lines.append(f"| {relative} | {role.split(':')[0]} | {path.stat().st_size / 2**20:.1f} | {counts['keys']} | "
                     f"{counts['values']} | {counts['intact']} | {counts['partly overwritten']} | {counts['gone']} | "
                     f"{starts['key']}/{starts['value']} | {note.group(1) + '/' + note.group(2) if note else '-'} | "
                     f"{_reglookup_counts(path)} | {seconds:.2f} |")
    return lines + [""]


# ---------------------------------------------------------------------- speed and memory
def measure(argv: list[str], output: Path) -> tuple[float, int]:
    """(best wall seconds, largest max RSS in KiB) of three runs under /usr/bin/time -v."""
    best, rss = float("inf"), 0
    for _ in range(3):
        with open(output, "wb") as out:
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-v", *argv], stdout=out, stderr=subprocess.PIPE, text=True)
            best = min(best, time.perf_counter() - start)
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        rss = max(rss, int(found.group(1)) if found else 0)
    return best, rss


def speed() -> list[str]:
    size = SYSTEM.stat().st_size
    lines = ["## Speed and memory", "",
             f"Whole processes, best of 3, outputs on {SCRATCH}; peak memory is the maximum resident set size "
             f"(/usr/bin/time -v) of the whole process, interpreter included. Targets: under 2 s, and under 3x the "
             f"hive ({3 * size / 2**20:.1f} MiB for regipy's SYSTEM, {size / 2**20:.1f} MiB).", "",
             "| command | hive | seconds | peak MiB | x hive size | output |", "|---|---|---|---|---|---|"]
    jobs = [
        ("hivetool --version (start-up alone)", [HIVETOOL, "--version"], SYSTEM),
        ("hivetool recover HIVE --json", [HIVETOOL, "recover", str(SYSTEM), "--json"], SYSTEM),
        ("hivetool timeline HIVE (body file)", [HIVETOOL, "timeline", str(SYSTEM)], SYSTEM),
        ("hivetool timeline HIVE --deleted --format jsonl", [HIVETOOL, "timeline", str(SYSTEM), "--deleted",
                                                             "--format", "jsonl"], SYSTEM),
        ("hivetool recover HIVE --json", [HIVETOOL, "recover", str(SYSTEM_B), "--json"], SYSTEM_B),
        ("hivetool timeline HIVE --deleted --logs", [HIVETOOL, "timeline", str(SYSTEM_B), "--deleted", "--logs"],
         SYSTEM_B),
    ]
    if shutil.which("reglookup-recover"):
        jobs += [("reglookup-recover HIVE (C peer)", ["reglookup-recover", str(SYSTEM)], SYSTEM),
                 ("reglookup-recover HIVE (C peer)", ["reglookup-recover", str(SYSTEM_B)], SYSTEM_B)]
    if shutil.which("reglookup-timeline"):
        jobs.append(("reglookup-timeline HIVE (C peer)", ["reglookup-timeline", str(SYSTEM)], SYSTEM))
    for label, argv, hive in jobs:
        output = SCRATCH / "bench-recover.out"
        seconds, rss = measure(argv, output)
        lines.append(f"| `{label}` | {hive.name} ({hive.stat().st_size / 2**20:.1f} MiB) | {seconds:.2f} | "
                     f"{rss / 1024:.1f} | {rss * 1024 / hive.stat().st_size:.2f} | {output.stat().st_size:,} bytes |")
        output.unlink()
    return lines + [""]


def report() -> str:
    head = ["# Forensic commands: recover and timeline", "",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; made by "
            "`bench/recover.py`.", ""]
    return "\n".join(head + ground_truth() + LIMITS + real_hives() + speed()) + "\n"


LIMITS = [
    "What the checks cannot see: freed data space that other data took and freed again, when that other data's "
    "own record is gone too, leaves bytes that look like any freed data. A string type is caught (its bytes must "
    "still read as text); binary and number data are not. Such values are counted above as data precision below "
    "100 %; they occur only where free space is reused, never where nothing was written after the deletion. "
    "Paths cannot be wrong the same way: a parent whose cell another key took is recognised by its "
    "largest-subkey-name field (which Windows never lowers) and the path is then marked partial.", "",
    "Values deleted one at a time from a key hivetool edited have no key (`partial`, empty path): hivetool zeroes "
    "the slot the value leaves in its key's value list; Windows leaves it, so in Windows-written hives the slack "
    "of the list names the key.", "",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS_recover.md")
    args = parser.parse_args()
    text = report()
    print(text)
    if args.write:
        (HERE / "RESULTS_recover.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
