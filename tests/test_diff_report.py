"""diff --format text|json: every differing key with last-write times on both sides, old and new
type and data of every changed value, and what deleted keys held; info --hash."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import hivetool
from hivetool import Clock, RegType
from hivetool.cli import main

ROOT = "HKEY_CURRENT_USER"
OLD_TIME, NEW_TIME = "2010-01-01T00:00:00Z", "2024-05-01T00:00:00Z"


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    old = hivetool.new(root_name="ROOT", clock=Clock.resolve(OLD_TIME))
    old.create_key(r"Software\Kept").set("Port", RegType.DWORD, 1225)
    old.create_key(r"Software\Kept").set("Gone", RegType.SZ, "bye")
    old.create_key(r"Software\Doomed\Child").set("Start", RegType.DWORD, 4)
    old.create_key(r"Software\Retyped").set("Mode", RegType.DWORD, 1)
    old_path = tmp_path / "NTUSER.old"
    old.save(old_path)
    new = hivetool.open(old_path, clock=Clock.resolve(NEW_TIME))
    new.key(r"Software\Kept").set("Port", RegType.DWORD, 1300)
    new.delete_value(r"Software\Kept", "Gone")
    new.delete_key(r"Software\Doomed", recursive=True)
    new.key(r"Software\Retyped").set("Mode", RegType.SZ, "one")
    new.create_key(r"Software\Fresh").set("Servers", RegType.MULTI_SZ, ["a", "b"])
    new_path = tmp_path / "NTUSER.new"
    new.save(new_path)
    return old_path, new_path


def diff_json(capsys, old: Path, new: Path, *more: str) -> dict:
    assert main(["diff", str(old), str(new), "--root", ROOT, *more]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_shows_each_key_with_both_times_and_old_and_new_data(pair, capsys):
    document = diff_json(capsys, *pair, "--format", "json")
    assert document == diff_json(capsys, *pair, "--json")
    keys = {k["path"].removeprefix(ROOT + "\\"): k for k in document["keys"]}
    assert document["key_counts"] == {"added": 1, "deleted": 2, "changed": 2, "touched": 1}

    kept = keys[r"Software\Kept"]
    assert kept["change"] == "changed"
    assert kept["old"]["last_write"] == OLD_TIME and kept["new"]["last_write"] == NEW_TIME
    assert kept["new"]["last_write_filetime"] == 133589952000000000
    values = {v["name"]: v for v in kept["values"]}
    assert values["Port"]["change"] == "changed"
    assert (values["Port"]["old"]["data"], values["Port"]["new"]["data"]) == (1225, 1300)
    assert values["Gone"]["change"] == "deleted" and values["Gone"]["old"]["data"] == "bye"
    assert values["Gone"]["new"] is None

    retyped = {v["name"]: v for v in keys[r"Software\Retyped"]["values"]}["Mode"]
    assert (retyped["old"]["type"], retyped["new"]["type"]) == ("REG_DWORD", "REG_SZ")

    doomed = keys[r"Software\Doomed"]
    assert doomed["change"] == "deleted" and doomed["new"] == {"last_write": None, "last_write_filetime": None}
    held = {c["path"].removeprefix(ROOT + "\\"): c for c in doomed["contents"]}
    assert set(held) == {r"Software\Doomed", r"Software\Doomed\Child"}
    assert held[r"Software\Doomed\Child"]["values"] == [
        {"name": "Start", "type": "REG_DWORD", "type_id": 4, "data": 4, "raw": "04000000"}]

    fresh = keys[r"Software\Fresh"]
    assert fresh["change"] == "added" and fresh["contents"][0]["values"][0]["data"] == ["a", "b"]
    assert keys["Software"]["change"] == "touched"  # its subkey set changed: only the time differs


def test_json_keeps_the_patch(pair, capsys):
    document = diff_json(capsys, *pair, "--json")
    kinds = sorted(op["kind"] for op in document["operations"])
    assert kinds.count("delete_key") == 1  # the deleted subtree is one [-key] in the patch
    assert document["differences"] == len(document["operations"])


def test_text_is_for_people(pair, capsys):
    old, new = pair
    assert main(["diff", str(old), str(new), "--root", ROOT, "--format", "text"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"~ [{ROOT}\\Software\\Kept]  last write {OLD_TIME} -> {NEW_TIME}" in lines
    assert '~     "Port" = REG_DWORD 1225 (0x4c9) -> REG_DWORD 1300 (0x514)' in lines
    assert '-     "Gone" = REG_SZ \"bye\"' in lines
    assert f"- [{ROOT}\\Software\\Doomed\\Child]  (deleted; last write {OLD_TIME})" in lines
    assert '-     "Start" = REG_DWORD 4 (0x4)' in lines
    assert f"+ [{ROOT}\\Software\\Fresh]  (added; last write {NEW_TIME})" in lines


def test_reg_stays_the_default_and_goes_to_o_with_other_formats(pair, tmp_path, capsys):
    old, new = pair
    assert main(["diff", str(old), str(new), "--root", ROOT, "--utf8"]) == 0
    default = capsys.readouterr().out
    assert default.startswith("Windows Registry Editor Version 5.00")
    patch = tmp_path / "patch.reg"
    assert main(["diff", str(old), str(new), "--root", ROOT, "--format", "text", "-o", str(patch), "--utf8"]) == 0
    assert patch.read_bytes().decode("utf-8") == default
    assert capsys.readouterr().out.startswith("---")


def test_identical_hives_show_nothing(pair, capsys):
    old, _ = pair
    document = diff_json(capsys, old, old, "--json")
    assert document["keys"] == [] and document["differences"] == 0


def test_info_hash_digests_the_hive_and_its_logs(pair, capsys):
    old, _ = pair
    log = old.with_name(old.name + ".LOG1")
    log.write_bytes(b"not really a log")
    assert main(["info", str(old), "--hash", "--json"]) == 0
    hashes = json.loads(capsys.readouterr().out)["hashes"]
    by_name = {Path(h["file"]).name: h for h in hashes}
    for path in (old, log):
        data = path.read_bytes()
        assert by_name[path.name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert by_name[path.name]["sha1"] == hashlib.sha1(data).hexdigest()
        assert by_name[path.name]["md5"] == hashlib.md5(data).hexdigest()
    assert Path(hashes[0]["file"]).name == old.name  # the hive first
    assert main(["info", str(old), "--hash"]) == 0
    text = capsys.readouterr().out
    assert hashlib.sha256(old.read_bytes()).hexdigest() in text
