"""Full registry paths to the hives of a Windows image, as a running Windows mounts them.

=================================  =========================================================
registry path                      hive
=================================  =========================================================
``HKLM\\SYSTEM``, ``SOFTWARE``,     ``Windows/System32/config/<NAME>``
``SAM``, ``SECURITY``,
``COMPONENTS``, ``DRIVERS``,
``ELAM``
``HKLM\\BCD00000000``               ``Boot/BCD`` or ``EFI/Microsoft/Boot/BCD``
``HKU\\.DEFAULT``, ``HKU\\S-1-5-18``  ``Windows/System32/config/DEFAULT``
``HKU\\<SID>``                      ``NTUSER.DAT`` in the profile ``ProfileList`` names
``HKU\\<SID>_Classes``              that profile's ``AppData/Local/Microsoft/Windows/UsrClass.dat``
``HKCU``                           the ``--user``'s NTUSER.DAT (``default``: the Default profile)
``HKCU\\Software\\Classes``          that user's UsrClass.dat
``HKCR``                           the user's classes over ``HKLM\\SOFTWARE\\Classes``
``HKCC``                           ``HKLM\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current``
=================================  =========================================================

``HKLM\\HARDWARE`` and the other keys Windows builds at boot exist only on a running system.
"""
from __future__ import annotations

from ..errors import KeyNotFound, UsageError
from ..paths import CURRENT_CONFIG, HKCC, HKCR, HKCU, HKLM, HKU, normalize_path
from ..regf.records.names import upcase
from .layout import BCD_KEY, LOCAL_SYSTEM, MACHINE_HIVES, UserProfile

VOLATILE = {"HARDWARE": "built by Windows at boot from the hardware it finds"}
MACHINE_CLASSES = "Classes"  # below HKLM\SOFTWARE
USER_CLASSES = "Software\\Classes"  # below HKCU: a link to the user's UsrClass.dat


class Volatile(KeyNotFound):
    """A key that exists only while Windows runs."""


def split(path: str) -> tuple[str, list[str]]:
    """``hklm\\software\\x`` -> (``HKEY_LOCAL_MACHINE``, [``software``, ``x``]); short and long
    root names are both at home here, so no warning about the short form."""
    logical = normalize_path(path)
    head, _, rest = logical.path.partition("\\")
    return head, rest.split("\\") if rest else []


def machine_mount(name: str) -> str:
    """``software`` -> ``HKEY_LOCAL_MACHINE\\SOFTWARE`` (the mount of that hive), or KeyNotFound."""
    upper = name.upper()
    if upper in VOLATILE:
        raise Volatile(f"{HKLM}\\{name} does not exist offline: it is {VOLATILE[upper]}")
    if upper in MACHINE_HIVES or upper == BCD_KEY:
        return f"{HKLM}\\{upper}"
    raise KeyNotFound(f"{HKLM}\\{name}: no such hive in a Windows installation (its hives: "
                      f"{', '.join([*MACHINE_HIVES, BCD_KEY])})")


def user_mount(name: str) -> str:
    """``HKEY_USERS\\<name>``'s mount: .DEFAULT and S-1-5-18 are one hive."""
    if name.upper() in (".DEFAULT", LOCAL_SYSTEM):
        return f"{HKU}\\.DEFAULT"
    return f"{HKU}\\{name.upper()}"


def choose_user(given: str | None, users: list[UserProfile], default: UserProfile | None) -> UserProfile:
    """The profile ``--user`` names (a folder name, a SID, or ``default``); exit 2 listing the
    users found when it names none, or is missing."""
    def listing() -> str:
        names = [f"{u.name} ({u.sid})" for u in users if u.ntuser]
        if default is not None and default.ntuser:
            names.append("default (the Default profile, which new accounts are made from)")
        return ", ".join(names) or "none"

    if given is None:
        raise UsageError(f"HKCU is a user's hive: say whose with user=NAME|SID|default (users in this image: "
                         f"{listing()})")
    wanted = given.upper()
    if wanted == "DEFAULT":
        if default is None or not default.ntuser:
            raise KeyNotFound(f"user='default': the image has no Default profile hive ({listing()})")
        return default
    matches = [u for u in users if u.sid.upper() == wanted or u.name.upper() == wanted]
    if not matches:
        raise UsageError(f"user={given!r}: no such user in this image (users: {listing()})")
    user = matches[0]
    if not user.ntuser:
        raise KeyNotFound(f"user={given!r}: the profile {user.profile_path} has no NTUSER.DAT in the image"
                          + (f" ({user.problem})" if user.problem else ""))
    return user


def is_under(parts: list[str], prefix: str) -> bool:
    wanted = [upcase(p) for p in prefix.split("\\")]
    return [upcase(p) for p in parts[: len(wanted)]] == wanted


def current_config_parts(parts: list[str]) -> tuple[str, list[str]]:
    """HKCC is a view of SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current."""
    head, _, rest = CURRENT_CONFIG.partition("\\")
    return head, rest.split("\\") + parts


__all__ = ["HKCC", "HKCR", "HKCU", "HKLM", "HKU", "MACHINE_CLASSES", "USER_CLASSES", "Volatile", "choose_user",
           "current_config_parts", "is_under", "machine_mount", "split", "user_mount"]
