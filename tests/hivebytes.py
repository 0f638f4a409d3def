"""Hive bytes laid out by hand for the record tests: whole cells put back at the cell offsets
they had in a real hive, so that problems are reported at the file offsets a reader of that
hive would see, a :data:`~hivetool.regf.records.cells.Follow` that reads them back, and the
check that bytes said to come from a corpus hive do."""
from __future__ import annotations

import struct

from corpus import corpus_path
from hivetool.regf.records.bins import file_offset
from hivetool.regf.records.cells import Follow


def place(cells: dict[int, bytes]) -> bytearray:
    """A buffer holding each cell (size field first) at file offset ``file_offset(cell)``."""
    buf = bytearray(max(file_offset(cell) + len(raw) for cell, raw in cells.items()))
    for cell, raw in cells.items():
        buf[file_offset(cell) : file_offset(cell) + len(raw)] = raw
    return buf


def follow(buf: bytes | bytearray) -> Follow:
    """Follow a pointer to any allocated cell of ``buf``; anything else cannot be followed.
    (The engine's and the checker's ways also check bins and ownership; records need none.)"""

    def to_payload(cell: int, what: object, kind: int, where: int | None) -> tuple[int, int] | None:
        at = file_offset(cell)
        if at + 4 > len(buf):
            return None
        size = struct.unpack_from("<i", buf, at)[0]
        return (at + 4, -size - 4) if size < 0 else None

    return to_payload


def from_corpus(relative: str, at: int, size: int) -> bytes:
    """``size`` bytes at file offset ``at`` of a corpus file: to show that bytes transcribed
    into a test are the file's (skips without the corpus, fails under CI=true)."""
    with open(corpus_path(relative), "rb") as file:
        file.seek(at)
        return file.read(size)
