"""Logical registry paths: which hive a path like ``HKEY_LOCAL_MACHINE\\SYSTEM\\...`` lands in.

A hive file holds one subtree of the registry; the path it is mounted at is its *root*
(``HKEY_LOCAL_MACHINE\\SYSTEM``, ``HKEY_CURRENT_USER``, ...). This module

* normalises root names (long names always; ``HKLM`` and friends accepted with a warning),
* infers a hive's root from its content, then its file name (:func:`infer_root`),
* resolves ``CurrentControlSet``, which exists only at run time, through the ``Select`` key
  of a SYSTEM hive (:func:`select_control_sets`, :func:`read_control_set`),
* maps a full logical path to the hive-relative path(s) it means (:class:`PathMapper`).

Key names compare case-insensitively with Windows' upcase table, as everywhere else.
"""
from __future__ import annotations

import os
import re
import struct
from typing import Final

from .errors import KeyNotFound, RefusedUnsafe, UsageError, ValueNotFound
from .regf.hive import Hive
from .regf.hive.model import Key
from .regf.records.names import upcase
from .regf.records.types import RegType
from .slotted import Frozen

HKLM = "HKEY_LOCAL_MACHINE"
HKCU = "HKEY_CURRENT_USER"
HKU = "HKEY_USERS"
HKCR = "HKEY_CLASSES_ROOT"
HKCC = "HKEY_CURRENT_CONFIG"
LONG_ROOTS = (HKLM, HKCU, HKCR, HKU, HKCC)
SHORT_ROOTS = {"HKLM": HKLM, "HKCU": HKCU, "HKCR": HKCR, "HKU": HKU, "HKCC": HKCC}
_ROOT_BY_UPPER = {name: name for name in LONG_ROOTS} | SHORT_ROOTS

# HKEY_CLASSES_ROOT and HKEY_CURRENT_CONFIG are views of keys stored elsewhere.
CLASSES_ROOTS = (HKLM + "\\SOFTWARE\\Classes", HKCU + "\\Software\\Classes")
CURRENT_CONFIG = HKLM + "\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current"
CURRENT_CONTROL_SET = "CurrentControlSet"

_CONTROL_SET = re.compile(r"ControlSet(\d{3})\Z", re.IGNORECASE)
_SID_CLASSES = re.compile(r"S-1-\d+(-\d+)+_Classes\Z", re.IGNORECASE)

CONTROL_SET_MODES = ("auto", "default", "current", "all")


class ForeignPath(RefusedUnsafe):
    """A logical path that lies outside the registry subtree a hive holds."""

    def __init__(self, path: str, root: str) -> None:
        self.path = path
        self.root = root
        super().__init__(f"{path} is outside {root}, the part of the registry this hive holds")


class ControlSetError(RefusedUnsafe):
    """``Select`` does not name a usable control set, so CurrentControlSet cannot be resolved."""


# ---------------------------------------------------------------------------- names
class LogicalPath(Frozen):
    """A full path with its root spelled the long way, plus any warning about how it was given."""

    __slots__ = ("path", "warnings")

    def __init__(self, path: str, warnings: tuple[str, ...] = ()) -> None:
        self.path: Final = path
        self.warnings: Final = warnings

    @property
    def parts(self) -> list[str]:
        return self.path.split("\\")


def normalize_path(text: str) -> LogicalPath:
    """``hklm\\System\\X`` -> ``HKEY_LOCAL_MACHINE\\System\\X`` (with a warning for the short form).

    Only the root is rewritten; the rest keeps its spelling. Leading and trailing backslashes
    are dropped; an empty component (``a\\\\b``) is refused, since no key has an empty name.
    """
    stripped = text.strip("\\")
    if not stripped:
        raise UsageError("empty registry path")
    head, _, rest = stripped.partition("\\")
    long_name = _ROOT_BY_UPPER.get(head.upper())
    if long_name is None:
        raise UsageError(
            f"{text!r} does not start with a registry root ({', '.join(LONG_ROOTS)}, or HKLM, HKCU, HKCR, HKU, HKCC)"
        )
    if rest and "" in rest.split("\\"):
        raise UsageError(f"registry path {text!r} has an empty component (two backslashes in a row)")
    warnings: tuple[str, ...] = ()
    if head.upper() in SHORT_ROOTS:
        warnings = (f"{head} is a short root name; Windows documents only {long_name} (written out in full)",)
    return LogicalPath(long_name + ("\\" + rest if rest else ""), warnings)


