"""The library's one import surface: everything a program needs, importable from ``hivetool``.

The nouns are the command line's: a hive is opened, its keys and values are read and set, .reg
text is parsed, imported, exported and diffed, a hive is checked, replayed and compacted, and a
Windows image is opened as one registry. Each function names its options as keyword arguments.
"""
from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING

from .image.target import OpenOptions, Target, open_target
from .regf.hive import Hive
from .regfile.patch import Patch
from .timeutil import Clock

if TYPE_CHECKING:  # loaded by the functions that return them, when first called
    from .regf.check import CheckReport
    from .regf.compact import LayoutSummary
    from .regf.logs import ReplayReport
    from .regfile.steps import ApplyCounts

PathLike = str | os.PathLike[str]


def open(path: PathLike, *, replay_logs: bool = False, for_update: bool = False,  # noqa: A001 - the library's verb
         clock: Clock | None = None, logs: list[PathLike] | None = None) -> Hive:
    """Open the hive file at ``path`` (read-only; also a context manager).

    ``replay_logs``: a dirty hive is read through its transaction logs (``.LOG1``/``.LOG2``
    beside it, or ``logs``), as Windows loads it. ``for_update``: hold an exclusive lock until
    :meth:`Hive.close`, for a read-modify-write ending in ``save(in_place=True)``.

    >>> import hivetool
    >>> with hivetool.open("sample_hives/SYSTEM") as hive:
    ...     hive.key("Select").value("Current").data
    1
    """
    if replay_logs or logs:
        from .regf.logs import open_replayed

        hive, _ = open_replayed(path, clock, [os.fspath(p) for p in logs] if logs else None, for_update=for_update)
        return hive
    return Hive.open(path, clock, for_update=for_update)


def new(version: str = "1.5", root_name: str = "ROOT", clock: Clock | None = None) -> Hive:
    """An empty hive that Windows would load (``version`` "1.3" or "1.5"), in memory.

    >>> import hivetool
    >>> hive = hivetool.new(root_name="ROOT")
    >>> hive.create_key("Software").set("Version", hivetool.RegType.SZ, "1.0")
    True
    """
    return Hive.new(int(version.split(".")[1]), root_name, clock)


def open_image(path: PathLike, *, user: str | None = None, replay_logs: bool = False, for_update: bool = False,
               clock: Clock | None = None, control_set_mode: str | int = "auto") -> Target:
    """A Windows image (a folder laid out like a system drive, or ``"FILE.wim:INDEX"``), or a
    hive file, as one registry: ``target.locate(r"HKLM\\SOFTWARE\\...")`` gives the hive and the
    path inside it; ``user`` says whose profile HKCU is (a name, a SID or ``"default"``).

    >>> import hivetool
    >>> target = hivetool.open_image("sample_hives/SYSTEM")
    >>> location = target.locate(r"HKLM\\SYSTEM\\CurrentControlSet\\Services")[0]
    >>> location.path
    'ControlSet001\\\\Services'
    """
    options = OpenOptions(clock=clock, replay_logs=replay_logs, for_update=for_update,
                          control_set_mode=control_set_mode, user=user)
    return open_target(os.fspath(path), options)


def parse_reg(source: PathLike | bytes, *, encoding: str | None = None, strict: bool = True) -> Patch:
    """The operations of a .reg file (a path or its bytes), read exactly as ``reg import`` reads
    them. ``strict``: a line Windows would skip or reject raises RegFileError (file:line:col);
    otherwise such lines are skipped, as Windows does. ``encoding``: the code page of a file
    without a UTF-16 byte-order mark.

    >>> import hivetool
    >>> patch = hivetool.parse_reg(b'REGEDIT4\\r\\n\\r\\n[HKEY_CURRENT_USER\\\\Software\\\\X]\\r\\n"v"=dword:00000001\\r\\n')
    >>> [(op.kind, op.key, op.name) for op in patch]
    [('create_key', 'HKEY_CURRENT_USER\\\\Software\\\\X', None), ('set_value', 'HKEY_CURRENT_USER\\\\Software\\\\X', 'v')]
    """
    from .regfile.parse import parse_reg as parse, parse_reg_strict

    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), "<bytes>"
    else:
        with builtins.open(source, "rb") as handle:
            data, name = handle.read(), os.fspath(source)
    codepage = encoding or "cp1252"
    if strict:
        return parse_reg_strict(data, name, codepage, utf8_without_bom=encoding is None)
    return parse(data, name, codepage, utf8_without_bom=encoding is None).patch


