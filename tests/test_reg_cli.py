"""Exact-output tests of export, import, diff, reg check and reg fmt, through the real entry point."""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from corpus import corpus_path, require_corpus, role_params
from hivetool import Hive
from hivetool.cli import main
from hivetool.regfile.export import export_hive
from hivetool.timeutil import Clock, parse_timestamp

SAMPLES = Path(__file__).resolve().parent.parent / "sample_hives"
TS = "2024-05-01T00:00:00Z"
CLOCK = Clock(parse_timestamp(TS))
SYSTEM = "HKEY_LOCAL_MACHINE\\SYSTEM"
BOM_HEADER = "\ufeffWindows Registry Editor Version 5.00\r\n\r\n"


def invoke(capsysbinary, *args: str) -> tuple[int, bytes, str]:
    code = main([str(arg) for arg in args])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def reg_file(path: Path, text: str) -> Path:
    path.write_bytes((BOM_HEADER + text.replace("\n", "\r\n")).encode("utf-16-le"))
    return path


def dword(number: int) -> bytes:
    return struct.pack("<I", number)


@pytest.fixture
def system(tmp_path) -> Path:
    """A small SYSTEM hive: Select (Current = Default = 1), ControlSet001 and ControlSet002."""
    hive = Hive.new(5, "ROOT", CLOCK)
    for number in (1, 2):
        hive.create_key(f"ControlSet{number:03d}\\Services\\Tcpip\\Parameters")
    hive.set_value("ControlSet001\\Services\\Tcpip\\Parameters", "Hostname", 1, "EXCH55".encode("utf-16-le") + b"\0\0")
    hive.create_key("Select")
    for name in ("Current", "Default"):
        hive.set_value("Select", name, 4, dword(1))
    target = tmp_path / "SYSTEM"
    hive.save(target)
    return target


# ------------------------------------------------------------------------------ export
def test_export_to_stdout(capsysbinary, system):
    code, out, err = invoke(capsysbinary, "export", system)
    assert code == 0
    assert out.decode("utf-16") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[{SYSTEM}]\r\n\r\n[{SYSTEM}\\ControlSet001]\r\n\r\n[{SYSTEM}\\ControlSet001\\Services]\r\n\r\n"
        f"[{SYSTEM}\\ControlSet001\\Services\\Tcpip]\r\n\r\n[{SYSTEM}\\ControlSet001\\Services\\Tcpip\\Parameters]\r\n"
        "\"Hostname\"=\"EXCH55\"\r\n\r\n"
        f"[{SYSTEM}\\ControlSet002]\r\n\r\n[{SYSTEM}\\ControlSet002\\Services]\r\n\r\n"
        f"[{SYSTEM}\\ControlSet002\\Services\\Tcpip]\r\n\r\n[{SYSTEM}\\ControlSet002\\Services\\Tcpip\\Parameters]\r\n\r\n"
        f"[{SYSTEM}\\Select]\r\n\"Current\"=dword:00000001\r\n\"Default\"=dword:00000001\r\n\r\n")
    assert err == (f"root: {SYSTEM} (content: Select and ControlSet001 at the top)\n"
                   f"exported 10 key(s) and 3 value(s) of {SYSTEM}\n")


def test_export_of_a_key_through_current_control_set_to_a_file(capsysbinary, system, tmp_path):
    out_file = tmp_path / "tcpip.reg"
    code, out, err = invoke(capsysbinary, "export", system, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip",
                            "-o", out_file)
    assert (code, out) == (0, b"")
    assert err == (f"root: {SYSTEM} (content: Select and ControlSet001 at the top)\n"
                   "control set: CurrentControlSet -> ControlSet001 (Select\\Current)\n"
                   f"exported 2 key(s) and 1 value(s) of {SYSTEM}\\ControlSet001\\Services\\Tcpip -> {out_file}\n")
    assert out_file.read_bytes() == export_hive(Hive.open(system), SYSTEM, "ControlSet001\\Services\\Tcpip").data
    code, out, _ = invoke(capsysbinary, "export", system, "ControlSet001\\Services\\Tcpip")
    assert out == out_file.read_bytes()


