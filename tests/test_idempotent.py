"""A pipeline step repeated on every build: when the target already holds what is asked, not
one byte is written. In place the file keeps its bytes and mtime; with -o the output is a
byte-identical copy of the input; the report says unchanged (JSON: "changed": false)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.regf.hive import Hive
from images import build_image, digests

ROOT = Path(__file__).resolve().parent.parent
DS = r"ControlSet001\Services\MSExchangeDS\Parameters"


@pytest.fixture
def hive(tmp_path) -> Path:
    path = tmp_path / "SYSTEM"
    shutil.copyfile(ROOT / "sample_hives" / "SYSTEM", path)
    return path


def state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def twice(capsys, argv: list, path: Path) -> dict:
    """Run a writing command twice in place: the first changes the file, the second must not."""
    assert main([str(a) for a in argv] + ["--in-place", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changed"] is True
    before = state(path)
    assert main([str(a) for a in argv] + ["--in-place", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert state(path) == before
    return second


def test_set_twice(hive, capsys):
    second = twice(capsys, ["set", hive, DS, "TCP/IP port", "--type", "dword", "--data", "1225"], hive)
    assert second["changed"] is False and second["written"] == []
    assert second["changes"][0]["action"] == "unchanged"


def test_mkkey_twice(hive, capsys):
    second = twice(capsys, ["mkkey", hive, r"ControlSet001\Services\New\Key"], hive)
    assert [c["action"] for c in second["changes"]] == ["exists"]


def test_import_twice(hive, tmp_path, capsys):
    reg = tmp_path / "x.reg"
    reg.write_text("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\X]\r\n"
                   "\"a\"=dword:00000001\r\n\"b\"=\"text\"\r\n\r\n[-HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Gone]\r\n"
                   "\r\n", encoding="utf-16")
    second = twice(capsys, ["import", hive, reg], hive)
    assert second["hives"][0]["values_set"] == 0 and second["hives"][0]["values_unchanged"] == 2


def test_ports_set_twice(hive, capsys):
    second = twice(capsys, ["ports", "set", hive, "exchange55", "ds=1225", "is=1226", "--force"], hive)
    assert second["changed"] is False and second["written"] is False


def test_a_no_op_with_o_gives_a_byte_identical_copy(hive, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["set", str(hive), "Select", "Current", "--type", "dword", "--data", "1", "-o", str(out)]) == 0
    assert "unchanged" in capsys.readouterr().err
    assert out.read_bytes() == hive.read_bytes()
    replayed = tmp_path / "replayed"  # a clean hive has nothing to replay: the copy is the input
    assert main(["replay", str(hive), "-o", str(replayed)]) == 0
    assert replayed.read_bytes() == hive.read_bytes()


def test_a_changed_type_or_data_is_not_a_no_op(hive, capsys):
    assert main(["set", str(hive), "Select", "Current", "--type", "dword", "--data", "2", "--in-place", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"][0]["action"] == "updated"
    assert main(["set", str(hive), "Select", "Current", "--type", "binary", "--data", "02000000", "--in-place",
                 "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["changes"][0]["type_changed"] is True and document["changed"] is True


def test_the_library_set_value_of_the_same_data_changes_nothing(hive):
    opened = Hive.open(hive)
    before = bytes(opened._engine.buf)
    assert opened.set_value("Select", "current", 4, (1).to_bytes(4, "little")) is False
    assert not opened.modified and bytes(opened._engine.buf) == before


def test_an_image_no_op_writes_nothing(tmp_path, capsys):
    image = build_image(tmp_path / "image")
    argv = ["set", str(image), r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "EditionID", "--type", "sz",
            "--data", "Professional"]
    before = digests(image)
    assert main(argv + ["--in-place", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False
    assert digests(image) == before
    out = tmp_path / "out"
    assert main(argv + ["-o", str(out)]) == 0
    assert out.is_dir() and not list(out.iterdir())
