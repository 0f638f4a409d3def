"""Desired state against targets: check, apply, fix.

On copies of the sample SYSTEM hives (two control sets; in ``SYSTEM-current-differs`` Select\\Current
is 1 and Select\\Default 2, so CurrentControlSet is written in both) and on a fixture image
(HKLM\\SOFTWARE, HKCU of the Default profile). Drift is made with the command line, as a pipeline
would; apply then check must report everything ok; a second apply changes nothing; the fix .reg,
imported with ``hivetool import``, brings a drifted target to the state.
"""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.errors import (
    EXIT_MALFORMED, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_USAGE, HivetoolError, ValidationError,
)
from hivetool.image.target import OpenOptions, open_target
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType, encode_text
from hivetool.state import (
    DIFFERS, EXACT, MISSING, UNEXPECTED, VALUE, StateError, apply_state, check_state, fix_reg,
    fix_reg_bytes, load_states, plan_state,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_hives"
CCS = r"HKLM\SYSTEM\CurrentControlSet\Services"
LONG_SYSTEM = r"HKEY_LOCAL_MACHINE\SYSTEM"


def dword(number: int) -> tuple[int, bytes]:
    return RegType.DWORD, struct.pack("<I", number)


def sz(text: str) -> tuple[int, bytes]:
    return RegType.SZ, encode_text(text)


@pytest.fixture
def system(tmp_path) -> Path:
    path = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLES / "SYSTEM", path)
    return path


@pytest.fixture
def differs(tmp_path) -> Path:
    path = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLES / "SYSTEM-current-differs", path)
    return path