def test_export_needs_a_root_when_nothing_tells(capsysbinary, tmp_path):
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("Whatever")
    hive.save(tmp_path / "mystery.hiv")
    code, out, err = invoke(capsysbinary, "export", tmp_path / "mystery.hiv")
    assert (code, out) == (2, b"")
    assert err == ("hivetool: error: cannot tell which registry path mystery.hiv is mounted at (neither its content "
                   "nor its file name says); give it with --root, e.g. --root 'HKEY_LOCAL_MACHINE\\SOFTWARE'\n")
    code, out, err = invoke(capsysbinary, "export", tmp_path / "mystery.hiv", "--root", "HKU\\S-1-5-21-7")
    assert code == 0 and out.decode("utf-16").startswith(BOM_HEADER[1:] + "[HKEY_USERS\\S-1-5-21-7]\r\n")
    assert err.splitlines()[0] == ("root: HKEY_USERS\\S-1-5-21-7 (given with --root; HKU is a short root name; "
                                   "Windows documents only HKEY_USERS (written out in full))")


def test_export_regedit4_refuses_what_the_code_page_cannot_hold(capsysbinary, tmp_path):
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("Software")
    hive.set_value("Software", "Name", 1, "日本".encode("utf-16-le") + b"\0\0")
    hive.save(tmp_path / "NTUSER.DAT")
    code, out, err = invoke(capsysbinary, "export", tmp_path / "NTUSER.DAT", "--regedit4", "-o", tmp_path / "x.reg")
    assert code == 4 and not (tmp_path / "x.reg").exists()
    assert err.splitlines()[-1] == (
        "hivetool: error: HKEY_CURRENT_USER\\Software 'Name': the data of this type-1 value cannot be written in "
        "code page cp1252 without change; write Windows Registry Editor 5.00 (drop --regedit4), or accept the "
        "change with --regedit-compat")
    code, out, err = invoke(capsysbinary, "export", tmp_path / "NTUSER.DAT", "--regedit4", "--regedit-compat")
    assert code == 0
    assert out == b'REGEDIT4\r\n\r\n[HKEY_CURRENT_USER]\r\n\r\n[HKEY_CURRENT_USER\\Software]\r\n"Name"="??"\r\n\r\n'
    assert ("hivetool: warning: HKEY_CURRENT_USER\\Software 'Name': string: characters outside cp1252 "
            "written as '?'") in err.splitlines()


# ------------------------------------------------------------------------------ import
PORT = (f"[{SYSTEM}\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters]\n"
        "\"TCP/IP port\"=dword:000004c9\n")


def test_import_writes_through_current_control_set_and_says_where(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "port.reg", PORT)
    out_file = tmp_path / "SYSTEM.patched"
    before = system.read_bytes()
    code, out, err = invoke(capsysbinary, "import", system, patch, "-o", out_file, "--timestamp", TS)
    assert (code, out) == (0, b"")
    assert err == (f"root: {SYSTEM} (content: Select and ControlSet001 at the top)\n"
                   "control set: CurrentControlSet -> ControlSet001 (Select\\Default = Select\\Current)\n"
                   f"2 key(s) created, 0 deleted; 1 value(s) set, 0 deleted -> {out_file}\n")
    value = Hive.open(out_file).key("ControlSet001\\Services\\MSExchangeDS\\Parameters").value("TCP/IP port")
    assert (value.type, value.raw) == (4, dword(1225))
    assert system.read_bytes() == before  # the input is never touched


def test_import_auto_writes_both_sets_when_default_and_current_differ(capsysbinary, tmp_path):
    source = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLES / "SYSTEM-current-differs", source)
    hive = Hive.open(source)
    default = struct.unpack("<I", hive.key("Select").value("Default").raw)[0]
    current = struct.unpack("<I", hive.key("Select").value("Current").raw)[0]
    assert default != current
    patch = reg_file(tmp_path / "port.reg", PORT)
    code, _, err = invoke(capsysbinary, "import", source, patch, "-o", tmp_path / "out", "--timestamp", TS)
    assert code == 0
    lines = err.splitlines()
    assert lines[1] == (f"hivetool: warning: Select\\Default names ControlSet{default:03d} but Select\\Current names "
                        f"ControlSet{current:03d}: writing both (--control-set default or current writes one)")
    assert lines[2] == (f"control set: CurrentControlSet -> ControlSet{default:03d} (Select\\Default) and "
                        f"ControlSet{current:03d} (Select\\Current)")
    written = Hive.open(tmp_path / "out")
    for number in (default, current):
        assert written.key(f"ControlSet{number:03d}\\Services\\MSExchangeDS\\Parameters").value("TCP/IP port").raw \
            == dword(1225)
    code, _, err = invoke(capsysbinary, "import", source, patch, "-o", tmp_path / "out2", "--control-set", "current")
    assert code == 0 and err.splitlines()[1] == f"control set: CurrentControlSet -> ControlSet{current:03d} (Select\\Current)"


