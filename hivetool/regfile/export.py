"""A hive (or one subtree of it) as a .reg file, byte for byte as regedit exports it.

Keys come depth-first, each key's values before its subkeys, subkeys in the order of the
hive's sorted subkey list and values in the order of the key's value list, which is the
order they were created in (reg-format 8.2, 8.3). Paths are the hive's logical root plus
the names as stored, so their case is kept.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Iterator

from ..errors import HiveFormatError
from ..regf.hive import Hive
from ..regf.hive.scan import iter_keys, value_records
from .emit import CHUNK_CHARS, DIALECT_5, Loss, RegWriter
from .patch import Patch


@dataclass
class ExportResult:
    data: bytes
    top: str  # the logical path of the exported key
    keys: int
    values: int
    losses: list[Loss]


def _logical(root: str, hive_path: str) -> str:
    return root + "\\" + hive_path if hive_path else root


class ExportStream:
    """An export produced while it is read: iterate it once for the encoded file, a chunk of
    about a megabyte at a time, so memory stays small whatever the output's size (the key
    lines of a chain of n nested keys hold n squared characters). ``keys``, ``values`` and
    ``losses`` are complete once the iteration has ended. A damaged hive raises
    HiveFormatError during the iteration, after the chunks before it were handed out.

    Several hives (an image's) go into one file with :meth:`of_parts`: each part is a hive,
    the registry path it is mounted at, and the key below which to export.
    """

    def __init__(self, hive: Hive, root: str, start: str = "", dialect: str = DIALECT_5,
                 regedit_compat: bool = False, codepage: str = "cp1252") -> None:
        self.parts = [(hive, root, hive.key(start))]  # KeyNotFound now, before any output
        self.top = _logical(root, self.parts[0][2].path)
        self.writer = RegWriter(dialect, regedit_compat, codepage)

    @classmethod
    def of_parts(cls, parts: list[tuple[Hive, str, str]], dialect: str = DIALECT_5, regedit_compat: bool = False,
                 codepage: str = "cp1252") -> "ExportStream":
        stream = cls.__new__(cls)
        stream.parts = [(hive, root, hive.key(start)) for hive, root, start in parts]
        stream.top = ", ".join(_logical(root, key.path) for _, root, key in stream.parts)
        stream.writer = RegWriter(dialect, regedit_compat, codepage)
        return stream

    @property
    def keys(self) -> int:
        return self.writer.keys

    @property
    def values(self) -> int:
        return self.writer.values

    @property
    def losses(self) -> list[Loss]:
        return self.writer.losses

    def __iter__(self) -> Iterator[bytes]:
        writer = self.writer
        for hive, root, start in self.parts:
            prefix = root + "\\"
            try:
                for hive_path, nk_at, lists in iter_keys(hive, start):
                    path = prefix + hive_path if hive_path else root
                    writer.key(path)
                    for name, value_type, raw, _ in value_records(hive, nk_at, lists):
                        writer.value(path, name, value_type, raw)
                    if writer.pending >= CHUNK_CHARS:
                        yield writer.take()
            except HiveFormatError as err:
                raise err.with_path(hive.path) if hive.path else err
        yield from writer.chunks()


def export_hive(hive: Hive, root: str, start: str = "", dialect: str = DIALECT_5,
                regedit_compat: bool = False, codepage: str = "cp1252") -> ExportResult:
    """Export the key at hive-relative ``start`` ('' = the root key) and everything below it;
    ``root`` is the logical path the hive is mounted at. The whole file is returned as bytes
    (built a chunk at a time, so it is held once); :class:`ExportStream` streams it."""
    stream = ExportStream(hive, root, start, dialect, regedit_compat, codepage)
    out = io.BytesIO()
    for chunk in stream:
        out.write(chunk)
    return ExportResult(out.getvalue(), stream.top, stream.keys, stream.values, stream.losses)


def hive_as_patch(hive: Hive, root: str, start: str = "") -> Patch:
    """The same content as a Patch: a create_key per key, then a set_value per value."""
    patch = Patch()
    for key in hive.key(start).walk():
        path = _logical(root, key.path)
        patch.create_key(path)
        for value in key.values():
            patch.set_value(path, value.name, value.type, value.raw)
    return patch
