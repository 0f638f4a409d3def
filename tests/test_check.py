"""The structural checker: clean hives stay clean, each corruption gets its own code and offset.

Corruptions are made by editing the bytes of small hives the engine builds; where a test
needs the offset of a record it asks the engine's reader for it, so the expected offsets
come from an independent path, not from the checker.
"""

from __future__ import annotations

import json
import random
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus import corpus_path, role_params
from hivetool.cli import cli
from hivetool.regf.records import check_codes as check_module
from hivetool.regf.records.bins import HBIN_BASE, file_offset
from hivetool.regf.check import CheckReport, check_bytes, check_file, check_hive
from hivetool.regf.check.report import MAX_PER_CODE
from hivetool.regf.records.base_block import BASE_BLOCK, checksum
from hivetool.regf.hive import Hive
from hivetool.regf.records.names import lh_hash
from hivetool.regf.records.nk import NK
from hivetool.regf.records.sk import SK
from hivetool.regf.records.data import DB
from hivetool.regf.records.vk import VK
from hivetool.timeutil import Clock, parse_timestamp

CLOCK = Clock(parse_timestamp("2024-05-06T07:08:09"))
DOCUMENTED = set(re.findall(r"^([EWI]-[A-Z0-9-]+) ", check_module.__doc__ or "", re.MULTILINE))


# --------------------------------------------------------------------------- helpers
def small_hive(minor: int = 5) -> Hive:
    """Root with Alpha (two values), Beta\\Child, Gamma and Gammb."""
    hive = Hive.new(minor, clock=CLOCK)
    for path in ("Alpha", "Beta\\Child", "Gamma", "Gammb"):
        hive.create_key(path)
    hive.set_value("Alpha", "dword", 4, b"\x01\x00\x00\x00")
    hive.set_value("Alpha", "other", 1, "hello".encode("utf-16-le") + b"\0\0")
    return hive


def image(minor: int = 5, big: bool = False) -> bytearray:
    hive = small_hive(minor)
    if big:
        hive.set_value("Gamma", "big", 3, bytes(range(256)) * 160)  # 40,960 bytes: db in 1.5
    return bytearray(hive.to_bytes())


def reader(buf: bytearray) -> Hive:
    return Hive.from_bytes(bytes(buf))


def nk_at(buf: bytearray, path: str) -> int:
    """File offset of the payload of the key at ``path``."""
    return file_offset(reader(buf).key(path).cell) + 4


def nk_field(buf: bytearray, path: str, field: str) -> int:
    return NK.read(buf, nk_at(buf, path), field)


def set_nk(buf: bytearray, path: str, field: str, value: int) -> int:
    """Change one nk field; returns the nk cell's file offset."""
    at = nk_at(buf, path)
    NK.write(buf, at, field, value)
    return at - 4


def vk_at(buf: bytearray, path: str, name: str) -> int:
    return file_offset(reader(buf).key(path).value(name).cell) + 4


def root_leaf(buf: bytearray) -> int:
    """File offset of the payload of the root's subkey list (one leaf in the small hive)."""
    return file_offset(nk_field(buf, "", "subkeys")) + 4


def root_sk(buf: bytearray) -> int:
    return file_offset(nk_field(buf, "", "security")) + 4


def restamp(buf: bytearray) -> None:
    """Recompute the checksum, so a header edit shows only its own finding."""
    BASE_BLOCK.write(buf, 0, "checksum", checksum(buf))


def rename(buf: bytearray, path: str, new: bytes) -> int:
    at = nk_at(buf, path)
    assert len(new) == NK.read(buf, at, "name_length")
    buf[at + NK.size : at + NK.size + len(new)] = new
    return at - 4


def carve(buf: bytearray, payload: bytes) -> int:
    """Allocate a cell for ``payload`` out of the first free cell big enough; its file offset."""
    space = reader(buf)._engine.space
    need = (len(payload) + 4 + 7) & ~7
    for cell, size in space.iter_cells():
        if size >= need + 8:
            at = file_offset(cell)
            struct.pack_into("<i", buf, at, -need)
            struct.pack_into("<i", buf, at + need, size - need)
            buf[at + 4 : at + 4 + len(payload)] = payload
            return at
    raise AssertionError("no free cell")