def test_strict_import_refuses_a_line_windows_would_skip(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "bad.reg", f"[{SYSTEM}\\Setup]\n\"ok\"=dword:1\n\"bad\"=dword:123456789\n")
    code, out, err = invoke(capsysbinary, "import", system, patch, "-o", tmp_path / "out")
    assert (code, out) == (3, b"")
    assert not (tmp_path / "out").exists()
    first, last = err.splitlines()[0], err.splitlines()[-1]
    assert first.startswith(f"{patch}:5:21: error: ")  # the ninth digit
    assert last.startswith(f"hivetool: error: {patch}:5:21: ")
    assert last.endswith("; nothing written (--lenient skips such lines, as Windows does)")


def test_lenient_import_skips_those_lines_and_lists_each(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "bad.reg", f"[{SYSTEM}\\Setup]\n\"ok\"=dword:1\n\"bad\"=dword:123456789\n")
    code, out, err = invoke(capsysbinary, "import", system, patch, "-o", tmp_path / "out", "--lenient")
    assert code == 0
    assert err.splitlines()[0].startswith(f"{patch}:5:21: warning: skipped, as Windows would: ")
    assert {v.name for v in Hive.open(tmp_path / "out").key("Setup").values()} == {"ok"}


def test_foreign_keys_are_refused_or_skipped(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "mixed.reg", f"[{SYSTEM}\\Setup]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\n\"v\"=\"1\"\n")
    code, _, err = invoke(capsysbinary, "import", system, patch, "-o", tmp_path / "out")
    assert code == 4 and not (tmp_path / "out").exists()
    assert err.splitlines()[-1] == (
        f"hivetool: error: 1 key(s) lie outside {SYSTEM}, the part of the registry this hive holds: "
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor. Nothing was written; --skip-foreign applies the rest and lists these")
    code, _, err = invoke(capsysbinary, "import", system, patch, "-o", tmp_path / "out", "--skip-foreign")
    assert code == 0
    assert err.splitlines()[1:3] == [
        f"hivetool: warning: skipped 2 operation(s) on 1 key(s) outside {SYSTEM}:",
        "  HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor"]
    assert Hive.open(tmp_path / "out").has_key("Setup")


def test_dry_run_prints_the_operations_and_writes_nothing(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "port.reg", PORT)
    code, out, err = invoke(capsysbinary, "import", system, patch, "--dry-run")
    assert code == 0
    assert out.decode().splitlines() == [
        f"create key  {SYSTEM}\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters  ({patch}:3)  "
        "-> ControlSet001\\Services\\MSExchangeDS\\Parameters",
        f"set value   {SYSTEM}\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters 'TCP/IP port' type 4 "
        f"(4 bytes)  ({patch}:4)  -> ControlSet001\\Services\\MSExchangeDS\\Parameters",
    ]
    assert err.splitlines()[-1] == "dry run: 2 operation(s), nothing written"


def test_import_without_a_write_target_is_a_usage_error(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "port.reg", PORT)
    code, _, err = invoke(capsysbinary, "import", system, patch)
    assert code == 2
    assert err == "hivetool: error: say where to write: -o OUT for a new file, or --in-place to replace the input\n"


def test_import_with_verify_and_in_place(capsysbinary, system, tmp_path):
    patch = reg_file(tmp_path / "port.reg", PORT + f"\n[-{SYSTEM}\\ControlSet002]\n")
    code, _, err = invoke(capsysbinary, "import", system, patch, "--in-place", "--verify", "--timestamp", TS)
    assert code == 0, err
    hive = Hive.open(system)
    assert not hive.has_key("ControlSet002")
    assert hive.key("ControlSet001\\Services\\MSExchangeDS\\Parameters").value("TCP/IP port").raw == dword(1225)


def test_export_import_export_through_the_cli_is_byte_identical(capsysbinary, system, tmp_path):
    exported = tmp_path / "all.reg"
    assert invoke(capsysbinary, "export", system, "-o", exported)[0] == 0
    assert invoke(capsysbinary, "new", tmp_path / "empty", "--timestamp", TS)[0] == 0
    code, _, err = invoke(capsysbinary, "import", tmp_path / "empty", exported, "--root", SYSTEM,
                          "-o", tmp_path / "rebuilt", "--timestamp", TS)
    assert code == 0, err
    code, out, _ = invoke(capsysbinary, "export", tmp_path / "rebuilt", "--root", SYSTEM)
    assert out == exported.read_bytes()


# ------------------------------------------------------------------------------ diff
def test_diff_writes_only_what_changed(capsysbinary, system, tmp_path):
    changed = Hive.open(system, CLOCK)
    changed.set_value("ControlSet001\\Services\\Tcpip\\Parameters", "Hostname", 1, "NEW".encode("utf-16-le") + b"\0\0")
    changed.delete_key("ControlSet002", recursive=True)
    changed.create_key("Setup")
    changed.save(tmp_path / "SYSTEM.new")
    code, out, err = invoke(capsysbinary, "diff", system, tmp_path / "SYSTEM.new")
    assert code == 0
    assert out.decode("utf-16") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[-{SYSTEM}\\ControlSet002]\r\n\r\n"
        f"[{SYSTEM}\\ControlSet001\\Services\\Tcpip\\Parameters]\r\n\"Hostname\"=\"NEW\"\r\n\r\n"
        f"[{SYSTEM}\\Setup]\r\n\r\n")
    assert err == (f"root: {SYSTEM} (content: Select and ControlSet001 at the top)\n"
                   "3 operation(s): 1 delete key, 1 set value, 1 create key\n")
    patch = tmp_path / "patch.reg"
    assert invoke(capsysbinary, "diff", system, tmp_path / "SYSTEM.new", "-o", patch)[0] == 0
    assert invoke(capsysbinary, "import", system, patch, "-o", tmp_path / "rebuilt")[0] == 0
    code, out, err = invoke(capsysbinary, "diff", tmp_path / "rebuilt", tmp_path / "SYSTEM.new")
    assert out.decode("utf-16") == "Windows Registry Editor Version 5.00\r\n\r\n"
    assert err.endswith("0 operation(s): no differences\n")


