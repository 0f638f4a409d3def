"""Windows images as one logical registry: finding the hives, mapping registry paths to them,
reading and writing through every command, and multi-hive writes that change all or nothing.

The fixture images (tests/images.py) are built from corpus hives and generated ones; every
hive a test writes is read back by our checker and the independent readers.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import oracles
from corpus import require_corpus
from hivetool.cli import main
from hivetool.regf.check import check_file
from hivetool.regf.hive import Hive
from images import ALICE, BOB, build_image, digests

REG_HEADER = "Windows Registry Editor Version 5.00\r\n\r\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    require_corpus()
    base = tmp_path_factory.mktemp("images")
    return {variant: build_image(base / variant, variant) for variant in ("modern", "xp", "dirty", "scrambled")}


@pytest.fixture
def image(built, tmp_path) -> Path:
    """A private copy of the modern image."""
    return Path(shutil.copytree(built["modern"], tmp_path / "image"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def readers_agree(path: Path, original: Path | None = None) -> None:
    """Every reader shows what our reader shows, and the checker finds no kind of problem the
    ``original`` (the hive before the edit) did not already have."""
    content = oracles.read_own(path)
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, path, content)
    known = {f.code for f in check_file(original).problems} if original else set()
    report = check_file(path)
    assert not [f for f in report.problems if f.code not in known], [f.line() for f in report.findings]


# ------------------------------------------------------------------ finding the hives
def test_image_info_finds_the_os_the_hives_and_the_users(built, capsys):
    code, out, _ = run(capsys, "image", "info", built["modern"], "--json")
    assert code == 0
    facts = json.loads(out)
    assert facts["os"]["ProductName"] == "Windows 10 Pro" and facts["os"]["CurrentBuild"] == "19045"
    assert facts["os"]["architecture"] == "x86"
    mounts = {hive["mount"]: hive["path"] for hive in facts["hives"]}
    assert mounts == {
        "HKEY_LOCAL_MACHINE\\SYSTEM": "Windows/System32/config/SYSTEM",
        "HKEY_LOCAL_MACHINE\\SOFTWARE": "Windows/System32/config/SOFTWARE",
        "HKEY_LOCAL_MACHINE\\SAM": "Windows/System32/config/SAM",
        "HKEY_LOCAL_MACHINE\\SECURITY": "Windows/System32/config/SECURITY",
        "HKEY_USERS\\.DEFAULT": "Windows/System32/config/DEFAULT",
        "HKEY_LOCAL_MACHINE\\BCD00000000": "Boot/BCD",
        f"HKEY_USERS\\{ALICE}": "Users/alice/NTUSER.DAT",
        f"HKEY_USERS\\{ALICE}_Classes": "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat",
        f"HKEY_USERS\\{BOB}": "Users/bob/NTUSER.DAT",
    }
    users = {user["sid"]: user for user in facts["users"]}
    assert users[ALICE]["ntuser"] and users[ALICE]["classes"] and not users[BOB]["classes"]
    assert "on drive D:" in users["S-1-5-21-9-9-9-1003"]["problem"]
    assert facts["default_profile"]["ntuser"] == "Users/Default/NTUSER.DAT"
    assert facts["control_sets"]["current"] == "ControlSet001"
    assert all(not hive["dirty"] for hive in facts["hives"])
    assert main(["info", str(built["modern"])]) == 0  # info on an image is image info


def test_xp_and_scrambled_layouts(built, capsys):
    code, out, _ = run(capsys, "image", "info", built["xp"], "--json")
    facts = json.loads(out)
    paths = {hive["mount"]: hive["path"] for hive in facts["hives"]}
    assert paths[f"HKEY_USERS\\{ALICE}"] == "Documents and Settings/alice/NTUSER.DAT"
    assert paths[f"HKEY_USERS\\{ALICE}_Classes"] == \
        "Documents and Settings/alice/Local Settings/Application Data/Microsoft/Windows/UsrClass.dat"
    assert facts["default_profile"]["ntuser"] == "Documents and Settings/Default User/NTUSER.DAT"
    code, out, _ = run(capsys, "image", "info", built["scrambled"], "--json")
    facts = json.loads(out)
    assert len(facts["hives"]) == 9
    assert {hive["path"].upper() for hive in facts["hives"]} >= {"WINDOWS/SYSTEM32/CONFIG/SYSTEM", "BOOT/BCD"}
    code, out, _ = run(capsys, "get", built["scrambled"], r"HKCU\Control Panel\Desktop", "Wallpaper", "--user",
                       "DEFAULT")
    assert (code, out) == (0, "default profile\n")


def test_a_folder_that_is_no_image_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "ls", tmp_path)
    assert code == 3 and "not a Windows image" in err


# ------------------------------------------------------------------ mapping
@pytest.mark.parametrize("path,name,expected", [
    (r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "ProductName", "Windows 10 Pro"),
    (r"HKEY_LOCAL_MACHINE\software\microsoft\windows nt\currentversion", "EditionID", "Professional"),
    (r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment", "PROCESSOR_ARCHITECTURE", "x86"),
    (r"HKU\.DEFAULT\Control Panel\Desktop", "Wallpaper", ".DEFAULT"),
    (r"HKU\S-1-5-18\Control Panel\Desktop", "Wallpaper", ".DEFAULT"),
    (r"HKCR\.txt", "@", "txtfile"),
    (r"HKEY_CLASSES_ROOT\txtfile\shell\open\command", "@", r"%SystemRoot%\system32\NOTEPAD.EXE %1"),
    (r"HKLM\SOFTWARE\Policies\Example", "Servers", "a\nb"),
])
def test_registry_paths_land_in_their_hive(built, capsys, path, name, expected):
    code, out, err = run(capsys, "get", built["modern"], path, name)
    assert (code, out) == (0, expected + "\n"), err


def test_users_and_their_classes(built, capsys):
    image = built["modern"]
    bob = Hive.open(image / "Users" / "bob" / "NTUSER.DAT")
    first = bob.key("Control Panel").subkeys()[0].name
    for user in ("bob", BOB, "BOB"):
        code, out, _ = run(capsys, "ls", image, rf"HKCU\Control Panel\{first}", "--user", user, "--json")
        assert code == 0 and json.loads(out)[0]["path"] == f"HKEY_USERS\\{BOB}\\Control Panel\\{first}"
    code, out, _ = run(capsys, "ls", image, rf"HKU\{BOB}\Control Panel", "--json")
    assert code == 0 and first in json.loads(out)[0]["subkeys"]
    alice_classes = Hive.open(image / "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat")
    top = alice_classes.root.subkeys()[0].name
    code, out, _ = run(capsys, "ls", image, rf"HKU\{ALICE}_Classes\{top}", "--json")
    assert code == 0
    code, out2, _ = run(capsys, "ls", image, rf"HKCU\Software\Classes\{top}", "--user", "alice", "--json")
    assert json.loads(out)[0]["subkeys"] == json.loads(out2)[0]["subkeys"]


def test_hkcu_without_a_user_lists_the_users(built, capsys):
    code, _, err = run(capsys, "ls", built["modern"], r"HKCU\Software")
    assert code == 2 and "--user" in err and "alice" in err and "bob" in err and "default" in err
    code, _, err = run(capsys, "ls", built["modern"], r"HKCU\Software", "--user", "dave")
    assert code == 2 and "no such user" in err
    code, _, err = run(capsys, "ls", built["modern"], r"HKCU\Software", "--user", "carol")
    assert code == 5 and "on drive D:" in err  # in ProfileList, but on another drive


def test_volatile_and_missing_hives(built, capsys):
    code, _, err = run(capsys, "ls", built["modern"], r"HKLM\HARDWARE\DESCRIPTION")
    assert code == 5 and "does not exist offline" in err
    code, _, err = run(capsys, "ls", built["modern"], r"HKLM\COMPONENTS")
    assert code == 5 and "no such hive" in err
    code, _, err = run(capsys, "ls", built["modern"], r"HKU\S-1-5-21-9-9-9-1003")
    assert code == 5


def test_the_merged_classes_view_prefers_the_users_key(image, capsys):
    classes = image / "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat"
    hive = Hive.open(classes)
    hive.set_value(hive.create_key(".txt"), "", 1, "alicetext\0".encode("utf-16-le"))
    hive.save(classes, in_place=True)
    code, out, _ = run(capsys, "get", image, r"HKCR\.txt", "@", "--user", "alice")
    assert out == "alicetext\n"
    code, out, _ = run(capsys, "get", image, r"HKCR\.txt", "@")  # no user: the machine's classes
    assert out == "txtfile\n"
    code, out, _ = run(capsys, "get", image, r"HKCR\.log", "@", "--user", "alice")  # only the machine has it
    assert out == "txtfile\n"
    # Writes go to the user's classes where the key exists there, else to the machine's.
    assert main(["set", str(image), r"HKCR\.txt", "Edited", "--type", "dword", "--data", "1", "--user", "alice",
                 "--in-place"]) == 0
    assert main(["set", str(image), r"HKCR\.log", "Edited", "--type", "dword", "--data", "2", "--user", "alice",
                 "--in-place"]) == 0
    assert Hive.open(classes).key(".txt").value("Edited").data == 1
    software = Hive.open(image / "Windows/System32/config/SOFTWARE")
    assert software.key(r"Classes\.log").value("Edited").data == 2
    assert not Hive.open(classes).has_key(".log")


def test_listing_the_image_and_its_roots(built, capsys):
    code, out, _ = run(capsys, "ls", built["modern"])
    assert code == 0 and "HKEY_LOCAL_MACHINE\\" in out and "HKEY_USERS\\" in out
    code, out, _ = run(capsys, "ls", built["modern"], "HKLM", "--json")
    assert json.loads(out)[0]["subkeys"] == ["SYSTEM", "SOFTWARE", "SAM", "SECURITY", "BCD00000000"]
    code, out, _ = run(capsys, "ls", built["modern"], "HKU", "--json")
    assert {".DEFAULT", ALICE, f"{ALICE}_Classes", BOB} == set(json.loads(out)[0]["subkeys"])


# ------------------------------------------------------------------ CurrentControlSet, everywhere
def test_current_control_set_resolves_in_every_command_on_a_hive_file(tmp_path, capsys):
    source = Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM-current-differs"
    hive = tmp_path / "SYSTEM"
    shutil.copyfile(source, hive)
    select = Hive.open(hive).key("Select")
    current = f"ControlSet{select.value('Current').data:03d}"
    default = f"ControlSet{select.value('Default').data:03d}"
    assert current != default
    out = tmp_path / "out"
    # mkkey through CurrentControlSet: the sets Select names, never a key called CurrentControlSet
    assert main(["mkkey", str(hive), r"CurrentControlSet\Services\NewSvc", "-o", str(out)]) == 0
    written = Hive.open(out)
    assert not written.has_key("CurrentControlSet")
    assert written.has_key(rf"{current}\Services\NewSvc") and written.has_key(rf"{default}\Services\NewSvc")
    capsys.readouterr()
    for prefix in ("", "HKLM\\SYSTEM\\", "HKEY_LOCAL_MACHINE\\SYSTEM\\"):
        key = prefix + r"CurrentControlSet\Services\NewSvc"
        assert main(["set", str(out), key, "Start", "--type", "dword", "--data", "3", "--in-place",
                     "--control-set", "default"]) == 0
        code, text, err = run(capsys, "get", out, key, "Start")
        assert code == 5 or text == "3\n"  # reads go through Select\Current
    assert Hive.open(out).key(rf"{default}\Services\NewSvc").value("Start").data == 3
    assert main(["set", str(out), r"HKLM\SYSTEM\CurrentControlSet\Services\NewSvc", "Start", "--type", "dword",
                 "--data", "4", "--in-place", "--control-set", "current"]) == 0
    code, text, _ = run(capsys, "get", out, r"CurrentControlSet\Services\NewSvc", "Start")
    assert text == "4\n"
    assert main(["rm", str(out), r"CurrentControlSet\Services\NewSvc", "--in-place", "-r"]) == 0
    reopened = Hive.open(out)
    assert not reopened.has_key(rf"{current}\Services\NewSvc") and not reopened.has_key(rf"{default}\Services\NewSvc")
    code, _, err = run(capsys, "ls", out, r"HKLM\SOFTWARE\Microsoft")
    assert code == 4 and "outside" in err


# ------------------------------------------------------------------ writing, all or nothing
MULTI = REG_HEADER + (
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n\"Version\"=\"1.0\"\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\VendorSvc]\r\n\"Start\"=dword:00000002\r\n\r\n"
    "[HKEY_CURRENT_USER\\Software\\Vendor]\r\n\"Theme\"=\"dark\"\r\n\r\n"
    "[HKEY_CLASSES_ROOT\\.vnd]\r\n@=\"Vendor.File\"\r\n\r\n"
    "[HKEY_USERS\\.DEFAULT\\Software\\Vendor]\r\n\"Default\"=dword:00000001\r\n\r\n"
    f"[HKEY_USERS\\{BOB}\\Software\\Vendor]\r\n\"Bob\"=dword:00000007\r\n\r\n"
)
CHANGED = ("Windows/System32/config/SOFTWARE", "Windows/System32/config/SYSTEM", "Users/alice/NTUSER.DAT",
           "Windows/System32/config/DEFAULT", "Users/bob/NTUSER.DAT")


def test_one_reg_file_lands_in_five_hives(image, built, tmp_path, capsys):
    original = built["modern"]
    reg = tmp_path / "vendor.reg"
    reg.write_text(MULTI, encoding="utf-16")
    before = digests(image)
    code, _, err = run(capsys, "import", image, reg, "--user", "alice", "--in-place", "--timestamp", "@0")
    assert code == 0, err
    after = digests(image)
    assert {path for path in after if after[path] != before[path]} == set(CHANGED)
    assert Hive.open(image / CHANGED[0]).key(r"Vendor\App").value("Version").data == "1.0"
    assert Hive.open(image / CHANGED[0]).key(r"Classes\.vnd").value("").data == "Vendor.File"
    assert Hive.open(image / CHANGED[1]).key(r"ControlSet001\Services\VendorSvc").value("Start").data == 2
    assert Hive.open(image / CHANGED[2]).key(r"Software\Vendor").value("Theme").data == "dark"
    assert Hive.open(image / CHANGED[3]).key(r"Software\Vendor").value("Default").data == 1
    assert Hive.open(image / CHANGED[4]).key(r"Software\Vendor").value("Bob").data == 7
    for relative in CHANGED:
        readers_agree(image / relative, original / relative)


def test_one_bad_line_changes_no_hive(image, tmp_path, capsys):
    reg = tmp_path / "bad.reg"
    reg.write_text(MULTI + "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\"Broken\"=dword:xyz\r\n\r\n", encoding="utf-16")
    before = digests(image)
    code, _, err = run(capsys, "import", image, reg, "--user", "alice", "--in-place")
    assert code == 3 and "bad.reg:" in err
    assert digests(image) == before


def test_a_failure_while_writing_changes_no_hive(image, tmp_path, capsys, monkeypatch):
    """The third hive's staged file fails to write (a full disk): no hive is renamed."""
    import errno

    import hivetool.fileio as fileio

    reg = tmp_path / "vendor.reg"
    reg.write_text(MULTI, encoding="utf-16")
    before = digests(image)
    real = fileio.stage_write
    calls = []

    def failing(path, data, verify=None):
        calls.append(path)
        if len(calls) == 3:
            raise fileio.HiveIOError(f"{path}: write failed: {errno.errorcode[errno.ENOSPC]}")
        return real(path, data, verify)

    monkeypatch.setattr("hivetool.image.store.stage_write", failing)
    code, _, err = run(capsys, "import", image, reg, "--user", "alice", "--in-place")
    assert code == 6 and len(calls) == 3
    assert digests(image) == before
    assert not [p for p in image.rglob("*") if p.name.endswith(".tmp")]