def is_logical(text: str) -> bool:
    """True when ``text`` starts with a root name (long or short), i.e. is a full registry path."""
    head = text.strip("\\").partition("\\")[0]
    return head.upper() in _ROOT_BY_UPPER


def _upper_parts(path: str) -> list[str]:
    return [upcase(part) for part in path.split("\\")] if path else []


# ---------------------------------------------------------------------------- root inference
class RootChoice(Frozen):
    """Where a hive is mounted, and why we think so (the CLI prints ``reason``)."""

    __slots__ = ("root", "reason", "source")

    def __init__(self, root: str, reason: str, source: str) -> None:
        self.root: Final = root
        self.reason: Final = reason
        self.source: Final = source  # "option", "content" or "file name"

    def describe(self) -> str:
        return f"root {self.root} ({self.reason})"


_FILE_NAME_ROOTS = {
    "SYSTEM": HKLM + "\\SYSTEM",
    "SOFTWARE": HKLM + "\\SOFTWARE",
    "SAM": HKLM + "\\SAM",
    "SECURITY": HKLM + "\\SECURITY",
    "COMPONENTS": HKLM + "\\COMPONENTS",
    "DRIVERS": HKLM + "\\DRIVERS",
    "ELAM": HKLM + "\\ELAM",
    "BCD": HKLM + "\\BCD00000000",
    "NTUSER.DAT": HKCU,
    "DEFAULT": HKU + "\\.DEFAULT",
    "USRCLASS.DAT": HKCU + "\\Software\\Classes",
}


def _content_root(hive: Hive, file_name: str | None) -> RootChoice | None:
    root_key = hive.root
    top = {upcase(key.name): key.name for key in root_key.subkeys()}

    def has(*names: str) -> bool:
        return all(upcase(name) in top for name in names)

    control_sets = sorted(name for name in top.values() if _CONTROL_SET.match(name))
    if has("Select") and control_sets:
        return RootChoice(HKLM + "\\SYSTEM", f"content: Select and {control_sets[0]} at the top", "content")
    if has("Microsoft") and (has("Classes") or has("Policies")):
        other = "Classes" if has("Classes") else "Policies"
        return RootChoice(HKLM + "\\SOFTWARE", f"content: Microsoft and {other} at the top", "content")
    if has("Objects", "Description"):
        return RootChoice(HKLM + "\\BCD00000000", "content: a boot configuration store (Objects and Description)",
                          "content")
    if has("Policy") and (has("RXACT") or has("Cache")):
        return RootChoice(HKLM + "\\SECURITY", "content: Policy and RXACT/Cache at the top", "content")
    if has("SAM") and len(top) == 1:
        return RootChoice(HKLM + "\\SAM", "content: a single SAM key at the top", "content")
    if _SID_CLASSES.match(root_key.name):
        return RootChoice(HKCU + "\\Software\\Classes", f"content: root key named {root_key.name}", "content")
    if has("Software") and (has("Control Panel") or has("Environment")):
        other = "Control Panel" if has("Control Panel") else "Environment"
        base = os.path.basename(file_name or "").upper()
        if base == "DEFAULT":
            # The content says "a user profile"; the file name says whose.
            return RootChoice(HKU + "\\.DEFAULT", f"content: a user profile (Software and {other}), file name DEFAULT",
                              "content")
        return RootChoice(HKCU, f"content: a user profile (Software and {other} at the top)", "content")
    return None


def infer_root(hive: Hive, file_name: str | None = None, given: str | None = None) -> RootChoice:
    """The registry path ``hive`` is mounted at: ``given`` (``--root``), else its content,
    else its file name; raises UsageError when none of them tells."""
    if given is not None:
        logical = normalize_path(given)
        extra = "; " + logical.warnings[0] if logical.warnings else ""
        return RootChoice(logical.path, "given with --root" + extra, "option")
    from_content = _content_root(hive, file_name)
    if from_content is not None:
        return from_content
    base = os.path.basename(file_name or "")
    root = _FILE_NAME_ROOTS.get(base.upper())
    if root is not None:
        return RootChoice(root, f"file name {base}", "file name")
    shown = base or "this hive"
    raise UsageError(
        f"cannot tell which registry path {shown} is mounted at (neither its content nor its file name says); "
        r"give it with root=..., e.g. root='HKEY_LOCAL_MACHINE\SOFTWARE'"
    )


# ---------------------------------------------------------------------------- control sets
class ControlSetChoice(Frozen):
    """The ``ControlSet%03d`` key(s) CurrentControlSet stands for, as stored in the hive."""

    __slots__ = ("sets", "warnings", "description")

    def __init__(self, sets: tuple[str, ...], warnings: tuple[str, ...], description: str) -> None:
        self.sets: Final = sets
        self.warnings: Final = warnings
        self.description: Final = description