# ------------------------------------------------------------------------------ reg check, reg fmt
def test_reg_check_lists_every_diagnostic(capsysbinary, tmp_path):
    good = reg_file(tmp_path / "good.reg", f"[{SYSTEM}\\Setup]\n\"a\"=dword:00000001\n")
    bad = reg_file(tmp_path / "bad.reg", "[HKLM\\SYSTEM]\n\"a\"=dword:\n\"b\"=\"x\"#\n")
    code, out, err = invoke(capsysbinary, "reg", "check", good)
    assert (code, out.decode(), err) == (0, f"{good}: 0 error(s), 0 warning(s) (5.00, utf-16-le)\n", "")
    code, out, err = invoke(capsysbinary, "reg", "check", good, bad)
    lines = out.decode().splitlines()
    assert code == 1
    assert err == "hivetool: error: 1 of 2 file(s) hold lines Windows would skip or reject\n"
    assert [line.split(": ")[0] for line in lines] == [f"{good}", f"{bad}:3:2", f"{bad}:4:11", f"{bad}:5:8", f"{bad}"]
    assert lines[1].endswith("[R-KEY-SHORT-ROOT]") and ": warning: " in lines[1]
    assert lines[2].endswith("[R-DWORD-DIGITS]") and lines[3].endswith("[R-STRING-TRAILING]")
    assert lines[-1] == f"{bad}: 2 error(s), 1 warning(s) (5.00, utf-16-le)"


def test_reg_check_json_and_a_wrong_header(capsysbinary, tmp_path):
    wrong = tmp_path / "wrong.reg"
    wrong.write_bytes(b"regedit4\r\n")
    code, out, _ = invoke(capsysbinary, "reg", "check", wrong, "--json")
    assert code == 1
    document = json.loads(out)
    assert list(document[0]) == ["file", "encoding", "dialect", "diagnostics", "errors", "warnings"]
    assert (document[0]["errors"], document[0]["diagnostics"][0]["line"]) == (1, 1)