def found(report: CheckReport) -> set[tuple[str, int | None]]:
    return {(f.code, f.file_offset) for f in report.findings}


# --------------------------------------------------------------------------- crafted corruptions
def c_checksum(buf):
    buf[0x1FC] ^= 0xFF
    return "E-HDR-CHECKSUM", 0x1FC


def c_cell_size(buf):
    at = nk_at(buf, "Gamma") - 4
    struct.pack_into("<i", buf, at, 12)
    return "E-CELL-SIZE", at


def c_order(buf):
    leaf = root_leaf(buf)
    first, second = bytes(buf[leaf + 4 : leaf + 12]), bytes(buf[leaf + 12 : leaf + 20])
    buf[leaf + 4 : leaf + 20] = second + first  # Beta before Alpha
    return "E-LIST-ORDER", leaf - 4


def c_hash(buf):
    leaf = root_leaf(buf)
    struct.pack_into("<I", buf, leaf + 8, struct.unpack_from("<I", buf, leaf + 8)[0] ^ 1)
    return "W-LIST-HASH", leaf - 4


def edit_root_sk(buf, field, change) -> int:
    """Change one field of the root key's security cell; returns the cell's file offset."""
    sk = root_sk(buf)
    SK.write(buf, sk, field, change(SK.read(buf, sk, field)))
    return sk - 4


def c_refcount_low(buf):
    return "E-SK-REFCOUNT", edit_root_sk(buf, "refcount", lambda count: 1)


def c_refcount_high(buf):
    return "W-SK-REFCOUNT", edit_root_sk(buf, "refcount", lambda count: count + 3)


def c_sk_ring(buf):
    return "E-SK-RING", edit_root_sk(buf, "blink", lambda cell: 0x12340)


def c_sk_ref(buf):
    value = reader(buf).key("Alpha").value("dword").cell
    return "E-SK-REF", set_nk(buf, "Gamma", "security", value)


def c_descriptor(buf):
    sk = root_sk(buf)
    buf[sk + SK.size] = 2  # descriptor revision must be 1
    return "E-SK-DESCRIPTOR", sk - 4


def c_subkey_count(buf):
    return "E-NK-SUBKEY-COUNT", set_nk(buf, "", "subkey_count", 5)


def c_ri_cycle(buf):
    leaf = root_leaf(buf)
    buf[leaf : leaf + 8] = b"ri" + struct.pack("<HI", 1, leaf - HBIN_BASE - 4)
    return "E-LIST-CYCLE", leaf - 4


def c_value_count(buf):
    set_nk(buf, "Alpha", "value_count", 0xFFFFFFFF)
    return "E-VALUE-LIST", file_offset(nk_field(buf, "Alpha", "values"))


def c_parent(buf):
    return "E-NK-PARENT", set_nk(buf, "Beta\\Child", "parent", nk_at(buf, "") - 4 - HBIN_BASE)


def c_duplicate_key(buf):
    rename(buf, "Gammb", b"GAMMA")
    leaf = root_leaf(buf)
    struct.pack_into("<I", buf, leaf + 4 + 8 * 3 + 4, lh_hash("GAMMA"))
    return "E-LIST-DUPLICATE", leaf - 4


def c_shared_key(buf):
    leaf = root_leaf(buf)
    gamma = struct.unpack_from("<II", buf, leaf + 4 + 8 * 2)
    struct.pack_into("<II", buf, leaf + 4 + 8 * 3, *gamma)
    return "E-CELL-SHARED", leaf - 4


def c_duplicate_value(buf):
    at = vk_at(buf, "Alpha", "other")
    buf[at + VK.size : at + VK.size + 5] = b"DWORD"
    return "E-VK-DUPLICATE", at - 4


def c_inline(buf):
    at = vk_at(buf, "Alpha", "dword")
    VK.write(buf, at, "data_size", 0x80000008)
    return "E-VK-INLINE", at - 4


