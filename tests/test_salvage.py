"""--salvage: damaged hives read as far as they go, never written.

Every corpus hive marked broken, and copies of corpus hives cut at 100 seeded random offsets
each, go through the command line: never a traceback or a hang, exit codes only from the
documented table, and what is reported of the intact part is the original's content: every
key whose own cells (key node, value list, values, data) and whose way from the root (each
ancestor's key node and subkey list) lie wholly before the cut is listed with the same values
and last-write time.
"""
from __future__ import annotations

import json
import random
import signal
import struct
from contextlib import contextmanager
from pathlib import Path

import pytest

from corpus import corpus_path, require_corpus, role_params
from hivetool.cli import main
from hivetool.errors import RefusedUnsafe
from hivetool.forensics.salvage import open_salvaged
from hivetool.regf.hive import Hive
from hivetool.regf.records.bins import HBIN_BASE
from hivetool.regf.records.cells import NIL
from hivetool.regf.records.data import DB, INLINE, uses_big_data
from hivetool.regf.records.nk import NK
from hivetool.regf.records.vk import VK

EXIT_CODES = {0, 1, 2, 3, 4, 5, 6}  # README's table
CUTS = 100
TRUNCATED = [  # edit hives of a few hundred KB: 100 cuts each stay quick
    "EricZimmerman+Registry/Registry.Test/Hives/NTUSER1.DAT",
    "EricZimmerman+Registry/Registry.Test/Hives/UsrClassDeletedBags.dat",
    "log2timeline+dfwinreg/test_data/NTUSER.DAT",
]


@contextmanager
def deadline(seconds: int):
    """A hang fails the test instead of stopping the suite."""
    def expired(*_):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(capsys, argv: list) -> tuple[int, str, str]:
    with deadline(60):
        code = main([str(a) for a in argv])
    captured = capsys.readouterr()  # binary: an export to standard output is UTF-16
    out, err = captured.out.decode("utf-8", "replace"), captured.err.decode("utf-8", "replace")
    assert code in EXIT_CODES, (argv, code, err)
    assert "unexpected" not in err and "Traceback" not in err, err
    return code, out, err


@pytest.mark.parametrize("relative", role_params("broken"))
def test_broken_corpus_hives_are_read_as_far_as_they_go(relative, corpus_copy, tmp_path, capsysbinary):
    hive = corpus_copy(relative)
    before = hive.read_bytes()
    code, out, _ = run(capsysbinary, ["ls", hive, "-r", "--salvage", "--json"])
    assert code == 0
    document = json.loads(out)
    assert document["keys"] and document["problems"], "something was read, and what was not is said"
    assert all(p["offset"] is None or isinstance(p["offset"], int) for p in document["problems"])
    code, out, _ = run(capsysbinary, ["recover", hive, "--salvage", "--json"])
    assert code == 0 and json.loads(out)["problems"]
    assert run(capsysbinary, ["export", hive, "--salvage", "--root", "HKEY_LOCAL_MACHINE\\X",
                              "-o", tmp_path / "x.reg"])[0] == 0
    assert run(capsysbinary, ["find", hive, "a", "--salvage", "--names"])[0] in (0, 1)
    code, out, err = run(capsysbinary, ["timeline", hive, "--salvage"])
    assert code == 0 and out and "hivetool: warning:" in err
    assert hive.read_bytes() == before


# ---------------------------------------------------------------------- truncations
def _cell_end(buf: bytes, cell: int) -> int:
    """File offset just past the cell ``cell``."""
    size = struct.unpack_from("<i", buf, HBIN_BASE + cell)[0]
    return HBIN_BASE + cell + abs(size)


def _value_cells(buf: bytes, vk: int, minor: int) -> list[int]:
    at = HBIN_BASE + vk + 4
    size_field, data = VK.read(buf, at, "data_size"), VK.read(buf, at, "data")
    length = size_field & 0x7FFFFFFF
    if size_field & INLINE or not length:
        return [vk]
    if not uses_big_data(length, minor):
        return [vk, data]
    count, seglist = DB.read(buf, HBIN_BASE + data + 4, "segment_count"), DB.read(buf, HBIN_BASE + data + 4,
                                                                                     "segment_list")
    return [vk, data, seglist, *struct.unpack_from(f"<{count}I", buf, HBIN_BASE + seglist + 4)]


def _list_cells(buf: bytes, cell: int) -> list[int]:
    """A subkey list's cells: the leaf, or the ri with its leaves."""
    at = HBIN_BASE + cell + 4
    if buf[at : at + 2] != b"ri":
        return [cell]
    count = struct.unpack_from("<H", buf, at + 2)[0]
    return [cell, *struct.unpack_from(f"<{count}I", buf, at + 4)]