def test_output_folder_holds_only_the_changed_hives(image, tmp_path, capsys):
    out = tmp_path / "changed"
    before = digests(image)
    code, _, err = run(capsys, "set", image, r"HKLM\SOFTWARE\Vendor", "Flag", "--type", "dword", "--data", "1",
                       "--create-keys", "-o", out)
    assert code == 0, err
    assert digests(image) == before
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "Windows/System32/config/SOFTWARE"]
    assert Hive.open(out / "Windows/System32/config/SOFTWARE").key("Vendor").value("Flag").data == 1
    code, _, err = run(capsys, "set", image, r"HKLM\SOFTWARE\Vendor", "Flag", "--type", "dword", "--data", "1",
                       "--create-keys", "-o", image)
    assert code == 2 and "is the image itself" in err


def test_dirty_hives_in_an_image(built, tmp_path, capsys):
    image = Path(shutil.copytree(built["dirty"], tmp_path / "dirty"))
    code, out, err = run(capsys, "ls", image, r"HKU\.DEFAULT")
    assert code == 0 and "is dirty" in err and "--replay-logs" in err
    before = digests(image)
    code, _, err = run(capsys, "set", image, r"HKU\.DEFAULT\Software\X", "v", "--type", "dword", "--data", "1",
                       "--create-keys", "--in-place")
    assert code == 4 and "DEFAULT" in err and "replay" in err
    assert digests(image) == before
    code, _, err = run(capsys, "set", image, r"HKU\.DEFAULT\Software\X", "v", "--type", "dword", "--data", "1",
                       "--create-keys", "--in-place", "--replay-logs")
    assert code == 0, err
    config = image / "Windows/System32/config"
    hive = Hive.open(config / "DEFAULT")
    assert not hive.dirty and hive.key(r"Software\X").value("v").data == 1
    assert (config / "DEFAULT.LOG1").stat().st_size == 0 and (config / "DEFAULT.LOG2").stat().st_size == 0
    readers_agree(config / "DEFAULT")


