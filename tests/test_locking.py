"""Concurrent writers lose nothing: an in-place edit holds an exclusive ``flock`` on the hive
for its whole read-modify-write; readers share a lock on their read-only descriptor.

* Two processes run ``set --in-place`` on one hive at the same moment, 200 times: both
  values are there every time (without the lock, one was lost in about a third of the runs).
* A writer that cannot get the lock within ``--wait`` gives up with exit 4 and a clear message,
  and writes nothing; readers wait for a writer and writers for readers.
* The lock survives the atomic rename: a writer that waited on the old file locks the new one.
* Reading takes no lock file and writes nothing beside the hive.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.regf.hive import Hive
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
KEY = "Services\\Tcpip\\Parameters"
ROUNDS = 200


def small_hive(path: Path) -> Path:
    hive = Hive.new(5, clock=CLOCK)
    hive.create_key(KEY)
    for i in range(40):
        hive.set_value(hive.create_key(f"Filler\\k{i:03d}"), "data", 3, bytes([i]) * 200)
    hive.save(path)
    return path


def values_of(path: Path) -> set[str]:
    return {value.name for value in Hive.open(path).key(KEY).values()}


def _child(go_read: int, argv: list[str]) -> None:
    """In a forked child: wait for the start signal, run one command, exit with its code."""
    try:
        os.read(go_read, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        code = main(argv)
    except BaseException:
        code = 99
    os._exit(code)


def race(argvs: list[list[str]]) -> list[int]:
    """Start one forked process per argv, release them at the same moment, return their codes."""
    go_read, go_write = os.pipe()
    pids = []
    for argv in argvs:
        pid = os.fork()
        if pid == 0:
            os.close(go_write)
            _child(go_read, argv)
        pids.append(pid)
    os.close(go_read)
    os.write(go_write, b"x" * len(argvs))
    os.close(go_write)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def test_two_concurrent_in_place_writers_never_lose_an_update(tmp_path):
    hive = small_hive(tmp_path / "SYSTEM")
    for round_ in range(ROUNDS):
        names = [f"a{round_}", f"b{round_}"]
        codes = race([["set", str(hive), KEY, name, "--type", "dword", "--data", str(round_), "--in-place",
                       "--timestamp", "@0", "--wait", "30"] for name in names])
        assert codes == [0, 0], (round_, codes)
        present = values_of(hive)
        assert set(names) <= present, f"round {round_}: lost {set(names) - present}"
    assert len(values_of(hive)) == 2 * ROUNDS
    assert sorted(os.listdir(tmp_path)) == ["SYSTEM"]  # no lock file, no temporary file left


def test_concurrent_whole_processes(tmp_path):
    """The same race between two whole `hivetool` processes, a few rounds."""
    hive = small_hive(tmp_path / "SYSTEM")
    entry = "import sys; from hivetool.cli import entry_point; entry_point()"
    for round_ in range(5):
        procs = [subprocess.Popen([sys.executable, "-c", entry, "set", str(hive), KEY, f"{tag}{round_}", "--type",
                                   "sz", "--data", tag, "--in-place", "--wait", "30"], stderr=subprocess.PIPE)
                 for tag in ("p", "q")]
        for proc in procs:
            assert proc.wait(timeout=60) == 0, proc.stderr.read()
        assert {f"p{round_}", f"q{round_}"} <= values_of(hive)


def hold_lock(path: Path, operation: int) -> int:
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, operation)
    return fd


def test_a_writer_gives_up_after_wait_with_exit_4(tmp_path, capsys):
    hive = small_hive(tmp_path / "SYSTEM")
    before = hive.read_bytes()
    for held in (fcntl.LOCK_EX, fcntl.LOCK_SH):  # another writer; a reader
        fd = hold_lock(hive, held)
        try:
            started = time.monotonic()
            code = main(["set", str(hive), KEY, "x", "--type", "dword", "--data", "1", "--in-place", "--wait", "0.3"])
            waited = time.monotonic() - started
        finally:
            os.close(fd)
        err = capsys.readouterr().err
        assert code == 4, err
        assert "by another process" in err and "--wait SECONDS" in err
        assert waited >= 0.3
        assert hive.read_bytes() == before


def test_a_reader_waits_for_a_writer_but_not_for_another_reader(tmp_path, capsys):
    hive = small_hive(tmp_path / "SYSTEM")
    fd = hold_lock(hive, fcntl.LOCK_SH)
    try:
        assert main(["ls", str(hive), KEY, "--wait", "0"]) == 0  # shared with shared
    finally:
        os.close(fd)
    fd = hold_lock(hive, fcntl.LOCK_EX)
    try:
        assert main(["ls", str(hive), KEY, "--wait", "0.2"]) == 4
        assert "is being edited by another process" in capsys.readouterr().err
    finally:
        os.close(fd)
    assert main(["ls", str(hive), KEY, "--wait", "0"]) == 0


def test_a_writer_that_waited_locks_the_file_that_replaced_the_old_one(tmp_path):
    """The first writer saves by rename while the second waits on the old inode's lock; once
    granted, the second sees the path names another file, and locks and edits that one."""
    path = small_hive(tmp_path / "SYSTEM")
    first = Hive.open(path, CLOCK, for_update=True)
    old_inode = path.stat().st_ino
    second = subprocess.Popen(
        [sys.executable, "-c", "import sys; from hivetool.cli import main; sys.exit(main(sys.argv[1:]))",
         "set", str(path), KEY, "second", "--type", "dword", "--data", "2", "--in-place", "--wait", "30"],
        stderr=subprocess.PIPE)
    time.sleep(1.0)  # the second process is now waiting for the lock
    assert second.poll() is None
    first.set_value(KEY, "first", 4, b"\x01\0\0\0")
    first.save(in_place=True)
    assert path.stat().st_ino != old_inode
    first.close()
    assert second.wait(timeout=60) == 0, second.stderr.read()
    assert {"first", "second"} <= values_of(path)


def test_reading_leaves_no_lock_file_and_works_on_a_read_only_descriptor(tmp_path):
    hive = small_hive(tmp_path / "SYSTEM")
    hive.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        for argv in (["ls", str(hive), "-r"], ["check", str(hive)], ["info", str(hive)], ["export", str(hive)]):
            done = subprocess.run([sys.executable, "-c",
                                   "import sys; from hivetool.cli import main; sys.exit(main(sys.argv[1:]))", *argv],
                                  capture_output=True, timeout=60)
            assert done.returncode == 0, done.stderr
        assert os.listdir(tmp_path) == ["SYSTEM"]
    finally:
        tmp_path.chmod(0o755)
