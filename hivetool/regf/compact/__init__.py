"""Compaction: rewrite a hive with the same content and no free space (as ``reg save`` does),
and bulk building: lay out a new hive from generated keys and values.

============  =============================================================================
``source``    what a rewrite reads: an existing hive, checked as the engine checks it
``tree``      ... or a generated tree (:class:`TreeSource`)
``layout``    the two passes: plan where every cell goes, then emit the bytes in file order
``bins``      where each cell goes (as a fresh file fills up), decided once and replayed
============  =============================================================================
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Iterator

from ...errors import HiveFormatError
from ...fileio import atomic_write
from ...progress import QUIET, Progress
from ...timeutil import Clock
from ..hive.create import empty_hive_bytes
from ..records.base_block import BASE_BLOCK, BASE_BLOCK_SIZE, checksum
from .layout import LayoutSummary, _Layout
from .source import HiveSource
from .tree import TreeSource

if TYPE_CHECKING:
    from ..hive.hive import Hive

__all__ = ["LayoutSummary", "TreeSource", "build_hive", "build_hive_bytes", "compact_bytes", "compact_hive",
           "rebuild"]


def _hive_layout(hive: "Hive", minor: int | None) -> _Layout:
    hive._require_clean("compact it")
    engine = hive._engine
    target = hive.minor if minor is None else minor
    source = HiveSource(engine.buf, engine.space, engine.root_cell, hive.minor)
    return _Layout(source, target, bytes(engine.buf[:BASE_BLOCK_SIZE]), engine.header.seq1)


def _planned(layout: _Layout, path: str | None) -> _Layout:
    try:
        layout.plan()
    except HiveFormatError as err:
        raise err.with_path(path) if path else err
    return layout


def _chunks(layout: _Layout, clock: Clock, path: str | None) -> Iterator[bytes | bytearray]:
    try:
        yield from layout.emit(clock)
    except HiveFormatError as err:
        raise err.with_path(path) if path else err


def compact_hive(hive: "Hive", out_path: str | os.PathLike[str], minor: int | None = None,
                 verify: Callable[[str, LayoutSummary], None] | None = None,
                 progress: Progress = QUIET) -> LayoutSummary:
    """Write a compacted copy of ``hive`` to ``out_path`` atomically; returns what was written.

    ``minor`` (3 or 5) converts the version; ``verify(temp_path, summary)`` may inspect the
    new file before it replaces anything. The header's time comes from the hive's clock.
    """
    layout = _hive_layout(hive, minor)
    layout.progress = progress
    layout = _planned(layout, hive.path)
    check = None if verify is None else (lambda temp: verify(temp, layout.summary))
    atomic_write(out_path, _chunks(layout, hive._clock, hive.path), verify=check)
    return layout.summary


def compact_bytes(hive: "Hive", minor: int | None = None) -> bytes:
    """The compacted hive as bytes (for small hives and tests; files go through compact_hive)."""
    layout = _planned(_hive_layout(hive, minor), hive.path)
    return b"".join(_chunks(layout, hive._clock, hive.path))


def _tree_layout(tree: TreeSource, clock: Clock, progress: Progress = QUIET) -> _Layout:
    head = empty_hive_bytes(tree.minor, tree.root_name, clock.now())[:BASE_BLOCK_SIZE]
    layout = _Layout(tree, tree.minor, head, 1)
    layout.progress = progress
    return _planned(layout, None)


def build_hive(tree: TreeSource, out_path: str | os.PathLike[str], clock: Clock | None = None) -> LayoutSummary:
    """Lay out a new hive from generated content straight to ``out_path`` (bulk building)."""
    clock = clock or Clock.resolve()
    layout = _tree_layout(tree, clock)
    atomic_write(out_path, layout.emit(clock))
    return layout.summary


def build_hive_bytes(tree: TreeSource, clock: Clock | None = None, progress: Progress = QUIET) -> bytes:
    clock = clock or Clock.resolve()
    return b"".join(_tree_layout(tree, clock, progress).emit(clock))


def rebuild(hive: "Hive", action: str, fill: Callable[[str, int, int, bytes], TreeSource],
            progress: Progress = QUIET) -> None:
    """Replace the content of ``hive`` by a tree laid out in one go (a bulk import into an empty
    hive). ``fill(root name, minor, timestamp, root descriptor)`` makes the tree; the hive's
    base block is kept (sequence numbers, flags, GUIDs, name) with the new root cell and
    hive-bins size, so saving behaves as after any edit. A dirty hive refuses to ``action``."""
    hive._require_clean(action)
    root = hive.root
    tree = fill(root.name, hive.minor, hive._clock.now(), root.security_descriptor)
    image = bytearray(build_hive_bytes(tree, hive._clock, progress))
    head = bytearray(hive._engine.buf[:BASE_BLOCK_SIZE])
    for name in ("root_cell", "hbins_size"):
        BASE_BLOCK.write(head, 0, name, BASE_BLOCK.read(image, 0, name))
    BASE_BLOCK.write(head, 0, "checksum", checksum(head))
    image[:BASE_BLOCK_SIZE] = head
    hive._replace_image(image)
