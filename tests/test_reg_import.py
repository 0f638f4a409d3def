"""Applying a Patch (a parsed .reg file) to a hive: Windows' semantics, all or nothing."""
from __future__ import annotations

import struct

import pytest

import oracles
from hivetool.errors import EXIT_MALFORMED, EXIT_REFUSED, RefusedUnsafe, RegFileError
from hivetool.paths import ControlSetError
from hivetool.regf.hive import Hive
from hivetool.regfile.apply import Effect, apply_patch, final_effects, plan_patch
from hivetool.regfile.parse import parse_reg, parse_reg_strict
from hivetool.regfile.patch import Origin, Patch
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2024-05-01T12:00:00Z"))
SYSTEM = "HKEY_LOCAL_MACHINE\\SYSTEM"
HKCU = "HKEY_CURRENT_USER"


def dword(number: int) -> bytes:
    return struct.pack("<I", number)


def sz(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def reg(text: str) -> bytes:
    return ("\ufeffWindows Registry Editor Version 5.00\r\n\r\n" + text.replace("\n", "\r\n")).encode("utf-16-le")


def system_hive(current: int = 1, default: int = 1, sets: tuple[int, ...] = (1,)) -> Hive:
    hive = Hive.new(5, "ROOT", CLOCK)
    for number in sets:
        hive.create_key(f"ControlSet{number:03d}\\Services\\Tcpip\\Parameters")
    hive.create_key("Select")
    for name, number in (("Current", current), ("Default", default)):
        hive.set_value("Select", name, 4, dword(number))
    return hive


def values_of(hive: Hive, path: str) -> dict[str, tuple[int, bytes]]:
    return {value.name: (value.type, value.raw) for value in hive.key(path).values()}


# ------------------------------------------------------------------------------ Windows semantics
def test_keys_are_created_with_their_parents_and_values_set():
    hive = Hive.new(5, "ROOT", CLOCK)
    plan, counts = apply_patch(hive, parse_reg_strict(reg(
        f"[{HKCU}\\A\\B\\C]\n\"v\"=dword:00000001\n@=\"x\"\n")), HKCU)
    assert values_of(hive, "A\\B\\C") == {"v": (4, dword(1)), "": (1, sz("x"))}
    assert (counts.keys_created, counts.values_set) == (3, 2)
    assert [item.targets for item in plan.ops] == [("A\\B\\C",)] * 3


def test_an_existing_value_is_updated_in_place_keeping_its_spelling():
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("K")
    hive.set_value("K", "TCP/IP Port", 4, dword(1))
    hive.set_value("K", "Other", 4, dword(2))
    apply_patch(hive, parse_reg_strict(reg(f"[{HKCU}\\k]\n\"tcp/ip port\"=dword:000004c9\n")), HKCU)
    assert list(values_of(hive, "K").items()) == [("TCP/IP Port", (4, dword(0x4C9))), ("Other", (4, dword(2)))]


def test_deleting_what_does_not_exist_is_silent_as_on_windows():
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("K")
    before = hive.to_bytes()
    _, counts = apply_patch(hive, parse_reg_strict(reg(
        f"[-{HKCU}\\Missing]\n\n[{HKCU}\\K]\n\"gone\"=-\n\n[{HKCU}\\K2]\n")), HKCU)
    assert (counts.keys_deleted, counts.values_deleted, counts.keys_created) == (0, 0, 1)
    assert hive.has_key("K2") and len(before) <= len(hive.to_bytes())


def test_deleting_a_key_takes_its_subtree():
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("K\\A\\B")
    hive.create_key("K\\C")
    hive.set_value("K\\A\\B", "v", 3, b"\1")
    _, counts = apply_patch(hive, parse_reg_strict(reg(f"[-{HKCU}\\k\\a]\n")), HKCU)
    assert counts.keys_deleted == 2
    assert [key.name for key in hive.key("K").subkeys()] == ["C"]


def test_deleting_the_hive_root_is_skipped_with_a_note():
    hive = Hive.new(5, "ROOT", CLOCK)
    _, counts = apply_patch(hive, parse_reg_strict(reg(f"[-{SYSTEM}]\n")), SYSTEM)
    assert counts.notes == [f"{SYSTEM} is the hive's root key, which cannot be deleted; skipped"]


def test_operations_apply_in_file_order():
    hive = Hive.new(5, "ROOT", CLOCK)
    apply_patch(hive, parse_reg_strict(reg(
        f"[{HKCU}\\K]\n\"a\"=dword:00000001\n\"b\"=dword:00000002\n\n[-{HKCU}\\K]\n\n"
        f"[{HKCU}\\K]\n\"b\"=dword:00000003\n\"a\"=-\n\"c\"=hex:\n")), HKCU)
    assert list(values_of(hive, "K").items()) == [("b", (4, dword(3))), ("c", (3, b""))]


def test_lenient_import_gives_what_windows_gives():
    # A dangling continuation swallows the next line (5.7.3); values after [-key] are
    # dropped (4.7); a bad dword is skipped (5.3); '#' after data rejects it (5.2).
    text = (f"[{HKCU}\\K]\n\"A\"=hex:01,\\\n\"B\"=\"lost with A\"\n\"C\"=dword:000000001\n\"D\"=\"x\"#no\n"
            f"\"E\"=dword:5\n\n[-{HKCU}\\Gone]\n\"F\"=\"dropped\"\n")
    result = parse_reg(reg(text))
    assert len(result.errors) >= 3
    hive = Hive.new(5, "ROOT", CLOCK)
    apply_patch(hive, result.patch, HKCU)
    assert values_of(hive, "K") == {"E": (4, dword(5))}
    assert not hive.has_key("Gone")
    with pytest.raises(RegFileError) as caught:
        parse_reg_strict(reg(text), "t.reg")
    assert caught.value.exit_code == EXIT_MALFORMED and caught.value.line == 5  # where "B" was lost


# ------------------------------------------------------------------------------ all or nothing
def test_foreign_keys_are_refused_listing_them_and_nothing_changes():
    hive = system_hive()
    before = bytes(hive._engine.buf)
    patch = parse_reg_strict(reg(
        f"[{SYSTEM}\\Setup]\n\"x\"=dword:00000001\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\n\"y\"=\"1\"\n\n"
        "[HKEY_CURRENT_USER\\Software]\n"))
    with pytest.raises(RefusedUnsafe) as caught:
        apply_patch(hive, patch, SYSTEM)
    assert caught.value.exit_code == EXIT_REFUSED
    assert str(caught.value) == (
        f"2 key(s) lie outside {SYSTEM}, the part of the registry this hive holds: "
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor; HKEY_CURRENT_USER\\Software. "
        "Nothing was written; skip_foreign=True applies the rest and lists these")
    assert bytes(hive._engine.buf) == before


def test_skip_foreign_applies_the_rest_and_lists_what_it_skipped():
    hive = system_hive()
    patch = parse_reg_strict(reg(f"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\n\"y\"=\"1\"\n\n[{SYSTEM}\\Setup]\n"))
    plan, _ = apply_patch(hive, patch, SYSTEM, skip_foreign=True)
    assert [op.key for op in plan.foreign] == ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor"] * 2
    assert hive.has_key("Setup")


def test_a_bad_name_anywhere_stops_the_import_before_any_change():
    hive = Hive.new(5, "ROOT", CLOCK)
    before = bytes(hive._engine.buf)
    patch = Patch()
    patch.create_key(HKCU + "\\Fine", Origin("a.reg", 3))
    patch.create_key(HKCU + "\\" + "n" * 256, Origin("a.reg", 9))
    with pytest.raises(RegFileError, match=r"a\.reg:9:1: .*key name is 256 characters long; Windows allows 255"):
        apply_patch(hive, patch, HKCU)
    assert bytes(hive._engine.buf) == before and not hive.has_key("Fine")


def test_an_unresolvable_current_control_set_stops_the_import_before_any_change():
    hive = system_hive(current=1, default=3, sets=(1,))
    before = bytes(hive._engine.buf)
    patch = parse_reg_strict(reg(f"[{SYSTEM}\\Setup]\n\n[{SYSTEM}\\CurrentControlSet\\Services\\X]\n"))
    with pytest.raises(ControlSetError, match="Select.Default is 3, but the hive has no ControlSet003 key"):
        apply_patch(hive, patch, SYSTEM)
    assert bytes(hive._engine.buf) == before


# ------------------------------------------------------------------------------ CurrentControlSet
PORT = (f"[{SYSTEM}\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters]\n"
        "\"TCP/IP port\"=dword:000004c9\n")


@pytest.mark.parametrize("mode, written", [
    ("auto", ["ControlSet001", "ControlSet002"]), ("default", ["ControlSet001"]),
    ("current", ["ControlSet002"]), ("all", ["ControlSet001", "ControlSet002", "ControlSet003"]),
    (3, ["ControlSet003"]),
])
def test_current_control_set_writes_go_where_the_mode_says(mode, written):
    hive = system_hive(current=2, default=1, sets=(1, 2, 3))
    plan, counts = apply_patch(hive, parse_reg_strict(reg(PORT)), SYSTEM, mode)
    assert list(plan.control_sets.sets) == written
    for number in (1, 2, 3):
        path = f"ControlSet{number:03d}\\Services\\MSExchangeDS\\Parameters"
        assert hive.has_key(path) == (f"ControlSet{number:03d}" in written)
    assert counts.values_set == len(written)
    assert (len(plan.warnings) == 1) == (mode == "auto")


# ------------------------------------------------------------------------------ effects, readers
def test_final_effects_describe_what_the_hive_must_show():
    hive = Hive.new(5, "ROOT", CLOCK)
    plan = plan_patch(hive, parse_reg_strict(reg(
        f"[{HKCU}\\A\\B]\n\"v\"=dword:00000001\n\"w\"=-\n\n[-{HKCU}\\A]\n\n[{HKCU}\\A\\C]\n\"x\"=hex:02\n")), HKCU)
    assert final_effects(plan) == [
        Effect("A\\C"), Effect("A\\C", "x", 3, b"\2"),
    ]
    plan = plan_patch(hive, parse_reg_strict(reg(f"[-{HKCU}\\Old]\n\n[{HKCU}\\K]\n\"gone\"=-\n")), HKCU)
    assert final_effects(plan) == [Effect("Old", present=False), Effect("K"), Effect("K", "gone", present=False)]


def test_an_import_into_a_real_hive_is_read_identically_by_every_reader(corpus_copy, tmp_path):
    path = corpus_copy("log2timeline+plaso/test_data/NTUSER.DAT")
    hive = Hive.open(path, CLOCK)
    model = oracles.ContentModel(oracles.read_own(path))
    text = (f"[{HKCU}\\Software\\hivetool\\Sub]\n\"dword\"=dword:000004c9\n\"text\"=\"Grüße\"\n"
            f"\"big\"=hex:{','.join(['ab'] * 20000)}\n@=hex(7):61,00,00,00,00,00\n\n"
            f"[-{HKCU}\\Printers]\n\n[{HKCU}\\Control Panel\\Desktop]\n\"Wallpaper\"=\"\"\n")
    apply_patch(hive, parse_reg_strict(reg(text)), HKCU)
    model.create_key("Software\\hivetool\\Sub")
    for name, value_type, data in (("dword", 4, dword(0x4C9)), ("text", 1, sz("Grüße")),
                                   ("big", 3, b"\xab" * 20000), ("", 7, sz("a") + b"\0\0")):
        model.set_value("Software\\hivetool\\Sub", name, value_type, data)
    model.delete_key("Printers")
    model.set_value("Control Panel\\Desktop", "Wallpaper", 1, sz(""))
    written = tmp_path / "out.hiv"
    hive.save(written)
    expected = oracles.adopt_layout(model.content(), oracles.read_own(written))
    for reader in (oracles.OWN, *oracles.FULL_READERS):
        oracles.agree(reader, written, expected)
