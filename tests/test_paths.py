"""Logical paths: root names, root inference, CurrentControlSet through Select, mapping."""
from __future__ import annotations

import struct

import pytest

from corpus import corpus_path, require_corpus
from hivetool.errors import EXIT_REFUSED, RefusedUnsafe, UsageError
from hivetool.paths import (
    ControlSetError, ForeignPath, PathMapper, infer_root, is_logical, normalize_path, parse_control_set_mode,
    read_control_set, select_control_sets,
)
from hivetool.regf.hive import Hive
from hivetool.timeutil import Clock

CLOCK = Clock(0)
SYSTEM = "HKEY_LOCAL_MACHINE\\SYSTEM"


def dword(number: int) -> bytes:
    return struct.pack("<I", number)


def hive_with(keys: list[str] = (), root_name: str = "ROOT") -> Hive:
    hive = Hive.new(5, root_name, CLOCK)
    for key in keys:
        hive.create_key(key)
    return hive


def system_hive(current: int = 1, default: int = 1, sets: tuple[int, ...] = (1,)) -> Hive:
    hive = hive_with([f"ControlSet{n:03d}\\Services" for n in sets])
    select = hive.create_key("Select")
    for name, number in (("Current", current), ("Default", default), ("Failed", 0), ("LastKnownGood", 1)):
        hive.set_value(select, name, 4, dword(number))
    return hive


# ------------------------------------------------------------------------------ names
def test_long_root_names_are_kept_and_case_of_the_root_is_normalised():
    assert normalize_path("hkey_local_machine\\System\\X").path == "HKEY_LOCAL_MACHINE\\System\\X"
    assert normalize_path("HKEY_CURRENT_USER").path == "HKEY_CURRENT_USER"
    assert normalize_path("HKEY_USERS\\.DEFAULT\\").warnings == ()


@pytest.mark.parametrize("short, long", [("HKLM", "HKEY_LOCAL_MACHINE"), ("hkcu", "HKEY_CURRENT_USER"),
                                         ("HKU", "HKEY_USERS"), ("HKCR", "HKEY_CLASSES_ROOT"),
                                         ("HKCC", "HKEY_CURRENT_CONFIG")])
def test_short_root_names_become_long_ones_with_a_warning(short, long):
    logical = normalize_path(short + "\\Software")
    assert logical.path == long + "\\Software"
    assert logical.warnings == (f"{short} is a short root name; Windows documents only {long} (written out in full)",)


@pytest.mark.parametrize("text", ["HKEY_LOCAL_MACHINES\\X", "SYSTEM\\X", "", "\\"])
def test_unknown_roots_are_usage_errors(text):
    with pytest.raises(UsageError):
        normalize_path(text)


def test_an_empty_path_component_is_refused():
    with pytest.raises(UsageError, match="empty component"):
        normalize_path("HKLM\\SYSTEM\\\\Select")


def test_is_logical_tells_full_paths_from_hive_paths():
    assert is_logical("HKLM\\SYSTEM") and is_logical("HKEY_USERS")
    assert not is_logical("ControlSet001\\Services") and not is_logical("")


# ------------------------------------------------------------------------------ root inference
@pytest.mark.parametrize("keys, root_name, file_name, root", [
    (["Select", "ControlSet001"], "ROOT", "x.hiv", "HKEY_LOCAL_MACHINE\\SYSTEM"),
    (["Microsoft", "Classes"], "ROOT", "x.hiv", "HKEY_LOCAL_MACHINE\\SOFTWARE"),
    (["Microsoft", "Policies"], "ROOT", None, "HKEY_LOCAL_MACHINE\\SOFTWARE"),
    (["Objects", "Description"], "System", None, "HKEY_LOCAL_MACHINE\\BCD00000000"),
    (["Cache", "Policy", "RXACT", "SAM"], "ROOT", None, "HKEY_LOCAL_MACHINE\\SECURITY"),
    (["SAM"], "ROOT", None, "HKEY_LOCAL_MACHINE\\SAM"),
    (["Software", "Control Panel"], "ROOT", "NTUSER.DAT", "HKEY_CURRENT_USER"),
    (["Software", "Environment"], "ROOT", "ntuser1.dat", "HKEY_CURRENT_USER"),
    (["Software", "Control Panel"], "ROOT", "/mnt/Windows/System32/config/DEFAULT", "HKEY_USERS\\.DEFAULT"),
    (["CLSID"], "S-1-5-21-146151751-63468248-1215037915-1000_Classes", None,
     "HKEY_CURRENT_USER\\Software\\Classes"),
])
def test_root_is_inferred_from_content(keys, root_name, file_name, root):
    choice = infer_root(hive_with(keys, root_name), file_name)
    assert (choice.root, choice.source) == (root, "content")


