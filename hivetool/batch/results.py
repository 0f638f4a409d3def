"""The results file: one JSON line per target, written only by the batch process, one
``os.write`` per line, so that a batch killed at any moment leaves whole lines (and at worst, on
a full disk, a partial last line, which ``--resume`` drops)."""
from __future__ import annotations

import fcntl
import json
import os

from ..errors import HiveIOError, MalformedInput
from ..inputs import HiveBusy
from .frames import Message

FIELDS = ("target", "sha256", "exit_code", "output", "error", "seconds", "command")
# What a worker sends back beside the encoded line: what the batch counts and resumes by.
SUMMARY_FIELDS = ("target", "sha256", "exit_code", "error")


def encode_line(result: Message) -> bytes:
    """One line of JSON. Names may hold lone UTF-16 surrogates (legal in a hive); they are
    written as JSON escapes (\\udc80), which read back as the same string."""
    record = {field: result.get(field) for field in FIELDS}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def line_of(result: Message) -> bytes:
    """The encoded line of a result: made by the worker, or here (a failure the batch saw)."""
    line = result.get("line")
    return line if line is not None else encode_line(result)


def full_result(result: Message) -> Message:
    """A result with every field (the Python interface gives these)."""
    return json.loads(result["line"]) if "line" in result else {field: result.get(field) for field in FIELDS}


def write_all(fd: int, data: bytes) -> None:
    """One ``os.write`` (a regular file takes it whole); the loop only matters on a full disk."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class ResultsFile:
    """RESULTS.jsonl, opened for appending (``resume``) or started afresh, locked against a
    second batch writing the same file."""

    def __init__(self, path: str, resume: bool) -> None:
        self.path = path
        self.previous: dict[str, Message] = {}  # target -> its last line
        self.lines = 0
        self.superseded = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(path, flags, 0o666)
        except OSError as err:
            raise HiveIOError(f"{path}: cannot open the results file: {err.strerror or err}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            raise HiveBusy(f"{path}: another batch is writing this results file") from None
        if resume:
            self._load()
        else:
            os.ftruncate(self.fd, 0)

    def _load(self) -> None:
        with open(self.path, "rb") as handle:
            data = handle.read()
        whole = data.rfind(b"\n") + 1
        if whole < len(data):
            os.ftruncate(self.fd, whole)  # a line cut short by a kill: that target runs again
        for number, line in enumerate(data[:whole].splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or "target" not in record or "sha256" not in record:
                os.close(self.fd)
                raise MalformedInput(f"{self.path}: line {number} is not a batch result (is this a results "
                                     "file of hivetool batch?)")
            if record["target"] in self.previous:
                self.superseded += 1
            self.previous[record["target"]] = {key: record.get(key) for key in SUMMARY_FIELDS} | {
                "command": record.get("command"), "line": line + b"\n"}
            self.lines += 1

    def known(self, target: str, command: list[str]) -> str | None:
        """The sha256 recorded for ``target`` run with ``command``, if any."""
        record = self.previous.get(target)
        if record is None or record.get("command") != command:
            return None
        return record.get("sha256")

    def write(self, result: Message) -> None:
        line = line_of(result)
        if result["target"] in self.previous:
            self.superseded += 1
        self.previous[result["target"]] = {key: result.get(key) for key in SUMMARY_FIELDS} | {"line": line}
        write_all(self.fd, line)
        self.lines += 1

    def close(self) -> None:
        """Keep each target's last line only, when a resumed run replaced some (a target that
        changed since, or one that could not be read); atomically, under the same lock."""
        try:
            if self.superseded:
                self._rewrite()
        finally:
            os.close(self.fd)

    def _rewrite(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        temporary = os.path.join(folder, f".{os.path.basename(self.path)}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                for record in self.previous.values():
                    handle.write(line_of(record))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException as err:  # an interrupt too: the old file stays, whole, and no debris
            try:
                os.unlink(temporary)
            except OSError:
                pass
            if isinstance(err, OSError):
                raise HiveIOError(f"{self.path}: cannot rewrite the results file: {err.strerror or err}") from None
            raise
