"""Fixture Windows images: folders laid out like a system drive, built from corpus hives and
generated ones, and WIMs captured from them with wimlib.

* ``modern``: Windows 10 layout; SYSTEM and users' hives from the corpus, a generated SOFTWARE
  whose ProfileList holds two users (alice, bob), LocalSystem and the Default profile, and
  generated SAM, SECURITY, DEFAULT, the Default profile's NTUSER.DAT and a BCD store.
* ``xp``: the same hives in an XP layout (``Documents and Settings``, ``Local Settings\\
  Application Data``, ``DefaultUserProfile``).
* ``dirty``: the modern layout whose DEFAULT hive and alice's UsrClass.dat are dirty real
  hives with their logs.
* ``scrambled``: the modern layout with the case of every name changed.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from corpus import corpus_path, require_corpus
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType, encode_multi
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
ALICE = "S-1-5-21-1004336348-1177238915-682003330-1001"
BOB = "S-1-5-21-1004336348-1177238915-682003330-1002"
SYSTEM = "log2timeline+dfwinreg/_history/1785983fe52b/test_data/SYSTEM"
ALICE_NTUSER = "strozfriedberg+notatin/test_data/NTUSER.DAT"
ALICE_CLASSES = "log2timeline+dfwinreg/test_data/UsrClass.dat"
BOB_NTUSER = "log2timeline+plaso/test_data/NTUSER.DAT"
BCD = "mkorman90+regipy/regipy_tests/data/BCD"
DIRTY_DEFAULT = "AndrewRathbun+DFIRArtifactMuseum/_history/a32aa47e43e6/Windows/Registry/Win10/RathbunVM/DEFAULT"
DIRTY_CLASSES = "mkorman90+regipy/regipy_tests/data/UsrClass.dat"


def sz(text: str) -> bytes:
    return (text + "\0").encode("utf-16-le")


def software_hive(xp: bool = False) -> Hive:
    hive = Hive.new(5, "ROOT", CLOCK)
    version = hive.create_key(r"Microsoft\Windows NT\CurrentVersion")
    for name, data in (("ProductName", "Windows 10 Pro"), ("CurrentBuild", "19045"), ("EditionID", "Professional"),
                       ("InstallationType", "Client"), ("CurrentVersion", "6.3")):
        hive.set_value(version, name, RegType.SZ, sz(data))
    profiles = hive.create_key(r"Microsoft\Windows NT\CurrentVersion\ProfileList")
    base = r"%SystemDrive%\Documents and Settings" if xp else r"%SystemDrive%\Users"
    hive.set_value(profiles, "ProfilesDirectory", RegType.EXPAND_SZ, sz(base))
    if xp:
        hive.set_value(profiles, "DefaultUserProfile", RegType.SZ, sz("Default User"))
    else:
        hive.set_value(profiles, "Default", RegType.EXPAND_SZ, sz(base + r"\Default"))
    system = hive.create_key(r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-18")
    hive.set_value(system, "ProfileImagePath", RegType.EXPAND_SZ, sz(r"%systemroot%\system32\config\systemprofile"))
    for sid, name in ((ALICE, "alice"), (BOB, "bob")):
        key = hive.create_key(rf"Microsoft\Windows NT\CurrentVersion\ProfileList\{sid}")
        hive.set_value(key, "ProfileImagePath", RegType.EXPAND_SZ,
                       sz((r"C:\Documents and Settings" if xp else r"C:\Users") + "\\" + name))
    gone = hive.create_key(r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-21-9-9-9-1003")
    hive.set_value(gone, "ProfileImagePath", RegType.EXPAND_SZ, sz(r"D:\Users\carol"))  # another drive
    classes = hive.create_key(r"Classes\.txt")
    hive.set_value(classes, "", RegType.SZ, sz("txtfile"))
    hive.set_value(hive.create_key(r"Classes\txtfile\shell\open\command"), "", RegType.EXPAND_SZ,
                   sz(r"%SystemRoot%\system32\NOTEPAD.EXE %1"))
    hive.set_value(hive.create_key(r"Classes\.log"), "", RegType.SZ, sz("txtfile"))
    hive.set_value(hive.create_key(r"Policies\Example"), "Servers", RegType.MULTI_SZ, encode_multi(["a", "b"]))
    hive.create_key(r"WOW6432Node\Microsoft")
    return hive


def small_hive(*keys: str) -> Hive:
    hive = Hive.new(5, "ROOT", CLOCK)
    for key in keys:
        hive.create_key(key)
    return hive


def user_hive(name: str) -> Hive:
    hive = small_hive(r"Control Panel\Desktop", "Environment", r"Software\Microsoft")
    hive.set_value(r"Control Panel\Desktop", "Wallpaper", RegType.SZ, sz(name))
    return hive


def build_image(root: Path, variant: str = "modern") -> Path:
    """Lay out a fixture image below ``root`` (which is created) and return it."""
    require_corpus()
    xp = variant == "xp"
    profiles = root / ("Documents and Settings" if xp else "Users")
    config = root / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copyfile(corpus_path(SYSTEM), config / "SYSTEM")
    software_hive(xp).save(config / "SOFTWARE")
    small_hive(r"SAM\Domains\Account\Users").save(config / "SAM")
    small_hive(r"Policy\Accounts", "RXACT").save(config / "SECURITY")
    if variant == "dirty":
        _copy_with_logs(DIRTY_DEFAULT, config, "DEFAULT")
    else:
        user_hive(".DEFAULT").save(config / "DEFAULT")
    classes_dir = Path("Local Settings/Application Data/Microsoft/Windows") if xp else Path(
        "AppData/Local/Microsoft/Windows")
    for name, ntuser in (("alice", ALICE_NTUSER), ("bob", BOB_NTUSER)):
        folder = profiles / name
        folder.mkdir(parents=True)
        shutil.copyfile(corpus_path(ntuser), folder / "NTUSER.DAT")
    (profiles / "alice" / classes_dir).mkdir(parents=True)
    if variant == "dirty":
        _copy_with_logs(DIRTY_CLASSES, profiles / "alice" / classes_dir, "UsrClass.dat")
    else:
        shutil.copyfile(corpus_path(ALICE_CLASSES), profiles / "alice" / classes_dir / "UsrClass.dat")
    default = profiles / ("Default User" if xp else "Default")
    default.mkdir(parents=True)
    user_hive("default profile").save(default / "NTUSER.DAT")
    (root / "Boot").mkdir()
    shutil.copyfile(corpus_path(BCD), root / "Boot" / "BCD")
    if variant == "scrambled":
        _scramble(root)
    return root


def _copy_with_logs(relative: str, folder: Path, name: str) -> None:
    source = corpus_path(relative)
    shutil.copyfile(source, folder / name)
    for sibling in source.parent.iterdir():
        if sibling.name.lower().startswith(source.name.lower() + ".log"):
            suffix = sibling.name[len(source.name):]
            shutil.copyfile(sibling, folder / (name + suffix.upper()))


def _scramble(root: Path) -> None:
    """Rename every file and folder below ``root`` to another case (deepest first)."""
    paths = sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True)
    for index, path in enumerate(paths):
        name = path.name
        scrambled = "".join(c.upper() if (i + index) % 2 else c.lower() for i, c in enumerate(name))
        if scrambled != name:
            path.rename(path.with_name(scrambled))


def capture_wim(tree: Path, wim: Path, name: str = "fixture") -> Path:
    subprocess.run(["wimlib-imagex", "capture", str(tree), str(wim), name], check=True, capture_output=True)
    return wim


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` (to show that nothing changed)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
