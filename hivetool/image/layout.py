"""Where a Windows installation keeps its hives, and which registry path each one is.

The machine's hives live in ``Windows/System32/config`` (``WINNT`` on NT 4.0 and 2000); each
user's ``NTUSER.DAT`` and ``UsrClass.dat`` live in the profile folder that SOFTWARE's
``ProfileList`` names; the boot configuration store lives in ``Boot/BCD`` or
``EFI/Microsoft/Boot/BCD``. This module knows those places and reads ``ProfileList``; it
opens nothing but the SOFTWARE hive it is handed.
"""
from __future__ import annotations

import ntpath
import re
from dataclasses import dataclass, field

from ..errors import HiveFormatError, KeyNotFound, ValueNotFound
from ..paths import HKLM, HKU
from ..regf.hive import Hive
from ..regf.hive.model import Key
from .tree import CaseFolder

SYSTEM_ROOTS = ("Windows", "WINNT")
CONFIG = "System32/config"
# Registry path under HKEY_LOCAL_MACHINE -> file name in the config folder.
MACHINE_HIVES = {
    "SYSTEM": "SYSTEM",
    "SOFTWARE": "SOFTWARE",
    "SAM": "SAM",
    "SECURITY": "SECURITY",
    "COMPONENTS": "COMPONENTS",
    "DRIVERS": "DRIVERS",
    "ELAM": "ELAM",
}
BCD_KEY = "BCD00000000"
BCD_FILES = ("Boot/BCD", "EFI/Microsoft/Boot/BCD")
DEFAULT_HIVE = "DEFAULT"  # HKEY_USERS\.DEFAULT, which is also HKEY_USERS\S-1-5-18
LOCAL_SYSTEM = "S-1-5-18"
PROFILE_LIST = r"Microsoft\Windows NT\CurrentVersion\ProfileList"
USER_CLASSES = (  # below a profile folder: Vista and later, then XP and 2003
    "AppData/Local/Microsoft/Windows/UsrClass.dat",
    "Local Settings/Application Data/Microsoft/Windows/UsrClass.dat",
)
_VARIABLE = re.compile(r"%([^%]+)%")
_SID = re.compile(r"S-1-\d+(-\d+)*\Z", re.IGNORECASE)


@dataclass
class HiveFile:
    """One hive of the image: the registry path it is mounted at and where its file is."""

    mount: str  # e.g. HKEY_LOCAL_MACHINE\SYSTEM, HKEY_USERS\S-1-5-21-...
    relative: str  # stored path below the image root, '/'-separated
    role: str  # SYSTEM, SOFTWARE, ..., DEFAULT, BCD, NTUSER, UsrClass


@dataclass
class UserProfile:
    """A ProfileList entry: whose it is, where its folder is, and which of its hives exist."""

    sid: str
    profile_path: str  # as ProfileImagePath says (Windows path)
    folder: str | None  # stored path of the folder in the image; None: not in it
    ntuser: str | None = None
    classes: str | None = None
    problem: str | None = None  # why the folder is not in the image

    @property
    def name(self) -> str:
        return ntpath.basename(self.profile_path.rstrip("\\")) or self.sid


@dataclass
class Layout:
    """The hives an image holds, found once."""

    system_root: str | None  # stored name of the Windows folder ("Windows")
    hives: list[HiveFile] = field(default_factory=list)
    users: list[UserProfile] = field(default_factory=list)
    default_profile: UserProfile | None = None  # what new accounts are made from
    problems: list[str] = field(default_factory=list)

    def by_mount(self) -> dict[str, HiveFile]:
        return {hive.mount.upper(): hive for hive in self.hives}


def find_system_root(files: CaseFolder) -> str | None:
    for name in SYSTEM_ROOTS:
        stored = files.find(name)
        if stored is not None and files.find(f"{stored}/{CONFIG}") is not None:
            return stored
    return None


def machine_hives(files: CaseFolder, system_root: str | None) -> list[HiveFile]:
    """The config folder's hives and the boot store, as far as they exist."""
    found: list[HiveFile] = []
    if system_root is not None:
        for key, name in MACHINE_HIVES.items():
            stored = files.find(f"{system_root}/{CONFIG}/{name}")
            if stored is not None and files.path(stored).is_file():
                found.append(HiveFile(f"{HKLM}\\{key}", stored, key))
        stored = files.find(f"{system_root}/{CONFIG}/{DEFAULT_HIVE}")
        if stored is not None and files.path(stored).is_file():
            found.append(HiveFile(f"{HKU}\\.DEFAULT", stored, DEFAULT_HIVE))
    for candidate in BCD_FILES:
        stored = files.find(candidate)
        if stored is not None and files.path(stored).is_file():
            found.append(HiveFile(f"{HKLM}\\{BCD_KEY}", stored, "BCD"))
            break
    return found


