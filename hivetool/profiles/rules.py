"""Validation of static ports, each rule with its source.

A finding has a stable code, a level (``error`` stops the write unless ``--force``;
``warning`` and ``notice`` are reported), one sentence, and the Microsoft article it rests on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"

EPMAP = 135
# Ports of services an Exchange 5.5 / NT4-2000-era server or DC runs (ports.md section 6).
WELL_KNOWN = {
    25: "SMTP", 53: "DNS", 80: "HTTP", 88: "Kerberos", 102: "X.400 (MTA RFC1006)", 110: "POP3",
    119: "NNTP", 123: "NTP", 137: "NetBIOS name service", 138: "NetBIOS datagram",
    139: "NetBIOS session", 143: "IMAP4", 389: "LDAP", 390: "relocated Exchange LDAP", 443: "HTTPS",
    445: "SMB", 464: "Kerberos password change", 563: "NNTP over SSL", 636: "LDAP over SSL",
    993: "IMAP4 over SSL", 995: "POP3 over SSL", 3268: "Global Catalog LDAP",
    3269: "Global Catalog LDAP over SSL",
}
RPC_HTTP = {6001: "Store RPC/HTTP", 6002: "DSProxy RPC/HTTP referral", 6004: "DSProxy RPC/HTTP NSPI"}
ABOVE_1023 = range(1024, 1200)  # "immediately above the 1023 range"; the KB's own example is the 1200 range
VISTA_DYNAMIC = range(49152, 65536)
DEFAULT_MAX_USER_PORT = 5000
EX2010_BAND = range(59531, 60555)
PRE_VISTA = ("nt4", "2000", "xp", "2003")


@dataclass(frozen=True)
class Finding:
    code: str
    level: str
    message: str
    source: str
    setting: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"code": self.code, "level": self.level, "setting": self.setting,
                "message": self.message, "source": self.source}

    def line(self) -> str:
        who = f"{self.setting}: " if self.setting else ""
        return f"{self.level}: {who}{self.message} [{self.code}; {self.source}]"


@dataclass
class PortContext:
    """What the hive (and a SOFTWARE hive, when given) tells about this machine."""

    os: str  # nt4, 2000, xp, 2003, vista+
    max_user_port: int | None = None
    pinned: list[tuple[str, int]] = field(default_factory=list)  # ports already pinned elsewhere (label, port)
    rpc_pool: list[tuple[int, int]] | None = None  # ranges from SOFTWARE\Microsoft\Rpc\Internet\Ports
    rpc_pool_available: bool = True  # PortsInternetAvailable = Y (the list is what RPC may use)


def forced(findings: list[Finding]) -> list[Finding]:
    """``--force``: every error becomes a warning that says it was overridden."""
    return [Finding(f.code, WARNING, f.message + " (forced)", f.source, f.setting) if f.level == ERROR else f
            for f in findings]


def check_port(profile: str, setting: str, port: int, ctx: PortContext) -> list[Finding]:
    """Every rule that applies to one requested port (uniqueness is checked separately)."""
    out: list[Finding] = []

    def add(code: str, level: str, message: str, source: str) -> None:
        out.append(Finding(code, level, message, source, setting))

    if not 1 <= port <= 65535:
        add("P-RANGE", ERROR, f"port {port} is not a TCP port (1-65535)", "RFC 793; Q148732")
        return out
    if port == EPMAP:
        add("P-EPMAP", ERROR, "port 135 belongs to the RPC endpoint mapper, which clients must reach first",
            "Q148732, Q155831")
        return out
    if port in WELL_KNOWN:
        add("P-WELL-KNOWN", ERROR,
            f"port {port} is the well-known {WELL_KNOWN[port]} port of a service such servers run",
            "Q180795; KB 280132; KB 240078")
    if port in RPC_HTTP:
        add("P-RPC-HTTP", ERROR,
            f"port {port} is fixed by Exchange 2003 setup for {RPC_HTTP[port]} (\"do not modify\")",
            "TechNet aa998910")
    if profile == "exchange2010":
        if port < 1024:
            add("P-EX2010-LOW", ERROR, f"port {port} is below 1024, which Exchange 2010 rejects", "ExBPA gg191713")
        elif port not in EX2010_BAND:
            add("P-EX2010-BAND", NOTICE,
                f"port {port} is outside 59531-60554, the band Exchange 2010 setup leaves free above its "
                "dynamic RPC range 6005-59530", "ExBPA gg191713; TechNet Wiki 864")
        return out
    if port in ABOVE_1023:
        add("P-ABOVE-1023", ERROR,
            f"port {port} is immediately above 1023: the OS hands out the lowest dynamic ports first, so it is "
            "likely taken before the service starts (use the 1200 range or higher)", "Q180795")
    elif port < 1024 and port not in WELL_KNOWN:
        add("P-BELOW-1024", WARNING,
            f"port {port} is in the well-known range; use it only if its assigned service never runs here",
            "Q180795")
    out.extend(_dynamic_range(setting, port, ctx))
    if ctx.rpc_pool is not None and ctx.rpc_pool_available and any(lo <= port <= hi for lo, hi in ctx.rpc_pool):
        add("P-RPC-POOL", WARNING,
            f"port {port} lies inside the RPC dynamic pool configured in SOFTWARE\\Microsoft\\Rpc\\Internet",
            "KB 154596")
    return out


def _dynamic_range(setting: str, port: int, ctx: PortContext) -> list[Finding]:
    if ctx.os in PRE_VISTA:
        top = ctx.max_user_port or DEFAULT_MAX_USER_PORT
        if 1024 <= port <= top:
            where = f"MaxUserPort {top}" if ctx.max_user_port else f"the default MaxUserPort {top}"
            return [Finding("P-DYNAMIC", WARNING,
                            f"port {port} is inside the dynamic (ephemeral) range 1024-{top} ({where}); "
                            "ports above it are safer", "Q196271, Q194952", setting)]
        return []
    if port in VISTA_DYNAMIC:
        return [Finding("P-DYNAMIC", WARNING,
                        f"port {port} is inside the Windows Vista+ dynamic range 49152-65535 (a range set "
                        "with netsh cannot be seen in an offline hive)", "KB 929851", setting)]
    return []


def check_unique(requested: list[tuple[str, int]], ctx: PortContext) -> list[Finding]:
    """Two pinned services on one port, counting what the hive already pins elsewhere."""
    out = []
    seen: dict[int, str] = {}
    for label, port in ctx.pinned:
        seen.setdefault(port, label)
    mine: dict[int, str] = {}
    for setting, port in requested:
        other = mine.get(port) or seen.get(port)
        if other:
            out.append(Finding("P-DUPLICATE", ERROR, f"port {port} is already pinned for {other}",
                               "KB 224196; ExBPA port-conflict topics", setting))
        mine.setdefault(port, setting)
    return out


def parse_port_list(text: str) -> list[tuple[int, int]]:
    """``5000-5100,5200`` -> [(5000, 5100), (5200, 5200)]; raises ValueError with the bad item."""
    ranges = []
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        lo_text, sep, hi_text = item.partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if sep else lo
        except ValueError:
            raise ValueError(f"{item!r} is not a port or a range a-b") from None
        if not 0 <= lo <= hi <= 65535:
            raise ValueError(f"{item!r} is not a range of ports within 0-65535 (low first)")
        ranges.append((lo, hi))
    return ranges


def check_pool(setting: str, ranges: list[tuple[int, int]]) -> list[Finding]:
    out = []
    size = sum(hi - lo + 1 for lo, hi in ranges)
    if size < 100:
        out.append(Finding("P-POOL-SMALL", WARNING,
                           f"the pool holds {size} port(s); Microsoft asks for at least 100",
                           "KB 154596", setting))
    if any(lo <= 5000 for lo, _ in ranges):
        out.append(Finding("P-POOL-LOW", WARNING, "the pool reaches 5000 or below; Microsoft recommends ports above 5000",
                           "KB 154596", setting))
    return out