def state_file(tmp_path: Path, text: str, name: str = "state.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def target_of(path: Path, **options):
    return open_target(str(path), OpenOptions(**options))


def cli(*args: str) -> None:
    assert main([str(a) for a in args]) == 0


def not_ok(results) -> list[tuple[str, str | None, str]]:
    return [(r.path, r.name, r.status) for r in results if not r.ok]


SYSTEM_STATE = f"""
[[value]]
path = '{CCS}\\Tcpip\\Parameters'
name = "Hostname"
data = "BUILD01"

[[value]]
path = '{CCS}\\Tcpip\\Parameters'
name = "Domain"
data = "example.org"

[[value]]
path = '{CCS}\\MSExchangeDS\\Parameters'
name = "Trace"
type = "binary"
data = "01 02"

[[key]]
path = '{CCS}\\Vendor\\Parameters'

[[absent]]
path = '{CCS}\\MSExchangeMTA'

[[ports]]
profile = "exchange55"
ds = 1225
is = 1226
"""


def apply_and_save(path: Path, state, **options) -> list:
    target = target_of(path, **options)
    changes = apply_state(target, state)
    target.hive.save(path, in_place=True)
    target.close()
    return changes


# ---------------------------------------------------------------------------- a SYSTEM hive
def test_fresh_hive_reports_what_is_missing(tmp_path, system):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    results = check_state(target_of(system), state)
    assert [(r.path.removeprefix(LONG_SYSTEM + "\\"), r.name, r.status) for r in results] == [
        (r"ControlSet001\Services\Tcpip\Parameters", "Hostname", DIFFERS),
        (r"ControlSet001\Services\Tcpip\Parameters", "Domain", MISSING),
        (r"ControlSet001\Services\MSExchangeDS\Parameters", "Trace", MISSING),
        (r"ControlSet001\Services\Vendor\Parameters", None, MISSING),
        (r"ControlSet001\Services\MSExchangeMTA", None, UNEXPECTED),
        (r"ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port", MISSING),
        (r"ControlSet001\Services\MSExchangeIS\ParametersSystem", "TCP/IP port", MISSING),
    ]
    hostname = results[0]
    assert (hostname.expected, hostname.actual) == (sz("BUILD01"), sz("EXCH55"))
    assert hostname.given == r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters"
    assert str(hostname.origin).endswith("state.toml:2")
    assert results[5].setting == "ds" and results[5].expected == dword(1225)


def test_apply_then_check_is_ok_and_a_second_apply_changes_nothing(tmp_path, system):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    changes = apply_and_save(system, state)
    assert [(c.path.removeprefix(LONG_SYSTEM + "\\"), c.name, c.action) for c in changes] == [
        (r"ControlSet001\Services\Tcpip\Parameters", "Hostname", "updated"),
        (r"ControlSet001\Services\Tcpip\Parameters", "Domain", "created"),
        (r"ControlSet001\Services\MSExchangeDS\Parameters", "Trace", "created"),
        (r"ControlSet001\Services\Vendor", None, "created"),
        (r"ControlSet001\Services\Vendor\Parameters", None, "created"),
        (r"ControlSet001\Services\MSExchangeMTA", None, "deleted"),
        (r"ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port", "created"),
        (r"ControlSet001\Services\MSExchangeIS\ParametersSystem", "TCP/IP port", "created"),
    ]
    assert (changes[0].old, changes[0].new) == (sz("EXCH55"), sz("BUILD01"))
    assert changes[5].keys == 2  # MSExchangeMTA and its Parameters
    assert not_ok(check_state(target_of(system), state)) == []
    before = system.read_bytes()
    target = target_of(system)
    assert apply_state(target, state) == []
    assert not target.hive.modified
    assert system.read_bytes() == before
    # ControlSet002 is neither Select\Current nor Select\Default: untouched.
    assert Hive.open(system).key(r"ControlSet002\Services\Tcpip\Parameters").value("Hostname").data == "EXCH55"


def test_check_names_exactly_the_drifted_value(tmp_path, system):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    apply_and_save(system, state)
    cli("set", system, r"ControlSet001\Services\Tcpip\Parameters", "domain", "--type", "sz", "--data", "evil.example",
        "--in-place")
    results = check_state(target_of(system), state)
    drifted = [r for r in results if not r.ok]
    assert [(r.path, r.name, r.status) for r in drifted] == [
        (r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\Tcpip\Parameters", "Domain", DIFFERS)]
    assert (drifted[0].expected, drifted[0].actual) == (sz("example.org"), sz("evil.example"))


def test_check_changes_nothing(tmp_path, system):
    before = system.read_bytes()
    target = target_of(system)
    check_state(target, load_states([state_file(tmp_path, SYSTEM_STATE)]))
    assert not target.hive.modified
    assert system.read_bytes() == before


def test_current_control_set_is_every_set_a_write_would_change(tmp_path, differs):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    target = target_of(differs)
    results = check_state(target, state)
    hostnames = [r.path for r in results if r.name == "Hostname"]
    assert hostnames == [rf"{LONG_SYSTEM}\ControlSet002\Services\Tcpip\Parameters",
                         rf"{LONG_SYSTEM}\ControlSet001\Services\Tcpip\Parameters"]
    assert any("writing both" in w for w in target.warnings)
    ports = [(r.path.split("\\")[2], r.setting) for r in results if r.setting]
    assert ports == [("ControlSet002", "ds"), ("ControlSet001", "ds"), ("ControlSet002", "is"), ("ControlSet001", "is")]
    only = check_state(target_of(differs), state, control_set_mode="current")
    assert [r.path.split("\\")[2] for r in only if r.name == "Hostname"] == ["ControlSet001"]
    every = check_state(target_of(differs), state, control_set_mode="all")
    assert [r.path.split("\\")[2] for r in every if r.name == "Hostname"] == ["ControlSet001", "ControlSet002"]
    opened = target_of(differs, control_set_mode=2)  # None: the mode the target was opened with
    assert [r.path.split("\\")[2] for r in check_state(opened, state) if r.name == "Hostname"] == ["ControlSet002"]


def test_drift_in_one_control_set_and_the_fix_for_a_live_machine(tmp_path, differs):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    apply_and_save(differs, state)
    assert not_ok(check_state(target_of(differs), state)) == []
    cli("set", differs, r"ControlSet002\Services\Tcpip\Parameters", "Hostname", "--type", "sz", "--data", "X",
        "--in-place")
    cli("rm", differs, r"ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port", "--in-place")
    cli("mkkey", differs, r"ControlSet001\Services\MSExchangeMTA\Parameters", "--in-place")
    results = check_state(target_of(differs), state)
    assert not_ok(results) == [
        (rf"{LONG_SYSTEM}\ControlSet002\Services\Tcpip\Parameters", "Hostname", DIFFERS),
        (rf"{LONG_SYSTEM}\ControlSet001\Services\MSExchangeMTA", None, UNEXPECTED),
        (rf"{LONG_SYSTEM}\ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port", MISSING),
    ]
    text = fix_reg_bytes(results).decode("utf-16")
    assert text == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters]\r\n"
        "\"Hostname\"=\"BUILD01\"\r\n\r\n"
        "[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeMTA]\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters]\r\n"
        "\"TCP/IP port\"=dword:000004c9\r\n\r\n")
    fix = tmp_path / "fix.reg"
    fix.write_bytes(fix_reg_bytes(results))
    cli("import", differs, fix, "--in-place")
    assert not_ok(check_state(target_of(differs), state)) == []


def test_fix_round_trip_on_a_drifted_hive(tmp_path, system):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    results = check_state(target_of(system), state)
    patch = fix_reg(results)
    assert all("ControlSet00" not in op.key and op.key.startswith("HKEY_LOCAL_MACHINE\\") for op in patch)
    fix = tmp_path / "fix.reg"
    fix.write_bytes(fix_reg_bytes(results))
    cli("import", system, fix, "--in-place")
    assert not_ok(check_state(target_of(system), state)) == []
    assert fix_reg(check_state(target_of(system), state)).ops == []


def test_two_spellings_of_one_place_meet_and_the_later_wins(tmp_path, system):
    state = load_states([state_file(tmp_path, """
[[value]]
path = 'HKLM\\SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters'
name = "Hostname"
data = "EARLY"
"""), state_file(tmp_path, f"""
[[value]]
path = '{CCS}\\Tcpip\\Parameters'
name = "HOSTNAME"
data = "LATE"
""", "later.toml")])
    assert len(state.items) == 2  # different texts: only the target knows they are one place
    results = check_state(target_of(system), state)
    assert [(r.status, r.expected) for r in results] == [(DIFFERS, sz("LATE"))]
    apply_and_save(system, state)
    target = target_of(system)
    assert apply_state(target, state) == [] and not target.hive.modified


def test_a_value_given_both_ways_follows_the_ports_setting_or_the_value(tmp_path, system):
    base = state_file(tmp_path, "[[ports]]\nprofile = 'exchange55'\nds = 1225\n")
    site = state_file(tmp_path, "[[value]]\npath = 'HKLM\\SYSTEM\\ControlSet001\\Services\\MSExchangeDS\\Parameters'\n"
                      "name = 'TCP/IP Port'\ndata = 1300\n", "site.toml")
    results = check_state(target_of(system), load_states([base, site]))
    assert [(r.name, r.expected, r.setting) for r in results] == [("TCP/IP Port", dword(1300), None)]
    results = check_state(target_of(system), load_states([site, base]))
    assert [(r.name, r.expected, r.setting) for r in results] == [("TCP/IP port", dword(1225), "ds")]


# ---------------------------------------------------------------------------- exact keys (.reg states)
EXACT_REG = (
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS]\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters]\r\n"
    "\"TCP/IP port\"=dword:000004c9\r\n\r\n"
)


