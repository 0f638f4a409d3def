"""What the viewer's tests share: a real ``hivetool view`` process read from a pipe, plain HTTP
requests to it, and the hives they look at (a before/after pair for the diff, a key with
1,000 subkeys)."""
from __future__ import annotations

import http.client
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType
from hivetool.timeutil import Clock

ENTRY = "import sys; from hivetool.cli import entry_point; sys.argv[0] = 'hivetool'; entry_point()"
CLOCK = Clock(0x01DA_9B8C_0000_0000)
LATER = Clock(0x01DA_9C00_0000_0000)
ADDED = "HivetoolViewTest\\Added"
DELETED = "Obsolete"
URL_LINE_SECONDS = 30


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class RunningViewer:
    """``hivetool view ARGS --no-browser`` as a child process; its URL read from its stdout pipe."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", ENTRY, "view", *args, "--no-browser"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.first_line = read_line(self.process, URL_LINE_SECONDS)
        self.url = self.first_line.decode().strip()
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "", parts.port or 0
        self.token = parts.query.partition("token=")[2]

    def get(self, path: str, token: bool = True, headers: dict[str, str] | None = None,
            method: str = "GET") -> Response:
        if token:
            path += ("&" if "?" in path else "?") + f"token={self.token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def stop(self) -> tuple[int, bytes]:
        """Ctrl-C, as a user stops it: the exit code and what it said on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        err = self.process.stderr.read() if self.process.stderr else b""
        if self.process.stdout:
            self.process.stdout.close()
        if self.process.stderr:
            self.process.stderr.close()
        return self.process.returncode, err


def read_line(process: subprocess.Popen, seconds: float) -> bytes:
    """The child's first line of stdout, read straight from the pipe (no buffering of ours): it
    only arrives in time if the child flushed it."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    line = b""
    deadline = time.monotonic() + seconds
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        if not ready:
            process.kill()
            raise AssertionError(f"no line on stdout within {seconds} s (got {line!r}); stderr: "
                                 f"{process.stderr.read() if process.stderr else b''!r}")
        chunk = os.read(fd, 1)
        if not chunk:
            err = process.stderr.read() if process.stderr else b""
            raise AssertionError(f"stdout closed after {line!r}; exit {process.wait()}; stderr: {err!r}")
        line += chunk
    return line


def before_and_after(source: Path, folder: Path) -> tuple[Path, Path]:
    """Two versions of a SYSTEM hive: ``after`` adds a key with values, changes
    Select\\LastKnownGood and deletes the key ``Obsolete`` that ``before`` has."""
    hive = Hive.open(source, CLOCK)
    gone = hive.create_key(DELETED)
    hive.set_value(gone, "Gone", RegType.SZ, "yes")
    before = folder / "SYSTEM.before"
    hive.save(before)
    hive = Hive.open(before, LATER)
    added = hive.create_key(ADDED)
    hive.set_value(added, "Port", RegType.DWORD, 1225)
    hive.set_value(added, "Name", RegType.SZ, "viewer")
    hive.set_value("Select", "LastKnownGood", RegType.DWORD, 7)
    hive.delete_key(DELETED, recursive=True)
    after = folder / "SYSTEM.after"
    hive.save(after)
    return before, after


def wide_hive(path: Path, count: int = 1000) -> Path:
    """A hive whose key ``Wide`` has ``count`` subkeys ``Item00000``..., each with two values
    and a subkey of its own."""
    hive = Hive.new(5, "ROOT", CLOCK)
    wide = hive.create_key("Wide")
    for number in range(count):
        child = wide.add_subkey(f"Item{number:05d}")
        child.set("Name", RegType.SZ, f"item {number}")
        child.set("Number", RegType.DWORD, number)
        child.add_subkey("Below")
    hive.save(path)
    return path
