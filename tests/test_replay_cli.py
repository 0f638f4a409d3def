"""The command line around dirty hives: ``hivetool replay``, ``--replay-logs`` on reading
and editing commands, what ``info`` says, and what is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus import corpus_path, role_params
from hivetool.cli import main
from hivetool.regf.records.base_block import read_header
from hivetool.regf.hive import Hive
from hivetool.regf.logs.log import TransactionLog
from test_replay import NEW_DIRTY, OLD_DIRTY, TRANSACTIONS, TRANSACTIONS_LOG1, YARP, content, entry_offsets, logs_of

WINDOWS_10 = YARP + "NewDirtyHive1/RecoveredHive_Windows10"
FOUND_ONLY_IN_LOG = "key_with_many_subkeys\\5000\\find_me_in_log"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(paths: list[Path]) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def writable(path: Path) -> Path:
    for p in [path, *logs_of(path)]:
        p.chmod(0o644)
    return path


# ---------------------------------------------------------------------- hivetool replay
def test_replay_writes_what_windows_recovered_and_leaves_the_input_alone(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    before = snapshot([hive, *logs_of(hive)])
    out = tmp_path / "recovered"
    code, stdout, err = run(capsys, "replay", hive, "-o", out)
    assert code == 0, err
    assert "replayed 4 log entries (sequence 2..5)" in err and str(out) in err
    assert stdout == ""
    assert snapshot([hive, *logs_of(hive)]) == before
    assert content(Hive.open(out)) == content(Hive.open(corpus_path(WINDOWS_10)))
    header = read_header(out.read_bytes())
    assert header.seq1 == header.seq2 == 6 and header.checksum_ok


def test_replay_json_reports_every_entry(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    code, stdout, _ = run(capsys, "replay", hive, "-o", tmp_path / "out", "--json")
    assert code == 0
    report = json.loads(stdout)
    assert [e["sequence"] for e in report["applied"]] == [2, 3, 4, 5]
    assert [Path(p).name for p in report["used_logs"]] == ["NewDirtyHive.LOG1", "NewDirtyHive.LOG2"]
    assert report["output"] == str(tmp_path / "out") and report["skipped"] == []
    assert report["dirty"] is True and report["sequence"] == 5


def test_replay_with_logs_named_explicitly(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(OLD_DIRTY, with_logs=True)
    elsewhere = tmp_path / "logs"
    elsewhere.mkdir()
    for log in logs_of(hive):
        log.rename(elsewhere / ("renamed-" + log.name))
    out = tmp_path / "out"
    code, _, err = run(capsys, "replay", hive, "-o", out, "--log", elsewhere / "renamed-OldDirtyHive.LOG1")
    assert code == 0, err
    assert Hive.open(out).has_key(FOUND_ONLY_IN_LOG)


def test_replay_is_reproducible_with_a_fixed_timestamp(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(OLD_DIRTY, with_logs=True)
    for name in ("a", "b"):
        assert run(capsys, "replay", hive, "-o", tmp_path / name, "--timestamp", "2024-05-01T12:00:00Z")[0] == 0
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


@pytest.mark.parametrize("relative", role_params("replay", max_bytes=4_000_000))
def test_replay_verify_rereads_with_independent_readers(capsys, corpus_copy, tmp_path, relative) -> None:
    hive = corpus_copy(relative, with_logs=True)
    code, _, err = run(capsys, "replay", hive, "-o", tmp_path / "out", "--verify")
    assert code == 0, err
    assert (tmp_path / "out").exists()


def test_replay_verify_checks_the_most_recently_written_keys(capsys, corpus_copy, tmp_path, monkeypatch) -> None:
    import hivetool.verify

    seen = []
    monkeypatch.setattr(hivetool.verify, "verify_hive_file", lambda path, expect: seen.extend(expect))
    hive = corpus_copy(OLD_DIRTY, with_logs=True)
    assert run(capsys, "replay", hive, "-o", tmp_path / "out", "--verify")[0] == 0
    newest = max(Hive.open(tmp_path / "out").walk(), key=lambda key: key.last_write)
    assert any(e.key == newest.path and e.name is None for e in seen)
    assert any(e.name is not None for e in seen)


def test_replay_verify_refuses_when_a_reader_disagrees(capsys, corpus_copy, tmp_path, monkeypatch) -> None:
    from hivetool.errors import VerifyFailed
    import hivetool.verify

    def disagree(path, expect):
        raise VerifyFailed("verification failed, nothing written: simulated")

    monkeypatch.setattr(hivetool.verify, "verify_hive_file", disagree)
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    code, _, err = run(capsys, "replay", hive, "-o", tmp_path / "out", "--verify")
    assert code == 4 and "simulated" in err
    assert not (tmp_path / "out").exists()


def test_replay_reports_damage_and_applies_what_is_valid(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(TRANSACTIONS, with_logs=True)
    log = writable(hive).parent / TRANSACTIONS_LOG1
    data = bytearray(log.read_bytes())
    data[entry_offsets(bytes(data))[580] + 5000] ^= 0x01
    log.write_bytes(bytes(data))
    code, _, err = run(capsys, "replay", hive, "-o", tmp_path / "out")
    assert code == 0
    assert "warning" in err and "hash-1" in err and "580..588" in err
    assert "sequence 566..579" in err


@pytest.mark.parametrize("relative", role_params("read-only"))
def test_replay_of_a_dirty_hive_without_logs_exits_3(capsys, corpus_copy, tmp_path, relative) -> None:
    hive = corpus_copy(relative, with_logs=True)
    code, _, err = run(capsys, "replay", hive, "-o", tmp_path / "out")
    assert code == 3
    assert "nothing usable" in err and "no transaction log" in err
    assert not (tmp_path / "out").exists()


def test_replay_when_every_log_is_damaged_exits_3(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    for log in logs_of(writable(hive)):
        log.write_bytes(log.read_bytes()[:300])
    code, _, err = run(capsys, "replay", hive, "-o", tmp_path / "out")
    assert code == 3 and "shorter than the 512-byte log header" in err
    assert not (tmp_path / "out").exists()


def test_replay_in_place_empties_the_logs(capsys, corpus_copy) -> None:
    hive = writable(corpus_copy(OLD_DIRTY, with_logs=True))
    code, _, err = run(capsys, "replay", hive, "--in-place")
    assert code == 0, err
    assert "emptied the stale transaction log" in err
    assert [p.stat().st_size for p in logs_of(hive)] == [0, 0]
    saved = Hive.open(hive)
    assert not saved.dirty and saved.has_key(FOUND_ONLY_IN_LOG)


def test_replay_of_a_clean_hive_in_place_writes_nothing(capsys, corpus_copy) -> None:
    hive = writable(corpus_copy("log2timeline+dfwinreg/test_data/NTUSER.DAT", with_logs=True))
    before = snapshot([hive, *logs_of(hive)])
    code, _, err = run(capsys, "replay", hive, "--in-place")
    assert code == 0 and "clean" in err and "nothing written" in err
    assert snapshot([hive, *logs_of(hive)]) == before


# ---------------------------------------------------------------------- reading commands
def test_reading_a_dirty_hive_warns_and_shows_the_stale_primary(capsys, corpus_copy) -> None:
    hive = corpus_copy(OLD_DIRTY, with_logs=True)
    code, out, err = run(capsys, "ls", hive, "key_with_many_subkeys\\5000")
    assert code == 0 and "dirty" in err and "find_me_in_log" not in out


def test_reading_through_the_logs(capsys, corpus_copy) -> None:
    hive = corpus_copy(OLD_DIRTY, with_logs=True)
    before = snapshot([hive, *logs_of(hive)])
    code, out, err = run(capsys, "ls", hive, "key_with_many_subkeys\\5000", "--replay-logs")
    assert code == 0, err
    assert "find_me_in_log" in out and "replayed 64 dirty 512-byte pages" in err and "stale" not in err
    code, out, _ = run(capsys, "get", hive, "key_with_many_subkeys\\4500", "V", "--replay-logs", "--json")
    assert code == 0 and json.loads(out)["name"] == "V"
    assert run(capsys, "get", hive, "key_with_many_subkeys\\4500", "V")[0] == 5  # not in the stale primary
    assert snapshot([hive, *logs_of(hive)]) == before


def test_check_through_the_logs(capsys, corpus_copy) -> None:
    hive = corpus_copy(TRANSACTIONS, with_logs=True)
    code, _, err = run(capsys, "check", hive, "--replay-logs")
    assert code == 0, err


def test_info_tells_dirty_state_logs_and_what_a_replay_would_apply(capsys, corpus_copy) -> None:
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    code, out, _ = run(capsys, "info", hive, "--json")
    assert code == 0
    facts = json.loads(out)
    assert facts["dirty"] is True
    logs = {log["name"]: log for log in facts["logs"]}
    assert logs["NewDirtyHive.LOG1"]["format"] == "new (HvLE)" and logs["NewDirtyHive.LOG1"]["sequences"] == [2, 2]
    assert logs["NewDirtyHive.LOG2"]["sequences"] == [3, 5]
    assert facts["replay"].startswith("would replay 4 log entries (sequence 2..5)")
    code, out, _ = run(capsys, "info", hive)
    assert "NewDirtyHive.LOG2 (65536 bytes, new (HvLE), entries 3..5)" in out
    code, out, _ = run(capsys, "info", hive, "--replay-logs", "--json")
    replayed = json.loads(out)
    assert replayed["dirty"] is False and replayed["sequence_1"] == 5 and replayed["replay"].startswith("replayed")


def test_info_names_what_is_wrong_with_a_log(capsys, corpus_copy) -> None:
    hive = corpus_copy(TRANSACTIONS, with_logs=True)
    log = writable(hive).parent / TRANSACTIONS_LOG1
    log.write_bytes(log.read_bytes()[: entry_offsets(log.read_bytes())[570] + 100])
    code, out, _ = run(capsys, "info", hive)
    assert code == 0
    assert "truncated" in out and "entries 566..569" in out


# ---------------------------------------------------------------------- editing commands
def test_editing_a_dirty_hive_is_refused_naming_the_flag(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    code, _, err = run(capsys, "mkkey", hive, "New", "-o", tmp_path / "out")
    assert code == 4 and "--replay-logs" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("relative", role_params("read-only"))
def test_a_dirty_hive_without_logs_is_read_with_a_warning_and_never_edited(capsys, corpus_copy, tmp_path, relative):
    hive = corpus_copy(relative)
    before = snapshot([hive])
    code, _, err = run(capsys, "ls", hive)
    assert code == 0 and "dirty" in err
    args = ("set", hive, "", "x", "--type", "dword", "--data", "1", "-o", tmp_path / "out")
    assert run(capsys, *args)[0] == 4
    assert run(capsys, *args, "--replay-logs")[0] == 3
    hive.chmod(0o644)
    assert run(capsys, "set", hive, "", "x", "--type", "dword", "--data", "1", "--in-place")[0] == 4
    assert snapshot([hive]) == before and not (tmp_path / "out").exists()


def test_set_after_replay_saves_a_clean_hive_with_both(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(NEW_DIRTY, with_logs=True)
    before = snapshot([hive, *logs_of(hive)])
    out = tmp_path / "out"
    code, _, err = run(capsys, "set", hive, "Key3", "Added", "--type", "sz", "--data", "hello",
                       "--replay-logs", "-o", out)
    assert code == 0, err
    assert snapshot([hive, *logs_of(hive)]) == before
    saved = Hive.open(out)
    assert saved.key("Key3").value("Added").data == "hello"
    assert saved.has_key("Key3\\Key3_1") and not saved.has_key("Key1")
    floor = max(TransactionLog.read(p).max_sequence for p in logs_of(hive))
    assert saved._engine.header.seq1 == saved._engine.header.seq2 > floor and not saved.dirty


def test_mkkey_in_place_after_replay_empties_the_logs(capsys, corpus_copy) -> None:
    hive = writable(corpus_copy(TRANSACTIONS, with_logs=True))
    code, _, err = run(capsys, "mkkey", hive, "Software\\Added", "--replay-logs", "--in-place")
    assert code == 0, err
    assert all(p.stat().st_size == 0 for p in logs_of(hive))
    saved = Hive.open(hive)
    assert not saved.dirty and saved.has_key("Software\\Added") and saved.has_key("Software\\Microsoft\\Payment")
    # Opening again: clean, so the (empty) logs do not matter and nothing is replayed.
    code, out, err = run(capsys, "ls", hive, "Software", "--replay-logs")
    assert code == 0 and "replayed" not in err and "Added" in out


def test_rm_after_replay(capsys, corpus_copy, tmp_path) -> None:
    hive = corpus_copy(OLD_DIRTY, with_logs=True)
    out = tmp_path / "out"
    code, _, err = run(capsys, "rm", hive, FOUND_ONLY_IN_LOG, "--replay-logs", "-o", out)
    assert code == 0, err
    saved = Hive.open(out)
    assert not saved.has_key(FOUND_ONLY_IN_LOG) and saved.has_key("key_with_many_subkeys\\4500")
    assert not saved.has_key("key_with_many_subkeys\\1")  # deleted by the log, stays deleted
