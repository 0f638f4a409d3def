"""Exact-output tests of the commands on one hive, through the real entry point."""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from hivetool import Hive
from hivetool.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM"
DS = r"ControlSet001\Services\MSExchangeDS\Parameters"
TS = "2024-05-01T00:00:00Z"


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def system(tmp_path) -> Path:
    target = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLE, target)
    return target


def test_readme_main_job_sets_the_dword(capsys, system, tmp_path):
    out_file = tmp_path / "SYSTEM.patched"
    code, out, err = invoke(capsys, "set", str(system), DS, "TCP/IP port", "--type", "dword", "--data", "1225",
                            "-o", str(out_file), "--timestamp", TS)
    assert code == 0
    assert out == ""
    assert err == f'created {DS}\\"TCP/IP port" = REG_DWORD (4 bytes) -> {out_file}\n'
    value = Hive.open(out_file).key(DS).value("TCP/IP port")
    assert (value.type, value.raw) == (4, struct.pack("<I", 1225))
    assert system.read_bytes() == SAMPLE.read_bytes()


def test_same_command_same_bytes(capsys, system, tmp_path):
    outputs = []
    for name in ("a", "b"):
        target = tmp_path / name
        assert invoke(capsys, "set", str(system), DS, "TCP/IP port", "--type", "dword", "--data", "0x4c9",
                      "-o", str(target), "--timestamp", TS)[0] == 0
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]


def test_source_date_epoch_is_used_when_no_flag(capsys, system, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714521600")  # 2024-05-01T00:00:00Z
    assert invoke(capsys, "mkkey", str(system), "New", "-o", str(tmp_path / "out"))[0] == 0
    assert Hive.open(tmp_path / "out").key("New").last_write_iso == "2024-05-01T00:00:00Z"


def test_get_prints_bare_data_and_json(capsys, system):
    assert invoke(capsys, "set", str(system), DS, "TCP/IP port", "--type", "dword", "--data", "1225",
                  "--in-place", "--timestamp", TS)[0] == 0
    code, out, _ = invoke(capsys, "get", str(system), DS.lower(), "tcp/ip PORT")
    assert (code, out) == (0, "1225\n")
    code, out, _ = invoke(capsys, "get", str(system), DS, "TCP/IP port", "--json")
    assert json.loads(out) == {"name": "TCP/IP port", "type": "REG_DWORD", "type_id": 4, "size": 4,
                               "data": 1225, "raw": "c9040000", "key": DS}


def test_case_variant_updates_the_existing_value(capsys, system):
    for name, number in (("TCP/IP port", "1225"), ("TCP/IP Port", "1300")):
        invoke(capsys, "set", str(system), DS, name, "--type", "dword", "--data", number, "--in-place")
    values = Hive.open(system).key(DS).values()
    assert [(v.name, v.data) for v in values] == [("TCP/IP port", 1300)]


def test_value_types_from_the_command_line(capsys, system):
    cases = [
        ("sz", ["héllo"], "héllo".encode("utf-16-le") + b"\0\0"),
        ("expand_sz", ["%SystemRoot%"], "%SystemRoot%".encode("utf-16-le") + b"\0\0"),
        ("multi_sz", ["a", "b"], "a\0b\0\0".encode("utf-16-le")),
        ("multi_sz", [], b"\0\0"),
        ("dword_be", ["1"], b"\0\0\0\1"),
        ("qword", ["0x0102030405060708"], bytes(range(8, 0, -1))),
        ("binary", ["01, 02 ff"], b"\x01\x02\xff"),
        ("none", [""], b""),
        ("0x4000", ["aa bb"], b"\xaa\xbb"),
    ]
    for index, (type_text, items, raw) in enumerate(cases):
        args = ["set", str(system), "Test", f"v{index}", "--type", type_text, "--create-keys", "--in-place"]
        for item in items:
            args += ["--data", item]
        code, _, err = invoke(capsys, *args)
        assert code == 0, err
        assert Hive.open(system).key("Test").value(f"v{index}").raw == raw, type_text


def test_data_file_stores_bytes_as_they_are(capsys, system, tmp_path):
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 200)
    assert invoke(capsys, "set", str(system), DS, "Blob", "--type", "binary", "--data-file", str(blob),
                  "--in-place")[0] == 0
    assert Hive.open(system).key(DS).value("Blob").raw == blob.read_bytes()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--type", "dword", "--data", "4294967296"], 2, "does not fit an unsigned 32-bit value"),
        (["--type", "dword", "--data", "twelve"], 2, "is not a number"),
        (["--type", "bogus", "--data", "1"], 2, "unknown value type 'bogus'"),
        (["--type", "binary", "--data", "zz"], 2, "is not hex bytes"),
        (["--type", "dword"], 2, "give the data with --data D or --data-file F"),
    ],
)
def test_bad_data_is_a_usage_error(capsys, system, tmp_path, args, code, message):
    got, out, err = invoke(capsys, "set", str(system), DS, "v", *args, "-o", str(tmp_path / "out"))
    assert got == code
    assert message in err
    assert not (tmp_path / "out").exists()