def c_data_size(buf):
    at = vk_at(buf, "Alpha", "other")
    VK.write(buf, at, "data_size", 100)
    return "E-VK-DATA-SIZE", at - 4


def c_db_signature(buf):
    at = vk_at(buf, "Alpha", "other")
    VK.write(buf, at, "data_size", 20_000)
    return "E-DB-SIGNATURE", file_offset(VK.read(buf, at, "data"))


def c_free_ref(buf):
    space = reader(buf)._engine.space
    free = next(cell for cell, size in space.iter_cells() if size > 0)
    return "E-REF", set_nk(buf, "Alpha", "values", free)


def c_root_pointer(buf):
    BASE_BLOCK.write(buf, 0, "root_cell", 0x12345)
    restamp(buf)
    return "E-ROOT", 0x24


def c_root_not_nk(buf):
    sk = root_sk(buf)
    BASE_BLOCK.write(buf, 0, "root_cell", sk - 4 - HBIN_BASE)
    restamp(buf)
    return "E-ROOT", sk - 4


def c_version(buf):
    BASE_BLOCK.write(buf, 0, "minor", 9)
    restamp(buf)
    return "E-HDR-VERSION", 0x14


def c_cluster(buf):
    BASE_BLOCK.write(buf, 0, "clustering", 2)
    restamp(buf)
    return "E-HDR-CLUSTER", 0x2C


def c_dirty(buf):
    BASE_BLOCK.write(buf, 0, "seq1", BASE_BLOCK.read(buf, 0, "seq1") + 1)
    restamp(buf)
    return "W-HDR-DIRTY", 4


def c_bin_signature(buf):
    buf[HBIN_BASE : HBIN_BASE + 4] = b"hbim"
    return "E-BIN-SIGNATURE", HBIN_BASE


def c_name_backslash(buf):
    return "E-NK-NAME-CHAR", rename(buf, "Gamma", b"Ga\\ma")


def c_symlink(buf):
    return "E-NK-SYMLINK", set_nk(buf, "Alpha", "flags", nk_field(buf, "Alpha", "flags") | 0x10)


def c_maxima(buf):
    return "W-NK-MAXIMA", set_nk(buf, "", "max_subkey_name", 2)


def c_list_empty(buf):
    leaf = file_offset(nk_field(buf, "Beta", "subkeys")) + 4
    struct.pack_into("<H", buf, leaf + 2, 0)
    return "E-LIST-EMPTY", leaf - 4


def c_list_signature(buf):
    leaf = file_offset(nk_field(buf, "Beta", "subkeys")) + 4
    buf[leaf : leaf + 2] = b"xx"
    return "E-LIST-SIGNATURE", leaf - 4


def c_list_nesting(buf):
    beta_leaf = file_offset(nk_field(buf, "Beta", "subkeys")) + 4
    inner = carve(buf, b"ri" + struct.pack("<HI", 1, beta_leaf - 4 - HBIN_BASE))
    outer = carve(buf, b"ri" + struct.pack("<HI", 1, inner - HBIN_BASE))
    set_nk(buf, "Beta", "subkeys", outer - HBIN_BASE)
    return "E-LIST-NESTING", inner


def c_nk_signature(buf):
    at = nk_at(buf, "Beta\\Child")
    buf[at : at + 2] = b"kn"
    return "E-NK-SIGNATURE", at - 4


def c_vk_signature(buf):
    at = vk_at(buf, "Alpha", "dword")
    buf[at : at + 2] = b"kv"
    return "E-VK-SIGNATURE", at - 4


def c_class(buf):
    return "E-NK-CLASS", set_nk(buf, "Gamma", "class_length", 10)