def reachable_before(hive: Hive) -> dict[str, tuple[int, int, list]]:
    """Per key: (file offset its way from the root and its own cells reach to, last write,
    values); a key is wholly before a cut at or after that offset."""
    buf = bytes(hive._engine.buf)
    found: dict[str, tuple[int, int, list]] = {}
    way: dict[str, int] = {}
    for key in hive.walk():
        rec = NK.unpack(buf, HBIN_BASE + key.cell + 4)
        parent = key.path.rpartition("\\")[0] if "\\" in key.path else ("" if key.path else None)
        reach = max(way.get(parent, 0) if parent is not None else 0, _cell_end(buf, key.cell))
        own = reach
        values = key.values()
        if values:
            own = max(own, _cell_end(buf, rec.values))
            for value in values:
                own = max([own] + [_cell_end(buf, c) for c in _value_cells(buf, value.cell, hive.minor)])
        if rec.subkey_count and rec.subkeys != NIL:
            way[key.path] = max([reach] + [_cell_end(buf, c) for c in _list_cells(buf, rec.subkeys)])
        found[key.path or "\\"] = (own, key.last_write, [(v.name, v.type, v.raw.hex()) for v in values])
    return found


@pytest.mark.parametrize("relative", TRUNCATED)
def test_truncated_hives_keep_everything_before_the_cut(relative, tmp_path, capsysbinary):
    require_corpus()
    source = corpus_path(relative)
    data = source.read_bytes()
    expected = reachable_before(Hive.from_bytes(data))
    rng = random.Random(relative)
    cut_file = tmp_path / "cut"
    checked = 0
    for _ in range(CUTS):
        cut = rng.randrange(0, len(data))
        cut_file.write_bytes(data[:cut])
        code, out, _ = run(capsysbinary, ["ls", cut_file, "-r", "--salvage", "--json"])
        if code != 0:
            assert code == 3 and cut < HBIN_BASE + 0x1000, f"cut at {cut}: exit {code}"
            continue
        listed = {key["path"]: key for key in json.loads(out)["keys"]}
        for path, (reach, last_write, values) in expected.items():
            if reach > cut:
                continue
            checked += 1
            key = listed.get(path)
            assert key is not None, f"cut at 0x{cut:x}: {path} lies wholly before it but is not listed"
            assert key["last_write_filetime"] == last_write, (cut, path)
            assert [(v["name"], v["type_id"], v["raw"]) for v in key["values"]] == values, (cut, path)
    assert checked > CUTS  # the comparisons were not vacuous


def test_every_salvaging_command_answers_on_cuts(tmp_path, capsysbinary):
    """The other commands on fewer cuts (ls above carries the content check)."""
    require_corpus()
    data = corpus_path(TRUNCATED[2]).read_bytes()
    rng = random.Random(7)
    cut_file = tmp_path / "cut"
    for _ in range(10):
        cut_file.write_bytes(data[: rng.randrange(HBIN_BASE, len(data))])
        for argv in (["export", cut_file, "--salvage", "--root", "HKEY_CURRENT_USER"],
                     ["find", cut_file, "Microsoft", "--salvage", "--json"],
                     ["timeline", cut_file, "--salvage", "--deleted", "--format", "jsonl"],
                     ["recover", cut_file, "--salvage", "--json"]):
            assert run(capsysbinary, argv)[0] in (0, 1)


def test_without_salvage_a_truncated_hive_is_still_refused(tmp_path, capsysbinary):
    require_corpus()
    cut = tmp_path / "cut"
    cut.write_bytes(corpus_path(TRUNCATED[0]).read_bytes()[:100_000])
    code, _, err = run(capsysbinary, ["ls", cut])
    assert code == 3 and "truncated" in err


# ---------------------------------------------------------------------- damaged bins, base block
def _damaged(tmp_path: Path, change) -> Path:
    require_corpus()
    data = bytearray(corpus_path(TRUNCATED[2]).read_bytes())
    change(data)
    path = tmp_path / "damaged"
    path.write_bytes(bytes(data))
    return path


def test_a_bin_with_a_bad_signature_is_read_and_named(tmp_path, capsysbinary):
    path = _damaged(tmp_path, lambda d: d.__setitem__(slice(HBIN_BASE + 0x1000, HBIN_BASE + 0x1004), b"gbin"))
    code, out, _ = run(capsysbinary, ["ls", path, "-r", "--salvage", "--json"])
    document = json.loads(out)
    assert code == 0 and any(p["offset"] == HBIN_BASE + 0x1000 for p in document["problems"])
    intact = Hive.open(corpus_path(TRUNCATED[2]))
    assert len(document["keys"]) == sum(1 for _ in intact.walk())


def test_a_destroyed_base_block_is_rebuilt_from_the_bins(tmp_path, capsysbinary):
    path = _damaged(tmp_path, lambda d: d.__setitem__(slice(0, 512), bytes(512)))
    assert run(capsysbinary, ["ls", path])[0] == 3  # without --salvage: not a hive
    code, out, _ = run(capsysbinary, ["ls", path, "-r", "--salvage", "--json"])
    document = json.loads(out)
    assert code == 0 and document["keys"][0]["path"] == "\\"
    assert any("root" in p["message"] for p in document["problems"])


def test_a_salvaged_hive_is_never_written(tmp_path):
    path = _damaged(tmp_path, lambda d: None)
    hive = open_salvaged(path)
    with pytest.raises(RefusedUnsafe):
        hive.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_salvage_and_replay_exclude_each_other(tmp_path, capsysbinary):
    path = _damaged(tmp_path, lambda d: None)
    assert run(capsysbinary, ["ls", path, "--salvage", "--replay-logs"])[0] == 2
