"""From ``ports set HIVE PROFILE ds=1225 is=1226`` to the exact changes, with every finding.

Planning reads the hive and changes nothing: it resolves the control set(s), checks that
each service is installed, reads the old values, infers the OS generation and runs the
validation rules. Applying a plan then makes only the changes it lists.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..errors import KeyNotFound, RefusedUnsafe, TypeClash, UsageError
from ..paths import HKLM, infer_root, select_control_sets
from ..regf.hive import Hive
from ..regf.hive.model import Value
from ..regf.records.types import RegType, decode_multi, encode_multi, encode_text, type_name
from .catalog import PORT, PORT_LIST, YES_NO, Profile, Setting
from .facts import (OS_CHOICES, OsGuess, find_key, find_value, infer_os, max_user_port, pinned_ports, port_of,
                    rpc_pool)
from .rules import (ERROR, PRE_VISTA, WARNING, Finding, PortContext, check_pool, check_port, check_unique, forced,
                    parse_port_list)


@dataclass(frozen=True)
class Request:
    """One SETTING=VALUE as typed, parsed into what will be stored."""

    setting: Setting
    text: str
    raw: bytes
    port: int | None = None
    ranges: tuple[tuple[int, int], ...] = ()

    @property
    def shown(self) -> str:
        if self.port is not None:
            return f"{self.port} (0x{self.port:x})"
        return self.text


def parse_requests(profile: Profile, items: tuple[str, ...] | list[str]) -> list[Request]:
    """``ds=1225`` -> Request; syntax problems are usage errors (exit 2)."""
    requests: list[Request] = []
    seen: set[str] = set()
    names = ", ".join(s.name for s in profile.settings)
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip().lower(), text.strip()
        if not sep or not name:
            raise UsageError(f"{item!r}: write SETTING=VALUE, e.g. {profile.settings[0].name}=5000 (settings: {names})")
        try:
            setting = profile.setting(name)
        except KeyError:
            raise UsageError(f"profile {profile.name} has no setting {name!r} (settings: {names})") from None
        if name in seen:
            raise UsageError(f"setting {name!r} is given twice")
        seen.add(name)
        requests.append(_parse_one(setting, text))
    return requests


def _parse_one(setting: Setting, text: str) -> Request:
    if setting.kind == PORT:
        try:
            port = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            raise UsageError(f"{setting.name}={text!r}: a port is a decimal number such as 5000") from None
        if not 0 <= port <= 0xFFFFFFFF:
            raise UsageError(f"{setting.name}={text}: not a storable number")
        raw = encode_text(str(port)) if setting.type == RegType.SZ else struct.pack("<I", port)
        return Request(setting, text, raw, port=port)
    if setting.kind == PORT_LIST:
        try:
            ranges = parse_port_list(text)
        except ValueError as err:
            raise UsageError(f"{setting.name}: {err}") from None
        if not ranges:
            raise UsageError(f"{setting.name}: give ports or ranges, e.g. {setting.name}=5000-5100,5200")
        lines = [f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in ranges]
        return Request(setting, ",".join(lines), encode_multi(lines), ranges=tuple(ranges))
    flag = text.upper()
    if setting.kind == YES_NO and flag in ("Y", "N"):
        return Request(setting, flag, encode_text(flag))
    raise UsageError(f"{setting.name}={text!r}: use Y or N")


@dataclass
class Change:
    """One value in one control set: where it lives, what it holds, what it will hold."""

    request: Request
    control_set: str | None
    key: str  # path inside the hive
    key_exists: bool
    value_name: str  # the stored spelling when the value exists, else the catalog's
    old: Value | None

    @property
    def matches(self) -> bool:
        return self.old is not None and self.old.type == self.request.setting.type and self.old.raw == self.request.raw

    def old_shown(self) -> str:
        if self.old is None:
            return "(none)"
        port = port_of(self.old)
        if port is not None and self.request.setting.kind == PORT:
            return f"{port} (0x{port:x})" + ("" if self.old.type == self.request.setting.type else f" {self.old.type_name}")
        if self.old.type == RegType.MULTI_SZ:
            return ",".join(decode_multi(self.old.raw))
        data = self.old.data
        return f"{data}" if not isinstance(data, bytes) else f"{type_name(self.old.type)} {data.hex()}"


@dataclass(frozen=True)
class ReserveChange:
    """``--reserve``: the ReservedPorts lines of one control set, before and after."""

    control_set: str
    key: str
    old: tuple[str, ...] | None  # None: the value did not exist
    new: tuple[str, ...]

    @property
    def added(self) -> tuple[str, ...]:
        return self.new[len(self.old or ()):]


@dataclass
class Plan:
    profile: Profile
    requests: list[Request]
    control_sets: tuple[str, ...]  # empty for SOFTWARE profiles
    control_set_description: str | None
    os: OsGuess
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reserve: list[ReserveChange] = field(default_factory=list)  # ReservedPorts to write, per control set

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def ports(self) -> list[int]:
        return sorted({r.port for r in self.requests if r.port is not None})


def hive_kind(hive: Hive, file_name: str | None) -> tuple[str | None, str]:
    """'SYSTEM', 'SOFTWARE' or None (unknown), with the reason."""
    try:
        choice = infer_root(hive, file_name)
    except UsageError:
        return None, "neither its content nor its file name tells"
    for kind in ("SYSTEM", "SOFTWARE"):
        if choice.root.upper() == f"{HKLM}\\{kind}":
            return kind, choice.reason
    return choice.root, choice.reason


def make_plan(hive: Hive, file_name: str | None, profile: Profile, requests: list[Request], *,
              control_set_mode: str | int = "auto", os_choice: str | None = None,
              software: Hive | None = None, reserve: bool = False, force: bool = False,
              os_from_software: bool = False) -> Plan:
    """The changes and findings of pinning ``requests``. ``os_from_software``: the OS generation
    comes from ``software``'s CurrentVersion (an image, whose SOFTWARE hive is the machine's)
    rather than from markers in the SYSTEM hive."""
    kind, why = hive_kind(hive, file_name)
    if kind is not None and kind != profile.hive:
        raise RefusedUnsafe(
            f"profile {profile.name} belongs in a {profile.hive} hive, but {file_name or 'this hive'} is "
            f"{kind} ({why})"
        )
    warnings: list[str] = []
    if profile.hive == "SYSTEM":
        choice = select_control_sets(hive, control_set_mode)
        sets: tuple[str, ...] = choice.sets
        description: str | None = choice.description
        warnings.extend(choice.warnings)
        if os_choice:
            os_guess = OsGuess(os_choice, "given with --os")
        elif os_from_software and software is not None:
            os_guess = _software_os(software)
        else:
            os_guess = infer_os(hive, sets[0])
    else:
        sets, description = (), None
        os_guess = OsGuess(os_choice, "given with --os") if os_choice else _software_os(hive)
    if os_guess.os not in OS_CHOICES:
        raise UsageError(f"os_choice={os_guess.os!r}: use one of {', '.join(OS_CHOICES)}")
    plan = Plan(profile, requests, sets, description, os_guess, warnings=warnings)
    for control_set in sets or (None,):
        _plan_set(plan, hive, control_set, software)
    if reserve:
        _plan_reserve(plan, hive)
    plan.findings = _dedupe(plan.findings)
    clashes = [(c, c.old) for c in plan.changes if c.old is not None and _type_clash(c.old, c.request.setting)]
    for change, old in clashes:
        message = (f"{change.key}\\{change.value_name} is {old.type_name} of {len(old.raw)} bytes, "
                   f"not {type_name(change.request.setting.type)}")
        if not force:
            raise TypeClash(message + "; force=True overwrites it")
        plan.findings.append(Finding("P-TYPE-CLASH", WARNING, message + " (overwritten: force=True)", "Q148732",
                                     change.request.setting.name))
    if force:
        plan.findings = forced(plan.findings)
    return plan


def _software_os(hive: Hive) -> OsGuess:
    value = find_value(find_key(hive, "Microsoft\\Windows NT\\CurrentVersion"), "CurrentVersion")
    version = value.data if value is not None and isinstance(value.data, str) else ""
    table = {"4.0": "nt4", "5.0": "2000", "5.1": "xp", "5.2": "2003"}
    if version in table:
        return OsGuess(table[version], f"Microsoft\\Windows NT\\CurrentVersion\\CurrentVersion is {version}")
    if version[:1].isdigit() and int(version.split(".")[0]) >= 6:
        return OsGuess("vista+", f"Microsoft\\Windows NT\\CurrentVersion\\CurrentVersion is {version}")
    return OsGuess("vista+", "no CurrentVersion in the hive; assuming Windows Vista or later")


def _type_clash(old: Value, setting: Setting) -> bool:
    return old.type != setting.type or (setting.type == RegType.DWORD and len(old.raw) != 4)


def _plan_set(plan: Plan, hive: Hive, control_set: str | None, software: Hive | None) -> None:
    prefix = f"{control_set}\\" if control_set else ""
    skip: set[tuple[str, str]] = set()
    for request in plan.requests:
        setting = request.setting
        if setting.service:
            service_key = f"{prefix}Services\\{setting.service}"
            if find_key(hive, service_key) is None:
                raise KeyNotFound(
                    f"service {setting.service} is not installed in this image: {service_key} does not exist "
                    f"(profile {plan.profile.name}, setting {setting.name})"
                )
        key_path = prefix + setting.key
        key = find_key(hive, key_path)
        if key is None and not setting.may_create_key:
            raise KeyNotFound(f"{key_path} does not exist (the {setting.service} service is installed without it)")
        old = find_value(key, setting.value)
        plan.changes.append(Change(request, control_set, key.path if key else key_path, key is not None,
                                   old.name if old else setting.value, old))
        skip.add((setting.key.upper(), setting.value.upper()))
    pool = rpc_pool(software) if software is not None else None
    ctx = PortContext(plan.os.os)
    if control_set:
        ctx.max_user_port = max_user_port(hive, control_set)
        ctx.pinned = pinned_ports(hive, control_set, skip)
    if pool is not None:
        ctx.rpc_pool, ctx.rpc_pool_available = pool.ranges, pool.available
    requested = []
    for request in plan.requests:
        if request.port is not None:
            plan.findings.extend(check_port(plan.profile.name, request.setting.name, request.port, ctx))
            requested.append((request.setting.name, request.port))
        elif request.ranges:
            plan.findings.extend(check_pool(request.setting.name, list(request.ranges)))
    plan.findings.extend(check_unique(requested, ctx))


def _plan_reserve(plan: Plan, hive: Hive) -> None:
    """ReservedPorts keeps the OS from handing the pinned ports out (KB 812873); it exists
    before Windows Vista only."""
    if plan.os.os not in PRE_VISTA:
        raise RefusedUnsafe("reserve=True: ReservedPorts is not implemented on Windows Vista and later (KB 812873)")
    for control_set in plan.control_sets:
        path = f"{control_set}\\Services\\Tcpip\\Parameters"
        key = find_key(hive, path)
        if key is None:
            raise KeyNotFound(f"reserve=True: {path} does not exist")
        current = find_value(key, "ReservedPorts")
        lines = decode_multi(current.raw) if current is not None and current.type == RegType.MULTI_SZ else []
        covered = []
        for line in lines:
            try:
                covered.extend(parse_port_list(line))
            except ValueError:
                continue
        add = [f"{p}-{p}" for p in plan.ports if not any(lo <= p <= hi for lo, hi in covered)]
        if add:
            old = tuple(lines) if current is not None else None
            plan.reserve.append(ReserveChange(control_set, path, old, tuple(lines + add)))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def apply_plan(hive: Hive, plan: Plan) -> None:
    """Make the planned changes (creating keys only where the catalog allows it)."""
    for change in plan.changes:
        key = hive.key(change.key) if change.key_exists else hive.create_key(change.key)
        hive.set_value(key, change.value_name, change.request.setting.type, change.request.raw)
    for reserve in plan.reserve:
        hive.set_value(hive.key(reserve.key), "ReservedPorts", RegType.MULTI_SZ, encode_multi(list(reserve.new)))