@pytest.mark.parametrize("file_name, root", [
    ("SYSTEM", "HKEY_LOCAL_MACHINE\\SYSTEM"), ("config/software", "HKEY_LOCAL_MACHINE\\SOFTWARE"),
    ("SAM", "HKEY_LOCAL_MACHINE\\SAM"), ("SECURITY", "HKEY_LOCAL_MACHINE\\SECURITY"),
    ("NTUSER.DAT", "HKEY_CURRENT_USER"), ("DEFAULT", "HKEY_USERS\\.DEFAULT"),
    ("UsrClass.dat", "HKEY_CURRENT_USER\\Software\\Classes"),
])
def test_root_falls_back_to_the_file_name(file_name, root):
    choice = infer_root(hive_with(["Unrelated"]), file_name)
    assert choice == type(choice)(root, f"file name {file_name.rpartition('/')[2]}", "file name")


def test_content_wins_over_the_file_name():
    assert infer_root(hive_with(["Select", "ControlSet001"]), "SOFTWARE").root == SYSTEM


def test_without_content_or_file_name_the_root_must_be_given():
    with pytest.raises(UsageError, match="give it with root="):
        infer_root(hive_with(["Unrelated"]), "mystery.hiv")


def test_a_given_root_is_used_as_given_with_the_long_name():
    choice = infer_root(hive_with(["Select", "ControlSet001"]), "SYSTEM", "HKU\\S-1-5-21-1")
    assert (choice.root, choice.source) == ("HKEY_USERS\\S-1-5-21-1", "option")
    assert choice.reason.startswith("given with --root; HKU is a short root name")


@pytest.mark.parametrize("relative, root", [
    ("mkorman90+regipy/regipy_tests/data/SYSTEM", "HKEY_LOCAL_MACHINE\\SYSTEM"),
    ("log2timeline+dfwinreg/_history/1785983fe52b/test_data/SYSTEM", "HKEY_LOCAL_MACHINE\\SYSTEM"),
    ("mkorman90+regipy/regipy_tests/data/NTUSER.DAT", "HKEY_CURRENT_USER"),
    ("log2timeline+plaso/test_data/NTUSER-WIN7.DAT", "HKEY_CURRENT_USER"),
    ("log2timeline+dfwinreg/test_data/UsrClass.dat", "HKEY_CURRENT_USER\\Software\\Classes"),
    ("mkorman90+regipy/regipy_tests/data/BCD", "HKEY_LOCAL_MACHINE\\BCD00000000"),
    ("AndrewRathbun+DFIRArtifactMuseum/_history/a32aa47e43e6/Windows/Registry/Win10/RathbunVM/ELAM",
     "HKEY_LOCAL_MACHINE\\ELAM"),
])
def test_corpus_hives_get_the_root_windows_mounts_them_at(relative, root):
    require_corpus()
    path = corpus_path(relative)
    assert infer_root(Hive.open(path), str(path)).root == root


# ------------------------------------------------------------------------------ control sets
def test_auto_writes_the_default_set_when_current_agrees():
    choice = select_control_sets(system_hive(1, 1, (1, 2)), "auto")
    assert choice.sets == ("ControlSet001",) and choice.warnings == ()
    assert choice.description == "CurrentControlSet -> ControlSet001 (Select\\Default = Select\\Current)"


def test_auto_writes_default_and_current_with_a_warning_when_they_differ():
    choice = select_control_sets(system_hive(current=2, default=1, sets=(1, 2, 3)), "auto")
    assert choice.sets == ("ControlSet001", "ControlSet002")
    assert choice.warnings == ("Select\\Default names ControlSet001 but Select\\Current names ControlSet002: "
                               "writing both (control_set_mode='default' or 'current' writes one)",)


@pytest.mark.parametrize("mode, sets", [("default", ("ControlSet001",)), ("current", ("ControlSet002",)),
                                        ("all", ("ControlSet001", "ControlSet002", "ControlSet003")),
                                        ("3", ("ControlSet003",)), (3, ("ControlSet003",)),
                                        ("ControlSet003", ("ControlSet003",))])
def test_explicit_control_set_modes(mode, sets):
    assert select_control_sets(system_hive(current=2, default=1, sets=(1, 2, 3)), mode).sets == sets


def test_reading_goes_through_current():
    assert read_control_set(system_hive(current=2, default=1, sets=(1, 2))).sets == ("ControlSet002",)


def test_set_numbers_use_three_digits_from_ten_on():
    assert select_control_sets(system_hive(10, 10, (10,)), "auto").sets == ("ControlSet010",)