def image_path(files: CaseFolder, system_root: str | None, windows_path: str) -> tuple[str | None, str | None]:
    """A Windows path from the registry as a stored path in the image, or (None, why not).

    ``%SystemDrive%`` and ``C:`` are the image root, ``%SystemRoot%``/``%windir%`` its Windows
    folder; another drive is not in the image.
    """
    def expand(match: re.Match[str]) -> str:
        name = match.group(1).upper()
        if name == "SYSTEMDRIVE":
            return "C:"
        if name in ("SYSTEMROOT", "WINDIR"):
            return "C:\\" + (system_root or "Windows")
        return match.group(0)

    path = _VARIABLE.sub(expand, windows_path.strip())
    if "%" in path:
        return None, f"{windows_path}: the variable cannot be resolved offline"
    drive, rest = ntpath.splitdrive(path)
    if drive.upper() != "C:":
        return None, f"{windows_path}: on drive {drive or '(none)'}, not the system drive this image is"
    stored = files.find(rest.replace("\\", "/"))
    if stored is None:
        return None, f"{windows_path}: no such folder in the image"
    return stored, None


def _expand_value(key: Key, name: str) -> str | None:
    try:
        data = key.value(name).data
    except (ValueNotFound, HiveFormatError):
        return None
    return data if isinstance(data, str) else None


def read_profiles(software: Hive, files: CaseFolder, system_root: str | None) -> tuple[
        list[UserProfile], UserProfile | None, list[str]]:
    """Every ProfileList entry with its hives, the Default profile, and what could not be read."""
    problems: list[str] = []
    try:
        profile_list = software.key(PROFILE_LIST)
    except (KeyNotFound, HiveFormatError) as err:
        return [], None, [f"SOFTWARE has no usable ProfileList ({err}): no user hives are mapped"]
    users = []
    for sub in profile_list.subkeys():
        if not _SID.match(sub.name):
            continue  # e.g. a ".bak" copy left by a profile repair
        image_path_text = _expand_value(sub, "ProfileImagePath")
        if image_path_text is None:
            problems.append(f"ProfileList\\{sub.name} has no ProfileImagePath")
            continue
        users.append(_profile(sub.name, image_path_text, files, system_root))
    default = None
    default_path = _expand_value(profile_list, "Default")
    if default_path is None:  # XP and 2003: the folder name below ProfilesDirectory
        directory = _expand_value(profile_list, "ProfilesDirectory")
        name = _expand_value(profile_list, "DefaultUserProfile")
        if directory and name:
            default_path = directory.rstrip("\\") + "\\" + name
    if default_path is not None:
        default = _profile("default", default_path, files, system_root)
    return users, default, problems


def _profile(sid: str, windows_path: str, files: CaseFolder, system_root: str | None) -> UserProfile:
    folder, problem = image_path(files, system_root, windows_path)
    profile = UserProfile(sid, windows_path, folder, problem=problem)
    if folder is not None:
        profile.ntuser = _file(files, f"{folder}/NTUSER.DAT")
        for candidate in USER_CLASSES:
            profile.classes = _file(files, f"{folder}/{candidate}")
            if profile.classes:
                break
    return profile


def _file(files: CaseFolder, relative: str) -> str | None:
    stored = files.find(relative)
    return stored if stored is not None and files.path(stored).is_file() else None


def user_hives(users: list[UserProfile]) -> list[HiveFile]:
    """``HKEY_USERS\\<SID>`` and ``HKEY_USERS\\<SID>_Classes`` for each profile present.
    LocalSystem's profile is not mounted under its SID: ``HKEY_USERS\\S-1-5-18`` is the DEFAULT
    hive, as on a running system."""
    found = []
    for user in users:
        if user.sid.upper() == LOCAL_SYSTEM:
            continue
        if user.ntuser:
            found.append(HiveFile(f"{HKU}\\{user.sid}", user.ntuser, "NTUSER"))
        if user.classes:
            found.append(HiveFile(f"{HKU}\\{user.sid}_Classes", user.classes, "UsrClass"))
    return found
