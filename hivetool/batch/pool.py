"""Worker processes kept busy: one task each at a time, a deadline per task, a new worker for one
that hung (killed), died or left.

The workers are ``python -m hivetool.batch.worker`` processes in a session of their own (a
Ctrl-C reaches the batch, which stops them). A worker whose batch dies reads the end of its
task pipe and leaves.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from typing import Iterable, Iterator

from ..errors import HiveIOError
from .frames import FrameReader, Message, encode_frame, write_bytes

STARTUP_SECONDS = 120.0  # a worker not ready by then will not be (an import that hangs)
_STARTUP_FAILURES = 3  # workers in a row that die before they are ready: the batch stops


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class WorkerProcess:
    def __init__(self, command_words: list[str], max_memory_mb: int | None, cwd: str | None = None) -> None:
        self.startup_log = tempfile.TemporaryFile()
        args = [sys.executable, "-m", "hivetool.batch.worker", "--max-memory", str(max_memory_mb or 0),
                "--", *command_words]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.startup_log,
                                        cwd=cwd, start_new_session=True, close_fds=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.tasks = self.process.stdin.fileno()
        self.answers = self.process.stdout.fileno()
        self.reader = FrameReader(self.answers)
        self.ready = False
        # Tasks sent and not answered, the one running first. The next waits in the pipe, so
        # that the worker never idles while the batch reads an answer and sends more.
        self.queue: deque[Message] = deque()
        self.sha: str | None = None  # of the running target, once the worker has hashed it
        self.deadline = time.monotonic() + STARTUP_SECONDS

    def fileno(self) -> int:
        return self.answers

    def send(self, tasks: list[Message], timeout: float | None) -> None:
        """Queue ``tasks`` (one write for all of them)."""
        if not self.queue:
            self._started(timeout)
        self.queue.extend(tasks)
        write_bytes(self.tasks, b"".join(encode_frame(task) for task in tasks))

    def _started(self, timeout: float | None) -> None:
        """The head of the queue starts now."""
        self.sha = None
        self.deadline = time.monotonic() + timeout if timeout else float("inf")

    def finished(self, timeout: float | None) -> None:
        self.queue.popleft()
        if self.queue:
            self._started(timeout)
        else:
            self.sha, self.deadline = None, float("inf")

    def receive(self) -> tuple[list[Message], bool]:
        """The messages that have come, and whether the worker is gone."""
        return self.reader.read_available(), self.reader.closed

    def end_status(self) -> str:
        """How the process ended, in words."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.wait()
        return f"killed by {_signal_name(-code)}" if code < 0 else f"exit status {code}"

    def startup_error(self) -> str:
        self.startup_log.seek(0)
        text = self.startup_log.read().decode("utf-8", "replace").strip().splitlines()
        return text[-1] if text else "no message"

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.kill()
            except OSError:
                pass
        self.process.wait()

    def close(self) -> None:
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        self.startup_log.close()


def failed(task: Message, sha: str | None, error: str, seconds: float | None = None) -> Message:
    """The result line of a target whose command never finished."""
    return {"target": task["target"], "sha256": sha, "exit_code": None, "output": None, "error": error,
            "seconds": seconds, "command": task["command"]}


