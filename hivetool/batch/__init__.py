"""One reading command over many targets: hive files, image folders and WIM images.

``targets`` turns what the user named (paths, globs, folders, ``@list.txt``) into targets;
``worker`` is the long-lived process that runs the command on one target after another, in
process, with everything imported once; ``pool`` keeps a number of them busy, with a per-target
timeout and memory limit; ``cluster`` runs the same tasks on a Dask cluster; ``results`` reads
and writes the JSON-lines results file (resume); ``run`` ties them together for the command
line and for Python::

    from hivetool.batch import run_batch
    for result in run_batch(["corpus/"], ["check"], jobs=2):
        print(result["target"], result["exit_code"])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import BatchSettings, run_batch

__all__ = ["BatchSettings", "run_batch"]


def __getattr__(name: str) -> Any:
    # Loaded when first used: a worker process (``python -m hivetool.batch.worker``) imports
    # this package first and must not pay for target search and the image code it never uses.
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