def test_exact_key_holds_only_what_is_declared(tmp_path, system):
    reg = tmp_path / "ds.reg"
    reg.write_bytes(EXACT_REG.encode("utf-16"))
    state = load_states([str(reg)])
    assert [i.kind for i in state.items] == [EXACT, VALUE]
    assert not_ok(check_state(target_of(system), state)) == [
        (rf"{LONG_SYSTEM}\ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port", MISSING)]
    apply_and_save(system, state)
    cli("set", system, r"ControlSet001\Services\MSExchangeDS", "Stale", "--type", "dword", "--data", "1", "--in-place")
    cli("set", system, r"ControlSet001\Services\MSExchangeDS\Parameters", "Old", "--type", "sz", "--data", "x",
        "--in-place")
    cli("mkkey", system, r"ControlSet001\Services\MSExchangeDS\Junk\Deeper", "--in-place")
    results = check_state(target_of(system), state)
    (drift,) = [r for r in results if not r.ok]
    assert (drift.kind, drift.status) == (EXACT, UNEXPECTED)
    assert sorted((e.relative, e.name) for e in drift.extras) == [("", "Stale"), ("Junk", None), ("Parameters", "Old")]
    text = fix_reg_bytes(results).decode("utf-16")
    assert "[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS\\Junk]" in text
    assert "\"Stale\"=-" in text and "\"Old\"=-" in text
    fix = tmp_path / "fix.reg"
    fix.write_bytes(text.encode("utf-16"))
    copy = tmp_path / "copy" / "SYSTEM"
    copy.parent.mkdir()
    shutil.copyfile(system, copy)
    cli("import", copy, fix, "--in-place")
    assert not_ok(check_state(target_of(copy), state)) == []
    target = target_of(system)
    changes = apply_state(target, state)
    assert sorted((c.path.rpartition("\\")[2], c.name, c.action) for c in changes) == [
        ("Junk", None, "deleted"), ("MSExchangeDS", "Stale", "deleted"), ("Parameters", "Old", "deleted")]
    assert not_ok(check_state(target, state)) == []
    assert apply_state(target, state) == []


