"""``hivetool ports``: pin RPC services to static TCP ports, check, emit .reg, firewall rules."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

import click

from ..errors import EXIT_FINDINGS, KeyNotFound, UsageError, ValidationError
from ..profiles import catalog
from ..profiles.facts import OS_CHOICES
from ..regf.records.types import type_name
from ..verify import Expect
from .common import (emit_json, guard_output, json_option, note, open_hive, utf8_option, wait_option, warn,
                     write_options, write_reg_text)
from . import ports_render as render

if TYPE_CHECKING:
    from ..image.image import ImageTarget
    from ..image.target import Slot, Target
    from ..profiles.plan import Plan
    from ..regf.hive import Hive
    from .targets import Outcome

_F = TypeVar("_F", bound=Callable[..., Any])  # a command function, returned as it was given

CONTROL_SET_HELP = "auto (Default's set, plus Current's when it differs), default, current, all, or a number."
PROFILE_ERA_OS = {"exchange55": "nt4", "exchange2000": "2000", "exchange2003": "2003"}


def _control_set_option(func: _F) -> _F:
    return click.option("--control-set", "control_set", default="auto", show_default=True, metavar="MODE",
                        help=CONTROL_SET_HELP)(func)


def _os_option(func: _F) -> _F:
    return click.option("--os", "os_choice", type=click.Choice(OS_CHOICES), default=None,
                        help="The Windows generation (default: inferred from the hive).")(func)


def _software_option(func: _F) -> _F:
    return click.option("--software", "software_path", metavar="SOFTWARE_HIVE",
                        help="The machine's SOFTWARE hive, to check ports against its RPC port pool.")(func)


@click.group(name="ports")
def ports() -> None:
    """Static RPC port profiles: pin services such as the Exchange 5.5 Directory and Information
    Store to fixed TCP ports in an offline hive, validated against Microsoft's guidance."""


@ports.command(name="list")
@json_option
def list_(as_json: bool) -> None:
    """The catalog: profiles, settings, where each value lives, and the sources."""
    if as_json:
        emit_json([{
            "profile": p.name, "hive": p.hive, "title": p.title, "sources": p.sources,
            "settings": [{"setting": s.name, "service": s.service, "key": s.key, "value": s.value,
                          "type": type_name(s.type), "kind": s.kind, "creates_key": s.may_create_key,
                          "source": s.source, "meaning": s.meaning} for s in p.settings],
        } for p in catalog.PROFILES.values()])
        return
    for index, p in enumerate(catalog.PROFILES.values()):
        if index:
            click.echo("")
        base = "CurrentControlSet\\" if p.hive == "SYSTEM" else ""
        click.echo(f"{p.name}  ({p.hive}) {p.title}")
        for s in p.settings:
            click.echo(f"  {s.name:<9} {base}{s.key}\\{s.value}  {type_name(s.type)}  [{s.source}]")
            click.echo(f"  {'':<9} {s.meaning}")
        click.echo(f"  sources: {p.sources}")


def _plan(file_name: str, hive: Hive, profile: catalog.Profile, settings: tuple[str, ...], control_set: str,
          os_choice: str | None, software: Hive | None, reserve: bool = False, force: bool = False,
          os_from_software: bool = False) -> Plan:
    from ..profiles.plan import make_plan, parse_requests

    requests = parse_requests(profile, settings)
    plan = make_plan(hive, file_name, profile, requests, control_set_mode=control_set, os_choice=os_choice,
                     software=software, reserve=reserve, force=force, os_from_software=os_from_software)
    for message in plan.warnings:
        warn(message)
    return plan