def import_reg(hive: Hive, patch: Patch | PathLike, *, root: str | None = None, control_set_mode: str | int = "auto",
               skip_foreign: bool = False) -> ApplyCounts:
    """Apply a .reg file's operations to ``hive`` in memory (save it afterwards), all or nothing:
    every operation is mapped and checked before anything changes. ``root`` is where the hive is
    mounted (inferred from its content, then its file name); ``skip_foreign``: keys outside it
    are left out instead of refused. Returns the counts (keys created, values set, ...).

    >>> import hivetool
    >>> hive = hivetool.new()
    >>> patch = hivetool.parse_reg(b'REGEDIT4\\r\\n\\r\\n[HKEY_CURRENT_USER\\\\Software\\\\X]\\r\\n"v"=dword:00000001\\r\\n')
    >>> hivetool.import_reg(hive, patch, root="HKEY_CURRENT_USER").summary()
    '2 key(s) created, 0 deleted; 1 value(s) set, 0 deleted'
    """
    from .paths import infer_root
    from .regfile.apply import apply_patch

    if not isinstance(patch, Patch):
        patch = parse_reg(patch)
    mount = infer_root(hive, hive.path, root).root
    return apply_patch(hive, patch, mount, control_set_mode, skip_foreign)[1]


def export_reg(hive: Hive, key: str = "", *, root: str | None = None, regedit4: bool = False,
               regedit_compat: bool = False) -> bytes:
    """``hive`` (or ``key`` and all below it) as a .reg file, byte for byte as regedit exports it
    (UTF-16 version 5.00; ``regedit4``: ANSI REGEDIT4). Values regedit would lose are written
    exactly unless ``regedit_compat``.

    >>> import hivetool
    >>> hive = hivetool.new()
    >>> hive.create_key("Software").set("v", hivetool.RegType.DWORD, 1)
    True
    >>> hivetool.export_reg(hive, root="HKEY_CURRENT_USER").decode("utf-16").splitlines()[2:5]
    ['[HKEY_CURRENT_USER]', '', '[HKEY_CURRENT_USER\\\\Software]']
    """
    from .paths import infer_root
    from .regfile.emit import DIALECT_4, DIALECT_5
    from .regfile.export import export_hive

    mount = infer_root(hive, hive.path, root).root
    return export_hive(hive, mount, key, DIALECT_4 if regedit4 else DIALECT_5, regedit_compat).data


def diff(old: Hive, new: Hive, *, root: str | None = None) -> Patch:
    """The operations that turn ``old`` into ``new`` (new and deleted keys, new, changed and
    deleted values); :func:`import_reg` of them into ``old`` gives ``new``'s content.

    >>> import hivetool
    >>> a = hivetool.new()
    >>> b = hivetool.new()
    >>> b.create_key("Software").set("v", hivetool.RegType.SZ, "x")
    True
    >>> [op.kind for op in hivetool.diff(a, b, root="HKEY_CURRENT_USER")]
    ['create_key', 'set_value']
    """
    from .paths import infer_root
    from .regfile.diff import diff_hives

    return diff_hives(old, new, infer_root(new, new.path, root).root)


def check(hive: Hive | PathLike) -> CheckReport:
    """The structural check of a hive (an open one, or a file): a report whose ``findings``
    each carry a code, a level and a file offset; ``report.problems`` are what makes
    ``hivetool check`` exit 1.

    >>> import hivetool
    >>> hivetool.check("sample_hives/SYSTEM").clean
    True
    """
    from .regf.check import check_file, check_hive

    return check_hive(hive) if isinstance(hive, Hive) else check_file(hive)


def replay(path: PathLike, *, logs: list[PathLike] | None = None,
           clock: Clock | None = None) -> tuple[Hive, ReplayReport]:
    """A dirty hive as Windows would load it: its transaction logs applied in memory. Returns
    the hive (save it to keep it clean) and the report of what was applied and skipped."""
    from .regf.logs import open_replayed

    return open_replayed(path, clock, [os.fspath(p) for p in logs] if logs else None)


def compact(hive: Hive, path: PathLike, *, version: str | None = None) -> LayoutSummary:
    """Write ``hive`` to ``path`` without free space or slack (like ``reg save``), atomically;
    ``version`` "1.3" or "1.5" converts it. Returns what was written (keys, values, size)."""
    from .regf.compact import compact_hive

    return compact_hive(hive, path, None if version is None else int(version.split(".")[1]))


__all__ = ["check", "compact", "diff", "export_reg", "import_reg", "new", "open", "open_image", "parse_reg",
           "replay"]
