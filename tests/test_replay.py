"""Log replay as Windows does it, checked against Windows' own recovered hives, against
independent readers, and against damaged logs (copies of corpus logs, cut or flipped)."""
from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from corpus import IN_CI, corpus_path, files_with_role, role_params
from hivetool.errors import HiveIOError, MalformedInput
from hivetool.regf.logs import files as replay_module
from hivetool.regf.check import check_bytes
from hivetool.regf.records.base_block import BASE_BLOCK, checksum, read_header
from hivetool.regf.hive import Hive
from hivetool.regf.logs.log import FORMAT_NEW, FORMAT_OLD, TransactionLog
from hivetool.regf.logs import open_replayed, replay, replay_file, require_replayed, save_replayed
from test_logs import log_entry, log_header, page

try:  # the shared reader oracles (python-registry, libregf, hivexml, reglookup)
    import oracles
except ImportError:
    oracles = None

YARP = "msuhanov+yarp/hives_for_tests/"
NEW_DIRTY = YARP + "NewDirtyHive1/NewDirtyHive"
OLD_DIRTY = YARP + "OldDirtyHive/OldDirtyHive"
REGIPY = "mkorman90+regipy/regipy_tests/data/"
MUSEUM = "AndrewRathbun+DFIRArtifactMuseum/"
AMCACHE = MUSEUM + "Windows/Amcache/Win10/APTSimulatorVM/Amcache.hve"
BBI = MUSEUM + "_history/a32aa47e43e6/Windows/Registry/Win10/RathbunVM/BBI"
TRANSACTIONS = REGIPY + "transactions_NTUSER.DAT"
TRANSACTIONS_LOG1 = "transactions_ntuser.dat.log1"
USRCLASS = REGIPY + "UsrClass.dat"


def content(hive: Hive) -> dict[str, tuple[int, tuple]]:
    """Key path -> (last-write time, its values as (name, type, raw)), through the Hive API."""
    return {
        key.path: (key.last_write, tuple(sorted((v.name.upper(), v.type, v.raw) for v in key.values())))
        for key in hive.walk()
    }


def logs_of(hive_path: Path) -> list[Path]:
    return sorted(p for p in hive_path.parent.iterdir() if p.name.lower().startswith(hive_path.name.lower() + ".log"))


def entry_offsets(data: bytes) -> dict[int, int]:
    """Sequence number -> offset of each HvLE entry of a log's chain (read independently)."""
    found, at = {}, 512
    while data[at : at + 4] == b"HvLE":
        size, _, sequence = struct.unpack_from("<III", data, at + 4)
        found[sequence] = at
        at += size
    return found


def replay_dir(hive_path: Path) -> tuple[bytearray, replay_module.ReplayReport]:
    replayed = replay_file(hive_path)
    return replayed.image, replayed.report


def assert_sound(image: bytearray) -> None:
    """A replay result must be a hive our checker finds nothing wrong with."""
    report = check_bytes(image)
    assert report.problems == [], [f.line() for f in report.problems][:5]


# ---------------------------------------------------------------------- Windows is the reference
@pytest.mark.parametrize(
    "relative, reference, log_format",
    [
        (NEW_DIRTY, YARP + "NewDirtyHive1/RecoveredHive_Windows10", FORMAT_NEW),
        (OLD_DIRTY, YARP + "OldDirtyHive/RecoveredHive_Windows7", FORMAT_OLD),
    ],
)
def test_replay_gives_what_windows_recovered(corpus_copy, relative: str, reference: str, log_format: str) -> None:
    hive, report = open_replayed(corpus_copy(relative, with_logs=True))
    assert report.format == log_format
    windows = content(Hive.open(corpus_path(reference)))
    assert content(hive) == windows
    # ... and that is not what the stale primary holds.
    assert content(Hive.open(corpus_path(relative))) != windows


def test_new_format_replay_continues_from_one_log_into_the_other(corpus_copy) -> None:
    _, report = replay_dir(corpus_copy(NEW_DIRTY, with_logs=True))
    assert [(Path(e.log).name, e.sequence) for e in report.applied] == [
        ("NewDirtyHive.LOG1", 2), ("NewDirtyHive.LOG2", 3), ("NewDirtyHive.LOG2", 4), ("NewDirtyHive.LOG2", 5)]