def control_set_names(hive: Hive) -> list[str]:
    """Every ``ControlSetNNN`` key at the top of the hive, by number."""
    names = [key.name for key in hive.root.subkeys() if _CONTROL_SET.match(key.name)]
    return sorted(names, key=lambda name: int(name[-3:]))


def _select_number(select: Key, name: str) -> int:
    try:
        value = select.value(name)
    except ValueNotFound:
        raise ControlSetError(f"Select\\{name} is missing, so CurrentControlSet cannot be resolved") from None
    if value.type != RegType.DWORD or len(value.raw) != 4:
        raise ControlSetError(
            f"Select\\{name} is {value.type_name} of {len(value.raw)} bytes, not a REG_DWORD; "
            "CurrentControlSet cannot be resolved"
        )
    number: int = struct.unpack("<I", value.raw)[0]
    if number < 1:
        raise ControlSetError(f"Select\\{name} is {number}; control sets are numbered from 1")
    return number


def _set_for(hive: Hive, select: Key, name: str) -> str:
    number = _select_number(select, name)
    wanted = f"ControlSet{number:03d}"  # %03d, never "ControlSet00" + N (wrong from 10 on)
    try:
        return hive.root.subkey(wanted).name
    except KeyNotFound:
        raise ControlSetError(f"Select\\{name} is {number}, but the hive has no {wanted} key") from None


def _select_key(hive: Hive) -> Key:
    try:
        return hive.root.subkey("Select")
    except KeyNotFound:
        raise ControlSetError(
            "the hive has no Select key, so CurrentControlSet cannot be resolved (is this a SYSTEM hive?)"
        ) from None


def parse_control_set_mode(text: str | int) -> str | int:
    """``auto``/``default``/``current``/``all`` or a set number (``2`` or ``ControlSet002``)."""
    if isinstance(text, int):
        number = text
    else:
        lowered = text.strip().lower()
        if lowered in CONTROL_SET_MODES:
            return lowered
        match = _CONTROL_SET.match(text.strip())
        digits = match.group(1) if match else text.strip()
        if not digits.isdigit():
            raise UsageError(f"control_set_mode={text!r}: use auto, default, current, all or a number such as 1")
        number = int(digits)
    if not 1 <= number <= 999:
        raise UsageError(f"control_set_mode={number!r}: control sets are numbered 1 to 999")
    return number


def select_control_sets(hive: Hive, mode: str | int = "auto") -> ControlSetChoice:
    """The set(s) a write through CurrentControlSet goes to.

    ``auto``: the set ``Select\\Default`` names (the one the next boot uses) and also the one
    ``Select\\Current`` names when it differs (with a warning); ``default``/``current``: that
    one; ``all``: every ``ControlSetNNN``; a number: that set, which must exist.
    """
    mode = parse_control_set_mode(mode)
    if mode == "all":
        names = control_set_names(hive)
        if not names:
            raise ControlSetError("the hive has no ControlSetNNN key, so CurrentControlSet cannot be resolved")
        return ControlSetChoice(tuple(names), (), f"CurrentControlSet -> {', '.join(names)} (all control sets)")
    if isinstance(mode, int):
        wanted = f"ControlSet{mode:03d}"
        try:
            name = hive.root.subkey(wanted).name
        except KeyNotFound:
            raise ControlSetError(f"control_set_mode={mode!r}: the hive has no {wanted} key") from None
        return ControlSetChoice((name,), (), f"CurrentControlSet -> {name} (as asked)")
    select = _select_key(hive)
    if mode == "current":
        name = _set_for(hive, select, "Current")
        return ControlSetChoice((name,), (), f"CurrentControlSet -> {name} (Select\\Current)")
    default = _set_for(hive, select, "Default")
    if mode == "default":
        return ControlSetChoice((default,), (), f"CurrentControlSet -> {default} (Select\\Default)")
    current = _set_for(hive, select, "Current")
    if upcase(current) == upcase(default):
        return ControlSetChoice((default,), (), f"CurrentControlSet -> {default} (Select\\Default = Select\\Current)")
    warning = (
        f"Select\\Default names {default} but Select\\Current names {current}: writing both "
        "(control_set_mode='default' or 'current' writes one)"
    )
    return ControlSetChoice(
        (default, current), (warning,),
        f"CurrentControlSet -> {default} (Select\\Default) and {current} (Select\\Current)",
    )


