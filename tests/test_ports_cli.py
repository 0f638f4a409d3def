"""``hivetool ports``: the job hivetool was born for, end to end through the command line."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import oracles
from corpus import files_with_role, require_corpus
from hivetool import Hive
from hivetool.cli import main
from hivetool.regf.check import check_hive

SAMPLES = Path(__file__).resolve().parent.parent / "sample_hives"
TS = "2024-05-01T00:00:00Z"
DS = r"ControlSet001\Services\MSExchangeDS\Parameters"
IS = r"ControlSet001\Services\MSExchangeIS\ParametersSystem"


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def sample(tmp_path: Path, name: str = "SYSTEM") -> Path:
    target = tmp_path / name
    shutil.copyfile(SAMPLES / name, target)
    return target


def dword_at(path: Path, key: str, name: str) -> tuple[int, bytes]:
    value = Hive.open(path).key(key).value(name)
    return value.type, value.raw


README_REPORT = """\
control set: CurrentControlSet -> ControlSet001 (Select\\Default = Select\\Current)
os: nt4 (format 1.3 and no Vista markers (BFE, Control\\Nsi): NT 4.0 or 2000)

PROFILE     SETTING            KEY                                                   VALUE        OLD     NEW
exchange55  ds (MSExchangeDS)  ControlSet001\\Services\\MSExchangeDS\\Parameters        TCP/IP port  (none)  1225 (0x4c9)
exchange55  is (MSExchangeIS)  ControlSet001\\Services\\MSExchangeIS\\ParametersSystem  TCP/IP port  (none)  1226 (0x4ca)

findings:
  warning: ds: port 1225 is inside the dynamic (ephemeral) range 1024-5000 (the default MaxUserPort 5000); ports above it are safer [P-DYNAMIC; Q196271, Q194952]
  warning: is: port 1226 is inside the dynamic (ephemeral) range 1024-5000 (the default MaxUserPort 5000); ports above it are safer [P-DYNAMIC; Q196271, Q194952]

reminders:
  - Restart the server (or the services) for the new ports to take effect (Q148732).
  - Open TCP 135 (RPC endpoint mapper) and TCP 1225, 1226 on the firewall (hivetool ports firewall can write the rules).
