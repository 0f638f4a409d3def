"""Benchmarks: hivetool beside its peers on the same files, same machine.

    .venv/bin/python bench/run.py                 # print a table
    .venv/bin/python bench/run.py --write         # also rewrite bench/RESULTS.md
    .venv/bin/python bench/run.py --jobs walk,set # a subset; --with-regipy adds the very slow regipy walk

Every side runs under the interpreter of the virtual environment that runs this script
(not a pyenv shim, which adds ~100 ms per process), except hivex's binding, which exists
only for /usr/bin/python3. Outputs go to /dev/shm. Each figure is the best of several runs:
on a shared machine other tenants' load only ever adds time (a bare `python -c pass` here moves
between 24 and 38 ms within minutes), so the fastest run is the least disturbed one, as
timeit's documentation advises; the sides of a ratio take turns run by run.
"""
from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import peers  # noqa: E402

CORPUS = Path(os.environ.get("HIVETOOL_CORPUS", HERE.parent.parent / "shared" / "corpus"))
SYSTEM = CORPUS / "mkorman90+regipy/regipy_tests/data/SYSTEM"
SYSTEM_B = CORPUS / "mkorman90+regipy/regipy_tests/data/SYSTEM_B"
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
PY = sys.executable
SYS_PY = "/usr/bin/python3"
KEY = r"ControlSet001\Services\MSExchangeDS\Parameters"


def best_of(runs: int, once: Callable[[], float]) -> float:
    return min(once() for _ in range(runs))