def test_write_target_rules(capsys, system, tmp_path):
    base = ["set", str(system), DS, "v", "--type", "dword", "--data", "1"]
    code, _, err = invoke(capsys, *base)
    assert code == 2 and "-o OUT for a new file, or --in-place" in err
    code, _, err = invoke(capsys, *base, "-o", str(system))
    assert code == 2 and "names an input of this command" in err and "use --in-place" in err
    code, _, err = invoke(capsys, *base, "-o", str(tmp_path / "missing" / "out"))
    assert code == 6 and "does not exist" in err
    assert system.read_bytes() == SAMPLE.read_bytes()


def test_missing_key_and_value_exit_5(capsys, system, tmp_path):
    code, _, err = invoke(capsys, "set", str(system), r"ControlSet001\Nope", "v", "--type", "dword",
                          "--data", "1", "-o", str(tmp_path / "out"))
    assert code == 5 and "not found" in err
    assert not (tmp_path / "out").exists()
    code, _, err = invoke(capsys, "get", str(system), DS, "absent")
    assert code == 5 and err == "hivetool: error: value 'absent' not found in key " + repr(DS) + "\n"
    code, _, err = invoke(capsys, "rm", str(system), DS, "@", "--in-place")
    assert code == 5 and "the default value not found" in err


def test_create_keys_reports_each_new_key(capsys, system, tmp_path):
    code, _, err = invoke(capsys, "set", str(system), r"A\B", "@", "--type", "sz", "--data", "x",
                          "--create-keys", "-o", str(tmp_path / "out"), "--timestamp", TS)
    assert code == 0
    assert err.splitlines()[:2] == ["created key A", r"created key A\B"]
    assert Hive.open(tmp_path / "out").key(r"a\b").value("").data == "x"


def test_rm_value_key_and_subtree(capsys, system):
    invoke(capsys, "set", str(system), DS, "v", "--type", "dword", "--data", "1", "--in-place")
    code, _, err = invoke(capsys, "rm", str(system), DS, "v", "--in-place")
    assert (code, err) == (0, f'deleted value {DS}\\"v" -> {system}\n')
    code, _, err = invoke(capsys, "rm", str(system), r"ControlSet001\Services\MSExchangeDS", "--in-place")
    assert code == 4 and "use -r" in err
    code, _, err = invoke(capsys, "rm", str(system), r"ControlSet001\Services\MSExchangeDS", "-r", "--in-place")
    assert (code, err) == (0, f"deleted key ControlSet001\\Services\\MSExchangeDS and 1 key(s) below it -> {system}\n")
    assert not Hive.open(system).has_key(r"ControlSet001\Services\MSExchangeDS")
    code, _, err = invoke(capsys, "rm", str(system), "\\", "--in-place")
    assert code == 4 and "root key" in err


def test_mkkey_existing_key_is_reported(capsys, system):
    before = system.stat().st_mtime_ns, system.read_bytes()
    code, _, err = invoke(capsys, "mkkey", str(system), "select", "--in-place")
    assert (code, err) == (0, "key Select already exists; unchanged: the target already holds this, nothing written\n")
    assert (system.stat().st_mtime_ns, system.read_bytes()) == before


def test_new_hives_of_both_versions(capsys, tmp_path):
    for version in ("1.3", "1.5"):
        target = tmp_path / f"new{version}"
        code, _, err = invoke(capsys, "new", str(target), "--hive-version", version, "--root-name", "Wurzel",
                              "--timestamp", TS)
        assert code == 0, err
        hive = Hive.open(target)
        assert (hive.version, hive.root.name, hive.dirty) == (version, "Wurzel", False)


def test_ls_text_and_json(capsys, system):
    code, out, _ = invoke(capsys, "ls", str(system), "Select")
    assert code == 0
    assert out == (
        "[Select]  last write 2001-05-01T12:00:00Z\n"
        '  "Current" = REG_DWORD 1 (0x1)\n'
        '  "Default" = REG_DWORD 1 (0x1)\n'
        '  "Failed" = REG_DWORD 0 (0x0)\n'
        '  "LastKnownGood" = REG_DWORD 1 (0x1)\n'
    )
    code, out, _ = invoke(capsys, "ls", str(system), r"ControlSet001\Services", "-r", "--json")
    document = json.loads(out)
    assert [k["path"] for k in document][:3] == [
        r"ControlSet001\Services", r"ControlSet001\Services\MSExchangeDS",
        r"ControlSet001\Services\MSExchangeDS\Parameters"]
    assert document[0]["subkeys"] == ["MSExchangeDS", "MSExchangeIS", "MSExchangeMTA", "MSExchangeSA", "Tcpip"]


def test_malformed_hive_exit_3_with_offset_and_no_traceback(capsys, tmp_path):
    bad = tmp_path / "bad"
    data = bytearray(SAMPLE.read_bytes())
    data[0:4] = b"rexf"
    bad.write_bytes(bytes(data))
    code, out, err = invoke(capsys, "ls", str(bad))
    assert code == 3
    assert err == f"hivetool: error: {bad}: file offset 0x0: signature is b'rexf', expected b'regf': not a registry hive\n"
    assert "Traceback" not in out + err


def test_unreadable_input_is_exit_6(capsys, tmp_path):
    code, _, err = invoke(capsys, "info", str(tmp_path / "nope"))
    assert code == 6 and "no such file" in err
