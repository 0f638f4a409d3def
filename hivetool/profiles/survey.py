"""What a hive already pins: turn stored values back into requests, so ``ports check`` can
run the same validation on an existing configuration as ``ports set`` runs on a new one."""
from __future__ import annotations

from ..errors import UsageError
from ..regf.hive import Hive
from ..regf.hive.model import Value
from ..regf.records.types import RegType, decode_multi, decode_text
from .catalog import PORT, PORT_LIST, Profile
from .facts import find_key, find_value, port_of
from .plan import Request, _parse_one


def stored_requests(hive: Hive, profile: Profile, control_sets: tuple[str, ...]) -> tuple[list[Request], list[str]]:
    """Requests equal to what the hive holds for ``profile`` (first control set that has a
    value wins), and the names of settings whose service is installed but not pinned."""
    requests: list[Request] = []
    missing: list[str] = []
    prefixes = [f"{cs}\\" for cs in control_sets] or [""]
    for setting in profile.settings:
        installed = False
        found = None
        for prefix in prefixes:
            if setting.service and find_key(hive, f"{prefix}Services\\{setting.service}") is None:
                continue
            installed = True
            value = find_value(find_key(hive, prefix + setting.key), setting.value)
            if value is not None:
                found = value
                break
        if found is None:
            if installed or not setting.service:
                missing.append(setting.name)
            continue
        text = _stored_text(setting.kind, found)
        if text is None:
            missing.append(setting.name)
            continue
        try:
            requests.append(_parse_one(setting, text))
        except UsageError:
            missing.append(setting.name)
    return requests, missing


def _stored_text(kind: str, value: Value) -> str | None:
    if kind == PORT:
        port = port_of(value)
        return None if port is None else str(port)
    if kind == PORT_LIST:
        return ",".join(decode_multi(value.raw)) if value.type == RegType.MULTI_SZ else None
    return decode_text(value.raw) if value.type == RegType.SZ else None
