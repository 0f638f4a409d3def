"""``ports reg``: a profile as a .reg file for a running machine, where CurrentControlSet exists."""
from __future__ import annotations

from ..paths import HKLM
from ..regfile.emit import DIALECT_4, DIALECT_5, emit_patch
from ..regfile.patch import Patch
from .catalog import Profile
from .plan import Request, parse_requests
from .rules import Finding, PortContext, check_pool, check_port, check_unique, forced


def profile_patch(profile: Profile, requests: list[Request]) -> Patch:
    """Create each key, then set its values, in the catalog's order."""
    base = f"{HKLM}\\SYSTEM\\CurrentControlSet" if profile.hive == "SYSTEM" else f"{HKLM}\\SOFTWARE"
    patch = Patch()
    keys: list[str] = []
    for request in requests:
        key = f"{base}\\{request.setting.key}"
        if key not in keys:
            keys.append(key)
    for key in keys:
        patch.create_key(key)
        for request in requests:
            if f"{base}\\{request.setting.key}" == key:
                patch.set_value(key, request.setting.value, request.setting.type, request.raw)
    return patch


def _comments(profile: Profile, requests: list[Request]) -> list[str]:
    lines = [f"; {profile.title}: profile {profile.name} (hivetool ports reg)"]
    for request in requests:
        s = request.setting
        lines.append(f"; {s.name}: {s.value} = {request.shown}  ({s.meaning}; {s.source})")
    ports = sorted({r.port for r in requests if r.port is not None})
    lines.append("; Restart the server (or the services) for the new ports to take effect.")
    if ports:
        lines.append(f"; Firewall: allow TCP 135 (RPC endpoint mapper) and TCP {', '.join(map(str, ports))}.")
    lines.append(f"; Sources: {profile.sources}")
    return lines


def profile_reg(profile: Profile, settings: tuple[str, ...] | list[str], os: str, regedit4: bool, force: bool) -> tuple[bytes, list[Finding]]:
    requests = parse_requests(profile, settings)
    ctx = PortContext(os)
    findings: list[Finding] = []
    for request in requests:
        if request.port is not None:
            findings += check_port(profile.name, request.setting.name, request.port, ctx)
        elif request.ranges:
            findings += check_pool(request.setting.name, list(request.ranges))
    findings += check_unique([(r.setting.name, r.port) for r in requests if r.port is not None], ctx)
    findings = list(dict.fromkeys(findings))
    if force:
        findings = forced(findings)
    writer = emit_patch(profile_patch(profile, requests), DIALECT_4 if regedit4 else DIALECT_5)
    header, sep, body = writer.text().partition("\r\n")
    text = header + sep + "".join(line + "\r\n" for line in _comments(profile, requests)) + body
    if regedit4:
        return text.encode(writer.codepage, "replace"), findings
    return ("\ufeff" + text).encode("utf-16-le", "surrogatepass"), findings