def read_control_set(hive: Hive) -> ControlSetChoice:
    """The set a read through CurrentControlSet shows: the one ``Select\\Current`` names,
    i.e. the one the system was running with."""
    name = _set_for(hive, _select_key(hive), "Current")
    return ControlSetChoice((name,), (), f"CurrentControlSet -> {name} (Select\\Current)")


# ---------------------------------------------------------------------------- mapping
class PathMapper:
    """Turns full logical paths into paths inside one hive mounted at ``root``.

    ``mode`` is a write mode of :func:`select_control_sets` or ``"read"``; the control sets
    are looked up the first time a path goes through CurrentControlSet, so hives without
    ``Select`` work for every other path. :attr:`control_sets_used` records what was used.
    """

    __slots__ = ("hive", "root", "mode", "warnings", "_choice", "_root_upper", "_below")

    def __init__(self, hive: Hive, root: str, mode: str | int = "auto", warnings: list[str] | None = None) -> None:
        self.hive = hive
        self.root = normalize_path(root).path
        self.mode = mode
        self.warnings: list[str] = [] if warnings is None else warnings
        self._choice: ControlSetChoice | None = None
        self._root_upper = _upper_parts(self.root)
        # Paths mapped strictly below the root, as given -> their hive paths: a .reg file names
        # each key after its parent, whose mapping then gives the key's (see map()).
        self._below: dict[str, list[str]] = {}

    @property
    def control_set_choice(self) -> ControlSetChoice | None:
        """The resolution of CurrentControlSet, if any path needed it."""
        return self._choice

    def _control_sets(self) -> ControlSetChoice:
        if self._choice is None:
            if self.mode == "read":
                self._choice = read_control_set(self.hive)
            else:
                self._choice = select_control_sets(self.hive, self.mode)
            self.warnings.extend(self._choice.warnings)
        return self._choice

    def _unalias(self, path: str) -> str:
        """HKEY_CLASSES_ROOT and HKEY_CURRENT_CONFIG are views; rewrite them to where they live."""
        head, _, rest = path.partition("\\")
        if head == HKCC:
            return CURRENT_CONFIG + ("\\" + rest if rest else "")
        if head == HKCR:
            # Windows writes HKEY_CLASSES_ROOT into the machine's classes (SOFTWARE hive); a
            # user's classes live in UsrClass.dat (NTUSER.DAT only links to them).
            machine, user = CLASSES_ROOTS
            if self._inside(_upper_parts(machine)) or self._covers(_upper_parts(machine)):
                return machine + ("\\" + rest if rest else "")
            if self._covers(_upper_parts(user)):
                return user + ("\\" + rest if rest else "")
        return path

    def _inside(self, parts: list[str]) -> bool:
        """True when ``parts`` lies at or below the root."""
        return parts[: len(self._root_upper)] == self._root_upper

    def _covers(self, parts: list[str]) -> bool:
        """True when the root lies at or below ``parts``."""
        return self._root_upper[: len(parts)] == parts

    def relative(self, full_path: str) -> str:
        """The path below the root, CurrentControlSet left as it is; raises ForeignPath."""
        logical = normalize_path(full_path)
        path = self._unalias(logical.path)
        parts = path.split("\\")
        depth = len(self._root_upper)
        if [upcase(part) for part in parts[:depth]] != self._root_upper:
            raise ForeignPath(logical.path, self.root)
        return "\\".join(parts[depth:])

    def is_foreign(self, full_path: str) -> bool:
        try:
            self.relative(full_path)
        except ForeignPath:
            return True
        return False

    def map(self, full_path: str) -> list[str]:
        """Hive-relative path(s) for ``full_path`` (``''`` = the hive's root key). Several
        when CurrentControlSet expands to more than one set; raises ForeignPath outside ROOT."""
        parent, _, name = full_path.rpartition("\\")
        below = self._below.get(parent) if name else None
        if below is not None:
            # The parent lies below the root, so its first name (what CurrentControlSet
            # expansion looks at) and its root are the key's too: one name more, nothing to check.
            found = [target + "\\" + name for target in below]
        else:
            relative = self.relative(full_path)
            head, sep, rest = relative.partition("\\")
            if upcase(head) != upcase(CURRENT_CONTROL_SET):
                found = [relative]
            else:
                found = [set_name + sep + rest for set_name in self._control_sets().sets]
        if all(found) and not full_path.endswith("\\"):  # (below a trailing backslash: an empty name)
            self._below[full_path] = found
        return list(found)

    def full_path(self, hive_path: str) -> str:
        """The logical path of a key given by its path inside the hive."""
        return self.root + ("\\" + hive_path if hive_path else "")