@pytest.mark.parametrize("hive, mode, message", [
    (lambda: system_hive(current=1, default=4, sets=(1,)), "auto", "Select\\Default is 4, but the hive has no ControlSet004"),
    (lambda: system_hive(current=0, default=1, sets=(1,)), "current", "Select\\Current is 0; control sets are numbered from 1"),
    (lambda: system_hive(sets=(1,)), 7, "control_set_mode=7: the hive has no ControlSet007 key"),
    (lambda: hive_with(["ControlSet001"]), "auto", "the hive has no Select key"),
    (lambda: hive_with(["Select"]), "all", "the hive has no ControlSetNNN key"),
])
def test_unusable_select_values_are_refused_with_exit_4(hive, mode, message):
    with pytest.raises(ControlSetError, match=message.replace("\\", "\\\\").replace("(", "\\(")) as caught:
        select_control_sets(hive(), mode)
    assert caught.value.exit_code == EXIT_REFUSED


def test_a_select_value_that_is_not_a_dword_is_refused():
    hive = system_hive()
    hive.set_value("Select", "Current", 1, "1".encode("utf-16-le") + b"\0\0")
    with pytest.raises(ControlSetError, match="Select.Current is REG_SZ of 4 bytes, not a REG_DWORD"):
        read_control_set(hive)
    # Hive.set_value refuses a 2-byte REG_DWORD; the raw engine stores it as a damaged or
    # hand-made hive would hold it.
    hive.set_raw_value(hive.key("Select"), "Current", 4, b"\1\0")
    with pytest.raises(ControlSetError, match="REG_DWORD of 2 bytes, not a REG_DWORD"):
        read_control_set(hive)


@pytest.mark.parametrize("text", ["sometimes", "0", "1000", "-1"])
def test_bad_control_set_options_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_control_set_mode(text)


# ------------------------------------------------------------------------------ mapping
def test_mapping_strips_the_root_and_keeps_the_rest():
    mapper = PathMapper(system_hive(), "HKLM\\SYSTEM")
    assert mapper.root == SYSTEM
    assert mapper.map("HKEY_LOCAL_MACHINE\\system\\Select") == ["Select"]
    assert mapper.map("hklm\\SYSTEM") == [""]
    assert mapper.control_set_choice is None  # not needed, not looked up


def test_current_control_set_expands_to_the_chosen_sets():
    mapper = PathMapper(system_hive(current=2, default=1, sets=(1, 2)), SYSTEM, "auto")
    assert mapper.map(SYSTEM + "\\currentcontrolset\\Services\\X") == [
        "ControlSet001\\Services\\X", "ControlSet002\\Services\\X"]
    assert mapper.control_set_choice.sets == ("ControlSet001", "ControlSet002")
    assert len(mapper.warnings) == 1
    reader = PathMapper(system_hive(current=2, default=1, sets=(1, 2)), SYSTEM, "read")
    assert reader.map(SYSTEM + "\\CurrentControlSet") == ["ControlSet002"]


def test_paths_outside_the_root_are_foreign():
    mapper = PathMapper(system_hive(), SYSTEM)
    for path in ("HKEY_LOCAL_MACHINE\\SOFTWARE\\X", "HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE\\SYSTEMX",
                 "HKEY_CURRENT_USER\\SYSTEM"):
        with pytest.raises(ForeignPath) as caught:
            mapper.map(path)
        assert isinstance(caught.value, RefusedUnsafe) and caught.value.exit_code == EXIT_REFUSED
        assert mapper.is_foreign(path)


def test_a_hive_without_select_maps_everything_but_current_control_set():
    mapper = PathMapper(hive_with(["Software"]), "HKEY_CURRENT_USER")
    assert mapper.map("HKCU\\Software\\Foo") == ["Software\\Foo"]
    with pytest.raises(ForeignPath):
        mapper.map("HKEY_USERS\\.DEFAULT")


def test_classes_root_and_current_config_map_to_where_they_live():
    software = PathMapper(hive_with(["Microsoft", "Classes"]), "HKEY_LOCAL_MACHINE\\SOFTWARE")
    assert software.map("HKEY_CLASSES_ROOT\\.txt") == ["Classes\\.txt"]
    classes = PathMapper(hive_with(["CLSID"]), "HKEY_CURRENT_USER\\Software\\Classes")
    assert classes.map("HKCR\\CLSID\\{x}") == ["CLSID\\{x}"]
    system = PathMapper(system_hive(current=1, default=1, sets=(1,)), SYSTEM)
    assert system.map("HKEY_CURRENT_CONFIG\\Software") == ["ControlSet001\\Hardware Profiles\\Current\\Software"]
    with pytest.raises(ForeignPath):
        PathMapper(hive_with(["Software"]), "HKEY_CURRENT_USER").map("HKEY_CLASSES_ROOT\\.txt")


def test_full_path_is_the_reverse_of_map():
    mapper = PathMapper(system_hive(), SYSTEM)
    assert mapper.full_path("ControlSet001\\Services") == SYSTEM + "\\ControlSet001\\Services"
    assert mapper.full_path("") == SYSTEM