CRAFTED_1_5 = [
    c_checksum,
    c_cell_size,
    c_order,
    c_hash,
    c_refcount_low,
    c_refcount_high,
    c_sk_ring,
    c_sk_ref,
    c_descriptor,
    c_subkey_count,
    c_ri_cycle,
    c_value_count,
    c_parent,
    c_duplicate_key,
    c_shared_key,
    c_duplicate_value,
    c_inline,
    c_data_size,
    c_db_signature,
    c_free_ref,
    c_root_pointer,
    c_root_not_nk,
    c_version,
    c_cluster,
    c_dirty,
    c_bin_signature,
    c_name_backslash,
    c_symlink,
    c_maxima,
    c_list_empty,
    c_list_signature,
    c_list_nesting,
    c_nk_signature,
    c_vk_signature,
    c_class,
]


@pytest.mark.parametrize("corrupt", CRAFTED_1_5, ids=lambda f: f.__name__[2:])
def test_crafted_corruption_has_its_code_and_offset(corrupt):
    buf = image()
    assert check_bytes(buf).findings == []
    code, offset = corrupt(buf)
    report = check_bytes(buf)
    assert (code, offset) in found(report), "\n".join(f.line() for f in report.findings)
    assert code in DOCUMENTED
    assert not report.clean


def test_lf_hint_in_a_1_3_hive():
    buf = image(minor=3)
    leaf = root_leaf(buf)
    assert buf[leaf : leaf + 2] == b"lf"
    assert bytes(buf[leaf + 8 : leaf + 12]) == b"Alph"
    buf[leaf + 8 : leaf + 12] = b"Alps"
    assert found(check_bytes(buf)) == {("W-LIST-HINT", leaf - 4)}


def test_big_data_in_a_1_3_hive_is_an_error():
    buf = image(minor=3)
    at = vk_at(buf, "Alpha", "other")
    VK.write(buf, at, "data_size", 20_000)
    data = file_offset(VK.read(buf, at, "data")) + 4
    buf[data : data + 2] = b"db"
    assert ("E-DB-VERSION", at - 4) in found(check_bytes(buf))


def test_big_data_segment_count():
    buf = image(big=True)
    at = vk_at(buf, "Gamma", "big")
    db = file_offset(VK.read(buf, at, "data")) + 4
    assert buf[db : db + 2] == b"db" and DB.read(buf, db, "segment_count") == 3
    DB.write(buf, db, "segment_count", 2)
    assert ("E-DB-COUNT", db - 4) in found(check_bytes(buf))


def test_bin_offset_field():
    buf = image(big=True)
    bins = reader(buf)._engine.space.bins
    assert len(bins) > 1
    second = file_offset(bins[1].start)
    struct.pack_into("<I", buf, second + 4, bins[1].start + 0x1000)
    assert ("E-BIN-OFFSET", second) in found(check_bytes(buf))


def test_unreachable_key_is_information_only():
    buf = image()
    child = nk_at(buf, "Beta\\Child") - 4
    leaf = file_offset(nk_field(buf, "Beta", "subkeys"))
    set_nk(buf, "Beta", "subkey_count", 0)
    set_nk(buf, "Beta", "subkeys", 0xFFFFFFFF)
    sk = root_sk(buf)  # the unreachable key no longer counts as a user of its sk
    SK.write(buf, sk, "refcount", SK.read(buf, sk, "refcount") - 1)
    report = check_bytes(buf)
    assert report.clean and not report.problems
    assert found(report) == {("I-LEAK", child), ("I-LEAK", leaf)}


def test_bins_size_field():
    buf = image()
    BASE_BLOCK.write(buf, 0, "hbins_size", 0x1234)
    restamp(buf)
    assert ("E-HDR-BINS-SIZE", 0x28) in found(check_bytes(buf))


def test_bins_after_the_declared_area_are_information():
    buf = image()
    end = len(buf)
    buf += b"hbin" + struct.pack("<II", end - HBIN_BASE, 4096) + bytes(4096 - 12)
    report = check_bytes(buf)
    assert found(report) == {("I-TRAILING-BINS", end)}
    assert report.clean


def test_empty_key_name():
    buf = image()
    assert ("E-NK-NAME", set_nk(buf, "Gamma", "name_length", 0)) in found(check_bytes(buf))


def test_leaf_count_beyond_its_cell():
    buf = image()
    leaf = file_offset(nk_field(buf, "Beta", "subkeys")) + 4
    struct.pack_into("<H", buf, leaf + 2, 500)
    assert ("E-LIST-SIZE", leaf - 4) in found(check_bytes(buf))