def test_reading_an_image_never_opens_a_file_for_writing(built, monkeypatch, capsys, tmp_path):
    from test_readonly import Watch

    image = built["dirty"]
    files = [p for p in image.rglob("*") if p.is_file()]
    watch = Watch(files)
    watch.install(monkeypatch)
    before = digests(image)
    for argv in (["image", "info", image], ["ls", image, "HKLM\\SOFTWARE", "-r"],
                 ["export", image, "-o", tmp_path / "out.reg"],
                 ["check", image], ["ls", image, r"HKU\.DEFAULT", "--replay-logs"],
                 ["get", image, r"HKCU\Control Panel\Desktop", "Wallpaper", "--user", "default"]):
        assert main([str(a) for a in argv]) in (0, 1), argv
    capsys.readouterr()
    assert watch.violations == []
    assert digests(image) == before


# ------------------------------------------------------------------ export, diff, ports
def test_export_of_an_image_is_one_multi_root_file_that_imports_back(image, tmp_path, capsys):
    out = tmp_path / "all.reg"
    code, _, err = run(capsys, "export", image, "-o", out)
    assert code == 0, err
    text = out.read_bytes().decode("utf-16")
    for root in ("[HKEY_LOCAL_MACHINE\\SYSTEM]", "[HKEY_LOCAL_MACHINE\\SOFTWARE]", "[HKEY_USERS\\.DEFAULT]",
                 f"[HKEY_USERS\\{ALICE}]", f"[HKEY_USERS\\{ALICE}_Classes]", "[HKEY_LOCAL_MACHINE\\BCD00000000]"):
        assert "\r\n" + root + "\r\n" in text
    assert text.count("Windows Registry Editor Version 5.00") == 1
    code, _, _ = run(capsys, "export", image, r"HKLM\SOFTWARE\Classes", "-o", tmp_path / "classes.reg")
    assert code == 0


