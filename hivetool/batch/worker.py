"""A batch worker: one process that runs the command on target after target, in process.

``python -m hivetool.batch.worker [--max-memory MB] [-- COMMAND WORDS]`` imports hivetool (all
of it: commands import parts of the engine lazily) once, says it is ready, then reads tasks
from standard input and answers on standard output (``frames``). Each target runs through
``hivetool.cli.main``, exactly as the command line runs it, with its standard output and error
caught in files, so a target's exit code, JSON and messages are those a user would see.

The process start and the imports are paid once per worker, not once per target. A target
cannot hurt the next one: the worker leaves (and the batch starts another) after a target that
left it much bigger or holding file descriptors, and ``--max-memory`` limits the address space
the worker may add while it runs one target.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from typing import Any, Callable

from .frames import Message, read_frame, write_frame
from .results import SUMMARY_FIELDS, encode_line

_ERROR_PREFIX = "hivetool: error: "
_RECYCLE_PEAK = 512 << 20  # bytes of peak resident memory above the start after which a worker leaves
_RECYCLE_FDS = 16  # file descriptors targets may leave open before the worker leaves
_FD_CHECK_EVERY = 32  # targets between counts of open descriptors (a directory listing)


def _memory_in_use() -> int | None:
    """The address space of this process in bytes (Linux), or None where /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _peak_resident() -> int:
    """The most resident memory this process has had, in bytes (one system call)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _preload(words: list[str]) -> None:
    """Import the command (its module, found the way the command line finds it). What it
    imports lazily when it runs is imported by the first target, once per worker: importing
    every module up front would cost each worker twice as long to start, which a batch of
    small targets feels more than its first target does."""
    from hivetool.cli import cli

    command: Any = cli
    for word in words:
        get = getattr(command, "get_command", None)
        found = get(None, word) if get is not None else None
        if found is None:
            break
        command = found


class Capture:
    """Standard output and error (the descriptors, so that everything written lands) in two
    private files, read and emptied after each target."""

    def __init__(self) -> None:
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        os.dup2(self.out.fileno(), 1)
        os.dup2(self.err.fileno(), 2)

    def take(self) -> tuple[bytes, bytes]:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        taken = []
        for handle, fd in ((self.out, 1), (self.err, 2)):
            size = os.fstat(handle.fileno()).st_size
            if not size:
                taken.append(b"")
                continue
            taken.append(os.pread(handle.fileno(), size, 0))
            os.ftruncate(handle.fileno(), 0)
            os.lseek(fd, 0, os.SEEK_SET)
        return taken[0], taken[1]


def parse_output(out: bytes) -> Any:
    """The command's JSON document; text that is not JSON as a string; nothing as None."""
    text = out.decode("utf-8", "replace")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_text(code: int | None, err: bytes) -> str | None:
    """What the command said went wrong: its ``hivetool: error:`` lines; for a failure without
    one, its last line on standard error."""
    lines = err.decode("utf-8", "replace").splitlines()
    errors = [line[len(_ERROR_PREFIX):] for line in lines if line.startswith(_ERROR_PREFIX)]
    if errors:
        return "\n".join(errors)
    if code not in (0, 1):
        last = [line for line in lines if line.strip()]
        return last[-1] if last else None
    return None


class Worker:
    def __init__(self, max_memory_mb: int | None) -> None:
        self.max_memory_mb = max_memory_mb
        self.capture = Capture()
        self.peak = _peak_resident()
        self.fds = _open_fds()
        self.targets = 0
        self._unlimited: tuple[int, int] | None = None  # the address-space limit to restore

    def _limit_memory(self) -> None:
        """The target may grow this process by --max-memory from here (what earlier targets
        left behind does not count against it)."""
        if not self.max_memory_mb:
            return
        now = _memory_in_use()
        if now is None:
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        self._unlimited = (soft, hard)
        limit = now + (self.max_memory_mb << 20)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def _lift_memory_limit(self) -> None:
        """The limit is the command's: reading its output and making the result line must not
        fail for it (a dump that streamed within the limit still hands over all it wrote)."""
        if self._unlimited is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._unlimited)
            self._unlimited = None

    def run(self, task: Message, report_sha: Callable[[str | None], None]) -> Message:
        from hivetool.cli import main

        from .digest import target_sha256

        started = time.monotonic()
        self._limit_memory()
        sha = target_sha256(task["target"])
        if sha is not None and sha == task.get("known_sha"):
            return {"skipped": True, "target": task["target"], "sha256": sha}
        report_sha(sha)
        try:
            code: int | None = main(list(task["argv"]))
        except MemoryError:
            code = None
        except BaseException as problem:  # noqa: BLE001 - a target must never end the worker silently
            code = None
            print(f"{_ERROR_PREFIX}the command ended with {type(problem).__name__}: {problem}", file=sys.stderr)
        self._lift_memory_limit()
        out, err = self.capture.take()
        error = error_text(code, err)
        if self.max_memory_mb and (code is None or (error and "out of memory" in error)):
            error = f"{error or 'out of memory'} (over --max-memory {self.max_memory_mb} MB)"
        result = {"target": task["target"], "sha256": sha, "exit_code": code, "output": parse_output(out),
                  "error": error, "seconds": round(time.monotonic() - started, 3), "command": task["command"]}
        # The line is made here, in parallel, not in the one batch process that writes them.
        return {"line": encode_line(result), **{key: result[key] for key in SUMMARY_FIELDS}}

    def should_leave(self) -> bool:
        """Whether a target made this process big (the heap it leaves behind would weigh on
        every later one), or left descriptors open. Cheap enough for every target."""
        self.targets += 1
        if _peak_resident() - self.peak > _RECYCLE_PEAK:
            return True
        if self.targets % _FD_CHECK_EVERY:
            return False
        fds = _open_fds()
        return fds is not None and self.fds is not None and fds - self.fds > _RECYCLE_FDS


def serve(argv: list[str]) -> int:
    max_memory = None
    if argv[:1] == ["--max-memory"]:
        max_memory = int(argv[1]) or None
        argv = argv[2:]
    words = argv[1:] if argv[:1] == ["--"] else argv
    tasks_in = os.dup(0)
    answers_out = os.dup(1)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)  # a command must never wait for input
    os.close(nothing)
    _preload(words)
    worker = Worker(max_memory)
    write_frame(answers_out, {"kind": "ready", "pid": os.getpid()})
    while True:
        task = read_frame(tasks_in)
        if task is None:
            return 0
        result = worker.run(task, lambda sha: write_frame(answers_out, {"kind": "sha", "sha256": sha}))
        leave = worker.should_leave()
        write_frame(answers_out, {"kind": "result", "result": result, "leave": leave})
        if leave:
            return 0


if __name__ == "__main__":
    try:
        sys.exit(serve(sys.argv[1:]))
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(0)  # the batch went away
