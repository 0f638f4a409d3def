"""What a hive tells about the machine, for validating static ports: its OS generation, its
dynamic port range, the ports already pinned, and the RPC port pool of its SOFTWARE hive."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import AbstractSet

from ..errors import KeyNotFound, ValueNotFound
from ..regf.hive import Hive
from ..regf.hive.model import Key, Value
from ..regf.records.types import RegType, decode_multi, decode_text
from .catalog import PORT, PROFILES
from .rules import parse_port_list

OS_CHOICES = ("nt4", "2000", "xp", "2003", "vista+")

# Values Exchange 2003 setup writes for RPC over HTTP; read, never changed (TechNet aa998910).
RPC_HTTP_VALUES = (
    ("Services\\MSExchangeIS\\ParametersSystem", "Rpc/HTTP Port"),
    ("Services\\MSExchangeSA\\Parameters", "HTTP Port"),
    ("Services\\MSExchangeSA\\Parameters", "Rpc/HTTP NSPI Port"),
)


def find_key(hive: Hive, path: str) -> Key | None:
    try:
        return hive.key(path)
    except KeyNotFound:
        return None


def find_value(key: Key | None, name: str) -> Value | None:
    if key is None:
        return None
    try:
        return key.value(name)
    except ValueNotFound:
        return None


def port_of(value: Value | None) -> int | None:
    """A pinned port as stored: a 4-byte REG_DWORD, or a decimal REG_SZ (Exchange 2010's RpcTcpPort)."""
    if value is None:
        return None
    if value.type == RegType.DWORD and len(value.raw) == 4:
        port: int = struct.unpack("<I", value.raw)[0]
        return port
    if value.type == RegType.SZ:
        text = decode_text(value.raw).strip()
        return int(text) if text.isdigit() else None
    return None


@dataclass(frozen=True)
class OsGuess:
    os: str
    how: str


def infer_os(hive: Hive, control_set: str) -> OsGuess:
    """Vista and later have the Base Filtering Engine service and the NSI store; NT 4.0 and
    2000 wrote format 1.3 hives, XP and 2003 format 1.5. Pre-Vista generations share the
    rules that matter here (the 1024-MaxUserPort dynamic range, ReservedPorts)."""
    for marker in ("Services\\BFE", "Control\\Nsi"):
        if find_key(hive, f"{control_set}\\{marker}") is not None:
            return OsGuess("vista+", f"{control_set}\\{marker} exists (Windows Vista or later)")
    if hive.minor <= 3:
        return OsGuess("nt4", f"format {hive.version} and no Vista markers (BFE, Control\\Nsi): NT 4.0 or 2000")
    return OsGuess("xp", f"format {hive.version} and no Vista markers (BFE, Control\\Nsi): XP or 2003")


def max_user_port(hive: Hive, control_set: str) -> int | None:
    value = find_value(find_key(hive, f"{control_set}\\Services\\Tcpip\\Parameters"), "MaxUserPort")
    return port_of(value) if value is not None and value.type == RegType.DWORD else None


def pinned_ports(hive: Hive, control_set: str, skip: AbstractSet[tuple[str, str]] = frozenset()) -> list[tuple[str, int]]:
    """Every static port the hive already pins in ``control_set`` (catalog values and the
    Exchange 2003 RPC/HTTP ports), labelled; ``skip`` holds (key, value) pairs (upper case)
    that the current command is about to rewrite."""
    places: dict[tuple[str, str], str] = {}
    for profile in PROFILES.values():
        if profile.hive != "SYSTEM":
            continue
        for setting in profile.settings:
            if setting.kind == PORT:
                places.setdefault((setting.key.upper(), setting.value.upper()), f"{setting.key}\\{setting.value}")
    for key, value in RPC_HTTP_VALUES:
        places.setdefault((key.upper(), value.upper()), f"{key}\\{value}")
    found = []
    for (key_upper, value_upper), label in places.items():
        if (key_upper, value_upper) in skip:
            continue
        key_path, _, value_name = label.rpartition("\\")
        port = port_of(find_value(find_key(hive, f"{control_set}\\{key_path}"), value_name))
        if port is not None:
            found.append((f"{label} (already in {control_set})", port))
    return sorted(found, key=lambda item: item[0])


@dataclass(frozen=True)
class RpcPool:
    ranges: list[tuple[int, int]]
    available: bool  # PortsInternetAvailable = Y: the list is the ports RPC may use


def rpc_pool(software: Hive) -> RpcPool | None:
    """The RPC dynamic pool configured in SOFTWARE\\Microsoft\\Rpc\\Internet, if any."""
    key = find_key(software, "Microsoft\\Rpc\\Internet")
    ports = find_value(key, "Ports")
    if ports is None or ports.type != RegType.MULTI_SZ:
        return None
    try:
        ranges = parse_port_list(",".join(decode_multi(ports.raw)))
    except ValueError:
        return None  # one bad entry invalidates the whole configuration (KB 154596)
    flag = find_value(key, "PortsInternetAvailable")
    available = flag is None or decode_text(flag.raw).strip().upper() != "N"
    return RpcPool(ranges, available)


def pinned_from_hive(hive: Hive, file_name: str) -> tuple[str, list[tuple[str, int]], list[tuple[str, int, int]]]:
    """Ports to open for a machine, read from its SYSTEM hive (the set in use, Select\\Current)
    or its SOFTWARE hive (the RPC pool, when it lists the ports RPC may use)."""
    from ..paths import read_control_set

    pool = rpc_pool(hive)
    if pool is not None and find_key(hive, "Select") is None:
        ranges = [("RPC dynamic pool", lo, hi) for lo, hi in pool.ranges] if pool.available else []
        return f"RPC port pool of {file_name}", [], ranges
    control_set = read_control_set(hive).sets[0]
    pinned = [(label.split(" (already")[0], port) for label, port in pinned_ports(hive, control_set)]
    return f"static RPC ports pinned in {file_name} ({control_set})", pinned, []
