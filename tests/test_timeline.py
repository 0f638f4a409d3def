"""hivetool timeline: every key's last-write time, in Sleuthkit's body format (read by
Sleuthkit's own mactime), CSV or JSON lines; deleted keys and the key states of transaction
logs marked as such."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from corpus import IN_CI, corpus_path, require_corpus
from hivetool.cli import main
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType
from hivetool.timeutil import Clock, parse_timestamp

EARLY, LATE = Clock(parse_timestamp("2024-05-01T10:00:00Z")), Clock(parse_timestamp("2024-06-01T10:00:00Z"))
MACTIME = shutil.which("mactime")
OLD_DIRTY = "msuhanov+yarp/hives_for_tests/OldDirtyHive/OldDirtyHive"


@pytest.fixture
def hive_file(tmp_path) -> Path:
    """Keys written in May, two more (one with a '|' in its name) in June, one deleted in June."""
    hive = Hive.new(5, clock=EARLY)
    for path in (r"Software\A", r"Software\B\C", r"Software\Doomed"):
        hive.set_value(hive.create_key(path), "v", RegType.DWORD, 1)
    hive = Hive.from_bytes(hive.to_bytes(), clock=LATE)
    hive.create_key(r"Software\June|pipe")
    hive.delete_key(r"Software\Doomed")
    path = tmp_path / "NTUSER.DAT"
    hive.save(path)
    return path


def run(capsys, argv: list) -> tuple[str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, captured.err


def test_bodyfile_one_line_per_key(hive_file, capsys):
    out, _ = run(capsys, ["timeline", hive_file])
    lines = out.splitlines()
    assert len(lines) == 6  # root, Software, A, B, B\C, June|pipe
    fields = lines[2].split("|")
    assert len(fields) == 11 and fields[0] == "0" and fields[8] == str(1714557600)
    assert fields[1] == f"{hive_file}:\\Software\\A"
    assert any("June\\x7cpipe" in line for line in lines), "a '|' in a name must not split the line"


def test_mactime_reads_it_with_one_row_per_key(hive_file, tmp_path, capsys):
    if MACTIME is None:
        message = "Sleuthkit's mactime is not installed (Debian: sleuthkit)"
        if IN_CI:
            pytest.fail(message + ": CI must install it")
        pytest.skip(message)
    out, _ = run(capsys, ["timeline", hive_file, "--deleted"])
    body = tmp_path / "body"
    body.write_text(out)
    done = subprocess.run([MACTIME, "-b", str(body), "-z", "UTC", "-d", "1970-01-02"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    rows = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert len(rows) == len(out.splitlines()) == 7
    names = [row[7] for row in rows]
    assert f"{hive_file}:\\Software\\Doomed (deleted)" in names
    assert sum(row[0].startswith("Wed May 01 2024") for row in rows) == 5  # root, Software, A, B, B\C ... and Doomed
    assert all(row[2] == "m..." for row in rows)


def test_csv_and_jsonl_carry_the_same_fields(hive_file, capsys):
    out, _ = run(capsys, ["timeline", hive_file, "--format", "csv", "--deleted"])
    rows = list(csv.DictReader(io.StringIO(out)))
    out, _ = run(capsys, ["timeline", hive_file, "--format", "jsonl", "--deleted"])
    objects = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(objects) == 7
    doomed = next(o for o in objects if o["path"] == r"Software\Doomed")
    assert doomed["source"] == "deleted" and doomed["partial"] is False and doomed["time"] == "2024-05-01T10:00:00Z"
    assert [row["path"] for row in rows] == [o["path"] for o in objects]


def test_since_and_until(hive_file, capsys):
    out, _ = run(capsys, ["timeline", hive_file, "--format", "jsonl", "--since", "2024-05-15"])
    assert sorted(json.loads(line)["path"] for line in out.splitlines()) == ["Software", r"Software\June|pipe"]
    out, _ = run(capsys, ["timeline", hive_file, "--format", "jsonl", "--until", "2024-05-15", "--deleted"])
    assert sorted(json.loads(line)["path"] for line in out.splitlines()) == [
        "", r"Software\A", r"Software\B", r"Software\B\C", r"Software\Doomed"]


def test_logs_show_what_is_not_yet_in_the_primary(tmp_path, capsys):
    require_corpus()
    source = corpus_path(OLD_DIRTY)
    for sibling in source.parent.iterdir():
        if sibling.name.startswith(source.name + ".LOG"):
            shutil.copyfile(sibling, tmp_path / sibling.name)
    hive = shutil.copyfile(source, tmp_path / source.name)
    out, _ = run(capsys, ["timeline", hive, "--format", "jsonl", "--logs"])
    events = [json.loads(line) for line in out.splitlines()]
    logged = [e for e in events if e["source"] == "log"]
    assert {"log": "OldDirtyHive.LOG1", "sequence": 5, "path": r"key_with_many_subkeys\5000\find_me_in_log"}.items() \
        <= next(e for e in logged if e["path"].endswith("find_me_in_log")).items()
    assert not any(e["path"].endswith("find_me_in_log") for e in events if e["source"] == "hive")


def test_a_clean_hive_has_no_log_states(hive_file, capsys):
    Path(str(hive_file) + ".LOG1").write_bytes(b"")
    out, err = run(capsys, ["timeline", hive_file, "--format", "jsonl", "--logs"])
    assert all(json.loads(line)["source"] == "hive" for line in out.splitlines())
    assert "clean" in err or "nothing" in err


def test_an_image_gives_full_registry_paths(tmp_path, capsys):
    from images import build_image

    image = build_image(tmp_path / "image")
    out, _ = run(capsys, ["timeline", image, "--format", "jsonl"])
    paths = {json.loads(line)["path"] for line in out.splitlines()}
    assert r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion" in paths
    assert any(path.startswith("HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001") for path in paths)
