"""The same tasks on a Dask distributed cluster (the optional extra ``hivetool[dask]``).

Targets go to Dask in small groups, one Dask task each. On a Dask worker, a task hands its
targets to a hivetool worker process (the same as a local batch's, kept for the next task of
that worker thread), so timeouts, memory limits and results are exactly those of a local run. Workers must see the
targets at the paths the client names them by (a shared file system, mounted at the same
place); relative targets are taken from the client's working directory.
"""
from __future__ import annotations

import atexit
import os
import threading
from typing import Any, Iterator

from ..errors import HiveIOError
from .frames import Message
from .pool import Pool, failed

INSTALL_HINT = "pip install 'hivetool[dask]' (Dask distributed; the cluster needs hivetool installed on its workers)"

CHUNK_MOST = 32
_local = threading.local()
_pools: list[Pool] = []


def _close_pools() -> None:
    for pool in _pools:
        pool.close()


atexit.register(_close_pools)


def run_on_worker(tasks: list[Message], settings: Message) -> list[Message]:
    """Runs on a Dask worker: a few targets, one after another, through this thread's hivetool
    worker process."""
    key = (tuple(settings["command_words"]), settings["max_memory_mb"], settings["cwd"])
    pool: Pool | None = getattr(_local, "pool", None)
    if pool is None or getattr(_local, "key", None) != key:
        if pool is not None:
            pool.close()
        if not os.path.isdir(settings["cwd"]):
            return [failed(task, None, f"the client's working directory {settings['cwd']} is not on this Dask "
                           "worker: workers must see the targets at the same paths as the client") for task in tasks]
        pool = Pool(1, settings["command_words"], settings["timeout"], settings["max_memory_mb"], settings["cwd"])
        _pools.append(pool)
        _local.pool, _local.key = pool, key
    pool.timeout = settings["timeout"]
    return list(pool.run(tasks))


def connect(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise HiveIOError(f"--dask needs Dask distributed, which is not installed: {INSTALL_HINT}") from None
    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError) as err:
        raise HiveIOError(f"cannot reach the Dask scheduler at {address}: {err}") from None
    except ValueError as err:
        raise HiveIOError(f"{address} is not a Dask scheduler address (tcp://HOST:8786): {err}") from None


def chunk_size(targets: int, threads: int) -> int:
    """Targets per Dask task: a task costs the scheduler about a millisecond, more than a small
    hive takes, so small targets go in groups, still at least four per worker thread (for the
    balance) and at most CHUNK_MOST (a batch killed loses the groups in flight)."""
    return max(1, min(CHUNK_MOST, targets // (max(1, threads) * 4)))


def run_on_cluster(address: str, tasks: list[Message], settings: Message) -> Iterator[Message]:
    """Submit every task, and yield each result as it comes back; a task Dask itself gave up on
    (its worker died too often) is a failed result, not the end of the batch."""
    client = connect(address)
    from distributed import as_completed

    futures = {}
    try:
        threads = sum(client.nthreads().values())
        size = chunk_size(len(tasks), threads)
        for first in range(0, len(tasks), size):
            group = tasks[first:first + size]
            futures[client.submit(run_on_worker, group, settings, pure=False)] = group
        for future in as_completed(futures):
            group = futures[future]
            try:
                yield from future.result()
            except HiveIOError:
                raise
            except Exception as err:  # noqa: BLE001 - Dask's own failures (a lost worker) are recorded
                for task in group:
                    yield failed(task, None, f"the Dask task failed: {type(err).__name__}: {err}")
    finally:
        client.cancel(list(futures))
        client.close()