# ---------------------------------------------------------------------- content only the logs hold
@pytest.mark.parametrize(
    "relative, key, value, change",
    [
        (OLD_DIRTY, "key_with_many_subkeys\\5000\\find_me_in_log", None, "appears"),
        (OLD_DIRTY, "key_with_many_subkeys\\1", None, "disappears"),
        (OLD_DIRTY, "key_with_many_subkeys\\4500", "V", "appears"),
        (NEW_DIRTY, "Key3\\Key3_1", None, "appears"),
        (NEW_DIRTY, "Key1", None, "disappears"),
        (AMCACHE, "Root\\InventoryApplicationFile\\gkape.exe|cf356c8f87c2c3bd", "LowerCaseLongPath", "appears"),
        (BBI, "Events\\{0ac394e3-19c4-4077-9b29-bd42f2ad96fd}", None, "disappears"),
        (TRANSACTIONS, "Software\\Microsoft\\Payment", None, "appears"),
        (TRANSACTIONS, "Control Panel\\Desktop", "MaxVirtualDesktopDimension", "changes"),
        (REGIPY + "SYSTEM_B", "ControlSet001\\Control\\Class\\{4d36e967-e325-11ce-bfc1-08002be10318}\\0003",
         "DriverDesc", "appears"),
    ],
)
def test_replayed_content_differs_from_the_stale_primary(corpus_copy, relative, key, value, change) -> None:
    path = corpus_copy(relative, with_logs=True)
    stale = Hive.open(path)
    fresh, _ = open_replayed(path)

    def lookup(hive: Hive):
        if not hive.has_key(key):
            return None
        return True if value is None else {v.name: v.raw for v in hive.key(key).values()}.get(value)

    before, after = lookup(stale), lookup(fresh)
    if change == "appears":
        assert before is None and after is not None
    elif change == "disappears":
        assert before is not None and after is None
    else:
        assert before is not None and after is not None and before != after


# ---------------------------------------------------------------------- every dirty corpus hive
@pytest.mark.parametrize("relative", role_params("replay", max_bytes=4_000_000))
def test_replay_result_is_clean_and_independent_readers_agree(corpus_copy, tmp_path, relative) -> None:
    hive_path = corpus_copy(relative, with_logs=True)
    hive, report = open_replayed(hive_path)
    assert report.dirty and report.applied_anything and report.skipped == []
    out = tmp_path / "replayed"
    hive.save(out)
    data = out.read_bytes()
    header = read_header(data)
    assert not header.dirty and header.file_type == 0
    assert header.seq1 == header.seq2 > report.sequence_floor
    assert report.sequence_floor >= max(TransactionLog.read(p).max_sequence for p in logs_of(hive_path))
    assert_sound(bytearray(data))
    if oracles is None:
        assert_counts_agree(out, hive)
        return
    saved = oracles.read_own(out)
    assert {path for path in saved.keys} == {key.path for key in hive.walk()}
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, out, saved)


def assert_counts_agree(path: Path, hive: Hive) -> None:
    """Without the shared oracles: python-registry and libregf see as many keys and values."""
    from Registry import Registry

    import pyregf

    ours = (sum(1 for _ in hive.walk()), sum(len(key.values()) for key in hive.walk()))
    keys = values = 0
    stack = [Registry.Registry(str(path)).root()]
    while stack:
        key = stack.pop()
        keys, values = keys + 1, values + len(key.values())
        stack.extend(key.subkeys())
    assert (keys, values) == ours
    handle = pyregf.file()
    handle.open(str(path))
    keys = values = 0
    stack = [handle.get_root_key()]
    while stack:
        key = stack.pop()
        keys, values = keys + 1, values + key.number_of_values
        stack.extend(key.sub_keys)
    handle.close()
    assert (keys, values) == ours


@pytest.mark.parametrize("relative", role_params("replay"))
def test_the_recovered_base_block_is_clean(corpus_copy, relative) -> None:
    """In memory: both sequence numbers = the last one applied, hive-bins size of the last
    entry, file type 0, checksum recomputed (regf-format 9.3)."""
    image, report = replay_dir(corpus_copy(relative, with_logs=True))
    header = read_header(image)
    assert header.checksum_ok and header.file_type == 0 and header.seq1 == header.seq2
    if report.format == FORMAT_NEW:
        last = report.applied[-1]
        assert (header.seq1, header.hbins_size) == (last.sequence, last.hbins_size)
        flags = report.applied and TransactionLog.read(last.log).chain.entries[-1].flags
        assert header.flags & 1 == flags & 1
    else:
        log = TransactionLog.read(report.used_logs[0])
        assert header.hbins_size == log.header.hbins_size
    assert len(image) >= 4096 + header.hbins_size