# ---------------------------------------------------------------------------- ports validation
def test_ports_validation_error_is_exit_4_with_the_item_line(tmp_path, system):
    state = load_states([state_file(tmp_path, "\n[[ports]]\nprofile = 'exchange55'\nds = 135\n")])
    with pytest.raises(ValidationError) as caught:
        check_state(target_of(system), state)
    assert caught.value.exit_code == EXIT_REFUSED
    assert "state.toml:2: [[ports]] exchange55: 1 validation error(s): ds:" in str(caught.value)
    assert "P-EPMAP" in str(caught.value)
    forced = load_states([state_file(tmp_path, "[[ports]]\nprofile = 'exchange55'\nds = 135\nforce = true\n",
                                     "forced.toml")])
    target = target_of(system)
    assert [c.new for c in apply_state(target, forced)] == [dword(135)]
    assert any("P-EPMAP" in w for w in target.warnings)


def test_ports_reserve_is_checked_and_applied_but_not_in_a_fix(tmp_path, system):
    state = load_states([state_file(tmp_path, "[[ports]]\nprofile = 'exchange55'\nds = 1225\nreserve = true\n")])
    results = check_state(target_of(system), state)
    assert [(r.name, r.status, r.setting) for r in results] == [("TCP/IP port", MISSING, "ds"),
                                                                ("ReservedPorts", MISSING, "reserve")]
    assert [op.name for op in fix_reg(results)] == ["TCP/IP port"]
    apply_and_save(system, state)
    reserved = Hive.open(system).key(r"ControlSet001\Services\Tcpip\Parameters").value("ReservedPorts")
    assert reserved.data == ["1225-1225"]
    assert not_ok(check_state(target_of(system), state)) == []


def test_ports_for_a_service_that_is_not_installed_is_exit_5(tmp_path, system):
    cli("rm", system, r"ControlSet001\Services\MSExchangeSA", "-r", "--in-place")
    state = load_states([state_file(tmp_path, "[[ports]]\nprofile = 'exchange55'\nsa = 1500\n")])
    with pytest.raises(HivetoolError) as caught:
        check_state(target_of(system), state)
    assert caught.value.exit_code == EXIT_NOT_FOUND
    assert str(caught.value).startswith(f"{tmp_path / 'state.toml'}:1: service MSExchangeSA is not installed")


