"""A Windows image as one logical registry: its hives found, mapped and written together."""
from __future__ import annotations

import ntpath
import os
from typing import TYPE_CHECKING, Callable

from ..errors import KeyNotFound, MalformedInput, UsageError
from ..paths import HKCC, HKCR, HKCU, HKLM, HKU
from ..regf.hive.files import LOG_SUFFIXES, find_logs
from .layout import (
    BCD_FILES, CONFIG, DEFAULT_HIVE, MACHINE_HIVES, SYSTEM_ROOTS, HiveFile, Layout, UserProfile, find_system_root,
    machine_hives, read_profiles, user_hives,
)
from .mapping import (
    MACHINE_CLASSES, USER_CLASSES, choose_user, current_config_parts, is_under, machine_mount, split, user_mount,
)
from .spec import FOLDER, TargetSpec
from .store import Change, FolderStore
from .target import Location, OpenOptions, Slot, Target

if TYPE_CHECKING:
    from ..inputs import FolderLock
    from ..regf.hive import Hive
    from .wim import WimStore


def _with_logs(relative: str) -> list[str]:
    return [relative] + [relative + suffix for suffix in LOG_SUFFIXES]


def machine_patterns() -> list[str]:
    """Every file a WIM must give up for the machine's hives to be found and opened."""
    patterns = []
    for root in SYSTEM_ROOTS:
        for name in [*MACHINE_HIVES.values(), DEFAULT_HIVE]:
            patterns += _with_logs(f"{root}/{CONFIG}/{name}")
    for candidate in BCD_FILES:
        patterns += _with_logs(candidate)
    return patterns


def profile_patterns(windows_path: str, system_root: str | None) -> list[str]:
    """The files of one profile a WIM must give up, from ProfileImagePath (C: or %SystemDrive%)."""
    path = windows_path.strip()
    for variable in ("%SystemDrive%", "%systemdrive%", "%SYSTEMDRIVE%"):
        path = path.replace(variable, "C:")
    for variable in ("%SystemRoot%", "%systemroot%", "%SYSTEMROOT%", "%windir%", "%WINDIR%"):
        path = path.replace(variable, "C:\\" + (system_root or "Windows"))
    drive, rest = ntpath.splitdrive(path)
    if drive.upper() != "C:" or "%" in rest:
        return []
    folder = rest.replace("\\", "/").strip("/")
    from .layout import USER_CLASSES as CLASSES_FILES

    return _with_logs(f"{folder}/NTUSER.DAT") + [p for c in CLASSES_FILES for p in _with_logs(f"{folder}/{c}")]


