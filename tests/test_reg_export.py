"""Exporting hives to .reg: regedit's order and layout, and round trips through import.

Round trip, bytes: export a hive, import the file into a new hive, export that: the two
files are identical. The one exception is data no .reg file can carry: string-type data
without a terminating NUL, to which every importer (Windows' included) adds one; the
export lists those values, and the second file must differ by exactly that NUL.
Round trip, content: the imported hive holds the source's keys and values (type and raw
bytes, in the same order), as our reader, python-registry, libregf, hivexml and reglookup
all show, and it passes our structural check.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

import oracles
from corpus import role_params
from hivetool.errors import RegFileError, UsageError
from hivetool.paths import infer_root
from hivetool.regf.hive import Hive
from hivetool.regfile.apply import apply_patch
from hivetool.regfile.emit import DIALECT_4, STRING_HEX_TYPES, emit_patch, string_hex_survives
from hivetool.regfile.export import export_hive, hive_as_patch
from hivetool.regfile.parse import parse_reg_strict
from hivetool.regfile.patch import SET_VALUE, Op, Patch
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2024-05-01T12:00:00Z"))
BIG_HIVE = 2_000_000
FALLBACK_ROOT = "HKEY_USERS\\hivetool-test"  # for hives whose root nothing tells
NUL_NAME = "holds a NUL character, which Windows cannot import"


def sz(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def root_for(hive: Hive, path: Path | str | None) -> str:
    try:
        return infer_root(hive, str(path) if path else None).root
    except UsageError:
        return FALLBACK_ROOT


def as_imported(patch: Patch) -> Patch:
    """What a patch becomes after a trip through a .reg file: string-type data without a
    terminating NUL character gains one (reg-format 5.5), everything else is unchanged."""
    out = Patch()
    for op in patch:
        if op.kind == SET_VALUE and op.type in STRING_HEX_TYPES and not string_hex_survives(op.data):
            op = Op(op.kind, op.key, op.name, op.type, op.data + b"\0\0", op.origin)
        out.ops.append(op)
    return out


def import_into_new(data: bytes, root: str, minor: int = 5) -> Hive:
    hive = Hive.new(minor, "ROOT", CLOCK)
    # A REGEDIT4 file is in the ANSI code page even where its bytes happen to be valid UTF-8.
    apply_patch(hive, parse_reg_strict(data, utf8_without_bom=False), root)
    return hive


def agree_with_readers(path: Path, expected: oracles.Content) -> None:
    """Our reader and every independent one show ``expected`` in the file at ``path``."""
    written = oracles.read_own(path)
    assert list(written.keys) == list(expected.keys)
    assert written.values == expected.values  # type and raw bytes, in order
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, path, written)
    from hivetool.regf.check import check_file

    report = check_file(str(path))
    assert not report.problems, [finding.line() for finding in report.findings]


# ------------------------------------------------------------------------------ order and layout
def layout_hive() -> Hive:
    hive = Hive.new(5, "ROOT", CLOCK)
    for key in ("zeta", "Alpha\\child", "beta", "_under", "alpha\\Another"):  # created out of order
        hive.create_key(key)
    hive.set_value("", "later", 4, struct.pack("<I", 2))
    hive.set_value("", "", 1, sz("default, not first"))
    hive.set_value("Alpha", "b", 3, b"\1")
    hive.set_value("Alpha", "a", 3, b"\2")
    return hive


def test_keys_come_depth_first_in_hive_order_and_values_in_creation_order():
    result = export_hive(layout_hive(), "HKEY_CURRENT_USER")
    assert result.data.decode("utf-16") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_CURRENT_USER]\r\n\"later\"=dword:00000002\r\n@=\"default, not first\"\r\n\r\n"
        "[HKEY_CURRENT_USER\\Alpha]\r\n\"b\"=hex:01\r\n\"a\"=hex:02\r\n\r\n"
        "[HKEY_CURRENT_USER\\Alpha\\Another]\r\n\r\n"
        "[HKEY_CURRENT_USER\\Alpha\\child]\r\n\r\n"
        "[HKEY_CURRENT_USER\\beta]\r\n\r\n"
        "[HKEY_CURRENT_USER\\zeta]\r\n\r\n"
        "[HKEY_CURRENT_USER\\_under]\r\n\r\n")  # '_' (0x5F) sorts after the upcased letters
    assert (result.keys, result.values, result.losses) == (7, 4, [])


def test_a_subtree_exports_with_its_full_logical_path():
    result = export_hive(layout_hive(), "HKEY_CURRENT_USER", "ALPHA")
    assert result.top == "HKEY_CURRENT_USER\\Alpha"
    assert result.data.decode("utf-16").split("\r\n")[2:4] == ["[HKEY_CURRENT_USER\\Alpha]", '"b"=hex:01']
    assert result.keys == 3


def test_export_and_the_patch_of_a_hive_emit_the_same_bytes():
    hive = layout_hive()
    assert emit_patch(hive_as_patch(hive, "HKEY_CURRENT_USER")).finish() == export_hive(hive, "HKEY_CURRENT_USER").data


# ------------------------------------------------------------------------------ round trips on the corpus
@pytest.mark.parametrize("relative", role_params("edit", max_bytes=BIG_HIVE))
def test_round_trip_of_every_edit_hive(relative, corpus_copy, tmp_path):
    source_path = corpus_copy(relative)
    source = Hive.open(source_path)
    root = root_for(source, source_path)
    first = export_hive(source, root)

    if any(NUL_NAME in loss.reason for loss in first.losses):
        # Windows reads each line as a NUL-terminated string, so such a name cannot be
        # imported; a strict import says where, instead of importing something else.
        with pytest.raises(RegFileError, match="NUL character"):
            parse_reg_strict(first.data)
        return

    expected_patch = as_imported(hive_as_patch(source, root))
    expected_text = emit_patch(expected_patch).finish()
    assert len(first.losses) == sum(1 for a, b in zip(hive_as_patch(source, root), expected_patch) if a != b)
    if not first.losses:
        assert expected_text == first.data
    # reg fmt of an export is the identity (up to the NUL importers add).
    assert emit_patch(parse_reg_strict(first.data)).finish() == expected_text

    imported = import_into_new(first.data, root, source.minor)
    second = export_hive(imported, root)
    assert second.data == expected_text

    written = tmp_path / "imported.hiv"
    imported.save(written)
    expected = oracles.read_own(source_path)
    grown = {(op.key, op.name): op.data for op in expected_patch if op.kind == SET_VALUE}
    prefix = root + "\\"
    expected.values = [
        oracles.Record(r.key, r.name, r.type, grown[(prefix + r.key if r.key else root, r.name)])
        for r in expected.values
    ]
    agree_with_readers(written, oracles.Content(imported.minor, expected.keys, expected.values))


# Hive.set_value takes a REG_DWORD of exactly 4 bytes; a .reg file may carry any size
# (hex(4):...), which Windows imports as it is, and so does import (through the raw engine call).
def test_lossless_export_keeps_what_regedit_loses(tmp_path):
    hive = Hive.new(5, "ROOT", CLOCK)
    hive.create_key("K")
    odd = {"embedded": (1, "abc\0def\0".encode("utf-16-le")), "empty": (1, b""),
           "odd-after-nul": (1, "ab".encode("utf-16-le") + b"\0\0\x07"), "dword-8": (4, bytes(range(8))),
           "expand-empty": (2, b""), "multi-no-second-nul": (7, sz("x"))}
    for name, (value_type, data) in odd.items():
        hive.set_raw_value(hive.key("K"), name, value_type, data)  # raw: any size for any type
    exact = export_hive(hive, "HKEY_CURRENT_USER")
    assert exact.losses == []
    again = import_into_new(exact.data, "HKEY_CURRENT_USER")
    assert {v.name: (v.type, v.raw) for v in again.key("K").values()} == odd

    lossy = export_hive(hive, "HKEY_CURRENT_USER", regedit_compat=True)
    assert [loss.name for loss in lossy.losses] == ["embedded", "empty", "odd-after-nul"]
    cut = {v.name: v.raw for v in import_into_new(lossy.data, "HKEY_CURRENT_USER").key("K").values()}
    assert cut["embedded"] == sz("abc") and cut["empty"] == sz("")
    assert cut["odd-after-nul"] == sz("ab")


def test_regedit4_round_trip_of_code_page_text():
    hive = Hive.new(3, "ROOT", CLOCK)
    hive.create_key("Clé\\Sous-clé")
    values = {"Nom": (1, sz("Crème brûlée")), "Chemin": (2, sz("%windir%\\système")),
              "Liste": (7, sz("un") + sz("deux") + b"\0\0"), "": (3, bytes(range(100)))}
    for name, (value_type, data) in values.items():
        hive.set_value("Clé\\Sous-clé", name, value_type, data)
    result = export_hive(hive, "HKEY_LOCAL_MACHINE\\SOFTWARE", dialect=DIALECT_4)
    assert result.data.startswith(b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE]\r\n")
    assert b'"Chemin"=hex(2):25,77,69,6e,64,69,72,25,5c,73,79,73,74,e8,6d,65,00\r\n' in result.data
    again = import_into_new(result.data, "HKEY_LOCAL_MACHINE\\SOFTWARE", 3)
    assert {v.name: (v.type, v.raw) for v in again.key("Clé\\Sous-clé").values()} == values
    assert export_hive(again, "HKEY_LOCAL_MACHINE\\SOFTWARE", dialect=DIALECT_4).data == result.data