def _profile_hives(target: Target, profile: catalog.Profile,
                   software_path: str | None) -> tuple[Hive, str, Hive | None, Slot, bool]:
    """(the hive the profile writes, its file name, the machine's SOFTWARE hive or None, its slot,
    whether the OS comes from SOFTWARE): a hive file with --software, or an image's own hives."""
    from ..image.target import HiveTarget
    from ..paths import HKLM

    if isinstance(target, HiveTarget):
        software = open_hive(software_path) if software_path else None
        return target.hive, target.path, software, target.slot, False
    if software_path:
        raise UsageError("--software names the SOFTWARE hive of a hive file; an image has its own")
    image = cast("ImageTarget", target)  # a target is a hive file or an image
    slot = image.slot(f"{HKLM}\\{profile.hive}")
    if slot is None:
        raise KeyNotFound(f"the image has no {profile.hive} hive, which profile {profile.name} changes")
    software_slot = image.slot(f"{HKLM}\\SOFTWARE")
    software = image.open(software_slot) if software_slot is not None else None
    return image.open(slot), str(slot.local), software, slot, True


@ports.command(name="set")
@click.argument("hive_path", metavar="TARGET")
@click.argument("profile_name", metavar="PROFILE")
@click.argument("settings", metavar="SETTING=VALUE...", nargs=-1, required=True)
@write_options
@_control_set_option
@_os_option
@_software_option
@click.option("--reserve", is_flag=True, help="Also add the ports to Tcpip ReservedPorts (before Vista only).")
@click.option("--force", is_flag=True, help="Write despite validation errors and type clashes (they become warnings).")
@json_option
def set_(hive_path: str, profile_name: str, settings: tuple[str, ...], output: str | None, in_place: bool,
         timestamp: str | None, verify: bool, control_set: str, os_choice: str | None, software_path: str | None,
         reserve: bool, force: bool, as_json: bool) -> None:
    """Pin PROFILE's services to the given ports in TARGET: a SYSTEM hive (SOFTWARE for
    rpc-internet), or an image, whose SYSTEM and SOFTWARE hives are found and used."""
    from contextlib import closing

    from ..image.target import Location
    from ..profiles.plan import apply_plan
    from ..regf.records.types import encode_multi
    from .targets import commit, open_for_write, write_target_for

    write = write_target_for(hive_path, output, in_place, timestamp, verify, (software_path or "",))
    target = open_for_write(hive_path, write)
    with closing(target):
        profile = catalog.profile(profile_name)
        hive, file_name, software, slot, from_software = _profile_hives(target, profile, software_path)
        plan = _plan(file_name, hive, profile, settings, control_set, os_choice, software, reserve, force,
                     from_software)
        errors = plan.errors
        outcome: Outcome | None = None
        if not errors:
            apply_plan(hive, plan)
            here = Location(slot, "")
            expect = [(here, Expect(c.key, c.value_name, c.request.setting.type, c.request.raw)) for c in plan.changes]
            expect += [(here, Expect(r.key, "ReservedPorts", 7, encode_multi(list(r.new)))) for r in plan.reserve]
            outcome = commit(target, write, expect)
    written = bool(outcome and outcome.written)
    if as_json:
        document = render.plan_json(plan, "set", hive_path, write.path, written, not errors, False)
        document["changed"] = bool(outcome and outcome.changed)
        emit_json(document)
    else:
        click.echo("\n".join(render.report_lines(plan, hive_path, False, refused=bool(errors))))
    if errors:
        raise ValidationError(f"{len(errors)} validation error(s); nothing written (--force writes anyway)")
    from .reports import say_outcome

    assert outcome is not None  # committed: no error refused the plan
    say_outcome(outcome, "these ports", f"wrote {write.path}")