def test_odd_utf16_value_name():
    buf = image()
    at = vk_at(buf, "Alpha", "dword")
    VK.write(buf, at, "flags", 0)  # "dword" (5 bytes) read as UTF-16
    assert found(check_bytes(buf)) >= {("W-NAME-ODD", at - 4)}


def test_short_big_data_segment():
    buf = image(big=True)
    db = file_offset(VK.read(buf, vk_at(buf, "Gamma", "big"), "data")) + 4
    segments = file_offset(DB.read(buf, db, "segment_list")) + 4
    small = carve(buf, bytes(100))
    struct.pack_into("<I", buf, segments + 8, small - HBIN_BASE)
    assert ("E-DB-SEGMENT", small) in found(check_bytes(buf))


def test_adjacent_free_cells_are_information():
    buf = image()
    space = reader(buf)._engine.space
    cell, size = [(c, s) for c, s in space.iter_cells() if s > 0][-1]
    at = file_offset(cell)
    struct.pack_into("<i", buf, at, 64)
    struct.pack_into("<i", buf, at + 64, size - 64)
    report = check_bytes(buf)
    assert found(report) == {("I-FREE-ADJACENT", at + 64)}
    assert report.clean


def test_second_security_cell_in_the_ring():
    buf = image()
    sk = root_sk(buf)
    descriptor_size = SK.read(buf, sk, "descriptor_size")
    descriptor = bytes(buf[sk + SK.size : sk + SK.size + descriptor_size])
    root = sk - 4 - HBIN_BASE
    new = carve(
        buf,
        SK.pack(signature=b"sk", reserved=0, flink=root, blink=root, refcount=1, descriptor_size=descriptor_size)
        + descriptor,
    )
    SK.write(buf, sk, "flink", new - HBIN_BASE)
    SK.write(buf, sk, "blink", new - HBIN_BASE)
    SK.write(buf, sk, "refcount", SK.read(buf, sk, "refcount") - 1)
    set_nk(buf, "Gamma", "security", new - HBIN_BASE)
    report = check_bytes(buf)
    assert found(report) == {("I-SK-DUPLICATE", new)}
    SK.write(buf, new + 4, "blink", new - HBIN_BASE)  # the new cell's blink no longer leads back
    assert ("E-SK-RING", new) in found(check_bytes(buf))


def test_keys_deeper_than_windows_checks():
    hive = Hive.new(5, clock=CLOCK)
    cell = hive.create_key("\\".join(["k"] * 512)).cell  # create_key refuses to go deeper
    for _ in range(3):  # a damaged or hostile hive: three more levels, below the engine's check
        cell = hive._editor.add_subkey(cell, "k")
    path = "\\".join(["k"] * 513)
    buf = bytearray(hive.to_bytes())
    report = check_bytes(buf)
    assert found(report) == {("W-NK-DEPTH", nk_at(buf, path) - 4)}
    assert Hive.from_bytes(bytes(buf)).key("\\".join(["k"] * 515)).path.count("\\") == 514


def test_truncated_file():
    buf = image(big=True)
    report = check_bytes(buf[: len(buf) - 8192])
    assert ("E-FILE-TRUNCATED", 0x28) in found(report)
    report = check_bytes(buf[:3000])
    assert found(report) == {("E-FILE-SHORT", 0)}


