"""diff: a patch holding only what changed, which turns OLD into NEW when imported."""
from __future__ import annotations

import struct

import pytest

import oracles
from corpus import corpus_path, require_corpus
from hivetool.regf.hive import Hive
from hivetool.regfile.apply import apply_patch
from hivetool.regfile.diff import diff_hives
from hivetool.regfile.emit import emit_patch
from hivetool.regfile.export import export_hive
from hivetool.regfile.parse import parse_reg_strict
from hivetool.regfile.patch import CREATE_KEY, DELETE_KEY, DELETE_VALUE, SET_VALUE, Patch
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2024-05-01T12:00:00Z"))
HKCU = "HKEY_CURRENT_USER"
REGIPY = "mkorman90+regipy/regipy_tests/data/"


def sz(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def through_reg_file(patch: Patch) -> Patch:
    """The patch as `hivetool import` sees it: emitted to .reg bytes and parsed back."""
    return parse_reg_strict(emit_patch(patch).finish())


def expected_changes(old: oracles.Content, new: oracles.Content, root: str) -> dict[str, set]:
    """What a minimal patch must hold, worked out from the two contents alone."""
    def full(path: str) -> str:
        return root + "\\" + path if path else root

    gone = set(old.keys) - set(new.keys)
    old_values = {(r.key, r.name): (r.type, r.raw) for r in old.values}
    new_values = {(r.key, r.name): (r.type, r.raw) for r in new.values}
    return {
        CREATE_KEY: {full(path) for path in set(new.keys) - set(old.keys)},
        DELETE_KEY: {full(path) for path in gone if path.rpartition("\\")[0] not in gone},
        SET_VALUE: {(full(k), n) for (k, n), v in new_values.items() if old_values.get((k, n)) != v},
        DELETE_VALUE: {(full(k), n) for (k, n) in old_values if (k, n) not in new_values and k in new.keys},
    }


def held(patch: Patch) -> dict[str, set]:
    found: dict[str, set] = {kind: set() for kind in (CREATE_KEY, DELETE_KEY, SET_VALUE, DELETE_VALUE)}
    for op in patch:
        found[op.kind].add(op.key if op.kind in (CREATE_KEY, DELETE_KEY) else (op.key, op.name))
    return found


def assert_real_patch(old_path, new_path, root: str, tmp_path) -> tuple[Patch, set]:
    """diff(OLD, NEW) holds exactly the changes, and importing it into OLD gives NEW.
    Returns the patch and the values it moves (deletes and sets again to fix their order)."""
    old, new = Hive.open(old_path), Hive.open(new_path)
    patch = diff_hives(old, new, root)
    found = held(patch)
    wanted = expected_changes(oracles.read_own(old_path), oracles.read_own(new_path), root)
    moved = found[DELETE_VALUE] - wanted[DELETE_VALUE]
    assert found[SET_VALUE] - wanted[SET_VALUE] == moved
    assert {kind: ops - moved for kind, ops in found.items()} == wanted
    assert len(patch) == sum(len(ops) for ops in found.values())  # nothing twice
    patched = Hive.open(old_path, CLOCK)
    apply_patch(patched, through_reg_file(patch), root)
    assert export_hive(patched, root).data == export_hive(new, root).data
    assert len(diff_hives(patched, new, root)) == 0
    written = tmp_path / "patched.hiv"
    patched.save(written)
    new_content = oracles.read_own(new_path)
    written_content = oracles.read_own(written)
    assert list(written_content.keys) == list(new_content.keys)
    assert written_content.values == new_content.values
    for reader in (oracles.PYTHON_REGISTRY, oracles.LIBREGF):
        oracles.agree(reader, written, written_content)
    return patch, moved


# ------------------------------------------------------------------------------ real pairs
def test_regipy_ntuser_pair(tmp_path):
    require_corpus()
    patch, moved = assert_real_patch(corpus_path(REGIPY + "NTUSER.DAT"),
                                     corpus_path(REGIPY + "NTUSER_modified.DAT"), HKCU, tmp_path)
    run = HKCU + "\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
    assert (run, "not_a_malware") in held(patch)[SET_VALUE]
    assert moved == set()


def edit_like_a_user(hive: Hive) -> str:
    """Every kind of change: keys added and deleted, values added, changed, deleted,
    reordered and renamed by case, a key renamed by case. Returns the moved value's name."""
    hive.create_key("Software\\hivetool\\Deep\\Deeper")
    hive.set_value("Software\\hivetool", "first", 4, struct.pack("<I", 1))
    hive.set_value("Software\\hivetool\\Deep", "", 1, sz("default"))
    hive.delete_key("Printers", recursive=True)
    desktop = hive.key("Control Panel\\Desktop")
    names = [value.name for value in desktop.values()]
    hive.set_value(desktop, names[0], 1, sz("changed in place"))
    hive.delete_value(desktop, names[1])
    moved = desktop.value(names[2])
    hive.delete_value(desktop, moved.name)
    hive.set_value(desktop, moved.name, moved.type, moved.raw)  # now last: the order changed
    renamed = desktop.value(names[3])
    hive.delete_value(desktop, renamed.name)
    hive.set_value(desktop, renamed.name.upper() + "x", renamed.type, renamed.raw)
    hive.set_value(desktop, "added", 3, bytes(range(40)))
    keyboard = hive.key("Keyboard Layout")
    hive.delete_key(keyboard, recursive=True)
    hive.create_key("KEYBOARD LAYOUT\\Preload")
    return moved.name


def test_hives_the_tests_edit(corpus_copy, tmp_path):
    old_path = corpus_copy("log2timeline+plaso/test_data/NTUSER.DAT")
    new = Hive.open(old_path, CLOCK)
    moved_name = edit_like_a_user(new)
    new_path = tmp_path / "NTUSER.new"
    new.save(new_path)
    patch, moved = assert_real_patch(old_path, new_path, HKCU, tmp_path)
    assert moved == {(f"{HKCU}\\Control Panel\\Desktop", moved_name)}
    assert f"{HKCU}\\Keyboard Layout" in held(patch)[DELETE_KEY]
    assert f"{HKCU}\\KEYBOARD LAYOUT" in held(patch)[CREATE_KEY]


@pytest.mark.slow
def test_the_big_system_hive_edited(corpus_copy, tmp_path):
    old_path = corpus_copy(REGIPY + "SYSTEM")
    new = Hive.open(old_path, CLOCK)
    services = "ControlSet001\\Services"
    new.set_value(new.create_key(services + "\\MSExchangeDS\\Parameters"), "TCP/IP port", 4, struct.pack("<I", 1225))
    first_service = new.key(services).subkeys()[0]
    new.delete_key(first_service, recursive=True)
    new.set_value("Select", "LastKnownGood", 4, struct.pack("<I", 2))
    new_path = tmp_path / "SYSTEM.new"
    new.save(new_path)
    assert assert_real_patch(old_path, new_path, "HKEY_LOCAL_MACHINE\\SYSTEM", tmp_path)[1] == set()


# ------------------------------------------------------------------------------ value order
def key_with(values: list[tuple[str, bytes]]) -> Hive:
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("K")
    for name, data in values:
        hive.set_value("K", name, 3, data)
    return hive


@pytest.mark.parametrize("old, new, ops", [
    ([("a", b"1"), ("b", b"2")], [("a", b"1"), ("b", b"2"), ("c", b"3")], ["set c"]),
    ([("a", b"1"), ("b", b"2")], [("a", b"1"), ("c", b"3"), ("b", b"2")], ["delete b", "set c", "set b"]),
    ([("a", b"1"), ("b", b"2"), ("c", b"3")], [("a", b"1"), ("c", b"3")], ["delete b"]),
    ([("a", b"1"), ("b", b"2")], [("b", b"2"), ("a", b"1")], ["delete a", "set a"]),
    ([("a", b"1"), ("b", b"2"), ("c", b"3")], [("c", b"3"), ("a", b"1"), ("b", b"2")],
     ["delete a", "delete b", "set a", "set b"]),
    ([("a", b"1"), ("b", b"2")], [("a", b"9"), ("b", b"2")], ["set a"]),
    ([("Name", b"1")], [("NAME", b"1")], ["delete Name", "set NAME"]),
    ([("a", b"1")], [("a", b"1")], []),
])
def test_value_order_survives_the_patch(old, new, ops):
    old_hive, new_hive = key_with(old), key_with(new)
    patch = diff_hives(old_hive, new_hive, HKCU)
    assert [f"{'set' if op.kind == SET_VALUE else 'delete'} {op.name}" for op in patch] == ops
    apply_patch(old_hive, through_reg_file(patch), HKCU)
    assert [(v.name, v.raw) for v in old_hive.key("K").values()] == [(n, d) for n, d in new]


def test_identical_hives_give_an_empty_patch():
    require_corpus()
    path = corpus_path(REGIPY + "NTUSER.DAT")
    assert len(diff_hives(Hive.open(path), Hive.open(path), HKCU)) == 0
    assert emit_patch(Patch()).finish() == "\ufeffWindows Registry Editor Version 5.00\r\n\r\n".encode("utf-16-le")
