"""How a port plan looks: the table, the findings, the reminders, and the JSON object."""
from __future__ import annotations

from typing import Any

from ..profiles.plan import Change, Plan
from ..regf.records.types import type_name


def reminders(plan: Plan) -> list[str]:
    out = ["Restart the server (or the services) for the new ports to take effect (Q148732)."]
    pinned = [p for p in plan.ports if p != 135]
    if pinned:
        ports = ", ".join(str(p) for p in pinned)
        out.append(f"Open TCP 135 (RPC endpoint mapper) and TCP {ports} on the firewall "
                   f"(hivetool ports firewall can write the rules).")
    if plan.profile.name in ("exchange2000", "exchange2003"):
        out.append("On an Exchange 2000/2003 cluster, static mapping also needs MSExchangeSA\\Parameters\\"
                   "No RFR Service = 1 (KB 282446).")
    if plan.profile.name == "ad":
        out.append("DFS Replication cannot be pinned offline; use dfsrdiag StaticRPC on the running server.")
    return out


def _status(change: Change) -> str:
    if change.old is None:
        return "missing"
    return "ok" if change.matches else "differs"


def table(plan: Plan, with_status: bool) -> list[str]:
    head = ["PROFILE", "SETTING", "KEY", "VALUE"]
    head += ["FOUND", "EXPECTED", "STATUS"] if with_status else ["OLD", "NEW"]
    rows = [head]
    for change in plan.changes:
        setting = change.request.setting
        service = f"{setting.name} ({setting.service})" if setting.service else setting.name
        row = [plan.profile.name, service, change.key, change.value_name, change.old_shown(), change.request.shown]
        rows.append(row + ([_status(change)] if with_status else []))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def reserve_lines(plan: Plan) -> list[str]:
    """--reserve: each control set's ReservedPorts, what it held and the lines added."""
    lines = []
    for reserve in plan.reserve:
        old = ",".join(reserve.old) if reserve.old else "(none)"
        lines.append(f"  {reserve.key}\\ReservedPorts  {old} -> {','.join(reserve.new)}  "
                     f"(adds {', '.join(reserve.added)})")
    return lines


def report_lines(plan: Plan, hive_path: str, with_status: bool, refused: bool = False) -> list[str]:
    lines = [f"hive: {hive_path}"]
    if plan.control_set_description:
        lines.append(f"control set: {plan.control_set_description}")
    lines.append(f"os: {plan.os.os} ({plan.os.how})")
    lines.append("")
    lines += table(plan, with_status)
    if plan.reserve:
        lines += ["", "reserved ports (REG_MULTI_SZ):"] + reserve_lines(plan)
    if plan.findings:
        lines += ["", "findings:"] + [f"  {f.line()}" for f in plan.findings]
    if refused:
        lines += ["", "nothing written."]
    else:
        lines += ["", "reminders:"] + [f"  - {r}" for r in reminders(plan)]
    return lines


def change_json(change: Change, with_status: bool) -> dict[str, Any]:
    setting = change.request.setting
    old = None
    if change.old is not None:
        data = change.old.data
        old = {"type": change.old.type_name, "data": data.hex() if isinstance(data, bytes) else data}
    new: dict[str, Any] = {"type": type_name(setting.type), "data": change.request.text}
    if change.request.port is not None:
        new = {"type": type_name(setting.type), "data": change.request.port, "hex": f"0x{change.request.port:x}"}
    document = {"setting": setting.name, "service": setting.service, "control_set": change.control_set,
                "key": change.key, "value": change.value_name, "old": old, "new": new, "source": setting.source}
    if with_status:
        document["status"] = _status(change)
    return document


def plan_json(plan: Plan, command: str, hive_path: str, output: str | None, written: bool, ok: bool,
              with_status: bool) -> dict[str, Any]:
    return {
        "command": command,
        "hive": hive_path,
        "output": output,
        "written": written,
        "ok": ok,
        "profile": plan.profile.name,
        "os": {"generation": plan.os.os, "how": plan.os.how},
        "control_sets": list(plan.control_sets),
        "control_set_choice": plan.control_set_description,
        "changes": [change_json(c, with_status) for c in plan.changes],
        "reserved_ports": [{"control_set": r.control_set, "key": r.key, "value": "ReservedPorts",
                            "old": list(r.old) if r.old is not None else None, "new": list(r.new),
                            "added": list(r.added)} for r in plan.reserve],
        "findings": [f.to_json() for f in plan.findings],
        "warnings": list(plan.warnings),
        "reminders": reminders(plan) if (written or command == "check") else [],
    }