def side_by_side(runs: int, sides: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The best run of each side, the sides taking turns run by run: on a shared machine the
    load drifts over a minute, and a ratio of two figures taken minutes apart drifts with it."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, once in sides.items():
            times[name].append(once())
    return {name: min(values) for name, values in times.items()}


def peer_seconds(interpreter: str, script: str, *args: str) -> float:
    done = subprocess.run([interpreter, "-c", script, *args], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def process_seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - start


def lib_set_once() -> float:
    from hivetool import Clock, Hive, RegType

    out = SCRATCH / "bench-lib.hiv"
    start = time.perf_counter()
    hive = Hive.open(SYSTEM, Clock(0x01D0000000000000))
    key = hive.create_key(KEY)
    hive.set_value(key, "TCP/IP port", RegType.DWORD, (1225).to_bytes(4, "little"))
    hive.save(out)
    return time.perf_counter() - start


def walk_once() -> float:
    from hivetool import Hive

    start = time.perf_counter()
    hive = Hive.open(SYSTEM)
    for key in hive.walk():
        for value in key.values():
            value.data
    return time.perf_counter() - start


def job_set(runs: int) -> list[tuple[str, str, float]]:
    sides = {"hivetool": lib_set_once}
    if Path(SYS_PY).exists():
        sides["hivex binding (/usr/bin/python3)"] = lambda: peer_seconds(
            SYS_PY, peers.HIVEX_SET, str(SYSTEM), str(SCRATCH / "bench-hivex.hiv"))
    rows = [("set one DWORD (library)", tool, seconds) for tool, seconds in side_by_side(runs, sides).items()]
    hivetool = str(Path(PY).with_name("hivetool"))
    cli = [hivetool, "set", str(SYSTEM), KEY, "TCP/IP port", "--type", "dword", "--data", "1225",
           "--create-keys", "-o", str(SCRATCH / "bench-cli.hiv"), "--timestamp", "@0"]
    bare = [PY, "-c", peers.BARE_READ_WRITE, str(SYSTEM), str(SCRATCH / "bench-bare.hiv")]
    processes = side_by_side(runs, {"hivetool CLI": lambda: process_seconds(cli),
                                    "bare python read+write": lambda: process_seconds(bare)})
    rows += [("set one DWORD (whole process)", tool, seconds) for tool, seconds in processes.items()]
    return rows


def job_walk(runs: int, with_regipy: bool) -> list[tuple[str, str, float]]:
    walks = side_by_side(runs, {"hivetool": walk_once,
                                "libregf (pyregf)": lambda: peer_seconds(PY, peers.LIBREGF_WALK, str(SYSTEM))})
    rows = [("walk every key, decode every value", tool, seconds) for tool, seconds in walks.items()]
    rows.append(("walk every key, decode every value", "python-registry",
                 best_of(max(1, runs // 2), lambda: peer_seconds(PY, peers.PYREGISTRY_WALK, str(SYSTEM)))))
    if with_regipy:
        rows.append(("walk every key, decode every value", "regipy", peer_seconds(PY, peers.REGIPY_WALK, str(SYSTEM))))
    return rows


def hivetool_cli(*args: str) -> list[str]:
    return [str(Path(PY).with_name("hivetool")), *args]


def job_export(runs: int) -> list[tuple[str, str, float]]:
    job = "export the whole hive to .reg (whole process)"
    rows = [(job, "hivetool export", best_of(runs, lambda: process_seconds(
        hivetool_cli("export", str(SYSTEM), "-o", str(SCRATCH / "bench-export.reg")))))]
    if shutil.which("hivexregedit"):
        rows.append((job, "hivexregedit --export", best_of(max(1, runs // 3), lambda: process_seconds(
            ["sh", "-c", f"hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\\SYSTEM' '{SYSTEM}' '\\' "
                         f"> {SCRATCH / 'bench-hivex.reg'}"]))))
    if shutil.which("reged"):
        rows.append((job, "reged -x (chntpw; lossy)", best_of(runs, lambda: process_seconds(
            ["reged", "-x", str(SYSTEM), "HKEY_LOCAL_MACHINE\\SYSTEM", "\\", str(SCRATCH / "bench-reged.reg")]))))
    return rows


def job_import(runs: int) -> list[tuple[str, str, float]]:
    job = "import that export into an empty hive (whole process)"
    export = SCRATCH / "bench-export.reg"
    if not export.exists():
        process_seconds(hivetool_cli("export", str(SYSTEM), "-o", str(export)))
    empty = SCRATCH / "bench-empty.hiv"
    process_seconds(hivetool_cli("new", str(empty), "--timestamp", "@0"))
    out = SCRATCH / "bench-imported.hiv"
    rows = [(job, "hivetool import", best_of(runs, lambda: process_seconds(hivetool_cli(
        "import", str(empty), str(export), "--root", "HKEY_LOCAL_MACHINE\\SYSTEM", "-o", str(out)))))]
    rows.append((job + ": result size / source size", "hivetool import", out.stat().st_size / SYSTEM.stat().st_size))
    if shutil.which("hivexregedit"):
        # hivexregedit cannot read UTF-16 .reg files (what regedit writes): give it a UTF-8 copy.
        utf8 = SCRATCH / "bench-export-utf8.reg"
        utf8.write_text(export.read_bytes().decode("utf-16"), encoding="utf-8")
        target = SCRATCH / "bench-hivex-merge.hiv"

        def merge() -> float:
            shutil.copyfile(empty, target)
            return process_seconds(["hivexregedit", "--merge", "--prefix", "HKEY_LOCAL_MACHINE\\SYSTEM",
                                    str(target), str(utf8)])

        rows.append((job, "hivexregedit --merge", best_of(1, merge)))
        rows.append((job + ": result size / source size", "hivexregedit --merge",
                     target.stat().st_size / SYSTEM.stat().st_size))
    return rows


def job_replay(runs: int) -> list[tuple[str, str, float]]:
    if not SYSTEM_B.is_file():
        return []
    return [("replay SYSTEM_B with its 3 MB logs (whole process)", "hivetool replay", best_of(runs, lambda: process_seconds(
        hivetool_cli("replay", str(SYSTEM_B), "-o", str(SCRATCH / "bench-replayed.hiv")))))]


def job_maintenance(runs: int) -> list[tuple[str, str, float]]:
    checks = {"hivetool check": lambda: process_seconds(hivetool_cli("check", str(SYSTEM)))}
    if shutil.which("reglookup"):  # what check is measured against: a C reader's full pass over the hive
        checks["reglookup (its full dump, for scale)"] = lambda: to_devnull_seconds(["reglookup", str(SYSTEM)])
    rows = [("structural check (whole process)", tool, seconds) for tool, seconds in side_by_side(runs, checks).items()]
    rows.append(("compact (whole process)", "hivetool compact", best_of(max(1, runs // 2), lambda: process_seconds(
        hivetool_cli("compact", str(SYSTEM), "-o", str(SCRATCH / "bench-compact.hiv"))))))
    return rows


def image_tree() -> Path:
    """A Windows image folder of 10 hives (the fixture of tests/images.py) with regipy's
    11.7 MB SYSTEM as its SYSTEM hive."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    import images  # noqa: E402  (the tests' fixture builder)

    tree = SCRATCH / "bench-image"
    if tree.exists():
        shutil.rmtree(tree)
    images.build_image(tree)
    shutil.copyfile(SYSTEM, tree / "Windows/System32/config/SYSTEM")
    return tree


def job_image(runs: int) -> list[tuple[str, str, float]]:
    tree = image_tree()
    out = SCRATCH / "bench-image-out"
    image_set = hivetool_cli("set", str(tree), "HKLM\\SYSTEM\\" + KEY, "TCP/IP port", "--type", "dword", "--data",
                             "1225", "--create-keys", "-o", str(out), "--timestamp", "@0")
    hive_set = hivetool_cli("set", str(SYSTEM), KEY, "TCP/IP port", "--type", "dword", "--data", "1225",
                            "--create-keys", "-o", str(SCRATCH / "bench-cli.hiv"), "--timestamp", "@0")
    return [
        ("image info of a tree of 10 hives (whole process)", "hivetool image info",
         best_of(runs, lambda: process_seconds(hivetool_cli("image", "info", str(tree))))),
        ("set one DWORD in the SYSTEM hive (whole process)", "hivetool set on the image",
         best_of(runs, lambda: process_seconds(image_set))),
        ("set one DWORD in the SYSTEM hive (whole process)", "hivetool set on the hive file",
         best_of(runs, lambda: process_seconds(hive_set))),
    ]


def to_devnull_seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def first_byte_seconds(argv: list[str]) -> float:
    """Time until the first byte of standard output reaches a pipe (the rest is drained)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    process.stdout.read(1)
    first = time.perf_counter() - start
    while process.stdout.read(1 << 20):
        pass
    process.wait()
    return first


def job_dump(runs: int) -> list[tuple[str, str, float]]:
    job = "dump the whole hive to /dev/null (whole process)"
    dumps: dict[str, Callable[[], float]] = {
        f"hivetool ls -r {form}": lambda form=form: to_devnull_seconds(hivetool_cli("ls", str(SYSTEM), "-r", form))
        for form in ("--json", "--jsonl", "--csv")}
    if shutil.which("reglookup"):
        dumps["reglookup"] = lambda: to_devnull_seconds(["reglookup", str(SYSTEM)])
    rows = [(job, tool, seconds) for tool, seconds in side_by_side(runs, dumps).items()]
    first = "first key of the dump on a pipe (whole process)"
    firsts = {"hivetool ls -r --json": lambda: first_byte_seconds(hivetool_cli("ls", str(SYSTEM), "-r", "--json"))}
    if shutil.which("reglookup"):
        firsts["reglookup"] = lambda: first_byte_seconds(["reglookup", str(SYSTEM)])
    rows += [(first, tool, seconds) for tool, seconds in side_by_side(runs, firsts).items()]
    return rows


JOBS: dict[str, Callable[[argparse.Namespace], list[tuple[str, str, float]]]] = {
    "set": lambda a: job_set(a.runs),
    "dump": lambda a: job_dump(a.runs),
    "walk": lambda a: job_walk(a.runs, a.with_regipy),
    "export": lambda a: job_export(a.runs),
    "import": lambda a: job_import(max(1, a.runs // 2)),
    "replay": lambda a: job_replay(a.runs),
    "maintenance": lambda a: job_maintenance(max(1, a.runs // 2)),
    "image": lambda a: job_image(a.runs),
}


def render(rows: list[tuple[str, str, float]]) -> str:
    lines = ["| job | tool | seconds |", "|---|---|---|"]
    lines += [f"| {job} | {tool} | {seconds:.3f} |" if "size" not in job else f"| {job} | {tool} | {seconds:.2f}x |"
              for job, tool, seconds in rows]
    return "\n".join(lines)


def budgets(rows: list[tuple[str, str, float]]) -> list[str]:
    """The performance budgets of the design, checked against this run's figures."""
    seconds = {(job, tool): value for job, tool, value in rows}

    def get(job_start: str, tool_start: str) -> float | None:
        return next((v for (job, tool), v in seconds.items() if job.startswith(job_start) and tool.startswith(tool_start)), None)

    lines = []
    lib, hivex = get("set one DWORD (library)", "hivetool"), get("set one DWORD (library)", "hivex")
    if lib and hivex:
        lines.append(f"- library set: {lib / hivex:.2f}x hivex's binding (budget: at most 1.5x)")
    cli, bare = get("set one DWORD (whole process)", "hivetool"), get("set one DWORD (whole process)", "bare")
    if cli and bare:
        lines.append(f"- CLI set: {1000 * (cli - bare):.0f} ms more than a bare read+write, {cli / bare:.2f}x "
                     "(budget: at most 100 ms; target: at most 2.2x)")
    checks = [("walk every key", "hivetool", 1.5, "walk"), ("export the whole hive", "hivetool", 2.0, "export"),
              ("import that export into an empty hive (whole process)", "hivetool", 5.0, "import")]
    for job, tool, limit, label in checks:
        value = get(job, tool)
        if value is not None and "size" not in job:
            lines.append(f"- {label}: {value:.2f} s (budget: under {limit:.1f} s)")
    walk, libregf = get("walk every key", "hivetool"), get("walk every key", "libregf")
    if walk and libregf:
        lines.append(f"- walk: {walk / libregf:.2f}x libregf (target: at most 1.2x)")
    ratio = get("import that export into an empty hive (whole process): result size", "hivetool")
    if ratio is not None:
        lines.append(f"- imported hive: {ratio:.2f}x the source hive's size (budget: under 1.2x)")
    reglookup = get("dump the whole hive", "reglookup")
    for form in ("--json", "--jsonl", "--csv"):
        dump = get("dump the whole hive", f"hivetool ls -r {form}")
        if dump and reglookup:
            lines.append(f"- whole-hive dump (ls -r {form}): {dump / reglookup:.2f}x reglookup (target: at most 1.0x)")
    first = get("first key of the dump", "hivetool")
    if first is not None:
        lines.append(f"- first key of a dump: {1000 * first:.0f} ms (target: within 100 ms)")
    check, beside = get("structural check", "hivetool"), get("structural check", "reglookup")
    if check and beside:
        lines.append(f"- check: {check / beside:.2f}x reglookup's dump (target: at most 1.0x)")
    compact = get("compact", "hivetool")
    if compact is not None:
        lines.append(f"- compact: {compact:.2f} s (target: 1 s)")
    replay = get("replay SYSTEM_B", "hivetool")
    if replay is not None:
        lines.append(f"- replay of SYSTEM_B with its logs: {replay:.2f} s (budget: well under 2 s)")
    info = get("image info", "hivetool")
    if info is not None:
        lines.append(f"- image info of 10 hives: {info:.2f} s (budget: under 0.5 s)")
    on_image, on_file = get("set one DWORD in the SYSTEM", "hivetool set on the image"), get(
        "set one DWORD in the SYSTEM", "hivetool set on the hive file")
    if on_image and on_file:
        lines.append(f"- set on an image: {on_image / on_file:.2f}x the same set on the hive file (budget: at most 1.2x)")
    return lines


def kept_sections(results: Path) -> str:
    """The sections written by hand after the generated part of RESULTS.md (notes on the
    figures), which a rewrite keeps: everything from the first heading after the budgets."""
    if not results.is_file():
        return ""
    text = results.read_text()
    budgets_at = text.find("\n## Against the budgets")
    later = text.find("\n## ", budgets_at + 1) if budgets_at >= 0 else -1
    return text[later:] if later >= 0 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default=",".join(JOBS), help=f"comma-separated subset of {', '.join(JOBS)}")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--with-regipy", action="store_true", help="include regipy's walk (minutes)")
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS.md")
    args = parser.parse_args()
    if not SYSTEM.is_file():
        sys.exit(f"corpus hive not found: {SYSTEM} (set HIVETOOL_CORPUS)")
    # Measure hivetool as installed, with its bytecode cached (pip compiles it at install;
    # PYTHONDONTWRITEBYTECODE or a fresh editable checkout would leave it uncompiled).
    compileall.compile_dir(str(HERE.parent / "hivetool"), quiet=1)
    rows: list[tuple[str, str, float]] = []
    for name in args.jobs.split(","):
        rows += JOBS[name.strip()](args)
    table = render(rows)
    print(table)
    print("\n".join(budgets(rows)))
    if args.write:
        header = (f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} "
                  f"({PY}); hive: {SYSTEM.name} ({SYSTEM.stat().st_size:,} bytes); best of {args.runs} runs.")
        checked = "\n".join(budgets(rows))
        (HERE / "RESULTS.md").write_text(
            f"# Benchmark results\n\nWritten by `bench/run.py --write`. {header}\n\n{table}\n\n"
            f"## Against the budgets\n\n{checked}\n\n"
            "Big-hive figures: `bench/RESULTS_bighive.md`; fuzzing campaigns: `bench/RESULTS_fuzz.md`.\n"
            + kept_sections(HERE / "RESULTS.md")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