@ports.command(name="check")
@click.argument("hive_path", metavar="TARGET")
@click.argument("profile_name", metavar="[PROFILE", required=False)
@click.argument("settings", metavar="[SETTING=VALUE...]]", nargs=-1)
@_control_set_option
@_os_option
@_software_option
@json_option
@wait_option
def check(hive_path: str, profile_name: str | None, settings: tuple[str, ...], control_set: str,
          os_choice: str | None, software_path: str | None, as_json: bool) -> None:
    """Verify TARGET without changing it: exit 0 when it holds the expected ports and no
    validation error applies, 1 otherwise. Without SETTING=VALUE, the ports already pinned are
    checked (and, with PROFILE, each installed service must have one)."""
    from contextlib import closing

    from ..image.target import HiveTarget
    from ..profiles.plan import hive_kind, make_plan, parse_requests
    from ..profiles.survey import stored_requests
    from ..paths import select_control_sets
    from .targets import open_for_read

    target = open_for_read(hive_path)
    names = [profile_name] if profile_name else [
        p.name for p in catalog.PROFILES.values() if p.name != "exchange2003"]
    documents: list[dict[str, Any]] = []
    ok, first = True, True
    with closing(target):
        for name in names:
            profile = catalog.profile(name)
            try:
                hive, file_name, software, _, from_software = _profile_hives(target, profile, software_path)
            except KeyNotFound:
                if profile_name:
                    raise
                continue  # an image without that profile's hive
            missing: list[str]
            if settings:
                requests, missing = parse_requests(profile, settings), []
            else:
                if isinstance(target, HiveTarget):
                    kind, _ = hive_kind(hive, file_name)
                    if not profile_name and kind is not None and kind != profile.hive:
                        continue
                sets = select_control_sets(hive, control_set).sets if profile.hive == "SYSTEM" else ()
                requests, missing = stored_requests(hive, profile, sets)
                if not requests and not profile_name:
                    continue
                if not requests:
                    ok = False
                    _emit_missing(profile.name, missing, as_json, documents)
                    continue
            plan = make_plan(hive, file_name, profile, requests, control_set_mode=control_set, os_choice=os_choice,
                             software=software, os_from_software=from_software)
            for message in plan.warnings:
                warn(message)
            good = all(c.matches for c in plan.changes) and not plan.errors and not (profile_name and missing)
            ok = ok and good
            if as_json:
                document = render.plan_json(plan, "check", hive_path, None, False, good, True)
                document["not_pinned"] = missing
                documents.append(document)
            else:
                if not first:
                    click.echo("")
                first = False
                click.echo("\n".join(render.report_lines(plan, hive_path, True)))
                if missing:
                    click.echo(f"not pinned: {', '.join(missing)}")
    if as_json:
        emit_json(documents if not profile_name else (documents[0] if documents else {}))
    elif first and not documents:
        click.echo("no static ports are pinned in this hive")
    if not ok:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _emit_missing(name: str, missing: list[str], as_json: bool, documents: list[dict[str, Any]]) -> None:
    if as_json:
        documents.append({"command": "check", "profile": name, "ok": False, "changes": [], "not_pinned": missing})
    else:
        click.echo(f"{name}: nothing pinned (not pinned: {', '.join(missing) or 'no installed service'})")


@ports.command(name="reg")
@click.argument("profile_name", metavar="PROFILE")
@click.argument("settings", metavar="SETTING=VALUE...", nargs=-1, required=True)
@click.option("-o", "--output", metavar="FILE.reg", help="Write the .reg file here (default: stdout).")
@click.option("--regedit4", is_flag=True, help="Write a REGEDIT4 (ANSI) file instead of version 5.00.")
@utf8_option
@click.option("--os", "os_choice", type=click.Choice(OS_CHOICES), default=None,
              help="The Windows generation the ports are validated for (default: the profile's era: nt4 for "
              "exchange55, 2000 and 2003 for those Exchange versions, otherwise vista+).")
