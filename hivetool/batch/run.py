"""A batch: the targets, the command each runs (with the target put in and ``--json`` added),
and where the tasks run (worker processes here, or a Dask cluster)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

from ..errors import UsageError
from .frames import Message
from .targets import TargetList, expand_targets

# The commands a batch runs: those that read their target. (A batch of writes is a
# pipeline's job, one target at a time with its receipt: ``hivetool apply``.)
READING_COMMANDS = ("info", "ls", "get", "find", "timeline", "recover", "check", "export", "ports check",
                    "apply", "image info")
NAME_PLACEHOLDER = "{name}"
_UNSAFE_IN_NAME = re.compile(r"[\\/:]+")

if TYPE_CHECKING:
    from .pool import Pool


@dataclass
class BatchSettings:
    jobs: int | None = None  # worker processes here (default: one per CPU)
    dask: str | None = None  # a Dask scheduler address instead (tcp://HOST:8786)
    timeout: float | None = None  # seconds per target
    max_memory_mb: int | None = None  # per target


def name_for(target: str) -> str:
    """A file name made of a target, for ``{name}`` in ARGS (``hosts/PC1/NTUSER.DAT`` ->
    ``hosts_PC1_NTUSER.DAT``; ``install.wim:2`` -> ``install.wim_2``)."""
    return _UNSAFE_IN_NAME.sub("_", target).strip("_.") or "target"


class Command:
    """COMMAND [ARGS] after ``--``: the command's words (``ports check``), its arguments, and
    whether it takes ``--json``."""

    def __init__(self, words_and_args: list[str]) -> None:
        import click

        from ..cli import cli

        if not words_and_args:
            raise UsageError("give the command to run after --, e.g. hivetool batch corpus/ -- check")
        self.line = list(words_and_args)
        command: click.Command = cli
        words: list[str] = []
        rest = list(words_and_args)
        while isinstance(command, click.Group):
            if not rest or rest[0].startswith("-"):
                raise UsageError(f"'{' '.join(words) or 'hivetool'}' needs a command after it, e.g. "
                                 f"{' '.join(words + ['check'])}")
            found = command.get_command(click.Context(command), rest[0])
            if found is None:
                raise UsageError(f"no such command: {' '.join(words + [rest[0]])}")
            words.append(rest.pop(0))
            command = found
        name = " ".join(words)
        if name not in READING_COMMANDS:
            raise UsageError(f"a batch runs reading commands ({', '.join(c for c in READING_COMMANDS)}), "
                             f"not {name}")
        if name == "apply" and "--check" not in rest:
            raise UsageError("a batch runs apply only with --check (it reads, and reports drift)")
        self.words = words
        self.args = rest
        takes_json = any("--json" in getattr(param, "opts", ()) for param in command.params)
        self.json_flag = ["--json"] if takes_json and "--json" not in rest else []
        if "-o" in rest or "--output" in rest:
            if not any(NAME_PLACEHOLDER in arg for arg in rest):
                raise UsageError(f"every target needs its own output file: put {NAME_PLACEHOLDER} in the -o path "
                                 f"(e.g. -o out/{NAME_PLACEHOLDER}.reg)")

    def argv(self, target: str) -> list[str]:
        name = name_for(target)
        return [*self.words, target, *(arg.replace(NAME_PLACEHOLDER, name) for arg in self.args), *self.json_flag]


def tasks_for(targets: list[str], command: Command,
              known: Callable[[str], str | None] = lambda target: None) -> list[Message]:
    return [{"target": target, "argv": command.argv(target), "command": command.line, "known_sha": known(target)}
            for target in targets]


def local_pool(command: Command, settings: BatchSettings) -> Pool:
    """The worker processes of a local batch (started at once: see ``Pool.warm``)."""
    from .pool import Pool, default_jobs

    pool = Pool(settings.jobs or default_jobs(), command.words, settings.timeout, settings.max_memory_mb)
    pool.warm()
    return pool


def run_tasks(tasks: list[Message], command: Command, settings: BatchSettings,
              stats: Message | None = None, pool: Pool | None = None) -> Iterator[Message]:
    """Each task's result, as it finishes (a target skipped because it has not changed since the
    results file recorded it comes back as ``{"skipped": True, "target": ..., "sha256": ...}``).
    ``stats["workers"]`` says how many worker processes ran here (None on a cluster)."""
    stats = {} if stats is None else stats
    stats["workers"] = None if settings.dask else 0
    if not tasks:
        return
    if settings.dask:
        from .cluster import run_on_cluster

        yield from run_on_cluster(settings.dask, tasks, {
            "command_words": command.words, "timeout": settings.timeout,
            "max_memory_mb": settings.max_memory_mb, "cwd": os.getcwd()})
        return
    pool = pool or local_pool(command, settings)
    try:
        yield from pool.run(tasks)
    finally:
        stats["workers"] = pool.started
        pool.close()


def run_batch(targets: list[str], command: list[str], *, jobs: int | None = None, dask: str | None = None,
              timeout: float | None = None, max_memory_mb: int | None = None) -> Iterator[Message]:
    """Run ``command`` (``["check"]``, ``["get", "Select", "Current"]``, ...) over ``targets``
    (as the command line names them: files, image folders, ``FILE.wim:INDEX``, globs, folders
    to search, ``@list.txt``), yielding one result per target as it finishes: ``target``,
    ``sha256``, ``exit_code``, ``output`` (the command's JSON), ``error``, ``seconds``,
    ``command``. A target that fails, hangs past ``timeout`` or exceeds ``max_memory_mb`` is a
    result like any other."""
    from .results import full_result

    parsed = Command(command)
    found: TargetList = expand_targets(targets)
    for result in run_tasks(tasks_for(found.targets, parsed), parsed,
                            BatchSettings(jobs=jobs, dask=dask, timeout=timeout, max_memory_mb=max_memory_mb)):
        yield full_result(result)
