"""``hivetool image``: what a Windows image holds."""
from __future__ import annotations

from contextlib import closing

import click

from ..errors import UsageError
from .common import emit_json, json_option, wait_option
from .targets import open_for_read


@click.group(name="image")
def image() -> None:
    """Windows images: a folder laid out like a system drive, or FILE.wim:INDEX."""


@image.command(name="info")
@click.argument("image_path", metavar="IMAGE")
@json_option
@click.option("--replay-logs", is_flag=True, help="Read dirty hives through their transaction logs.")
@wait_option
def info(image_path: str, as_json: bool, replay_logs: bool) -> None:
    """The OS, every hive (path, size, format version, dirty?, logs), the control sets, and the
    users (SID, profile path, hives present) from SOFTWARE's ProfileList."""
    show_image_info(image_path, as_json, replay_logs)


def show_image_info(image_path: str, as_json: bool, replay_logs: bool) -> None:
    from ..image.facts import image_facts
    from ..image.image import ImageTarget

    target = open_for_read(image_path, replay_logs)
    if not isinstance(target, ImageTarget):
        target.close()
        raise UsageError(f"{image_path} is a hive file, not an image (a folder or FILE.wim:INDEX): `hivetool info`")
    with closing(target):
        facts = image_facts(target)
    if as_json:
        emit_json(facts)
        return
    click.echo(f"image:            {facts['image']}")
    os_facts = facts["os"]
    if os_facts:
        build = os_facts.get("CurrentBuild") or os_facts.get("CurrentBuildNumber", "?")
        click.echo(f"os:               {os_facts.get('ProductName', '?')} (build {build}, "
                   f"{os_facts.get('EditionID', '?')}, {os_facts.get('InstallationType', '?')}, "
                   f"{os_facts.get('architecture', '?')})")
    sets = facts["control_sets"]
    if sets:
        click.echo(f"control sets:     {', '.join(sets.get('sets', []))} (current {sets.get('current', '?')}, "
                   f"default {sets.get('default', '?')})")
    click.echo("hives:")
    for hive in facts["hives"]:
        if "problem" in hive:
            state = f"unreadable: {hive['problem']}"
        else:
            state = f"{hive['size']:,} bytes, version {hive['version']}, " + ("DIRTY" if hive["dirty"] else "clean")
            if hive["logs"]:
                state += f", logs {', '.join(hive['logs'])}"
        click.echo(f"  {hive['mount']:<48} {hive['path']}  ({state})")
    click.echo("users:")
    for user in facts["users"]:
        present = [name for name in ("ntuser", "classes") if user[name]]
        line = f"  {user['sid']:<48} {user['profile']}  hives: {', '.join(present) or 'none'}"
        if user["problem"]:
            line += f" ({user['problem']})"
        click.echo(line)
    default = facts["default_profile"]
    if default:
        click.echo(f"  {'default (new accounts start from it)':<48} {default['profile']}  "
                   f"hives: {'ntuser' if default['ntuser'] else 'none'}")
    for problem in facts["problems"]:
        click.echo(f"note: {problem}")