@click.option("--force", is_flag=True, help="Write despite validation errors.")
@json_option
def reg(profile_name: str, settings: tuple[str, ...], output: str | None, regedit4: bool, utf8: bool,
        os_choice: str | None, force: bool, as_json: bool) -> None:
    """A .reg file that regedit or reg import accepts, for a running machine.

    There is no --reserve here: Tcpip's ReservedPorts is a REG_MULTI_SZ, and a .reg file can
    only replace a multi-string whole, which would wipe the reservations the machine already
    has. Reserve the ports with `ports set --reserve` on an offline hive, or on the machine."""
    from ..profiles.regfile import profile_reg

    if regedit4 and utf8:
        raise UsageError("--utf8 writes a version 5.00 file; --regedit4 writes an ANSI REGEDIT4 file: give one")
    if as_json and (output is None or output == "-"):
        raise UsageError("--json prints a report on standard output: give the .reg file with -o FILE.reg")
    guard_output(output, stdout_allowed=True)
    profile = catalog.profile(profile_name)
    data, findings = profile_reg(profile, settings, os_choice or PROFILE_ERA_OS.get(profile.name, "vista+"),
                                 regedit4, force)
    refused = any(f.level == "error" for f in findings)
    if as_json:
        if not refused:
            write_reg_text(data, output, not regedit4, utf8)
        emit_json({"command": "ports reg", "profile": profile.name, "output": output, "written": not refused,
                   "findings": [f.to_json() for f in findings]})
        if refused:
            raise click.exceptions.Exit(ValidationError.exit_code)
        return
    for finding in findings:
        click.echo(f"hivetool: {finding.line()}", err=True)
    if refused:
        raise ValidationError("validation errors; nothing written (--force writes anyway)")
    write_reg_text(data, output, not regedit4, utf8)
    if output and output != "-":
        note(f"wrote {output}")


@ports.command(name="firewall")
@click.argument("profile_name", metavar="[PROFILE", required=False)
@click.argument("settings", metavar="SETTING=VALUE...]", nargs=-1)
@click.option("--from", "from_hive", metavar="HIVE", help="Take the pinned ports from this hive instead.")
@click.option("--rules", type=click.Choice(["nftables", "iptables", "netsh", "json"]), default="nftables",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The openings as JSON (the same as --rules json).")
@wait_option
def firewall(profile_name: str | None, settings: tuple[str, ...], from_hive: str | None, rules: str,
             as_json: bool) -> None:
    """Firewall rules for TCP 135 plus the pinned ports."""
    if as_json:
        rules = "json"
    from ..profiles.firewall import openings, render as render_rules

    if from_hive and (profile_name or settings):
        raise UsageError("give either PROFILE SETTING=VALUE... or --from HIVE, not both")
    if from_hive:
        title, pinned, ranges = _pinned_from(from_hive)
    elif profile_name and settings:
        from ..profiles.plan import parse_requests

        profile = catalog.profile(profile_name)
        requests = parse_requests(profile, settings)
        pinned = [(f"{profile.name} {r.setting.name}", r.port) for r in requests if r.port is not None]
        ranges = [(f"{profile.name} RPC pool", lo, hi) for r in requests for lo, hi in r.ranges]
        title = f"static RPC ports of profile {profile.name}"
    else:
        raise UsageError("give PROFILE SETTING=VALUE... or --from HIVE")
    click.echo(render_rules(rules, title, openings(pinned, ranges)), nl=False)


def _pinned_from(text: str) -> tuple[str, list[tuple[str, int]], list[tuple[str, int, int]]]:
    """The ports pinned in a hive file, or in an image's SYSTEM and SOFTWARE hives."""
    from contextlib import closing

    from ..image.target import HiveTarget
    from ..paths import HKLM
    from ..profiles.facts import pinned_from_hive
    from .targets import open_for_read

    target = open_for_read(text)
    with closing(target):
        if isinstance(target, HiveTarget):
            return pinned_from_hive(target.hive, text)
        image = cast("ImageTarget", target)  # a target is a hive file or an image
        title: str | None = None
        pinned: list[tuple[str, int]] = []
        ranges: list[tuple[str, int, int]] = []
        for name in ("SYSTEM", "SOFTWARE"):
            slot = image.slot(f"{HKLM}\\{name}")
            if slot is not None:
                found_title, found, found_ranges = pinned_from_hive(image.open(slot), str(slot.local))
                title = title or found_title
                pinned += found
                ranges += found_ranges
        return title or f"static RPC ports pinned in {text}", pinned, ranges
