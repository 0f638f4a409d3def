"""hivetool recover: deleted keys and values, measured against the truth.

The ground truth comes from hives built and edited with hivetool's own library in many
layouts (tests/recovery_layouts.py): every deleted item whose bytes are still in the file must
be found (recall 100 %); nothing reported may be live or invented, and every claim it makes (a
name, a type, a path that reaches the root, a last-write time) must be true (precision 100 %).
The one claim no check can fully make is "intact" for data in free space that other data took
and gave back since, when that data's own record is gone too; where no space is taken again it
must always be true, elsewhere it is measured (bench/RESULTS_recover.md).
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from corpus import corpus_path, files_with_role, require_corpus
from hivetool.cli import main
from hivetool.forensics.recover import recover
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType
from hivetool.timeutil import filetime_to_iso
from recovery_layouts import BUILT, LAYOUTS, live_offsets, score

SEEDS = range(10)
# Layouts in which no freed space is taken again after the deletions: "intact" must hold always.
NO_REUSE = {"freed-untouched", "coalesced", "subtrees", "every-type-1.5", "every-type-1.3"}
DATA_CLAIM = "data called intact but differs"


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_recall_and_precision_against_the_truth(layout):
    intact_claims = wrong_data = 0
    for seed in SEEDS:
        final, truth = layout.make(seed)
        result = score(final, truth)
        assert result.missed == [], f"seed {seed}: intact deleted items not found: {result.missed[:5]}"
        assert result.found_intact == result.intact
        other = [w for w in result.wrong if DATA_CLAIM not in w]
        assert other == [], f"seed {seed}: live, invented or false: {other[:5]}"
        intact_claims += result.reported_intact_state
        wrong_data += len(result.wrong) - len(other)
    if layout.name in NO_REUSE:
        assert wrong_data == 0
    else:  # free space taken and freed again: measured, and must stay rare
        assert wrong_data <= max(1, intact_claims // 100), (wrong_data, intact_claims)


def test_a_deleted_subtree_comes_back_whole_with_its_paths():
    hive = Hive.new(5, clock=BUILT)
    hive.set_value(hive.create_key(r"Software\Evil\Run"), "Payload", RegType.EXPAND_SZ, r"%TEMP%\x.exe")
    hive.set_value(r"Software\Evil", "Installed", RegType.QWORD, 133_589_952_000_000_000)
    hive.create_key(r"Software\Kept")
    hive = Hive.from_bytes(hive.to_bytes())
    hive.delete_key(r"Software\Evil", recursive=True)
    items = recover(Hive.from_bytes(hive.to_bytes())).items
    found = {(item.kind, item.path, item.name): item for item in items}
    assert set(found) == {("key", r"Software\Evil", "Evil"), ("key", r"Software\Evil\Run", "Run"),
                          ("value", r"Software\Evil", "Installed"), ("value", r"Software\Evil\Run", "Payload")}
    payload = found[("value", r"Software\Evil\Run", "Payload")]
    assert (payload.state, payload.value_type, payload.raw) == ("intact", 2, "%TEMP%\\x.exe\0".encode("utf-16-le"))
    assert not any(item.partial for item in items)
    assert all(item.timestamp == BUILT.now() for item in items)


def test_a_value_whose_data_cell_was_taken_again_is_gone_not_invented():
    hive = Hive.new(5, clock=BUILT)
    key = hive.create_key("Software\\A")
    for name in ("x", "Spacer1", "OldValueWithALongName", "Spacer2"):  # value records side by side
        hive.set_value(key, name, RegType.DWORD, 1)
    hive.set_value(key, "OldValueWithALongName", RegType.BINARY, b"\xaa" * 200)  # its data: a cell at the end
    hive = Hive.from_bytes(hive.to_bytes())
    hive.delete_value("Software\\A", "OldValueWithALongName")
    hive.delete_value("Software\\A", "x")  # a free 32-byte cell, for the next value record
    hive.set_value("Software\\A", "Taker", RegType.BINARY, b"\xbb" * 200)  # takes the freed data cell
    items = recover(Hive.from_bytes(hive.to_bytes())).items
    assert [(item.name, item.state, item.raw) for item in items] == [("OldValueWithALongName", "gone", None)]


# ---------------------------------------------------------------------- the command
@pytest.fixture
def edited(tmp_path) -> Path:
    """A hive with one deleted key (two values) and one deleted value of a key that stays."""
    hive = Hive.new(5, clock=BUILT)
    hive.set_value(hive.create_key(r"Software\Gone"), "Port", RegType.DWORD, 1225)
    hive.set_value(r"Software\Gone", "Name", RegType.SZ, "evil")
    hive.set_value(hive.create_key(r"Software\Stays"), "Old", RegType.MULTI_SZ, ["a", "b"])
    hive.set_value(r"Software\Stays", "Keep", RegType.DWORD, 1)
    hive = Hive.from_bytes(hive.to_bytes(), clock=BUILT)
    hive.delete_value(r"Software\Stays", "Old")
    hive.delete_key(r"Software\Gone", recursive=True)
    path = tmp_path / "SOFTWARE"
    hive.save(path)
    return path


def test_text_output_one_line_per_item(edited, capsys):
    assert main(["recover", str(edited)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 4
    written = f"last write {filetime_to_iso(BUILT.now())}  intact"
    assert any(line.startswith("key ") and f"Software\\Gone  {written}" in line for line in lines)
    assert any('"Port" = REG_DWORD 1225 (0x4c9)  intact' in line for line in lines)
    assert any('(unknown key)  "Old" = REG_MULTI_SZ ["a", "b"]  intact' in line for line in lines)
    assert "recovered 1 key(s) and 3 value(s): 4 intact, 0 partly overwritten, 0 gone" in captured.err


def test_json_fields_as_ls_shows_values(edited, capsys):
    assert main(["recover", str(edited), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["counts"] == {"keys": 1, "values": 3, "intact": 4, "partly overwritten": 0, "gone": 0}
    port = next(item for item in document["items"] if item["name"] == "Port")
    assert {k: port[k] for k in ("kind", "path", "partial", "type", "type_id", "size", "data", "raw", "state")} == {
        "kind": "value", "path": r"Software\Gone", "partial": False, "type": "REG_DWORD", "type_id": 4, "size": 4,
        "data": 1225, "raw": "c9040000", "state": "intact"}
    assert port["last_write_filetime"] == BUILT.now() and port["evidence"]
    assert port["hive"] == str(edited) and port["offset"] % 8 == 0


def test_csv_has_a_header_and_a_row_per_item(edited, capsys):
    assert main(["recover", str(edited), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4 and {row["kind"] for row in rows} == {"key", "value"}
    assert next(row for row in rows if row["name"] == "Old")["data"] == '["a", "b"]'


def test_the_reg_file_imports_back(edited, tmp_path, capsys):
    root = "HKEY_LOCAL_MACHINE\\SOFTWARE"
    reg = tmp_path / "recovered.reg"
    assert main(["recover", str(edited), "--reg", str(reg), "--root", root]) == 0
    text = reg.read_bytes().decode("utf-16")
    assert text.startswith("\ufeffWindows Registry Editor Version 5.00") or text.startswith("Windows Registry")
    assert "; deleted key at file offset 0x" in text and "; deleted value 'Port' (REG_DWORD)" in text
    fresh, merged = tmp_path / "fresh.hiv", tmp_path / "merged.hiv"
    assert main(["new", str(fresh)]) == 0
    assert main(["import", str(fresh), str(reg), "--root", root, "-o", str(merged)]) == 0
    capsys.readouterr()
    hive = Hive.open(merged)
    assert hive.key(r"Software\Gone").value("Port").data == 1225
    assert hive.key(r"Software\Gone").value("Name").data == "evil"
    assert hive.key(r"(orphaned)\(unknown key)").value("Old").data == ["a", "b"]


@pytest.mark.parametrize("suffix", ["", ".LOG1"])
def test_the_reg_file_may_not_be_an_input(edited, suffix, capsys):
    if suffix:
        Path(str(edited) + suffix).write_bytes(b"")
    before = edited.read_bytes()
    assert main(["recover", str(edited), "--reg", str(edited) + suffix, "--root", "HKEY_LOCAL_MACHINE\\SOFTWARE"]) == 2
    assert "hivetool: error:" in capsys.readouterr().err
    assert edited.read_bytes() == before


def test_an_image_gives_full_registry_paths(tmp_path, capsys):
    from images import build_image

    image = build_image(tmp_path / "image")
    software = image / "Windows" / "System32" / "config" / "SOFTWARE"
    hive = Hive.open(software, clock=BUILT)
    hive.set_value(hive.create_key(r"Vendor\Doomed"), "Secret", RegType.SZ, "s3cret")
    hive.save(software, in_place=True)
    hive = Hive.open(software, clock=BUILT, for_update=True)
    hive.delete_key(r"Vendor\Doomed", recursive=True)
    hive.save(in_place=True)
    hive.close()
    assert main(["recover", str(image), "--json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    secret = next(item for item in items if item["name"] == "Secret")
    assert secret["path"] == r"HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Doomed"
    assert secret["hive"].replace("\\", "/").lower().endswith("windows/system32/config/software")


# ---------------------------------------------------------------------- real hives: counts only
REAL = [rel for role in ("edit", "replay", "read-only", "reference") for rel in files_with_role(role)]


def test_real_hives_never_report_live_records(tmp_path):
    """Windows-written and other tools' hives: recover runs on each; on the smaller ones no
    reported record is live (the bench lists the counts)."""
    require_corpus()
    for relative in REAL:
        source = corpus_path(relative)
        hive = Hive.open(shutil.copyfile(source, tmp_path / "hive"))
        result = recover(hive)
        assert all(item.state in ("intact", "partly overwritten", "gone") for item in result.items), relative
        if source.stat().st_size <= 3 * 1024 * 1024:
            live = live_offsets(hive)
            assert not [item for item in result.items if item.offset in live], relative
