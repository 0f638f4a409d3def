"""A hive (or one subtree of it) as a .reg file, byte for byte as regedit exports it.

Keys come depth-first, each key's values before its subkeys, subkeys in the order of the
hive's sorted subkey list and values in the order of the key's value list, which is the
order they were created in (reg-format 8.2, 8.3). Paths are the hive's logical root plus
the names as stored, so their case is kept.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import HiveFormatError
from ..regf.hive import Hive
from ..regf.scan import iter_keys, value_records
from .emit import DIALECT_5, Loss, RegWriter
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


def export_hive(hive: Hive, root: str, start: str = "", dialect: str = DIALECT_5,
                regedit_compat: bool = False, codepage: str = "cp1252") -> ExportResult:
    """Export the key at hive-relative ``start`` ('' = the root key) and everything below it;
    ``root`` is the logical path the hive is mounted at."""
    writer = RegWriter(dialect, regedit_compat, codepage)
    top = hive.key(start)
    prefix = root + "\\"
    try:
        for hive_path, _, fields in iter_keys(hive, top):
            path = prefix + hive_path if hive_path else root
            writer.key(path)
            for name, value_type, raw in value_records(hive, fields):
                writer.value(path, name, value_type, raw)
    except HiveFormatError as err:
        raise err.with_path(hive.path) if hive.path else err
    return ExportResult(writer.finish(), _logical(root, top.path), writer.keys, writer.values, writer.losses)


def hive_as_patch(hive: Hive, root: str, start: str = "") -> Patch:
    """The same content as a Patch: a create_key per key, then a set_value per value."""
    patch = Patch()
    for key in hive.key(start).walk():
        path = _logical(root, key.path)
        patch.create_key(path)
        for value in key.values():
            patch.set_value(path, value.name, value.type, value.raw)
    return patch