# ---------------------------------------------------------------------------- foreign paths
def test_paths_outside_the_hive_are_refused_or_skipped(tmp_path, system):
    text = SYSTEM_STATE + "\n[[value]]\npath = 'HKLM\\SOFTWARE\\Vendor'\nname = 'x'\ndata = 1\n" \
                          "\n[[ports]]\nprofile = 'rpc-internet'\nports = '5000-5100'\n"
    state = load_states([state_file(tmp_path, text)])
    with pytest.raises(HivetoolError) as caught:
        check_state(target_of(system), state)
    assert caught.value.exit_code == EXIT_REFUSED
    assert str(caught.value).startswith(f"{tmp_path / 'state.toml'}:29: HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor is outside")
    plan = plan_state(target_of(system), state, skip_foreign=True)
    assert [(item.kind, item.origin.line) for item, _ in plan.foreign] == [(VALUE, 29), ("ports", 34)]
    assert len(plan.entries) == 7


def test_a_hive_root_cannot_be_absent(tmp_path):
    path = tmp_path / "SOFTWARE"
    shutil.copyfile(SAMPLES / "SOFTWARE", path)
    state = load_states([state_file(tmp_path, "[[absent]]\npath = 'HKLM\\SOFTWARE'\n")])
    with pytest.raises(StateError, match="root key of a hive"):
        check_state(target_of(path), state)


def test_results_and_changes_as_json(tmp_path, differs):
    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    first = [r.to_json() for r in check_state(target_of(differs), state)]
    again = [r.to_json() for r in check_state(target_of(differs), state)]
    assert first == again and json.loads(json.dumps(first)) == first
    assert first[0] == {
        "origin": f"{tmp_path / 'state.toml'}:2", "kind": VALUE,
        "path": rf"{LONG_SYSTEM}\ControlSet002\Services\Tcpip\Parameters",
        "given": rf"{LONG_SYSTEM}\CurrentControlSet\Services\Tcpip\Parameters", "name": "Hostname", "status": DIFFERS,
        "expected": {"type": "REG_SZ", "type_id": 1, "data": "BUILD01", "raw": encode_text("BUILD01").hex()},
        "actual": {"type": "REG_SZ", "type_id": 1, "data": "EXCH55", "raw": encode_text("EXCH55").hex()},
        "extras": []}
    assert first[-1]["ports"] == {"profile": "exchange55", "setting": "is"}
    changes = [c.to_json() for c in apply_state(target_of(differs), state)]
    assert json.loads(json.dumps(changes)) == changes
    assert changes[0]["action"] == "updated" and changes[0]["type_changed"] is False
    assert changes[0]["old"]["data"] == "EXCH55" and changes[0]["new"]["data"] == "BUILD01"


# ---------------------------------------------------------------------------- an image
IMAGE_STATE = """
[[value]]
path = 'HKLM\\SOFTWARE\\Policies\\Example'
name = "Servers"
data = ["c", "d"]

[[value]]
path = 'HKLM\\SOFTWARE\\Vendor\\App'
name = "Level"
data = 3

[[absent]]
path = 'HKLM\\SOFTWARE\\Classes\\.log'

[[value]]
path = 'HKCU\\Control Panel\\Desktop'
name = "Wallpaper"
data = "corporate.bmp"

[[absent]]
path = 'HKCU\\Environment'
name = "TEMP"

[[value]]
path = 'HKCU\\Software\\Vendor'
name = "@"
type = "expand_sz"
data = "%USERPROFILE%\\\\vendor"
"""


@pytest.fixture
def image(tmp_path) -> Path:
    from images import build_image

    return build_image(tmp_path / "img")