def test_a_clean_hive_is_left_alone_even_with_logs_beside_it(corpus_copy) -> None:
    path = corpus_copy("log2timeline+dfwinreg/test_data/NTUSER.DAT", with_logs=True)
    assert logs_of(path)
    image, report = replay_dir(path)
    assert not report.dirty and not report.applied_anything
    assert bytes(image) == path.read_bytes()
    hive, _ = open_replayed(path)
    assert not hive.modified_by_replay


@pytest.mark.parametrize("relative", role_params("read-only"))
def test_a_dirty_hive_without_logs_has_nothing_to_replay(corpus_copy, relative) -> None:
    path = corpus_copy(relative, with_logs=True)
    with pytest.raises(MalformedInput, match="no transaction log"):
        open_replayed(path)


# ---------------------------------------------------------------------- damaged logs
def _write(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


def test_a_wrong_hash_stops_at_the_entry_and_keeps_what_came_before(corpus_copy, tmp_path) -> None:
    path = corpus_copy(TRANSACTIONS, with_logs=True)
    log = path.parent / TRANSACTIONS_LOG1
    data = bytearray(log.read_bytes())
    at = entry_offsets(bytes(data))[570]
    data[at + 4096] ^= 0xFF  # inside the entry's pages: hash-1 no longer matches
    _write(log, bytes(data))
    image, report = replay_dir(path)
    assert [e.sequence for e in report.applied] == [566, 567, 568, 569]
    assert any("hash-1" in s and "570..588" in s for s in report.skipped), report.skipped
    assert_sound(image)
    # The same as if the log had simply ended before that entry.
    _write(log, bytes(data[:at]))
    assert replay_dir(path)[0] == image


def test_a_truncated_log_applies_the_whole_entries_before_the_cut(corpus_copy) -> None:
    path = corpus_copy(TRANSACTIONS, with_logs=True)
    log = path.parent / TRANSACTIONS_LOG1
    data = log.read_bytes()
    _write(log, data[: entry_offsets(data)[575] + 3000])
    image, report = replay_dir(path)
    assert report.applied[-1].sequence == 574
    assert any("truncated" in s for s in report.skipped)
    assert_sound(image)


def test_a_gap_inside_a_log_stops_the_replay(corpus_copy) -> None:
    path = corpus_copy(TRANSACTIONS, with_logs=True)
    log = path.parent / TRANSACTIONS_LOG1
    data = log.read_bytes()
    offsets = entry_offsets(data)
    _write(log, data[: offsets[570]] + data[offsets[571] :])  # entry 570 cut out
    image, report = replay_dir(path)
    assert [e.sequence for e in report.applied] == [566, 567, 568, 569]
    assert any("expected sequence 570" in s for s in report.skipped)
    assert_sound(image)


def test_a_second_log_that_does_not_continue_the_first_is_not_applied(corpus_copy) -> None:
    path = corpus_copy(USRCLASS, with_logs=True)
    second = path.parent / "UsrClass.dat.LOG2"
    data = second.read_bytes()
    offsets = entry_offsets(data)
    assert min(offsets) == 291
    head = bytearray(data[:512])  # LOG2 now starts at 292: entry 291 is missing
    BASE_BLOCK.write(head, 0, "seq1", 292)
    BASE_BLOCK.write(head, 0, "seq2", 292)
    BASE_BLOCK.write(head, 0, "checksum", checksum(head))
    _write(second, bytes(head) + data[offsets[292] :])
    image, report = replay_dir(path)
    assert [e.sequence for e in report.applied] == [287, 288, 289, 290]
    assert any("UsrClass.dat.LOG2" in s and "gap" in s for s in report.skipped)
    assert_sound(image)


def test_a_log_with_a_broken_header_is_skipped_with_a_message(corpus_copy) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    second = path.parent / "NewDirtyHive.LOG2"
    data = bytearray(second.read_bytes())
    data[100] ^= 0x01
    _write(second, bytes(data))
    image, report = replay_dir(path)
    assert [e.sequence for e in report.applied] == [2]
    assert any("NewDirtyHive.LOG2" in s and "checksum" in s for s in report.skipped)
    assert_sound(image)


def test_logs_of_another_hive_are_refused(corpus_copy, tmp_path) -> None:
    """BBI's logs (sequence 60, 61) would follow Amcache.hve's 24/23 by number alone."""
    path = corpus_copy(AMCACHE)
    bbi = corpus_path(BBI)
    for suffix in (".LOG1", ".LOG2"):
        shutil.copyfile(bbi.parent / (bbi.name + suffix), path.parent / (path.name + suffix))
    image, report = replay_dir(path)
    assert not report.applied_anything
    assert len([s for s in report.skipped if "another hive" in s]) == 2
    assert bytes(image) == path.read_bytes()
    with pytest.raises(MalformedInput, match="another hive"):
        open_replayed(path)


def test_an_old_format_log_of_another_write_is_refused(corpus_copy) -> None:
    path = corpus_copy(OLD_DIRTY, with_logs=True)
    log = path.parent / "OldDirtyHive.LOG1"
    data = bytearray(log.read_bytes())
    BASE_BLOCK.write(data, 0, "timestamp", BASE_BLOCK.read(data, 0, "timestamp") + 1)
    BASE_BLOCK.write(data, 0, "checksum", checksum(data))
    _write(log, bytes(data))
    with pytest.raises(MalformedInput, match="timestamp"):
        open_replayed(path)


def test_a_truncated_old_format_log_applies_whole_bins_only(corpus_copy) -> None:
    path = corpus_copy(OLD_DIRTY, with_logs=True)
    log = path.parent / "OldDirtyHive.LOG1"
    data = log.read_bytes()
    _write(log, data[: 1024 + 512 * 40 + 100])
    image, report = replay_dir(path)
    assert 0 < report.old_format_pages <= 40
    assert any("cut short" in s for s in report.skipped)
    Hive(image, "partial").root  # the base block and root are readable


def test_a_broken_primary_header_is_recovered_from_the_log(corpus_copy) -> None:
    """With the primary's checksum wrong, the latest log's header replaces it (9.3)."""
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF
    _write(path, bytes(data))
    hive, report = open_replayed(path)
    assert report.header_from_log and report.header_from_log.endswith("NewDirtyHive.LOG2")
    assert content(hive) == content(Hive.open(corpus_path(YARP + "NewDirtyHive1/RecoveredHive_Windows10")))


def test_a_hive_that_grew_in_the_logs_grows_in_memory(tmp_path) -> None:
    """An entry's hive-bins size beyond the primary's end extends the image (9.3)."""
    base = Hive.new(5)
    base.create_key("A")
    primary = bytearray(base.to_bytes())
    BASE_BLOCK.write(primary, 0, "seq1", 8)
    BASE_BLOCK.write(primary, 0, "seq2", 7)
    BASE_BLOCK.write(primary, 0, "checksum", checksum(primary))
    grown = Hive.from_bytes(base.to_bytes())
    grown.create_key("B\\" + "x" * 200)
    grown.set_value("B", "big", 3, bytes(range(256)) * 40)
    after = grown.to_bytes()
    hbins = BASE_BLOCK.read(after, 0, "hbins_size")
    assert hbins > BASE_BLOCK.read(primary, 0, "hbins_size")
    entry = log_entry(8, [(off, after[4096 + off : 8192 + off]) for off in range(0, hbins, 4096)], hbins_size=hbins)
    log = TransactionLog(log_header(8, hbins_size=hbins) + entry, "grown.LOG1")
    image, report = replay(bytes(primary), [log], "grown")
    assert report.hbins_size_after == hbins and len(image) == 4096 + hbins
    assert content(Hive(image, "grown")) == content(Hive.from_bytes(after))


def test_nothing_is_applied_to_a_log_that_only_holds_older_entries(tmp_path) -> None:
    primary = bytearray(Hive.new(5).to_bytes())
    BASE_BLOCK.write(primary, 0, "seq1", 31)
    BASE_BLOCK.write(primary, 0, "seq2", 30)
    BASE_BLOCK.write(primary, 0, "checksum", checksum(primary))
    stale = TransactionLog(log_header(20) + log_entry(20, [(0, page(0))]), "old.LOG1")
    image, report = replay(bytes(primary), [stale], "hive")
    assert not report.applied_anything and bytes(image) == bytes(primary)
    assert any("already in the primary" in n for n in report.notes)


# ---------------------------------------------------------------------- saving after replay
def _snapshot(paths: list[Path]) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def test_saving_elsewhere_leaves_the_hive_and_its_logs_untouched(corpus_copy, tmp_path) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    before = _snapshot([path, *logs_of(path)])
    hive, report = open_replayed(path)
    hive.create_key("Added")
    out = tmp_path / "out"
    assert save_replayed(hive, out) == []
    assert _snapshot([path, *logs_of(path)]) == before
    saved = Hive.open(out)
    assert saved.has_key("Added") and saved.has_key("Key3\\Key3_1")
    assert saved._engine.header.seq1 == saved._engine.header.seq2 > report.sequence_floor


def test_saving_in_place_empties_the_logs_after_the_clean_hive_is_in_place(corpus_copy) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    for p in [path, *logs_of(path)]:
        p.chmod(0o644)
    hive, report = open_replayed(path)
    hive.create_key("Added")
    emptied = save_replayed(hive, path, in_place=True)
    assert sorted(p.name for p in emptied) == ["NewDirtyHive.LOG1", "NewDirtyHive.LOG2"]
    assert all(p.stat().st_size == 0 for p in logs_of(path))
    saved = Hive.open(path)
    assert not saved.dirty and saved._engine.header.seq1 > report.sequence_floor
    assert saved.has_key("Added") and saved.has_key("Key3\\Key3_1") and not saved.has_key("Key1")


def test_a_crash_before_the_rename_leaves_the_old_dirty_set(corpus_copy, monkeypatch) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    for p in [path, *logs_of(path)]:
        p.chmod(0o644)
    before = _snapshot([path, *logs_of(path)])
    hive, _ = open_replayed(path)
    hive.create_key("Added")

    def crash(*args, **kwargs):
        raise OSError(5, "simulated crash")

    monkeypatch.setattr("hivetool.fileio.os.replace", crash)
    with pytest.raises(HiveIOError):
        save_replayed(hive, path, in_place=True)
    monkeypatch.undo()
    assert _snapshot([path, *logs_of(path)]) == before
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(before)  # no temp file left
    again, _ = open_replayed(path)
    assert again.has_key("Key3\\Key3_1") and not again.has_key("Added")


def test_a_crash_after_the_rename_leaves_a_clean_hive_that_ignores_the_stale_logs(corpus_copy, monkeypatch) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    for p in [path, *logs_of(path)]:
        p.chmod(0o644)
    logs_before = _snapshot(logs_of(path))
    hive, report = open_replayed(path)
    hive.create_key("Added")
    calls = []

    def crash(log: Path) -> None:
        calls.append(log)
        raise OSError(5, "simulated crash")

    monkeypatch.setattr(replay_module, "_truncate_log", crash)
    with pytest.raises(OSError):
        save_replayed(hive, path, in_place=True)
    assert calls  # the primary was already in place when the logs were reached
    assert _snapshot(logs_of(path)) == logs_before
    saved, saved_report = open_replayed(path)
    assert not saved_report.dirty and not saved_report.applied_anything
    assert saved.has_key("Added") and saved.has_key("Key3\\Key3_1")
    # No stale entry can ever follow the saved hive.
    assert saved._engine.header.seq1 > max(TransactionLog.read(p).max_sequence for p in logs_of(path))


def test_a_log_that_cannot_be_emptied_is_reported_after_a_clean_save(corpus_copy, monkeypatch) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    for p in [path, *logs_of(path)]:
        p.chmod(0o644)
    hive, _ = open_replayed(path)
    real_open = open

    def refuse(file, mode="r", *args, **kwargs):
        if str(file).endswith(".LOG2") and "+" in mode:
            raise PermissionError(13, "Permission denied")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(HiveIOError, match="saved clean"):
        save_replayed(hive, path, in_place=True)
    monkeypatch.undo()
    assert not Hive.open(path).dirty


def test_a_replay_that_found_nothing_raises_with_the_reasons(corpus_copy) -> None:
    path = corpus_copy(NEW_DIRTY, with_logs=True)
    for log in logs_of(path):
        _write(log, b"\0" * 512)
    replayed = replay_file(path)
    with pytest.raises(MalformedInput, match="never written"):
        require_replayed(replayed)


def test_every_replay_role_hive_has_its_logs_in_the_corpus() -> None:
    if not files_with_role("replay"):
        if IN_CI:
            pytest.fail("the corpus lists no hive with role replay")
        pytest.skip("no corpus")
    for relative in files_with_role("replay"):
        path = corpus_path(relative)
        assert logs_of(path), relative
        assert os.path.getsize(path) > 4096
