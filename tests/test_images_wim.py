"""Images inside WIM files, through wimlib: read out without extracting the whole image,
written back in one update, ``-o OUT.wim`` leaving the source untouched, and read back by the
independent readers after ``wimlib-imagex extract``."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import oracles
from corpus import IN_CI, require_corpus
from hivetool.cli import main
from hivetool.regf.hive import Hive
from images import ALICE, build_image, capture_wim

pytestmark = pytest.mark.skipif(
    shutil.which("wimlib-imagex") is None and not IN_CI,
    reason="wimlib-imagex is not installed (Debian: apt-get install wimtools)",
)

SOFTWARE = "Windows/System32/config/SOFTWARE"


@pytest.fixture(scope="module")
def wim(tmp_path_factory) -> Path:
    require_corpus()
    base = tmp_path_factory.mktemp("wim")
    tree = build_image(base / "tree", "scrambled")  # stored names in odd case: lookups must ignore it
    return capture_wim(tree, base / "install.wim")


@pytest.fixture
def copy(wim, tmp_path) -> Path:
    return Path(shutil.copyfile(wim, tmp_path / "install.wim"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract(wim: Path, index: int, stored: str, dest: Path) -> Path:
    """One file out of the WIM, at its stored path (any case)."""
    dest.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WIMLIB_IMAGEX_IGNORE_CASE="1")
    subprocess.run(["wimlib-imagex", "extract", str(wim), str(index), "/" + stored, f"--dest-dir={dest}",
                    "--no-acls"], check=True, capture_output=True, env=env)
    found = [p for p in dest.iterdir() if p.name.upper() == Path(stored).name.upper()]
    assert len(found) == 1, list(dest.iterdir())
    return found[0]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_reading_a_wim_extracts_only_the_hives(wim, capsys):
    code, out, err = run(capsys, "image", "info", f"{wim}:1", "--json")
    assert code == 0, err
    facts = json.loads(out)
    assert facts["image"] == f"image 1 of {wim}"
    assert facts["os"]["ProductName"] == "Windows 10 Pro"
    assert len(facts["hives"]) == 9
    assert {h["path"] for h in facts["hives"]} >= {"WiNdOwS/sYsTeM32/CoNfIg/SoFtWaRe"}  # the stored spelling
    code, out, _ = run(capsys, "get", f"{wim}:1", r"HKCU\Control Panel\Desktop", "Wallpaper", "--user", "default")
    assert (code, out) == (0, "default profile\n")
    code, out, _ = run(capsys, "get", f"{wim}:1", r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment",
                       "PROCESSOR_ARCHITECTURE")
    assert out == "x86\n"


def test_bad_wim_targets(wim, tmp_path, capsys):
    code, _, err = run(capsys, "ls", f"{wim}:7", "HKLM")
    assert code == 3 and "not a valid image" in err
    code, _, err = run(capsys, "ls", wim)
    assert code == 2 and f"{wim}:1" in err
    code, _, err = run(capsys, "ls", f"{tmp_path / 'missing.wim'}:1")
    assert code == 6


def test_missing_wimlib_is_a_clear_error(wim, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = run(capsys, "image", "info", f"{wim}:1")
    assert code == 6 and "wimlib-imagex" in err and "wimtools" in err and "Traceback" not in err


def test_a_write_to_a_copy_leaves_the_source_untouched(wim, copy, tmp_path, capsys):
    before = sha(copy)
    out = tmp_path / "patched.wim"
    reg = tmp_path / "vendor.reg"
    reg.write_text("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n"
                   "\"Flag\"=dword:00000005\r\n\r\n[HKEY_CURRENT_USER\\Software\\Vendor]\r\n\"Theme\"=\"dark\"\r\n\r\n",
                   encoding="utf-16")
    code, _, err = run(capsys, "import", f"{copy}:1", reg, "--user", "alice", "-o", out, "--timestamp", "@0")
    assert code == 0, err
    assert sha(copy) == before
    software = extract(out, 1, "WiNdOwS/sYsTeM32/CoNfIg/SoFtWaRe", tmp_path / "x1")
    assert Hive.open(software).key("Vendor").value("Flag").data == 5
    ntuser = extract(out, 1, "UsErS/AlIcE/NtUsEr.DaT", tmp_path / "x2")
    assert Hive.open(ntuser).key(r"Software\Vendor").value("Theme").data == "dark"
    for path in (software, ntuser):
        content = oracles.read_own(path)
        for reader in oracles.FULL_READERS:
            oracles.agree(reader, path, content)
    listing = subprocess.run(["wimlib-imagex", "dir", str(out), "1"], capture_output=True, text=True, check=True)
    assert "/WiNdOwS/sYsTeM32/CoNfIg/SoFtWaRe" in listing.stdout.splitlines()
    assert not [line for line in listing.stdout.splitlines() if line.upper() == "/WINDOWS/SYSTEM32/CONFIG/SOFTWARE"
                and line != "/WiNdOwS/sYsTeM32/CoNfIg/SoFtWaRe"]  # written back at the stored spelling only
    subprocess.run(["wimlib-imagex", "info", str(out)], check=True, capture_output=True)


def test_an_in_place_write_updates_the_wim(copy, tmp_path, capsys):
    code, _, err = run(capsys, "set", f"{copy}:1", r"HKLM\SOFTWARE\Vendor", "Flag", "--type", "dword", "--data", "9",
                       "--create-keys", "--in-place")
    assert code == 0, err
    software = extract(copy, 1, "WiNdOwS/sYsTeM32/CoNfIg/SoFtWaRe", tmp_path / "x")
    assert Hive.open(software).key("Vendor").value("Flag").data == 9
    code, out, _ = run(capsys, "get", f"{copy}:1", r"HKLM\SOFTWARE\Vendor", "Flag")
    assert out == "9\n"


def test_a_bad_line_changes_nothing_in_the_wim(copy, tmp_path, capsys):
    before = sha(copy)
    reg = tmp_path / "bad.reg"
    reg.write_text("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n"
                   "\"Flag\"=dword:nope\r\n\r\n", encoding="utf-16")
    code, _, _ = run(capsys, "import", f"{copy}:1", reg, "--in-place")
    assert code == 3 and sha(copy) == before
    code, _, _ = run(capsys, "set", f"{copy}:1", r"HKLM\SOFTWARE\Vendor", "Flag", "--type", "dword", "--data", "1",
                     "--create-keys", "-o", copy)
    assert code == 2 and sha(copy) == before


def test_an_esd_is_read_only(wim, tmp_path, capsys):
    esd = Path(shutil.copyfile(wim, tmp_path / "install.esd"))  # the name decides: wimlib reads either
    code, out, _ = run(capsys, "get", f"{esd}:1", r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "EditionID")
    assert (code, out) == (0, "Professional\n")
    code, _, err = run(capsys, "set", f"{esd}:1", r"HKLM\SOFTWARE\X", "v", "--type", "dword", "--data", "1",
                       "--create-keys", "-o", tmp_path / "out.esd")
    assert code == 2 and "ESD" in err


def test_users_of_a_wim(wim, capsys):
    code, out, _ = run(capsys, "ls", f"{wim}:1", "HKU", "--json")
    assert code == 0 and f"{ALICE}_Classes" in json.loads(out)[0]["subkeys"]


def test_two_writers_on_one_wim_lose_nothing(copy, tmp_path):
    """Two in-place writes at the same moment: the second waits for the first (the WIM's folder
    is locked from the extraction to the update), so both values are in the WIM."""
    from test_locking import race

    for round_ in range(3):
        names = [f"a{round_}", f"b{round_}"]
        codes = race([["set", f"{copy}:1", r"HKLM\SOFTWARE\Race", name, "--type", "dword", "--data", "1",
                       "--create-keys", "--in-place", "--wait", "60"] for name in names])
        assert codes == [0, 0]
        software = extract(copy, 1, "WiNdOwS/sYsTeM32/CoNfIg/SoFtWaRe", tmp_path / f"r{round_}")
        assert set(names) <= {v.name for v in Hive.open(software).key("Race").values()}