class Pool:
    """``jobs`` workers for one command; reusable (``run`` may be called again) until closed."""

    # Tasks in a worker's queue: enough that the worker never waits for the batch, which can
    # then read answers a few at a time (each wake-up of the batch takes a CPU from a worker).
    DEPTH = 32
    COALESCE = 0.004  # seconds the batch lets answers gather while every worker has work queued

    def __init__(self, jobs: int, command_words: list[str], timeout: float | None = None,
                 max_memory_mb: int | None = None, cwd: str | None = None) -> None:
        self.jobs = max(1, jobs)
        self.cwd = cwd
        self.command_words = list(command_words)
        self.timeout = timeout
        self.max_memory_mb = max_memory_mb
        self.workers: list[WorkerProcess] = []
        self.started = 0  # worker processes started, replacements included
        self.startup_failures = 0
        self.pending: deque[Message] = deque()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []

    def warm(self) -> None:
        """Start the workers now, so that they import while the batch looks for its targets."""
        while len(self.workers) < self.jobs:
            self._start()

    def _start(self) -> WorkerProcess:
        worker = WorkerProcess(self.command_words, self.max_memory_mb, self.cwd)
        self.workers.append(worker)
        self.started += 1
        return worker

    def _retire(self, worker: WorkerProcess) -> None:
        """Stop ``worker``; the tasks queued behind its running one go back to the front."""
        worker.close()
        self.workers.remove(worker)
        while len(worker.queue) > 1:
            self.pending.appendleft(worker.queue.pop())

    def run(self, tasks: Iterable[Message]) -> Iterator[Message]:
        """Run every task; yield each result as it comes (in the order they finish)."""
        self.pending = deque(tasks)
        while self.pending or any(worker.queue for worker in self.workers):
            busy = sum(1 for worker in self.workers if worker.queue)
            while self.pending and len(self.workers) < min(self.jobs, len(self.pending) + busy):
                self._start()
            self._top_up()
            if self.workers and all(len(worker.queue) >= self.DEPTH // 2 for worker in self.workers):
                time.sleep(self.COALESCE)
            yield from self._wait()

    def _top_up(self) -> None:
        """Refill the queue of each ready worker that is down to half its depth, up to its
        share of what is left (a short batch is dealt evenly), in one write per worker."""
        ready = [worker for worker in self.workers if worker.ready]
        if not self.pending or not ready:
            return
        low = [worker for worker in ready if len(worker.queue) < self.DEPTH // 2]
        if not low:
            return
        queued = sum(len(worker.queue) for worker in ready)
        share = min(self.DEPTH, -(-(len(self.pending) + queued) // len(ready)))
        for worker in sorted(low, key=lambda worker: len(worker.queue)):
            count = min(len(self.pending), max(1, share - len(worker.queue)))
            worker.send([self.pending.popleft() for _ in range(count)], self.timeout)
            if not self.pending:
                return

    def _wait(self) -> Iterator[Message]:
        now = time.monotonic()
        wait = max(0.0, min((worker.deadline for worker in self.workers), default=now + 1) - now)
        readable, _, _ = select.select(self.workers, [], [], min(wait, 1.0))
        for worker in readable:
            yield from self._answer(worker)
        now = time.monotonic()
        for worker in list(self.workers):
            if worker in self.workers and worker.deadline <= now:
                yield from self._overdue(worker)

    def _answer(self, worker: WorkerProcess) -> Iterator[Message]:
        messages, gone = worker.receive()
        for message in messages:
            yield from self._message(worker, message)
        if gone and worker in self.workers:
            yield from self._died(worker)

    def _message(self, worker: WorkerProcess, message: Message) -> Iterator[Message]:
        if message["kind"] == "ready":
            worker.ready = True
            worker.deadline = float("inf")
            self.startup_failures = 0
        elif message["kind"] == "sha":
            worker.sha = message["sha256"]
        else:
            worker.finished(self.timeout)
            if message["leave"]:
                self._retire(worker)
            yield message["result"]

    def _died(self, worker: WorkerProcess) -> Iterator[Message]:
        status = worker.end_status()
        task, sha = (worker.queue[0] if worker.queue else None), worker.sha
        if not worker.ready:
            self.startup_failures += 1
            error = worker.startup_error()
            self._retire(worker)
            if self.startup_failures >= _STARTUP_FAILURES:
                raise HiveIOError(f"batch worker processes cannot start ({status}): {error}")
            return
        self._retire(worker)
        if task is not None:
            limit = f" (--max-memory {self.max_memory_mb} MB)" if self.max_memory_mb else ""
            yield failed(task, sha, f"the worker process running it died: {status}{limit}")

    def _overdue(self, worker: WorkerProcess) -> Iterator[Message]:
        task, sha = (worker.queue[0] if worker.queue else None), worker.sha
        ready = worker.ready
        worker.kill()
        self._retire(worker)
        if not ready:
            self.startup_failures += 1
            if self.startup_failures >= _STARTUP_FAILURES:
                raise HiveIOError(f"batch worker processes did not start within {STARTUP_SECONDS:g} s")
            return
        if task is not None:
            yield failed(task, sha, f"timed out after {self.timeout:g} s (--timeout)", self.timeout)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
