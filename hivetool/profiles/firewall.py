"""Firewall rules that let RPC clients through: TCP 135 (the endpoint mapper, which clients
ask first) plus every pinned port (Q148732, Q155831)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from ..errors import UsageError

RULE_FORMATS = ("nftables", "iptables", "netsh", "json")


@dataclass(frozen=True)
class Opening:
    low: int
    high: int
    why: str

    @property
    def text(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def openings(pinned: list[tuple[str, int]], ranges: Sequence[tuple[str, int, int]] = ()) -> list[Opening]:
    """TCP 135 first, then each pinned port once (labels joined), then port ranges."""
    by_port: dict[int, list[str]] = {135: ["RPC endpoint mapper"]}
    for label, port in pinned:
        by_port.setdefault(port, []).append(label)
    out = [Opening(port, port, "; ".join(labels)) for port, labels in sorted(by_port.items(), key=lambda i: (i[0] != 135, i[0]))]
    out += [Opening(low, high, label) for label, low, high in ranges]
    return out


def render(rules: str, title: str, opened: list[Opening]) -> str:
    if rules not in RULE_FORMATS:
        raise UsageError(f"--rules {rules!r}: use one of {', '.join(RULE_FORMATS)}")
    if rules == "json":
        return json.dumps({"title": title, "protocol": "tcp", "direction": "inbound",
                           "ports": [{"port": o.text, "for": o.why} for o in opened]}, indent=2) + "\n"
    lines = []
    if rules == "nftables":
        ports = ", ".join(o.text for o in opened)
        lines += [f"# {title}", "# TCP 135 (RPC endpoint mapper) and the pinned RPC ports; load with nft -f",
                  f'add rule inet filter input tcp dport {{ {ports} }} accept comment "hivetool: {title}"']
    elif rules == "iptables":
        lines += [f"# {title}: TCP 135 (RPC endpoint mapper) and the pinned RPC ports"]
        lines += [f"iptables -A INPUT -p tcp --dport {o.text.replace('-', ':')} -j ACCEPT "
                  f'-m comment --comment "hivetool: {o.why}"' for o in opened]
    else:
        lines += [f"REM {title}: TCP 135 (RPC endpoint mapper) and the pinned RPC ports"]
        lines += [f'netsh advfirewall firewall add rule name="hivetool {o.why}" dir=in action=allow '
                  f"protocol=TCP localport={o.text}" for o in opened]
    return "\n".join(lines) + "\n"