class ImageTarget(Target):
    """A folder laid out like a Windows system drive, or an image in a WIM."""

    kind = "image"

    def __init__(self, spec: TargetSpec, options: OpenOptions) -> None:
        super().__init__(options)
        self.spec = spec
        self._lock: FolderLock | None = None
        self.store: FolderStore | WimStore
        if spec.kind == FOLDER:
            self.store = FolderStore(spec.path)
        else:
            from .wim import WimStore

            if options.for_update:
                # From the extraction to the update: another hivetool must not extract the old
                # hives meanwhile. The WIM's folder is locked, not the WIM, which wimlib locks itself.
                from ..inputs import FolderLock

                self._lock = FolderLock(os.path.dirname(os.path.abspath(spec.path)), options.wait, str(spec))
            self.store = WimStore(spec.path, spec.index or 1, spec.read_only)
        self.layout = self._discover()
        self._slots = {hive.mount.upper(): self._slot(hive) for hive in self.layout.hives}
        self._user: UserProfile | None = None

    def describe(self) -> str:
        return self.store.describe()

    # ------------------------------------------------------------------ discovery
    def _slot(self, hive: HiveFile) -> Slot:
        return Slot(hive.mount, hive.relative, self.store.local(hive.relative), hive.role, hive.relative)

    def _fetch(self, patterns: list[str]) -> None:
        fetch = getattr(self.store, "fetch", None)
        if fetch is not None:
            fetch(patterns)

    def _discover(self) -> Layout:
        self._fetch(machine_patterns())
        files = self.store.files
        system_root = find_system_root(files)
        layout = Layout(system_root, machine_hives(files, system_root))
        if system_root is None:
            if not layout.hives:
                raise MalformedInput(
                    f"{self.store.describe()}: not a Windows image (no Windows/System32/config below it, any case); "
                    "an image is the root of a system drive, and a hive must be a regular file")
            layout.problems.append("no Windows/System32/config folder: this does not look like a Windows system drive")
        software = next((h for h in layout.hives if h.role == "SOFTWARE"), None)
        if software is None:
            layout.problems.append("no SOFTWARE hive: users cannot be found (ProfileList)")
            return layout
        hive = self.open(self._slot_for(software))
        if getattr(self.store, "fetch", None) is not None:
            self._fetch_profiles(hive, system_root)
        layout.users, layout.default_profile, problems = read_profiles(hive, self.store.files, system_root)
        layout.problems.extend(problems)
        layout.hives.extend(user_hives(layout.users))
        return layout

    def _slot_for(self, hive: HiveFile) -> Slot:
        """Discovery opens SOFTWARE before the slots exist: keep that one slot."""
        if not hasattr(self, "_early"):
            self._early: dict[str, Slot] = {}
        slot = self._early.get(hive.mount.upper())
        if slot is None:
            slot = self._early[hive.mount.upper()] = self._slot(hive)
        return slot

    def _fetch_profiles(self, software: Hive, system_root: str | None) -> None:
        from .layout import PROFILE_LIST

        try:
            profile_list = software.key(PROFILE_LIST)
        except KeyNotFound:
            return
        paths = []
        for key in [profile_list, *profile_list.subkeys()]:
            for name in ("ProfileImagePath", "Default"):
                try:
                    data = key.value(name).data
                except Exception:  # missing or damaged: read_profiles says why
                    continue
                if isinstance(data, str):
                    paths.append(data)
        patterns = [p for path in paths for p in profile_patterns(path, system_root)]
        self._fetch(patterns)

    def slots(self) -> list[Slot]:
        early = getattr(self, "_early", {})
        slots = [early.get(key, slot) for key, slot in self._slots.items()]
        if self._user is not None and self._user.sid == "default":
            slots.append(self._default_slot())
        return slots

    def slot(self, mount: str) -> Slot | None:
        early = getattr(self, "_early", {})
        key = mount.upper()
        return early.get(key) or self._slots.get(key)

    def _default_slot(self) -> Slot:
        if not hasattr(self, "_default"):
            profile = self.layout.default_profile
            assert profile is not None and profile.ntuser
            self._default = Slot(HKCU, profile.ntuser, self.store.local(profile.ntuser), "NTUSER", profile.ntuser)
        return self._default

    # ------------------------------------------------------------------ users
    def user(self) -> UserProfile:
        if self._user is None:
            self._user = choose_user(self.options.user, self.layout.users, self.layout.default_profile)
        return self._user

    def _user_slot(self, classes: bool) -> Slot:
        user = self.user()
        if user.sid == "default":
            if classes:
                raise KeyNotFound("the Default profile has no classes hive to map HKCU\\Software\\Classes to")
            return self._default_slot()
        mount = f"{HKU}\\{user.sid}" + ("_Classes" if classes else "")
        slot = self.slot(mount)
        if slot is None:
            what = "UsrClass.dat" if classes else "NTUSER.DAT"
            raise KeyNotFound(f"user {user.name} ({user.sid}) has no {what} in the image")
        return slot

    # ------------------------------------------------------------------ paths
    def _missing_hint(self, mount: str) -> str:
        name = mount.rpartition("\\")[2].upper()
        if name in MACHINE_HIVES:
            return f"no {self.layout.system_root or 'Windows'}/{CONFIG}/{MACHINE_HIVES[name]}"
        if mount.upper().startswith(HKU.upper() + "\\"):
            sids = [u.sid for u in self.layout.users if u.ntuser]
            return f"users with a hive: {', '.join(sids) or 'none'}"
        return "not found where Windows keeps it"

    def virtual_key(self, path: str) -> tuple[str, list[str]] | None:
        """A key that is no hive's key but lists hives (the image's top, HKLM, HKU): its path as
        shown and its subkeys; None for any other path."""
        if path.strip("\\") == "":
            roots = [HKLM, HKU]
            if self.options.user is not None:
                roots.append(HKCU)
            if self.slot(f"{HKLM}\\SOFTWARE") is not None:
                roots.append(HKCR)
            return "", roots
        head, parts = split(path)
        if parts or head not in (HKLM, HKU):
            return None
        return head, [mount.partition("\\")[2] for mount in self._mounts() if mount.startswith(head + "\\")]

    def _mounts(self) -> list[str]:
        return [slot.mount for slot in self.slots() if slot.mount and slot.mount != HKCU]

    def locate(self, path: str, write: bool = False) -> list[Location]:
        found = self.locate_all(path, write)
        return found if write else found[:1]

    def locate_all(self, path: str, write: bool = False) -> list[Location]:
        """Like :meth:`locate`; for a read of HKCR both the user's and the machine's key, in
        the order Windows merges them (the user's wins)."""
        found = []
        for slot, rest in self.routes(path, write):
            found.extend(self._expand_control_set(slot, "\\".join(rest), write))
        return found

    def route(self, path: str) -> tuple[Slot, str]:
        """Where a write of ``path`` goes: the hive, and the path rewritten below that hive's
        mount (``HKCU\\X`` -> ``HKEY_USERS\\<SID>\\X``); CurrentControlSet is left for the
        hive's own mapping to resolve."""
        slot, rest = self.routes(path, write=True)[0]
        return slot, slot.mounted_at + ("\\" + "\\".join(rest) if rest else "")

    def routes(self, path: str, write: bool) -> list[tuple[Slot, list[str]]]:
        """(hive, names below its root key) for ``path``; two for a read of HKCR that the user's
        classes and the machine's both hold."""
        if not path.strip("\\"):
            raise UsageError("give a registry path such as HKLM\\SOFTWARE\\...; the image's top is not a key")
        head, parts = split(path)
        if head == HKCC:
            head, parts = current_config_parts(parts)
        if head == HKLM:
            if not parts:
                raise UsageError(f"{HKLM} holds hives, not values: give one of its hives, e.g. {HKLM}\\SOFTWARE")
            return [(self._mounted(machine_mount(parts[0])), parts[1:])]
        if head == HKU:
            if not parts:
                raise UsageError(f"{HKU} holds hives, not values: give one of them, e.g. {HKU}\\.DEFAULT")
            return [(self._mounted(user_mount(parts[0])), parts[1:])]
        if head == HKCU:
            if is_under(parts, USER_CLASSES):
                return [(self._opened(self._user_slot(classes=True)), parts[2:])]
            return [(self._opened(self._user_slot(classes=False)), parts)]
        if head == HKCR:
            return self._classes(parts, write)
        raise UsageError(f"{path}: an image maps HKLM, HKU, HKCU, HKCR and HKCC")

    def _opened(self, slot: Slot) -> Slot:
        self.open(slot)
        return slot

    def _mounted(self, mount: str) -> Slot:
        slot = self.slot(mount)
        if slot is None:
            raise KeyNotFound(f"{mount}: the image has no such hive ({self._missing_hint(mount)})")
        return self._opened(slot)

    def _classes(self, parts: list[str], write: bool) -> list[tuple[Slot, list[str]]]:
        """HKCR: the user's classes over the machine's. A write goes to the user's classes hive
        only where that key already exists there, as Windows does; otherwise to the machine's."""
        machine = (self._mounted(f"{HKLM}\\SOFTWARE"), [MACHINE_CLASSES, *parts])
        if self.options.user is None:
            return [machine]
        try:
            slot = self._opened(self._user_slot(classes=True))
        except KeyNotFound:
            return [machine]
        exists = self.open(slot).has_key("\\".join(parts))  # opened above: the same hive
        if write:
            return [(slot, parts) if exists else machine]
        return [(slot, parts), machine] if exists else [machine]

    # ------------------------------------------------------------------ writing
    def commit(self, output: str | None, verify_for: Callable[[Slot], Callable[[str], None] | None] | None = None,
               in_place: bool = False) -> list[str]:
        """Write every changed hive, all or nothing: into the image (``in_place``), or below the
        folder (a WIM: the file) ``output``. A hive recovered from its logs and written in place
        has its logs emptied in the same transaction."""
        changed = self.changed()
        if not changed:
            return []
        changes = []
        emptied = []
        for slot in changed:
            verify = verify_for(slot) if verify_for else None
            hive = slot.hive
            assert hive is not None  # changed() lists opened hives only
            changes.append(Change(slot.relative, hive.saved_chunks(), verify))
            if in_place and hive.modified_by_replay:
                for log in find_logs(slot.local):
                    relative = f"{slot.relative.rpartition('/')[0]}/{log.name}".lstrip("/")
                    emptied.append(Change(relative, [b""]))
        written = self.store.write(changes + emptied, None if in_place else output)
        self.emptied_logs = [change.relative for change in emptied]
        return written

    def close(self) -> None:
        super().close()
        closer = getattr(self.store, "close", None)
        if closer is not None:
            closer()
        if self._lock is not None:
            self._lock.close()


__all__ = ["ImageTarget", "machine_patterns", "profile_patterns"]
