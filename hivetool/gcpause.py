"""Pausing Python's cyclic garbage collector while a job builds a large, acyclic structure.

The collector runs whenever enough objects have been allocated, and every so often scans all
the objects that are alive. Reading a .reg file of 30,000 keys makes a few hundred thousand
operations, targets and value records that stay alive until the hive is written, none of them
in a reference cycle: the collector's passes over them find nothing, yet took a quarter of a
second of a 2-second import. Reference counting still frees everything as usual meanwhile;
a cycle made during the pause is collected by the first pass after it.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the ``with`` block (as it was, after it)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
