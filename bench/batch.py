"""Batch figures: 5,000 small generated hives through ``hivetool batch ... -- check``, with one
worker and with two, beside the shell loop it replaces (one ``hivetool check`` process per
hive, timed on a sample and scaled up), and optionally on a local Dask cluster.

    .venv/bin/python bench/batch.py                # print the figures
    .venv/bin/python bench/batch.py --write        # also rewrite bench/RESULTS_batch.md
    .venv/bin/python bench/batch.py --dask         # add a two-worker Dask cluster on 127.0.0.1
    .venv/bin/python bench/batch.py --hives 1000   # fewer hives, for a quick look

Each hive is a new 1.5 hive with a key and two values of its own (8 KiB). Files go to
/dev/shm when it exists.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
HIVETOOL = [sys.executable, "-c", "from hivetool.cli import entry_point; entry_point()"]
LOOP_SAMPLE = 200  # hives the shell loop is timed on


def make_hives(folder: Path, count: int) -> None:
    import hivetool

    folder.mkdir(parents=True)
    for index in range(count):
        hive = hivetool.new()
        key = hive.create_key(r"Software\Fleet")
        key.set("Host", hivetool.RegType.SZ, f"host{index}")
        key.set("Index", hivetool.RegType.DWORD, index)
        hive.save(folder / f"host{index:05d}.dat")


def batch(folder: Path, out: Path, *options: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([*HIVETOOL, "batch", str(folder), *options, "--out", str(out), "--json", "--", "check"],
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def shell_loop(folder: Path, sample: int) -> float:
    """Seconds per hive of ``for f in ...; do hivetool check "$f" --json; done``."""
    files = sorted(folder.iterdir())[:sample]
    script = 'for f in "$@"; do "$0" check "$f" --json > /dev/null; done'
    executable = shutil.which("hivetool", path=str(Path(sys.executable).parent)) or "hivetool"
    started = time.perf_counter()
    subprocess.run(["sh", "-c", script, executable, *map(str, files)], check=True)
    return (time.perf_counter() - started) / len(files)


def worker_start() -> float:
    """Seconds from starting a worker process to its being ready (imports included)."""
    from hivetool.batch.pool import Pool

    started = time.perf_counter()
    with Pool(1, ["check"]) as pool:
        worker = pool._start()
        while not worker.ready:
            list(pool._wait())
    return time.perf_counter() - started


def dask_cluster(logs: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{port}"
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                  stdout=open(logs / "scheduler.log", "wb"), stderr=subprocess.STDOUT)]
    for index in range(2):
        processes.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"],
                                          stdout=open(logs / f"worker{index}.log", "wb"), stderr=subprocess.STDOUT))
    from distributed import Client

    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(address, timeout="5s") as client:
                client.wait_for_workers(2, timeout=60)
            return address, processes
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hives", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dask", action="store_true", help="also run on a local two-worker Dask cluster")
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS_batch.md")
    args = parser.parse_args()
    # Measure hivetool as installed, its bytecode cached (pip compiles it at install; with
    # PYTHONDONTWRITEBYTECODE a fresh checkout would compile every module in every worker).
    compileall.compile_dir(str(HERE.parent / "hivetool"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="hivetool-bench-batch-", dir=SCRATCH))
    try:
        folder = work / "hives"
        started = time.perf_counter()
        make_hives(folder, args.hives)
        made = time.perf_counter() - started
        rows = {}
        for jobs in (1, 2):
            runs = [batch(folder, work / f"j{jobs}.jsonl", "--jobs", str(jobs)) for _ in range(args.repeat)]
            seconds = statistics.median(run[0] for run in runs)
            rows[f"--jobs {jobs}"] = (seconds, runs[0][1])
        cluster = None
        if args.dask:
            address, cluster = dask_cluster(work)
            runs = [batch(folder, work / "dask.jsonl", "--dask", address) for _ in range(args.repeat)]
            rows["--dask (2 local workers, 1 thread each)"] = (statistics.median(r[0] for r in runs), runs[0][1])
        loop = shell_loop(folder, min(LOOP_SAMPLE, args.hives))
        start = statistics.median(worker_start() for _ in range(5))
    finally:
        for process in (cluster or [])[::-1]:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    one = rows["--jobs 1"][0]
    lines = [
        "# Batch figures", "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; files on "
        f"{SCRATCH}. Produced by `bench/batch.py`.", "",
        f"{args.hives:,} generated hives of 8 KiB (made in {made:.1f} s), each through `check`; wall time of the "
        f"whole `hivetool batch` command (start-up, target search, hashing, results file), median of {args.repeat}.",
        "", "| run | seconds | targets/s | speed-up over --jobs 1 | worker processes started |", "|---|---|---|---|---|",
    ]
    for name, (seconds, summary) in rows.items():
        workers = summary["workers"] if summary["workers"] is not None else "(Dask's)"
        lines.append(f"| `batch {name}` | {seconds:.2f} | {args.hives / seconds:,.0f} | {one / seconds:.2f}x | "
                     f"{workers} |")
    lines.append(f"| shell loop, one `hivetool check --json` process per hive (timed on {min(LOOP_SAMPLE, args.hives)}, "
                 f"scaled) | {loop * args.hives:.1f} | {1 / loop:,.0f} | {one / (loop * args.hives):.2f}x | "
                 f"{args.hives:,} |")
    lines += [
        "", f"A worker process starts (interpreter and the command imported) in {start * 1000:.0f} ms, "
        f"paid once per worker; a target then costs {one / args.hives * 1000:.2f} ms in one worker, against "
        f"{loop * 1000:.0f} ms for a process per hive.", "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        (HERE / "RESULTS_batch.md").write_text(text)
    two = rows["--jobs 2"][0]
    return 0 if one / two >= 1.7 else 1


if __name__ == "__main__":
    sys.exit(main())
