"""``[[ports]]`` items: a static-port profile and its settings, read as ``ports set`` reads them.

``profile = "exchange55"`` names the profile; every other field is a setting of it (``ds =
1225``) or one of the options of ``ports set`` (``os``, ``force``, ``reserve``). Each setting
goes through the same parser as ``ports set PROFILE ds=1225`` (:func:`profiles.plan.parse_requests`),
so a port, a port list or a Y/N flag is read the same way; problems are exit 3 here (a file is
malformed input) with the setting's line. Validation against a hive (the P-* rules, exit 4)
waits until the state meets a target (:mod:`.ports_plan`).

Every setting is also a value at a known path (``HKLM\\SYSTEM\\CurrentControlSet\\<key>`` for
SYSTEM profiles, ``HKLM\\SOFTWARE\\<key>`` for SOFTWARE ones), so it takes part in conflicts
and in "later wins" like a ``[[value]]``. Several ``[[ports]]`` items of one profile are merged
into one request (the rules compare its ports with each other, as one ``ports set`` would).
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import UsageError
from ..paths import CURRENT_CONTROL_SET, HKLM
from ..profiles import catalog
from ..profiles.facts import OS_CHOICES
from ..profiles.plan import parse_requests
from ..regfile.patch import Origin
from .model import PortSetting, PortsSpec
from .values import DataProblem

OPTIONS = ("os", "force", "reserve")


def live_path(profile: catalog.Profile, key: str) -> str:
    """The full path of a profile's key (relative to the control set for SYSTEM profiles) on a
    live machine: what a setting's value is compared as, and where its fix is written."""
    if profile.hive == "SYSTEM":
        return f"{HKLM}\\SYSTEM\\{CURRENT_CONTROL_SET}\\{key}"
    return f"{HKLM}\\{profile.hive}\\{key}"


def setting_path(profile: catalog.Profile, setting: catalog.Setting) -> str:
    return live_path(profile, setting.key)


def setting_value(profile_name: str, name: str, text: str) -> tuple[int, bytes]:
    """(type, bytes) the setting stores, as ``ports set`` computes them."""
    profile = catalog.profile(profile_name)
    request = parse_requests(profile, [f"{name}={text}"])[0]
    return request.setting.type, request.raw


def _setting_text(name: str, given: Any) -> str:
    if isinstance(given, bool):
        raise DataProblem(f"{name}: a boolean is not a setting value (a port is a number; a flag is \"Y\" or \"N\")",
                          name)
    if isinstance(given, int):
        return str(given)
    if isinstance(given, str):
        return given
    if isinstance(given, list) and given and all(isinstance(p, (int, str)) and not isinstance(p, bool) for p in given):
        return ",".join(str(p) for p in given)  # a port list: [5000, "5100-5200"]
    raise DataProblem(f"{name}: give a number or a string (a list of ports or ranges for a pool)", name)


def read_ports(table: dict[str, Any], origin_of: Callable[[str], Origin], next_seq: Callable[[], int]) -> PortsSpec:
    """A ``[[ports]]`` table as a PortsSpec; DataProblem names the field at fault."""
    given = table.get("profile")
    if not isinstance(given, str):
        raise DataProblem("[[ports]] needs profile = \"NAME\" (a string; hivetool ports list shows them)", "profile")
    try:
        profile = catalog.profile(given)
    except UsageError as err:
        raise DataProblem(str(err), "profile") from None
    os_choice = table.get("os")
    if os_choice is not None and os_choice not in OS_CHOICES:
        raise DataProblem(f"os must be one of {', '.join(OS_CHOICES)}, not {os_choice!r}", "os")
    for flag in ("force", "reserve"):
        if flag in table and not isinstance(table[flag], bool):
            raise DataProblem(f"{flag} must be true or false", flag)
    settings: list[PortSetting] = []
    names = ", ".join(s.name for s in profile.settings)
    for field, value in table.items():
        if field == "profile" or field in OPTIONS:
            continue
        try:
            profile.setting(field)
        except KeyError:
            raise DataProblem(f"profile {profile.name} has no setting {field!r} (settings: {names}; options: "
                              f"{', '.join(OPTIONS)})", field) from None
        text = _setting_text(field, value)
        try:
            parse_requests(profile, [f"{field}={text}"])
        except UsageError as err:
            raise DataProblem(str(err), field) from None
        settings.append(PortSetting(field.lower(), text.strip(), origin_of(field), next_seq()))
    if not settings:
        raise DataProblem(f"{profile.name} sets nothing: give its settings, e.g. "
                          f"{profile.settings[0].name} = 5000 (settings: {names})", "profile")
    return PortsSpec(profile.name, tuple(settings), os_choice, table.get("force"), table.get("reserve"))


def merge(specs: list[PortsSpec]) -> PortsSpec:
    """One request from several items of one profile (in order): later ones win per setting,
    and per option they give."""
    settings: dict[str, PortSetting] = {}
    options: dict[str, Any] = {"os": None, "force": None, "reserve": None}
    for spec in specs:
        for setting in spec.settings:
            settings[setting.name] = setting
        for option in OPTIONS:
            if getattr(spec, option) is not None:
                options[option] = getattr(spec, option)
    ordered = tuple(sorted(settings.values(), key=lambda s: s.seq))
    return PortsSpec(specs[0].profile, ordered, options["os"], options["force"], options["reserve"])


__all__ = ["OPTIONS", "live_path", "merge", "read_ports", "setting_path", "setting_value"]