def test_diff_of_two_images(image, built, tmp_path, capsys):
    assert main(["set", str(image), r"HKLM\SOFTWARE\Vendor", "Flag", "--type", "dword", "--data", "1",
                 "--create-keys", "--in-place"]) == 0
    (image / "Users/bob/NTUSER.DAT").unlink()
    out = tmp_path / "patch.reg"
    code, _, err = run(capsys, "diff", built["modern"], image, "-o", out)
    assert code == 0, err
    assert "only in OLD" in err
    text = out.read_bytes().decode("utf-16")
    assert "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]" in text and '"Flag"=dword:00000001' in text
    assert text.count("[") == 1


def test_ports_on_an_image_write_system_and_read_the_os_from_software(tmp_path, capsys):
    image = build_image(tmp_path / "exchange")
    shutil.copyfile(Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM",
                    image / "Windows/System32/config/SYSTEM")
    code, out, err = run(capsys, "ports", "set", image, "exchange55", "ds=1225", "is=1226", "--in-place",
                         "--force", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["os"]["how"].startswith("Microsoft\\Windows NT\\CurrentVersion\\CurrentVersion is 6.3")
    system = Hive.open(image / "Windows/System32/config/SYSTEM")
    assert system.key(r"ControlSet001\Services\MSExchangeDS\Parameters").value("TCP/IP port").data == 1225
    readers_agree(image / "Windows/System32/config/SYSTEM", Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM")
    code, out, _ = run(capsys, "ports", "check", image, "exchange55", "ds=1225", "is=1226")
    assert code in (0, 1) and "ok" in out