"""


def test_readme_main_job(capsys, tmp_path):
    system = sample(tmp_path)
    out_file = tmp_path / "SYSTEM.patched"
    code, out, err = invoke(capsys, "ports", "set", system, "exchange55", "ds=1225", "is=1226", "-o", out_file,
                            "--timestamp", TS)
    assert code == 0, err
    assert out == f"hive: {system}\n" + README_REPORT
    assert err == f"wrote {out_file}\n"
    assert dword_at(out_file, DS, "TCP/IP port") == (4, struct.pack("<I", 1225))
    assert dword_at(out_file, IS, "TCP/IP port") == (4, struct.pack("<I", 1226))
    assert system.read_bytes() == (SAMPLES / "SYSTEM").read_bytes()
    assert not check_hive(Hive.open(out_file)).problems
    # set, then check with the same arguments: exit 0
    code, out, _ = invoke(capsys, "ports", "check", out_file, "exchange55", "ds=1225", "is=1226")
    assert code == 0
    assert "1225 (0x4c9)  1225 (0x4c9)  ok" in out


def test_values_read_back_by_independent_readers(capsys, tmp_path):
    out_file = tmp_path / "out"
    assert invoke(capsys, "ports", "set", sample(tmp_path), "exchange55", "ds=5001", "is=5002", "-o", out_file)[0] == 0
    from Registry import Registry

    reg = Registry.Registry(str(out_file))
    assert reg.open(DS).value("TCP/IP port").value() == 5001
    from regipy.registry import RegistryHive

    values = {v.name: v.value for v in RegistryHive(str(out_file)).get_key("\\" + IS).iter_values()}
    assert values == {"TCP/IP port": 5002}
    if shutil.which("hivexget") is None:
        oracles.require(oracles.HIVEXML)  # fails under CI, skips elsewhere
    got = subprocess.run(["hivexget", str(out_file), DS, "TCP/IP port"], capture_output=True, text=True, check=True)
    assert got.stdout.strip() == "5001"
    content = oracles.read_own(out_file)
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, out_file, content)


def test_ports_reg_imported_gives_the_same_hive_as_ports_set(capsys, tmp_path):
    reg_file = tmp_path / "pin.reg"
    code, _, err = invoke(capsys, "ports", "reg", "exchange55", "ds=1225", "is=1226", "-o", reg_file)
    assert code == 0, err
    data = reg_file.read_bytes()
    assert data[:2] == b"\xff\xfe"
    text = data[2:].decode("utf-16-le")
    assert text.startswith("Windows Registry Editor Version 5.00\r\n; ")
    assert "; Firewall: allow TCP 135 (RPC endpoint mapper) and TCP 1225, 1226.\r\n" in text
    assert ('[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters]\r\n'
            '"TCP/IP port"=dword:000004c9\r\n') in text
    via_set, via_import = tmp_path / "set", tmp_path / "import"
    system = sample(tmp_path)
    assert invoke(capsys, "ports", "set", system, "exchange55", "ds=1225", "is=1226", "-o", via_set,
                  "--timestamp", TS)[0] == 0
    code, _, err = invoke(capsys, "import", system, reg_file, "-o", via_import, "--timestamp", TS)
    assert code == 0, err
    assert oracles.read_own(via_set) == oracles.read_own(via_import)


def test_regedit4_reg_file(capsys, tmp_path):
    code, out, _ = invoke(capsys, "ports", "reg", "exchange55", "ds=5000", "--regedit4")
    assert code == 0
    assert out.startswith("REGEDIT4\r\n; Exchange Server 4.0/5.0/5.5 RPC services behind a firewall")
    assert '"TCP/IP port"=dword:00001388\r\n' in out


@pytest.mark.parametrize(
    "mode, written, warning",
    [
        ("auto", ["ControlSet002", "ControlSet001"], True),
        ("default", ["ControlSet002"], False),
        ("current", ["ControlSet001"], False),
        ("all", ["ControlSet001", "ControlSet002"], False),
        ("1", ["ControlSet001"], False),
    ],
)
def test_control_set_modes(capsys, tmp_path, mode, written, warning):
    out_file = tmp_path / "out"
    code, out, err = invoke(capsys, "ports", "set", sample(tmp_path, "SYSTEM-current-differs"), "exchange55",
                            "ds=5001", "-o", out_file, "--control-set", mode)
    assert code == 0, err
    hive = Hive.open(out_file)
    for name in ("ControlSet001", "ControlSet002"):
        key = hive.key(rf"{name}\Services\MSExchangeDS\Parameters")
        assert (len(key.values()) == 1) == (name in written), (mode, name)
    assert ("Select\\Default names ControlSet002 but Select\\Current names ControlSet001: writing both" in err) == warning
    assert [line.split()[3].split("\\")[0] for line in out.splitlines() if line.startswith("exchange55")] == written


def test_service_not_installed_is_exit_5(capsys, tmp_path):
    out_file = tmp_path / "out"
    code, out, err = invoke(capsys, "ports", "set", sample(tmp_path, "SYSTEM-no-exchange"), "exchange55", "ds=5001",
                            "-o", out_file)
    assert (code, out) == (5, "")
    assert err == ("hivetool: error: service MSExchangeDS is not installed in this image: "
                   "ControlSet001\\Services\\MSExchangeDS does not exist (profile exchange55, setting ds)\n")
    assert not out_file.exists()


def test_validation_errors_exit_4_and_write_nothing_unless_forced(capsys, tmp_path):
    system, out_file = sample(tmp_path), tmp_path / "out"
    code, out, err = invoke(capsys, "ports", "set", system, "exchange55", "ds=1100", "is=135", "-o", out_file)
    assert code == 4
    assert not out_file.exists()
    assert ("  error: ds: port 1100 is immediately above 1023: the OS hands out the lowest dynamic ports first, so it "
            "is likely taken before the service starts (use the 1200 range or higher) [P-ABOVE-1023; Q180795]\n") in out
    assert ("  error: is: port 135 belongs to the RPC endpoint mapper, which clients must reach first "
            "[P-EPMAP; Q148732, Q155831]\n") in out
    assert err == "hivetool: error: 2 validation error(s); nothing written (--force writes anyway)\n"
    assert "reminders" not in out and "Open TCP" not in out and "nothing written." in out
    code, out, err = invoke(capsys, "ports", "set", system, "exchange55", "ds=1100", "-o", out_file, "--force",
                            "--json")
    assert code == 0
    document = json.loads(out)
    assert document["written"] is True
    assert [(f["code"], f["level"]) for f in document["findings"]] == [("P-ABOVE-1023", "warning"),
                                                                      ("P-DYNAMIC", "warning")]
    assert document["findings"][0]["message"].endswith("(forced)")
    assert dword_at(out_file, DS, "TCP/IP port") == (4, struct.pack("<I", 1100))


def test_json_report_of_the_main_job(capsys, tmp_path):
    system = sample(tmp_path)
    code, out, _ = invoke(capsys, "ports", "set", system, "exchange55", "ds=1225", "is=1226",
                          "-o", tmp_path / "out", "--json")
    assert code == 0
    document = json.loads(out)
    assert document == {
        "command": "set", "hive": str(system), "output": str(tmp_path / "out"), "written": True, "ok": True,
        "profile": "exchange55",
        "os": {"generation": "nt4", "how": "format 1.3 and no Vista markers (BFE, Control\\Nsi): NT 4.0 or 2000"},
        "control_sets": ["ControlSet001"],
        "control_set_choice": "CurrentControlSet -> ControlSet001 (Select\\Default = Select\\Current)",
        "changes": [
            {"setting": "ds", "service": "MSExchangeDS", "control_set": "ControlSet001", "key": DS,
             "value": "TCP/IP port", "old": None, "new": {"type": "REG_DWORD", "data": 1225, "hex": "0x4c9"},
             "source": "Q148732, Q155831"},
            {"setting": "is", "service": "MSExchangeIS", "control_set": "ControlSet001", "key": IS,
             "value": "TCP/IP port", "old": None, "new": {"type": "REG_DWORD", "data": 1226, "hex": "0x4ca"},
             "source": "Q148732, Q155831"},
        ],
        "findings": [
            {"code": "P-DYNAMIC", "level": "warning", "setting": "ds", "source": "Q196271, Q194952",
             "message": "port 1225 is inside the dynamic (ephemeral) range 1024-5000 (the default MaxUserPort "
                        "5000); ports above it are safer"},
            {"code": "P-DYNAMIC", "level": "warning", "setting": "is", "source": "Q196271, Q194952",
             "message": "port 1226 is inside the dynamic (ephemeral) range 1024-5000 (the default MaxUserPort "
                        "5000); ports above it are safer"},
        ],
        "reserved_ports": [],
        "warnings": [],
        "changed": True,
        "reminders": [
            "Restart the server (or the services) for the new ports to take effect (Q148732).",
            "Open TCP 135 (RPC endpoint mapper) and TCP 1225, 1226 on the firewall (hivetool ports firewall "
            "can write the rules).",
        ],
    }


def test_existing_value_of_another_type_needs_force(capsys, tmp_path):
    system = sample(tmp_path)
    assert invoke(capsys, "set", system, DS, "TCP/IP Port", "--type", "sz", "--data", "1225", "--in-place")[0] == 0
    code, _, err = invoke(capsys, "ports", "set", system, "exchange55", "ds=5001", "-o", tmp_path / "out")
    assert code == 4
    assert err == (f"hivetool: error: {DS}\\TCP/IP Port is REG_SZ of 10 bytes, not REG_DWORD; --force overwrites it\n")
    code, _, _ = invoke(capsys, "ports", "set", system, "exchange55", "ds=5001", "-o", tmp_path / "out", "--force")
    assert code == 0
    values = Hive.open(tmp_path / "out").key(DS).values()
    # matched case-insensitively: the stored spelling stays, no duplicate appears
    assert [(v.name, v.type, v.raw) for v in values] == [("TCP/IP Port", 4, struct.pack("<I", 5001))]


def test_profile_for_the_wrong_hive_is_refused(capsys, tmp_path):
    code, _, err = invoke(capsys, "ports", "set", sample(tmp_path), "rpc-internet", "ports=5001-5200",
                          "-o", tmp_path / "out")
    assert code == 4 and "profile rpc-internet belongs in a SOFTWARE hive" in err
    code, _, err = invoke(capsys, "ports", "set", sample(tmp_path, "SOFTWARE"), "exchange55", "ds=5001",
                          "-o", tmp_path / "out")
    assert code == 4 and "profile exchange55 belongs in a SYSTEM hive" in err
    assert not (tmp_path / "out").exists()


def test_exchange2010_creates_its_keys_and_stores_the_address_book_port_as_text(capsys, tmp_path):
    out_file = tmp_path / "out"
    code, out, err = invoke(capsys, "ports", "set", sample(tmp_path, "SYSTEM-cas2010"), "exchange2010", "rpc=59531",
                            "ab=59532", "-o", out_file)
    assert code == 0, err
    assert "os: vista+ (ControlSet001\\Services\\BFE exists (Windows Vista or later))" in out
    hive = Hive.open(out_file)
    assert hive.key(r"ControlSet001\Services\MSExchangeRPC\ParametersSystem").value("TCP/IP Port").raw == \
        struct.pack("<I", 59531)
    ab = hive.key(r"ControlSet001\Services\MSExchangeAB\Parameters").value("RpcTcpPort")
    assert (ab.type, ab.raw) == (1, "59532".encode("utf-16-le") + b"\0\0")
    assert "findings:" not in out


def test_ad_ports_must_differ_and_count_what_is_already_pinned(capsys, tmp_path):
    system = sample(tmp_path, "SYSTEM-dc2008")
    code, out, _ = invoke(capsys, "ports", "set", system, "ad", "ntds=50000", "netlogon=50000", "-o", tmp_path / "x")
    assert code == 4
    assert "error: netlogon: port 50000 is already pinned for ntds [P-DUPLICATE" in out
    assert invoke(capsys, "ports", "set", system, "ad", "ntds=50000", "--in-place")[0] == 0
    code, out, _ = invoke(capsys, "ports", "set", system, "ad", "netlogon=50000", "-o", tmp_path / "x")
    assert code == 4
    assert ("error: netlogon: port 50000 is already pinned for Services\\NTDS\\Parameters\\TCP/IP Port "
            "(already in ControlSet001)") in out
    # rewriting the same value with the same port is not a clash with itself
    assert invoke(capsys, "ports", "set", system, "ad", "ntds=50000", "--in-place")[0] == 0


def test_reserve_adds_reserved_ports_once_and_only_before_vista(capsys, tmp_path):
    system = sample(tmp_path)
    for _ in range(2):
        assert invoke(capsys, "ports", "set", system, "exchange55", "ds=5001", "is=5002", "--reserve",
                      "--in-place")[0] == 0
    reserved = Hive.open(system).key(r"ControlSet001\Services\Tcpip\Parameters").value("ReservedPorts")
    assert (reserved.type, reserved.data) == (7, ["5001-5001", "5002-5002"])
    code, _, err = invoke(capsys, "ports", "set", sample(tmp_path, "SYSTEM-dc2008"), "ad", "ntds=50000", "--reserve",
                          "-o", tmp_path / "x")
    assert code == 4 and "ReservedPorts is not implemented on Windows Vista and later (KB 812873)" in err


def test_rpc_pool_in_software_and_the_pool_warning(capsys, tmp_path):
    software = sample(tmp_path, "SOFTWARE")
    code, out, err = invoke(capsys, "ports", "set", software, "rpc-internet", "ports=5001-5200", "available=Y",
                            "internet=Y", "--in-place")
    assert code == 0, err
    key = Hive.open(software).key(r"Microsoft\Rpc\Internet")
    assert (key.value("Ports").type, key.value("Ports").data) == (7, ["5001-5200"])
    assert key.value("PortsInternetAvailable").data == "Y"
    assert "os: 2003 (Microsoft\\Windows NT\\CurrentVersion\\CurrentVersion is 5.2)" in out
    code, out, _ = invoke(capsys, "ports", "set", sample(tmp_path), "exchange55", "ds=5100", "-o", tmp_path / "x",
                          "--software", software)
    assert code == 0
    assert "warning: ds: port 5100 lies inside the RPC dynamic pool configured in SOFTWARE\\Microsoft\\Rpc\\Internet" in out


def test_check_is_read_only_and_reports_mismatches(capsys, tmp_path):
    system = sample(tmp_path)
    assert invoke(capsys, "ports", "set", system, "exchange55", "ds=5001", "is=5002", "--in-place")[0] == 0
    os.chmod(system, 0o444)
    before = (system.read_bytes(), system.stat().st_mtime_ns)
    code, out, _ = invoke(capsys, "ports", "check", system, "exchange55", "ds=5001", "is=5003")
    assert code == 1
    assert "5002 (0x138a)  5003 (0x138b)  differs" in out
    code, out, _ = invoke(capsys, "ports", "check", system, "exchange55")
    assert code == 1  # sa and mta are installed but not pinned
    assert out.rstrip().endswith("not pinned: sa, mta")
    code, out, _ = invoke(capsys, "ports", "check", system)
    assert code == 0
    assert "ds (MSExchangeDS)" in out and "is (MSExchangeIS)" in out
    assert (system.read_bytes(), system.stat().st_mtime_ns) == before


def test_firewall_rules(capsys, tmp_path):
    code, out, _ = invoke(capsys, "ports", "firewall", "exchange55", "ds=1225", "is=1226")
    assert (code, out) == (0, "# static RPC ports of profile exchange55\n"
                               "# TCP 135 (RPC endpoint mapper) and the pinned RPC ports; load with nft -f\n"
                               'add rule inet filter input tcp dport { 135, 1225, 1226 } accept comment '
                               '"hivetool: static RPC ports of profile exchange55"\n')
    code, out, _ = invoke(capsys, "ports", "firewall", "exchange55", "ds=1225", "--rules", "iptables")
    assert out.splitlines()[1:] == [
        'iptables -A INPUT -p tcp --dport 135 -j ACCEPT -m comment --comment "hivetool: RPC endpoint mapper"',
        'iptables -A INPUT -p tcp --dport 1225 -j ACCEPT -m comment --comment "hivetool: exchange55 ds"']
    system = sample(tmp_path)
    invoke(capsys, "ports", "set", system, "exchange55", "ds=5001", "is=5002", "--in-place")
    code, out, _ = invoke(capsys, "ports", "firewall", "--from", system, "--rules", "json")
    assert json.loads(out)["ports"] == [
        {"port": "135", "for": "RPC endpoint mapper"},
        {"port": "5001", "for": "Services\\MSExchangeDS\\Parameters\\TCP/IP port"},
        {"port": "5002", "for": "Services\\MSExchangeIS\\ParametersSystem\\TCP/IP port"}]


def test_list_names_every_profile(capsys):
    code, out, _ = invoke(capsys, "ports", "list", "--json")
    assert code == 0
    document = json.loads(out)
    assert [p["profile"] for p in document] == ["exchange55", "exchange2000", "exchange2003", "exchange2010", "ad",
                                                "rpc-internet"]
    ex55 = {s["setting"]: (s["key"], s["value"], s["type"]) for s in document[0]["settings"]}
    assert ex55["ds"] == ("Services\\MSExchangeDS\\Parameters", "TCP/IP port", "REG_DWORD")
    assert ex55["mta"] == ("Services\\MSExchangeMTA\\Parameters", "TCP/IP port for RPC listens", "REG_DWORD")


@pytest.mark.parametrize("args, message", [
    (["ds"], "write SETTING=VALUE"),
    (["xx=5000"], "profile exchange55 has no setting 'xx'"),
    (["ds=abc"], "a port is a decimal number"),
    (["ds=5000", "ds=5001"], "given twice"),
])
def test_bad_settings_are_usage_errors(capsys, tmp_path, args, message):
    code, _, err = invoke(capsys, "ports", "set", sample(tmp_path), "exchange55", *args, "-o", tmp_path / "x")
    assert code == 2 and message in err


SYSTEM_HIVES = [rel for rel in files_with_role("edit") if Path(rel).name == "SYSTEM"]


@pytest.mark.slow
@pytest.mark.parametrize("relative", SYSTEM_HIVES or [None])
def test_real_system_hives(capsys, tmp_path, corpus_copy, relative):
    """Copy a real SYSTEM hive, install the services with mkkey, pin the ports: the value
    lands in the set Select names, and every independent reader agrees."""
    if relative is None:
        require_corpus()
        pytest.skip("no SYSTEM hive in the corpus")
    system = corpus_copy(relative)
    hive = Hive.open(system)
    problems_before = {(f.code, f.message) for f in check_hive(hive).problems}
    default = hive.key("Select").value("Default").data
    target_set = f"ControlSet{default:03d}"
    for service in (r"MSExchangeDS\Parameters", r"MSExchangeIS\ParametersSystem"):
        assert invoke(capsys, "mkkey", system, rf"{target_set}\Services\{service}", "--in-place")[0] == 0
    out_file = tmp_path / "out"
    code, out, err = invoke(capsys, "ports", "set", system, "exchange55", "ds=5001", "is=5002", "-o", out_file,
                            "--timestamp", TS, "--verify")
    assert code == 0, err
    assert f"control set: CurrentControlSet -> {target_set}" in out
    assert dword_at(out_file, rf"{target_set}\Services\MSExchangeDS\Parameters", "TCP/IP port")[1] == \
        struct.pack("<I", 5001)
    # the hive's own pre-existing findings stay; the edit adds none
    assert {(f.code, f.message) for f in check_hive(Hive.open(out_file)).problems} == problems_before
    content = oracles.read_own(out_file)
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, out_file, content)