def test_reg_fmt_of_an_export_is_the_identity(capsysbinary, system, tmp_path):
    exported = tmp_path / "all.reg"
    assert invoke(capsysbinary, "export", system, "-o", exported)[0] == 0
    code, out, _ = invoke(capsysbinary, "reg", "fmt", exported)
    assert code == 0 and out == exported.read_bytes()


def test_reg_fmt_rewrites_in_regedit_layout(capsysbinary, tmp_path):
    messy = tmp_path / "messy.reg"
    messy.write_bytes((
        "REGEDIT4\n; a comment\n[HKEY_CURRENT_USER\\Software\\X]\n  \"A\" = DWORD_IS_NOT_HERE\n".replace(
            "DWORD_IS_NOT_HERE", "dword:4c9") +
        "\"B\"=hex:" + ",".join(["AB"] * 30) + "\n@=\"x\"\n[-HKEY_CURRENT_USER\\Software\\Y]\n").encode("cp1252"))
    code, out, err = invoke(capsysbinary, "reg", "fmt", messy)
    assert code == 0, err
    assert out.decode("utf-16") == (
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\X]\r\n"
        "\"A\"=dword:000004c9\r\n"
        "\"B\"=hex:" + ",".join(["ab"] * 23) + ",\\\r\n  " + ",".join(["ab"] * 7) + "\r\n"
        "@=\"x\"\r\n\r\n[-HKEY_CURRENT_USER\\Software\\Y]\r\n\r\n")
    code, out, _ = invoke(capsysbinary, "reg", "fmt", messy, "--regedit4")
    assert out.startswith(b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\X]\r\n")
    broken = reg_file(tmp_path / "broken.reg", "[HKEY_CURRENT_USER\\X]\n\"a\"=dword:xyz\n")
    code, out, err = invoke(capsysbinary, "reg", "fmt", broken)
    assert (code, out) == (3, b"")
    assert err.splitlines()[-1].endswith("; nothing written (`hivetool reg check` lists every such line)")


def test_encoding_names_the_code_page_of_files_without_a_bom(capsysbinary, tmp_path):
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.save(tmp_path / "empty")
    text = "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\K]\r\n\"v\"=\"\u00c3\u00a9\"\r\n"
    ansi = tmp_path / "ansi.reg"
    ansi.write_bytes(text.encode("cp1252"))  # the bytes C3 A9 happen to be valid UTF-8
    for options, expected in ((("--encoding", "cp1252"), "\u00c3\u00a9"), ((), "\u00e9")):
        code, _, err = invoke(capsysbinary, "import", tmp_path / "empty", ansi, "--root", "HKCU",
                              "-o", tmp_path / "out", *options)
        assert code == 0, err
        assert Hive.open(tmp_path / "out").key("K").value("v").data == expected
        assert ("UTF-8" in err) == (not options)


@pytest.mark.parametrize("relative", role_params(".reg"))
def test_reg_check_reports_on_every_real_file_without_crashing(capsysbinary, relative):
    path = corpus_path(relative) if relative else None
    if path is None:
        require_corpus()
        pytest.skip("no .reg files in the corpus")
    code, out, err = invoke(capsysbinary, "reg", "check", path)
    assert code in (0, 1)
    assert out.decode().splitlines()[-1].startswith(f"{path}: ")
    assert (code == 1) == (err != "") and "unexpected" not in err


def test_import_takes_several_files_in_order(capsysbinary, system, tmp_path):
    first = reg_file(tmp_path / "1.reg", f"[{SYSTEM}\\Setup]\n\"v\"=dword:00000001\n\"w\"=dword:00000001\n")
    second = reg_file(tmp_path / "2.reg", f"[{SYSTEM}\\Setup]\n\"v\"=dword:00000002\n\"w\"=-\n")
    code, _, err = invoke(capsysbinary, "import", system, first, second, "-o", tmp_path / "out")
    assert code == 0, err
    assert {v.name: v.raw for v in Hive.open(tmp_path / "out").key("Setup").values()} == {"v": dword(2)}
