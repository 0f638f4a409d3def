"""Whole-hive dumps: ``ls -r`` streams its output, in the same bytes as before it streamed.

The recursive listing reads a subtree in one pass and writes each key's JSON text directly;
these tests hold it to what the Key views and ``json.dumps(indent=2)`` give for the same
hive, byte for byte, on every corpus hive that can be edited (real hives of every Windows
version), and check the JSON Lines and CSV forms against the JSON one.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import corpus_path, role_params
from hivetool.cli import main, render
from hivetool import csvtext
from hivetool.cli.dump import ROW_FIELDS, KeyEntry
from hivetool.errors import HiveFormatError
from hivetool.jsontext import pretty
from hivetool.regf.hive import Hive

SAMPLE = Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM"


def run(capsys, *argv: object) -> str:
    assert main([str(a) for a in argv]) == 0
    return capsys.readouterr().out


def by_views(path: Path) -> tuple[str, str, str, str]:
    """``ls -r --json``, ``ls -r``, ``ls -r --jsonl`` and ``ls -r --csv`` as the Key views and
    the standard library make them."""
    hive = Hive.open(path)
    keys = list(hive.root.walk())
    as_json = json.dumps([render.key_json(key) for key in keys], indent=2, ensure_ascii=False) + "\n"
    as_text = "\n\n".join("\n".join(render.key_lines(key)) for key in keys) + "\n"
    as_jsonl = "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
                       for key in keys for row in KeyEntry(key, None).rows())
    as_csv = csvtext.line(ROW_FIELDS) + "".join(KeyEntry(key, None).csv_text() for key in keys)
    return as_json, as_text, as_jsonl, as_csv


@pytest.mark.parametrize("relative", role_params("edit", max_bytes=4 << 20))
def test_the_dump_is_byte_for_byte_what_the_views_give(relative, capsys):
    path = corpus_path(relative)
    expected_json, expected_text, expected_jsonl, expected_csv = by_views(path)
    assert run(capsys, "ls", path, "-r", "--json") == expected_json
    assert run(capsys, "ls", path, "-r") == expected_text
    assert run(capsys, "ls", path, "-r", "--jsonl") == expected_jsonl
    assert run(capsys, "ls", path, "-r", "--csv") == expected_csv


@pytest.mark.slow
@pytest.mark.parametrize("relative", role_params("edit"))
def test_big_hives_too(relative, capsys):
    path = corpus_path(relative)
    expected_json = by_views(path)[0]
    assert run(capsys, "ls", path, "-r", "--json") == expected_json


def test_a_subtree_and_an_image_path(tmp_path, capsys):
    hive = Hive.open(SAMPLE)
    start = hive.key(r"ControlSet001\Services")
    expected = json.dumps([render.key_json(key) for key in start.walk()], indent=2, ensure_ascii=False) + "\n"
    assert run(capsys, "ls", SAMPLE, r"ControlSet001\Services", "-r", "--json") == expected
    config = tmp_path / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    (config / "SYSTEM").write_bytes(SAMPLE.read_bytes())
    listed = json.loads(run(capsys, "ls", tmp_path, r"HKLM\SYSTEM\ControlSet001\Services", "-r", "--json"))
    assert [d["path"] for d in listed] == [
        "HKEY_LOCAL_MACHINE\\SYSTEM\\" + key.path for key in start.walk()]


def test_jsonl_and_csv_hold_every_value_and_every_key(capsys):
    documents = json.loads(run(capsys, "ls", SAMPLE, "-r", "--json"))
    rows = [json.loads(line) for line in run(capsys, "ls", SAMPLE, "-r", "--jsonl").splitlines()]
    expected = []
    for document in documents:
        key = {"path": document["path"], "last_write": document["last_write"],
               "last_write_filetime": document["last_write_filetime"]}
        if not document["values"]:
            expected.append({**key, "name": None, "type": None, "type_id": None, "data": None})
        for value in document["values"]:
            expected.append({**key, "name": value["name"], "type": value["type"], "type_id": value["type_id"],
                             "data": value["data"]})
    assert rows == expected
    table = list(csv.reader(io.StringIO(run(capsys, "ls", SAMPLE, "-r", "--csv"))))
    assert table[0] == ["path", "last_write", "last_write_filetime", "name", "type", "type_id", "data"]
    assert len(table) == len(rows) + 1
    for row, cells in zip(rows, table[1:]):
        data = row["data"]
        shown = "" if data is None else json.dumps(data, ensure_ascii=False) if isinstance(data, list) else str(data)
        assert cells == [row["path"], row["last_write"], str(row["last_write_filetime"]),
                         row["name"] or "", row["type"] or "", "" if row["type_id"] is None else str(row["type_id"]),
                         shown]


def test_the_formats_exclude_each_other(capsys):
    assert main(["ls", str(SAMPLE), "-r", "--json", "--csv"]) == 2


def test_a_damaged_key_fails_with_the_same_error_after_what_came_before(tmp_path, capsys):
    """A dump streams, so the keys before a damaged one are out; the error is the one the
    views raise, with the file and offset, and the exit code is 3."""
    hive = Hive.open(SAMPLE)
    victim = hive.key(r"ControlSet001\Services\MSExchangeIS")
    data = bytearray(SAMPLE.read_bytes())
    at = victim.cell + 4096 + 4  # the nk payload: break its signature
    data[at : at + 2] = b"xx"
    broken = tmp_path / "SYSTEM"
    broken.write_bytes(data)
    assert main(["ls", str(broken), "-r", "--json"]) == 3
    captured = capsys.readouterr()
    # the key whose subkey list leads to the damage cannot be listed; the keys before it are out
    assert '"path": "ControlSet001"' in captured.out
    assert '"path": "ControlSet001\\\\Services"' not in captured.out
    with pytest.raises(HiveFormatError) as raised:
        for key in Hive.open(broken).root.walk():
            render.key_json(key)
    assert str(raised.value) in captured.err
    assert f"0x{victim.cell + 4096:x}" in captured.err and str(broken) in captured.err


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_pretty_is_what_json_dumps_writes(document):
    assert pretty(document) == json.dumps(document, indent=2, ensure_ascii=False)


def _iso_reference(filetime: int) -> str:
    """What dumps have always printed: the datetime's fields, sub-second digits when present,
    none from the year 9999 on (where times past the datetime range are clamped)."""
    import datetime as dt

    try:
        moment = dt.datetime(1601, 1, 1) + dt.timedelta(microseconds=filetime // 10)
    except OverflowError:
        moment = dt.datetime.max
    text = moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
    frac = filetime % 10_000_000
    if frac and moment.year < 9999:
        text += "." + f"{frac:07d}".rstrip("0")
    return text + "Z"


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1) | st.integers(min_value=0, max_value=2_650_467_744_000_000_000))
def test_filetime_text_is_what_it_was(filetime):
    from hivetool.timeutil import filetime_to_iso

    assert filetime_to_iso(filetime) == _iso_reference(filetime)


def test_filetime_text_of_one_second_with_and_without_fractions():
    """Texts are kept per second: the same second with other sub-second digits (or none)
    must still give each its own digits, and a cached second must not leak into another."""
    from hivetool.timeutil import filetime_to_iso

    second = 133_000_000_000_000_000  # 2022-06-18T...Z, a whole second
    for filetime in (second + 1, second, second + 9_999_999, second + 5_000_000, second, second + 10_000_000):
        assert filetime_to_iso(filetime) == _iso_reference(filetime)


def test_csv_keeps_crlf_text_in_one_field(tmp_path, capsys):
    """Registry strings hold CRLF text: the CSV dump must read back with the csv module as
    the rows it wrote (a bare carriage return used to end the row for its reader)."""
    import hivetool

    text, bare = 'first line\r\nsecond, "quoted"', "old Mac line\rends"
    hive = hivetool.new()
    key = hive.create_key(r"Software\Notes")
    key.set("Text", hivetool.RegType.SZ, text)
    key.set("Bare", hivetool.RegType.SZ, bare)  # a carriage return alone: the case csv left unquoted
    key.set("Lines", hivetool.RegType.MULTI_SZ, ["a\rb", "c"])
    path = tmp_path / "notes.dat"
    hive.save(path)
    table = list(csv.reader(io.StringIO(run(capsys, "ls", path, r"Software\Notes", "--csv"), newline="")))
    assert table[0] == list(ROW_FIELDS)
    data = {row[3]: row[6] for row in table[1:]}
    assert data == {"Text": text, "Bare": bare, "Lines": json.dumps(["a\rb", "c"], ensure_ascii=False)}
