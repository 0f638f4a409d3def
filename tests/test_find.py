"""find: key names, value names and decoded data, with filters; exit 1 when nothing is found."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import hivetool
from hivetool import Clock, RegType
from hivetool.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM"
EARLY = Clock.resolve("2010-01-01T00:00:00Z")
LATE = Clock.resolve("2024-05-01T00:00:00Z")


@pytest.fixture
def hive_file(tmp_path) -> Path:
    """A hive with one value of each kind of data find reads, written at two times."""
    hive = hivetool.new(root_name="ROOT", clock=EARLY)
    old = hive.create_key(r"Software\Old")
    old.set("Path", RegType.SZ, r"C:\Temp\tool.exe")
    old.set("Port", RegType.DWORD, 1225)
    first = tmp_path / "first"
    hive.save(first)
    hive = hivetool.open(first, clock=LATE)
    new = hive.create_key(r"Software\NewVendor")
    new.set("Servers", RegType.MULTI_SZ, ["alpha.example", "beta.example"])
    new.set("Blob", RegType.BINARY, b"\x01\x02" + "C:\\Users\\eve\\secret.docx".encode("utf-16-le") + b"\0\0")
    new.set("Count", RegType.QWORD, 0x1_0000_0000)
    path = tmp_path / "NTUSER.DAT"
    hive.save(path)
    return path


def find_json(capsys, *argv: object) -> tuple[int, dict]:
    code = main(["find", *map(str, argv), "--json"])
    return code, json.loads(capsys.readouterr().out)


def found(document: dict) -> set[tuple[str, str, str | None]]:
    return {(m["path"], m["matched"], m.get("value", {}).get("name")) for m in document["matches"]}


def test_names_are_matched_without_case(hive_file, capsys):
    code, document = find_json(capsys, hive_file, "newvendor")
    assert code == 0 and found(document) == {(r"Software\NewVendor", "key_name", None)}
    match = document["matches"][0]
    assert match["last_write"] == "2024-05-01T00:00:00Z"
    assert match["last_write_filetime"] == 133589952000000000


def test_data_is_searched_as_it_reads(hive_file, capsys):
    # a string, one string of a list, a number in decimal and hex, text inside binary data
    assert found(find_json(capsys, hive_file, "temp\\tool")[1]) == {(r"Software\Old", "data", "Path")}
    assert found(find_json(capsys, hive_file, "beta.example")[1]) == {(r"Software\NewVendor", "data", "Servers")}
    assert found(find_json(capsys, hive_file, "1225")[1]) == {(r"Software\Old", "data", "Port")}
    assert found(find_json(capsys, hive_file, "0x4c9")[1]) == {(r"Software\Old", "data", "Port")}
    assert found(find_json(capsys, hive_file, "secret.docx")[1]) == {(r"Software\NewVendor", "data", "Blob")}
    assert found(find_json(capsys, hive_file, "4294967296")[1]) == {(r"Software\NewVendor", "data", "Count")}


def test_filters(hive_file, capsys):
    everything = found(find_json(capsys, hive_file, "e")[1])
    names = found(find_json(capsys, hive_file, "e", "--names")[1])
    data = found(find_json(capsys, hive_file, "e", "--data")[1])
    def pairs(matches: set) -> set:
        return {(path, name) for path, _, name in matches}

    # a value is reported once: by its name when that matches, else by its data
    assert names and data and pairs(names) | pairs(data) == pairs(everything)
    assert all(kind != "data" for _, kind, _ in names) and all(kind == "data" for _, kind, _ in data)
    assert found(find_json(capsys, hive_file, "alpha", "--type", "multi_sz")[1]) == {
        (r"Software\NewVendor", "data", "Servers")}
    assert find_json(capsys, hive_file, "alpha", "--type", "sz")[0] == 1
    late = found(find_json(capsys, hive_file, "o", "--since", "2020-01-01")[1])
    early = found(find_json(capsys, hive_file, "o", "--until", "2020-01-01")[1])
    assert late and early and all(p != r"Software\Old" for p, _, _ in late)
    assert all(p != r"Software\NewVendor" for p, _, _ in early)


def test_regular_expressions_and_case(hive_file, capsys):
    assert found(find_json(capsys, hive_file, r"^(alpha|gamma)\.", "-E")[1]) == {
        (r"Software\NewVendor", "data", "Servers")}
    assert find_json(capsys, hive_file, "NEWVENDOR", "--case-sensitive")[0] == 1
    assert main(["find", str(hive_file), "([", "-E"]) == 2  # a bad expression is a usage error


def test_nothing_found_exits_1_and_prints_nothing(hive_file, capsys):
    assert main(["find", str(hive_file), "no such thing"]) == 1
    assert capsys.readouterr().out == ""
    code, document = find_json(capsys, hive_file, "no such thing")
    assert code == 1 and document["count"] == 0 and document["matches"] == []


def test_text_output(hive_file, capsys):
    assert main(["find", str(hive_file), "Port"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [r'value  Software\Old  "Port" = REG_DWORD 1225 (0x4c9)']


def test_find_never_writes(hive_file, tmp_path, capsys):
    before = hive_file.read_bytes(), hive_file.stat().st_mtime_ns
    main(["find", str(hive_file), "e"])
    assert (hive_file.read_bytes(), hive_file.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NTUSER.DAT", "first"]


def test_an_image_shows_full_registry_paths(tmp_path, capsys):
    config = tmp_path / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copyfile(SAMPLE, config / "SYSTEM")
    code, document = find_json(capsys, tmp_path, "MSExchangeDS", "--names")
    assert code == 0
    assert r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeDS" in {m["path"] for m in document["matches"]}
