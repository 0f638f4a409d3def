"""hivetool batch --dask on a real Dask cluster: a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1, started here and stopped at the end. The results must be those of a
local run, apart from timings."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus import IN_CI
from test_batch import HIVETOOL, SAMPLES, hives_below, records, run, without_timings

pytestmark = pytest.mark.slow

DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        import distributed  # noqa: F401
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("Dask distributed is not installed: pip install -e '.[dask]'")
    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    started = []

    def start(name: str, *args: str) -> None:
        log = open(logs / f"{name}.log", "wb")
        started.append(subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT))

    start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    for index in range(2):
        start(f"worker{index}", "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{index}")
    try:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_the_corpus_through_dask_gives_what_a_local_run_gives(cluster, corpus_root, tmp_path):
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    assert run("batch", corpus_root, "--jobs", "2", "--out", local, "--", "check").returncode == 0
    done = run("batch", corpus_root, "--dask", cluster, "--out", remote, "--json", "--", "check")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["workers"] is None
    assert len(records(remote)) == len(hives_below(corpus_root))
    assert without_timings(records(remote)) == without_timings(records(local))


def test_relative_targets_timeouts_and_resume_on_dask(cluster, tmp_path):
    import fcntl

    folder = tmp_path / "hives"
    folder.mkdir()
    for name in ("SYSTEM", "SOFTWARE"):
        shutil.copyfile(SAMPLES / name, folder / name)
    out = tmp_path / "r.jsonl"
    with open(folder / "SYSTEM", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = subprocess.run([*HIVETOOL, "batch", "hives", "--dask", cluster, "--timeout", "1", "--out", str(out),
                               "--", "get", "Select", "Current"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {row["target"]: row for row in records(out)}
    assert set(rows) == {os.path.join("hives", "SYSTEM"), os.path.join("hives", "SOFTWARE")}
    assert rows[os.path.join("hives", "SYSTEM")]["error"] == "timed out after 1 s (--timeout)"
    assert rows[os.path.join("hives", "SOFTWARE")]["exit_code"] == 5
    again = subprocess.run([*HIVETOOL, "batch", "hives", "--dask", cluster, "--out", str(out), "--resume", "--json",
                            "--", "get", "Select", "Current"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
    summary = json.loads(again.stdout)
    assert (summary["skipped"], summary["ran"]) == (2, 0)