def test_empty_file(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    report = check_file(empty)
    assert found(report) == {("E-FILE-SHORT", 0)}
    assert "empty" in report.findings[0].message


def test_not_a_hive(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_bytes(b"just some text\n" * 1000)
    report = check_file(text)
    assert found(report) == {("E-HDR-SIGNATURE", 0)}
    assert "not a registry hive" in report.findings[0].message


def test_transaction_log_is_not_checked_as_a_hive():
    buf = image()
    BASE_BLOCK.write(buf, 0, "file_type", 6)
    restamp(buf)
    report = check_bytes(buf)
    assert found(report) == {("E-HDR-TYPE", 0x1C)}
    assert "transaction log" in report.findings[0].message


def test_missing_file_raises_io_error(tmp_path):
    from hivetool.errors import HiveIOError

    with pytest.raises(HiveIOError):
        check_file(tmp_path / "nope")


def test_findings_per_code_are_capped():
    hive = Hive.new(5, clock=CLOCK)
    for i in range(MAX_PER_CODE + 50):
        hive.create_key(f"K{i:04d}")
    buf = bytearray(hive.to_bytes())
    sublist = reader(buf)._engine.subkey_list(reader(buf)._engine.root_cell)
    for leaf in sublist.leaves:
        at = file_offset(leaf.cell) + 4
        for i in range(len(leaf.offsets)):
            struct.pack_into("<I", buf, at + 8 + 8 * i, 0)
    report = check_bytes(buf)
    listed = [f for f in report.findings if f.code == "W-LIST-HASH"]
    assert len(listed) == MAX_PER_CODE
    assert report.counts["warning"] == MAX_PER_CODE + 50
    more = [f for f in report.findings if f.code == "I-MORE"]
    assert [f.message for f in more] == ["... 50 more W-LIST-HASH findings not listed"]


# --------------------------------------------------------------------------- clean hives
@pytest.mark.parametrize("minor", [3, 5])
def test_new_hive_has_no_findings(minor):
    assert check_bytes(Hive.new(minor, clock=CLOCK).to_bytes()).findings == []


def _edit_everything(hive: Hive) -> None:
    for path in ("Values", "Types"):
        hive.create_key(path)
    sizes = [0, 1, 2, 3, 4, 5, 8, 100, 4096, 16_343, 16_344, 16_345, 40_000, 100_000]
    for size in sizes:
        hive.set_value("Values", f"v{size}", 3, bytes(i % 251 for i in range(size)))
    hive.set_value("Values", "", 1, "default".encode("utf-16-le") + b"\0\0")
    for value_type in (0, 1, 2, 4, 5, 6, 7, 11, 0xFFFF0011):
        width = {4: 4, 5: 4, 11: 8}.get(value_type, 8)  # the API takes only exact-size numbers
        hive.set_value("Types", f"t{value_type}", value_type, b"\x01\x02\x03\x04\x05\x06\x07\x08"[:width])
    hive.create_key("Names\\日本")
    hive.create_key("Names\\Grüße")
    hive.set_value("Names\\日本", "名前", 1, "値".encode("utf-16-le") + b"\0\0")
    for i in range(2000):
        hive.create_key(f"Many\\Key{i:05d}")
    for i in range(0, 2000, 4):
        hive.delete_key(f"Many\\Key{i:05d}")
    for path in ("Tree\\A\\B\\C", "Tree\\A\\D", "Tree\\E"):
        hive.create_key(path)
        hive.set_value(path, "x", 3, bytes(300))
    hive.delete_key("Tree", recursive=True)
    hive.delete_value("Values", "v100")
    hive.delete_value("Values", "v40000")
    hive.set_value("Values", "v5", 3, bytes(20_000))  # grows into big data (1.5) / a bigger cell (1.3)
    hive.set_value("Values", "v16345", 3, b"\x01")  # shrinks to inline


# 1.3 is slow only because the engine's lookups in lf leaves whose names share their first
# four characters ("Key00000" ...) decode every candidate.
@pytest.mark.parametrize("minor", [pytest.param(3, marks=pytest.mark.slow), 5])
def test_hive_edited_through_the_api_checks_clean(minor, tmp_path):
    hive = Hive.new(minor, clock=CLOCK)
    _edit_everything(hive)
    unsaved = check_hive(hive)
    assert unsaved.findings == [], "\n".join(f.line() for f in unsaved.findings)
    out = tmp_path / "edited"
    hive.save(out)
    report = check_file(out)
    assert report.findings == [], "\n".join(f.line() for f in report.findings)
    assert report.summary() == f"{out}: clean (0 errors, 0 warnings, 0 info)"


# A Windows-made hive with a real deviation: Windows copied ControlSet001 to ControlSet003
# (LastKnownGood) and left "largest subkey name" at 0 on two copied keys whose twins in
# ControlSet001 hold the right values (8 and 76). Windows loads it; the checker warns.
KNOWN_CORPUS_FINDINGS = {
    "log2timeline+dfwinreg/_history/1785983fe52b/test_data/SYSTEM": {
        ("W-NK-MAXIMA", 0x1BD478),
        ("W-NK-MAXIMA", 0x32B490),
    },
}


@pytest.mark.parametrize("relative", role_params("edit") + role_params("reference"))
def test_corpus_hive_checks_clean(relative, corpus_root):
    if relative is None:
        pytest.skip("no corpus hives of this role")
    path = corpus_path(relative)
    before = path.read_bytes(), path.stat().st_mtime_ns
    report = check_file(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    problems = {(f.code, f.file_offset) for f in report.problems}
    assert problems == KNOWN_CORPUS_FINDINGS.get(relative, set()), "\n".join(f.line() for f in report.problems)
    assert report.counts["error"] == 0


# Each broken corpus hive: the first damage, as an independent look at its bytes confirms.
def _expect_sam_bad_bin(buf: bytes) -> tuple[str, int]:
    assert buf[0x2000:0x2004] == b"gbin"
    return "E-BIN-SIGNATURE", 0x2000


def _expect_corrupt_sub_key_list(buf: bytes) -> tuple[str, int]:
    hive = Hive.from_bytes(buf)
    leaf = NK.read(hive._engine.buf, file_offset(hive._engine.root_cell) + 4, "subkeys")
    assert buf[file_offset(leaf) + 4 : file_offset(leaf) + 6] == b"lf"
    count = struct.unpack_from("<H", buf, file_offset(leaf) + 6)[0]
    entries = struct.unpack_from(f"<{2 * count}I", buf, file_offset(leaf) + 8)[0::2]
    misses = [e for e in entries if not hive._engine.space.is_allocated_cell(e)]
    assert len(misses) == 1  # one entry of the root's leaf misses every cell start
    return "E-REF", file_offset(leaf)


def _expect_corrupted_system(buf: bytes) -> tuple[str, int]:
    assert buf[0x1A000:0x1A00C] == bytes(12)  # a zeroed bin header: no signature, size 0
    return "E-BIN-SIGNATURE", 0x1A000


BROKEN_EXPECTATIONS = {
    "EricZimmerman+Registry/Registry.Test/Hives/SAMBadHBinHeader": _expect_sam_bad_bin,
    "log2timeline+plaso/test_data/regf/corrupt_sub_key_list.hiv": _expect_corrupt_sub_key_list,
    "mkorman90+regipy/regipy_tests/data/corrupted_system_hive": _expect_corrupted_system,
}


@pytest.mark.parametrize("relative", role_params("broken"))
def test_broken_corpus_hive(relative, corpus_root):
    if relative is None:
        pytest.skip("no broken corpus hives")
    path = corpus_path(relative)
    report = check_file(path)
    assert report.errors
    if relative not in BROKEN_EXPECTATIONS:
        pytest.fail(f"add the expected first finding of {relative} to BROKEN_EXPECTATIONS")
    assert BROKEN_EXPECTATIONS[relative](path.read_bytes()) in found(report)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.splitlines()[-1] == report.summary()


def test_cli_subprocess_on_a_damaged_hive(tmp_path):
    buf = image()
    c_ri_cycle(buf)
    path = tmp_path / "cycle"
    path.write_bytes(buf)
    run = subprocess.run(
        [sys.executable, "-c", "from hivetool.cli import entry_point; entry_point()", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert "E-LIST-CYCLE" in run.stdout


# --------------------------------------------------------------------------- output
def test_text_output(tmp_path):
    buf = image()
    buf[0x1FC] ^= 0xFF
    stored = struct.unpack_from("<I", buf, 0x1FC)[0]
    path = tmp_path / "bad-checksum"
    path.write_bytes(buf)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error  E-HDR-CHECKSUM  0x1fc  checksum 0x{stored:08x} is wrong; expected 0x{checksum(buf):08x}",
        f"{path}: PROBLEMS FOUND (1 error, 0 warnings, 0 info)",
    ]


def test_clean_hive_exits_0(tmp_path):
    path = tmp_path / "ok"
    path.write_bytes(image())
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert (result.exit_code, result.output) == (0, f"{path}: clean (0 errors, 0 warnings, 0 info)\n")


def test_json_output(tmp_path):
    buf = image()
    _, leaf = c_order(buf)
    path = tmp_path / "unordered"
    path.write_bytes(buf)
    result = CliRunner().invoke(cli, ["check", "--json", str(path)])
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert set(document) == {"file", "clean", "counts", "findings"}
    assert document["file"] == str(path)
    assert document["clean"] is False
    assert set(document["counts"]) == {"error", "warning", "info"}
    assert document["counts"]["error"] == len([f for f in document["findings"] if f["level"] == "error"])
    for finding in document["findings"]:
        assert set(finding) == {"code", "level", "offset", "message"}
        assert isinstance(finding["offset"], int)
        assert finding["level"] in ("error", "warning", "info")
    assert {"code": "E-LIST-ORDER", "level": "error", "offset": leaf} in [
        {k: f[k] for k in ("code", "level", "offset")} for f in document["findings"]
    ]

    path.write_bytes(image())
    clean = json.loads(CliRunner().invoke(cli, ["check", "--json", str(path)]).output)
    assert clean == {"file": str(path), "clean": True, "counts": {"error": 0, "warning": 0, "info": 0}, "findings": []}


def test_every_code_in_the_source_is_documented():
    sources = Path(check_module.__file__).parent.glob("check*.py")
    used = set()
    for source in sources:
        used |= set(re.findall(r'"([EWI]-[A-Z0-9-]+)"', source.read_text(encoding="utf-8")))
    assert used - DOCUMENTED == set()
    assert DOCUMENTED - used == set()


# --------------------------------------------------------------------------- fuzz
def _mutations(seed: int, count: int):
    rng = random.Random(seed)
    special = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF8, 0x20, 0x1000, 0xFFFF]
    for _ in range(count):
        kind = rng.randrange(4)
        yield kind, rng.random(), [rng.randrange(1 << 30) for _ in range(8)], rng.choice(special)


def _mutate(base: bytes, kind: int, fraction: float, numbers: list[int], special: int) -> bytes:
    buf = bytearray(base)
    if kind == 0:  # truncate anywhere
        return bytes(buf[: int(len(buf) * fraction)])
    if kind == 1:  # flip a few bytes, mostly in the hive bins
        for n in numbers[:4]:
            buf[n % len(buf)] ^= 1 << (n % 8)
        return bytes(buf)
    at = (4096 + numbers[0] % (len(buf) - 4096)) & ~3
    if kind == 2:  # a hostile 32-bit value in place of a size, count or pointer
        struct.pack_into("<I", buf, at, special)
    else:  # a pointer to somewhere else in the hive bins
        struct.pack_into("<I", buf, at, numbers[1] % (len(buf) - 4096) & ~7)
    return bytes(buf)


@pytest.mark.parametrize("minor", [3, 5])
def test_fuzzed_hives_never_raise(minor):
    hive = small_hive(minor)
    for i in range(40):
        hive.create_key(f"Beta\\K{i}")
    hive.set_value("Gamma", "big", 3, bytes(20_000))
    base = hive.to_bytes()
    codes: set[str] = set()
    for kind, fraction, numbers, special in _mutations(seed=20240506 + minor, count=300):
        data = _mutate(base, kind, fraction, numbers, special)
        started = time.monotonic()
        report = check_bytes(data)
        # A hang guard, not a benchmark: one case takes milliseconds.
        assert time.monotonic() - started < 10
        assert isinstance(report, CheckReport)
        codes |= report.codes()
    assert codes <= DOCUMENTED | {"I-MORE"}
    assert "E-STOPPED" not in codes
    assert len(codes) > 10  # the mutations really reach many checks
