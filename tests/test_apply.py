"""``hivetool apply``: a desired state applied idempotently, drift checks, fix .reg files and
receipts, as an image-build pipeline uses them."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import oracles
from hivetool.cli import main
from hivetool.regf.hive import Hive
from images import build_image, digests

ROOT = Path(__file__).resolve().parent.parent
STATE = r"""
[[value]]
path = 'HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeDS\Parameters'
name = "TCP/IP port"
data = 1225

[[value]]
path = 'HKLM\SYSTEM\CurrentControlSet\Control\Vendor'
name = "Servers"
data = ["a", "b"]

[[value]]
path = 'HKLM\SYSTEM\CurrentControlSet\Control\Vendor'
name = "Blob"
type = "binary"
data = "01 02 ab"

[[absent]]
path = 'HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeMTA'

[[ports]]
profile = "exchange55"
is = 1226
force = true
"""
DS = r"ControlSet001\Services\MSExchangeDS\Parameters"


@pytest.fixture
def setup(tmp_path) -> dict[str, Path]:
    hive = tmp_path / "SYSTEM"
    shutil.copyfile(ROOT / "sample_hives" / "SYSTEM", hive)
    state = tmp_path / "state.toml"
    state.write_text(STATE)
    return {"hive": hive, "state": state, "dir": tmp_path}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_apply_twice_writes_nothing_the_second_time(setup, capsys):
    hive, state = setup["hive"], setup["state"]
    code, out, err = run(capsys, "apply", hive, state, "--in-place", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["changed"] is True and first["written"] == [str(hive)]
    assert {(c["name"], c["action"]) for c in first["changes"] if c["name"]} >= {
        ("TCP/IP port", "created"), ("Servers", "created"), ("Blob", "created")}
    assert any(c["path"].endswith("MSExchangeMTA") and c["action"] == "deleted" for c in first["changes"])
    opened = Hive.open(hive)
    assert opened.key(DS).value("TCP/IP port").data == 1225
    assert not opened.has_key(r"ControlSet001\Services\MSExchangeMTA")
    before = fingerprint(hive)
    code, out, err = run(capsys, "apply", hive, state, "--in-place", "--json")
    assert code == 0 and fingerprint(hive) == before
    second = json.loads(out)
    assert second["changed"] is False and second["changes"] == [] and second["written"] == []
    code, _, err = run(capsys, "apply", hive, state, "--in-place")
    assert code == 0 and "unchanged" in err
    content = oracles.read_own(hive)
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, hive, content)


def test_check_finds_exactly_the_drift_and_the_fix_reg_repairs_it(setup, capsys):
    hive, state, d = setup["hive"], setup["state"], setup["dir"]
    code, _, _ = run(capsys, "apply", hive, state, "--check")
    assert code == 1
    assert run(capsys, "apply", hive, state, "--in-place")[0] == 0
    code, out, _ = run(capsys, "apply", hive, state, "--check", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    # Someone changes one value by hand.
    assert run(capsys, "set", hive, r"ControlSet001\Control\Vendor", "Blob", "--type", "binary", "--data", "ff",
               "--in-place")[0] == 0
    code, out, _ = run(capsys, "apply", hive, state, "--check", "--json", "--fix-reg", d / "fix.reg")
    assert code == 1
    report = json.loads(out)
    drifted = [r for r in report["results"] if r["status"] != "ok"]
    assert [(r["status"], r["name"], r["actual"]["raw"], r["expected"]["raw"]) for r in drifted] == [
        ("differs", "Blob", "ff", "0102ab")]
    fix = (d / "fix.reg").read_bytes().decode("utf-16")
    assert "CurrentControlSet" in fix and "ControlSet001" not in fix and '"Blob"=hex:01,02,ab' in fix
    assert run(capsys, "import", hive, d / "fix.reg", "--in-place")[0] == 0
    assert run(capsys, "apply", hive, state, "--check")[0] == 0


def test_the_same_build_twice_gives_the_same_bytes_and_receipts(setup, capsys):
    hive, state, d = setup["hive"], setup["state"], setup["dir"]
    outputs = []
    for run_number in range(2):
        out, receipt = d / f"out{run_number}", d / f"receipt{run_number}.json"
        code, _, err = run(capsys, "apply", hive, state, "-o", out, "--timestamp", "2024-05-01T00:00:00Z",
                           "--receipt", receipt)
        assert code == 0, err
        outputs.append((out.read_bytes(), receipt.read_text().replace(str(out), "OUT").replace(str(receipt), "R")))
    assert outputs[0] == outputs[1]
    receipt = json.loads((d / "receipt0.json").read_text())
    assert receipt["tool"] == "hivetool" and receipt["timestamp"] == "2024-05-01T00:00:00Z"
    assert "--receipt" not in receipt["command"] and str(d / "receipt0.json") not in receipt["command"]
    assert receipt["files_before"][0]["sha256"] == hashlib.sha256(hive.read_bytes()).hexdigest()
    assert receipt["files_after"][0]["sha256"] == hashlib.sha256((d / "out0").read_bytes()).hexdigest()
    assert receipt["states"][0]["sha256"] == hashlib.sha256(state.read_bytes()).hexdigest()
    assert receipt["changed"] is True and len(receipt["changes"]) >= 3


def test_a_no_op_with_o_still_hands_on_a_copy(setup, capsys):
    hive, state, d = setup["hive"], setup["state"], setup["dir"]
    assert run(capsys, "apply", hive, state, "--in-place")[0] == 0
    code, _, err = run(capsys, "apply", hive, state, "-o", d / "copy")
    assert code == 0 and "unchanged" in err
    assert (d / "copy").read_bytes() == hive.read_bytes()


@pytest.mark.parametrize("text,line", [
    ("[[value]]\npath = 'HKLM\\SOFTWARE\\X'\nname = \"v\"\ndata = 4294967296\n", 4),  # the field's own line
    ("[[value]]\npath = 'HKLM\\SOFTWARE\\X'\nname = \"v\"\ndata = true\n", 4),
    ("[[value]]\npath = 'HKLM\\SOFTWARE\\X'\nnmae = \"v\"\ndata = 1\n", 3),
    ("[[valeu]]\npath = 'HKLM\\SOFTWARE\\X'\n", 1),
    ("[[value]]\npath = 'HKLM\\SOFTWARE\\X'\nname = \"v\"\ntype = \"binary\"\ndata = \"zz\"\n", 5),
    ("[[ports]]\nprofile = \"exchange55\"\nxx = 1225\n", 3),
    ("[[value]\npath = 'x'\n", 1),
])
def test_bad_state_files_are_exit_3_with_their_line(setup, capsys, text, line):
    hive, d = setup["hive"], setup["dir"]
    bad = d / "bad.toml"
    bad.write_text(text)
    before = fingerprint(hive)
    code, _, err = run(capsys, "apply", hive, bad, "--in-place")
    assert code == 3, err
    assert f"bad.toml:{line}" in err
    assert fingerprint(hive) == before


def test_a_port_that_fails_validation_is_exit_4(setup, capsys):
    hive, d = setup["hive"], setup["dir"]
    bad = d / "ports.toml"
    bad.write_text('[[ports]]\nprofile = "exchange55"\nds = 135\nis = 1226\n')
    before = fingerprint(hive)
    code, _, err = run(capsys, "apply", hive, bad, "--in-place")
    assert code == 4 and "P-EPMAP" in err and fingerprint(hive) == before


def test_later_states_win_and_reg_files_are_states(setup, capsys):
    hive, state, d = setup["hive"], setup["state"], setup["dir"]
    later = d / "site.reg"
    later.write_text("Windows Registry Editor Version 5.00\r\n\r\n"
                     "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters]\r\n"
                     "\"TCP/IP port\"=dword:000004d0\r\n\r\n", encoding="utf-16")
    assert run(capsys, "apply", hive, state, later, "--in-place")[0] == 0
    assert Hive.open(hive).key(DS).value("TCP/IP port").data == 0x4D0


def test_usage_rules(setup, capsys):
    hive, state, d = setup["hive"], setup["state"], setup["dir"]
    assert run(capsys, "apply", hive, state, "--check", "--in-place")[0] == 2
    assert run(capsys, "apply", hive, state, "--check", "--receipt", d / "r.json")[0] == 2
    assert run(capsys, "apply", hive, state, "--in-place", "--fix-reg", d / "f.reg")[0] == 2
    code, _, err = run(capsys, "apply", hive, state, "--in-place", "--receipt", state)
    assert code == 2 and "names an input" in err
    code, _, err = run(capsys, "apply", hive, state, "--check", "--fix-reg", hive)
    assert code == 2 and "names an input" in err


def test_apply_to_an_image(tmp_path, capsys):
    image = build_image(tmp_path / "image")
    state = tmp_path / "golden.toml"
    state.write_text(r"""
