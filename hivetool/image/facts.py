"""What ``image info`` tells about an image: the OS, every hive, the control sets, the users."""
from __future__ import annotations

from typing import Any

from ..errors import HiveFormatError, HivetoolError, KeyNotFound, ValueNotFound
from ..inputs import open_input
from ..paths import HKLM, read_control_set
from ..regf.records.base_block import BASE_BLOCK, BASE_BLOCK_SIZE, SIGNATURE
from ..regf.hive.files import find_logs
from ..regf.hive.model import Key
from .image import ImageTarget
from .target import Slot

CURRENT_VERSION = r"Microsoft\Windows NT\CurrentVersion"
OS_VALUES = ("ProductName", "CurrentBuild", "CurrentBuildNumber", "DisplayVersion", "EditionID",
             "InstallationType", "CurrentVersion")
ENVIRONMENT = r"Control\Session Manager\Environment"


def hive_facts(slot: Slot) -> dict[str, Any]:
    """The base block of one hive (4 KiB read) and the logs beside it."""
    facts: dict[str, Any] = {"mount": slot.mount, "path": slot.relative, "role": slot.role}
    try:
        with open_input(slot.local, "hive") as source:
            facts["size"] = source.stat.st_size
            head = source.read_head(BASE_BLOCK_SIZE)
        if len(head) < BASE_BLOCK_SIZE or head[:4] != SIGNATURE:
            raise HiveFormatError("not a registry hive (no regf base block)", 0, str(slot.local))
        rec = BASE_BLOCK.unpack(head, 0)
        facts.update(version=f"{rec.major}.{rec.minor}", dirty=rec.seq1 != rec.seq2, sequence=[rec.seq1, rec.seq2])
    except HivetoolError as err:
        facts["problem"] = str(err)
    facts["logs"] = [log.name for log in find_logs(slot.local)]
    return facts


def _value(key: Key, name: str) -> int | str | list[str] | bytes | None:
    try:
        return key.value(name).data
    except (ValueNotFound, HiveFormatError):
        return None


def os_facts(image: ImageTarget) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    software = image.slot(f"{HKLM}\\SOFTWARE")
    if software is not None:
        try:
            key = image.open(software).key(CURRENT_VERSION)
            for name in OS_VALUES:
                data = _value(key, name)
                if data is not None:
                    facts[name] = data
        except (KeyNotFound, HiveFormatError) as err:
            facts["problem"] = f"SOFTWARE: {err}"
    system = image.slot(f"{HKLM}\\SYSTEM")
    if system is not None:
        try:
            hive = image.open(system)
            control_set = read_control_set(hive).sets[0]
            data = _value(hive.key(f"{control_set}\\{ENVIRONMENT}"), "PROCESSOR_ARCHITECTURE")
            if data is not None:
                facts["architecture"] = data
        except HivetoolError:
            pass
    return facts


def control_set_facts(image: ImageTarget) -> dict[str, Any]:
    system = image.slot(f"{HKLM}\\SYSTEM")
    if system is None:
        return {}
    hive = image.open(system)
    facts: dict[str, Any] = {}
    try:
        select = hive.key("Select")
    except KeyNotFound:
        return {"problem": "SYSTEM has no Select key"}
    for name in ("Current", "Default", "LastKnownGood", "Failed"):
        data = _value(select, name)
        if isinstance(data, int):
            facts[name.lower()] = f"ControlSet{data:03d}"
    facts["sets"] = sorted(k.name for k in hive.root.subkeys() if k.name.upper().startswith("CONTROLSET"))
    return facts


def image_facts(image: ImageTarget) -> dict[str, Any]:
    layout = image.layout
    users = []
    for user in layout.users:
        users.append({"sid": user.sid, "name": user.name, "profile": user.profile_path, "folder": user.folder,
                      "ntuser": user.ntuser, "classes": user.classes, "problem": user.problem})
    default = layout.default_profile
    return {
        "image": image.describe(),
        "os": os_facts(image),
        "hives": [hive_facts(slot) for slot in image.slots()],
        "control_sets": control_set_facts(image),
        "users": users,
        "default_profile": None if default is None else {"profile": default.profile_path, "folder": default.folder,
                                                         "ntuser": default.ntuser, "problem": default.problem},
        "problems": layout.problems,
    }