def test_image_apply_check_and_fix(tmp_path, image):
    state = load_states([state_file(tmp_path, IMAGE_STATE)])
    with pytest.raises(HivetoolError) as caught:  # HKCU needs a user
        check_state(target_of(image), state)
    assert caught.value.exit_code == EXIT_USAGE
    assert str(caught.value).startswith(f"{tmp_path / 'state.toml'}:15: HKCU is a user's hive")

    target = target_of(image, user="default")
    assert not_ok(check_state(target, state)) == [
        (r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Example", "Servers", DIFFERS),
        (r"HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App", "Level", MISSING),
        (r"HKEY_LOCAL_MACHINE\SOFTWARE\Classes\.log", None, UNEXPECTED),
        (r"HKEY_CURRENT_USER\Control Panel\Desktop", "Wallpaper", DIFFERS),
        (r"HKEY_CURRENT_USER\Software\Vendor", "", MISSING),
    ]
    changes = apply_state(target, state)
    assert len([c for c in changes if c.name is not None]) == 4
    assert not_ok(check_state(target, state)) == []
    target.commit(None, in_place=True)
    target.close()

    target = target_of(image, user="default")
    assert apply_state(target, state) == []
    assert target.changed() == []
    target.close()

    cli("set", image, r"HKCU\Environment", "TEMP", "--type", "sz", "--data", r"C:\Temp", "--user", "default",
        "--in-place")
    cli("set", image, r"HKLM\SOFTWARE\Vendor\App", "Level", "--type", "dword", "--data", "4", "--in-place")
    results = check_state(target_of(image, user="default"), state)
    assert not_ok(results) == [(r"HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App", "Level", DIFFERS),
                               (r"HKEY_CURRENT_USER\Environment", "TEMP", UNEXPECTED)]
    fix = tmp_path / "fix.reg"
    fix.write_bytes(fix_reg_bytes(results))
    assert fix.read_bytes().decode("utf-16") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n\"Level\"=dword:00000003\r\n\r\n"
        "[HKEY_CURRENT_USER\\Environment]\r\n\"TEMP\"=-\r\n\r\n")
    cli("import", image, fix, "--user", "default", "--in-place")
    assert not_ok(check_state(target_of(image, user="default"), state)) == []


def test_image_control_sets_and_ports(tmp_path, image):
    state = load_states([state_file(tmp_path, "[[ports]]\nprofile = 'exchange55'\nds = 1225\n"
                                    "[[value]]\npath = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters'\n"
                                    "name = 'NV Hostname'\ndata = 'build01'\n")])
    with pytest.raises(HivetoolError) as caught:  # the fixture's SYSTEM has no Exchange
        check_state(target_of(image), state)
    assert caught.value.exit_code == EXIT_NOT_FOUND
    only_value = load_states([state_file(tmp_path, "[[value]]\n"
                                         "path = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters'\n"
                                         "name = 'NV Hostname'\ndata = 'build01'\n", "value.toml")])
    (result,) = check_state(target_of(image), only_value)
    assert (result.path, result.status, result.actual) == (
        r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\Tcpip\Parameters", DIFFERS, sz("iecompatvhd"))


def test_errors_keep_their_exit_codes(tmp_path, system):
    state = load_states([state_file(tmp_path, "[[key]]\npath = 'HKLM\\SYSTEM\\CurrentControlSet\\X'\n")])
    cli("rm", system, "Select", "Default", "--in-place")
    with pytest.raises(HivetoolError) as caught:
        check_state(target_of(system), state)
    assert caught.value.exit_code == EXIT_REFUSED
    assert "state.toml:1: Select\\Default is missing" in str(caught.value)
    assert EXIT_MALFORMED == StateError("x", "f").exit_code


def test_expectations_for_verify_hold_in_the_written_hive(tmp_path, differs):
    from hivetool.state import apply_plan, expectations
    from hivetool.verify import verify_hive_file

    state = load_states([state_file(tmp_path, SYSTEM_STATE)])
    target = target_of(differs)
    plan = plan_state(target, state)
    apply_plan(plan)
    written = tmp_path / "SYSTEM.new"
    target.hive.save(written)
    expected = [expect for _, expect in expectations(plan)]
    assert len(expected) == 14  # 7 entries in each of the two control sets
    verify_hive_file(str(written), expected)