[[value]]
path = 'HKCU\Software\Policies\Vendor'
name = "Telemetry"
data = 0

[[value]]
path = 'HKLM\SOFTWARE\Vendor'
name = "Edition"
data = "golden"

[[absent]]
path = 'HKLM\SOFTWARE\Policies\Example'
name = "Servers"
""")
    code, _, err = run(capsys, "apply", image, state, "--user", "default", "--in-place")
    assert code == 0, err
    assert Hive.open(image / "Users/Default/NTUSER.DAT").key(r"Software\Policies\Vendor").value("Telemetry").data == 0
    software = Hive.open(image / "Windows/System32/config/SOFTWARE")
    assert software.key("Vendor").value("Edition").data == "golden"
    assert [v.name for v in software.key(r"Policies\Example").values()] == []
    before = digests(image)
    assert run(capsys, "apply", image, state, "--user", "default", "--in-place")[0] == 0
    assert digests(image) == before
    assert run(capsys, "apply", image, state, "--user", "default", "--check")[0] == 0


def test_outputs_may_not_name_a_file_inside_an_image(tmp_path, capsys):
    image = build_image(tmp_path / "image")
    state = tmp_path / "s.toml"
    state.write_text("[[key]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n")
    software = image / "Windows/System32/config/SOFTWARE"
    before = digests(image)
    code, _, err = run(capsys, "apply", image, state, "--in-place", "--receipt", software)
    assert code == 2 and "names an input" in err
    code, _, err = run(capsys, "apply", image, state, "--check", "--fix-reg", software)
    assert code == 2 and "names an input" in err
    assert digests(image) == before


def test_diff_exit_code(setup, capsys):
    hive, state, d = setup["hive"], setup["state"], setup["dir"]
    assert run(capsys, "diff", hive, hive, "--exit-code", "-o", d / "none.reg")[0] == 0
    assert run(capsys, "apply", hive, state, "-o", d / "changed")[0] == 0
    assert run(capsys, "diff", hive, d / "changed", "--exit-code", "-o", d / "some.reg")[0] == 1
