"""``[[ports]]`` against a target: planned exactly as ``hivetool ports set`` plans it.

:func:`profiles.plan.make_plan` resolves the control sets, requires the services to be
installed (exit 5 otherwise), infers the OS generation (from the image's SOFTWARE hive in an
image) and runs the validation rules; an error finding is exit 4 (:class:`ValidationError`)
unless the item says ``force = true``, as ``--force`` does. What it would write becomes one
value entry per setting and control set.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ..errors import HivetoolError, KeyNotFound, RefusedUnsafe, ValidationError
from ..image.target import HiveTarget, Location, Slot, Target
from ..paths import HKLM
from ..profiles import catalog
from ..profiles.plan import Plan as ProfilePlan
from ..profiles.plan import hive_kind, make_plan, parse_requests
from ..profiles.rules import ERROR
from ..regf.hive import Hive
from ..regf.records.types import RegType, encode_multi
from .model import VALUE, Item
from .planned import Entry
from .ports_load import live_path

if TYPE_CHECKING:
    from ..image.image import ImageTarget

RESERVE = "reserve"  # the setting name of a ReservedPorts entry (``reserve = true``)


class NotHere(Exception):
    """The profile's hive is not part of this target: skipped with skip_foreign, else
    ``error`` is raised (exit 4 for a single hive of another kind, 5 for an image without it)."""

    def __init__(self, error: HivetoolError) -> None:
        super().__init__(str(error))
        self.error = error


def _profile_hives(target: Target, profile: catalog.Profile) -> tuple[Hive, str, Hive | None, Slot, bool]:
    """(the hive the profile writes, its file name, the machine's SOFTWARE hive, its slot,
    whether the OS comes from SOFTWARE), as ``ports set`` finds them."""
    if isinstance(target, HiveTarget):
        hive = target.hive
        target.mount()  # entries name their logical path
        kind, why = hive_kind(hive, target.path)
        if kind is not None and kind != profile.hive:
            raise NotHere(RefusedUnsafe(f"profile {profile.name} belongs in a {profile.hive} hive, but {target.path} "
                                        f"is {kind} ({why})"))
        return hive, target.path, None, target.slot, False
    image = cast("ImageTarget", target)  # a target is a hive file or an image
    slot = image.slot(f"{HKLM}\\{profile.hive}")
    if slot is None:
        raise NotHere(KeyNotFound(f"the image has no {profile.hive} hive, which profile {profile.name} changes"))
    software_slot = image.slot(f"{HKLM}\\SOFTWARE")
    software = image.open(software_slot) if software_slot is not None else None
    return image.open(slot), str(slot.local), software, slot, True


def plan_ports(target: Target, item: Item, mode: str | int) -> tuple[ProfilePlan, list[Entry], list[str]]:
    """The profile plan, its entries, and the warnings to show (control sets, findings)."""
    spec = item.ports
    assert spec is not None
    profile = catalog.profile(spec.profile)
    requests = parse_requests(profile, spec.arguments())
    hive, file_name, software, slot, from_software = _profile_hives(target, profile)
    plan = make_plan(hive, file_name, profile, requests, control_set_mode=mode, os_choice=spec.os,
                     software=software, reserve=bool(spec.reserve), force=bool(spec.force),
                     os_from_software=from_software)
    errors = [f for f in plan.findings if f.level == ERROR]
    if errors:
        listed = "; ".join(f"{f.setting}: {f.message} [{f.code}]" if f.setting else f"{f.message} [{f.code}]"
                           for f in errors)
        raise ValidationError(f"{item.origin}: [[ports]] {profile.name}: {len(errors)} validation error(s): {listed} "
                              "(force = true writes anyway)")
    warnings = list(plan.warnings)
    warnings += [f"{item.origin}: [[ports]] {profile.name}: {f.level}: {f.setting + ': ' if f.setting else ''}"
                 f"{f.message} [{f.code}; {f.source}]" for f in plan.findings]
    by_name = {s.name: s for s in spec.settings}
    entries = []
    for change in plan.changes:
        setting = change.request.setting
        declared = by_name[setting.name]
        entries.append(Entry(item, VALUE, Location(slot, change.key), live_path(profile, setting.key),
                             change.value_name, (setting.type, change.request.raw), declared.seq, declared.origin,
                             setting.name))
    for reserve in plan.reserve:
        entries.append(Entry(item, VALUE, Location(slot, reserve.key), live_path(profile, "Services\\Tcpip\\Parameters"),
                             "ReservedPorts", (RegType.MULTI_SZ, encode_multi(list(reserve.new))), item.seq,
                             item.origin, RESERVE))
    return plan, entries, warnings


__all__ = ["NotHere", "RESERVE", "plan_ports"]
