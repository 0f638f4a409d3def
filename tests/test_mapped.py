"""Big files are mapped copy-on-write instead of read: the same results, the file untouched,
and growth (a new bin) handled by moving the hive into memory."""
from __future__ import annotations

import mmap
import os
import shutil
import struct

import pytest

import hivetool.inputs as inputs
from corpus import corpus_path, require_corpus
from hivetool import Clock, Hive, RegType
from hivetool.regf.check import check_hive

SYSTEM = "mkorman90+regipy/regipy_tests/data/SYSTEM"
CLOCK = Clock(0x01D0000000000000)


def edits(hive: Hive) -> None:
    hive.set_value("Select", "Current", RegType.DWORD, struct.pack("<I", 1))  # in place: no allocation
    key = hive.create_key(r"ControlSet001\Services\MSExchangeDS\Parameters")
    hive.set_value(key, "TCP/IP port", RegType.DWORD, struct.pack("<I", 1225))
    for index in range(600):  # enough to need new bins
        hive.set_value(hive.create_key(rf"hivetool-test\K{index:04d}"), "v", RegType.BINARY, bytes(300))


@pytest.mark.skipif(os.name != "posix", reason="mapping is used on POSIX systems only")
def test_mapped_and_read_hives_give_the_same_bytes(tmp_path, monkeypatch):
    require_corpus()
    source = tmp_path / "SYSTEM"
    shutil.copyfile(corpus_path(SYSTEM), source)
    original = source.read_bytes()

    monkeypatch.setattr(inputs, "MAP_THRESHOLD", 1 << 40)
    read = Hive.open(source, CLOCK)
    assert isinstance(read._engine.buf, bytearray)
    edits(read)

    monkeypatch.setattr(inputs, "MAP_THRESHOLD", 0)
    mapped = Hive.open(source, CLOCK)
    assert isinstance(mapped._engine.buf, mmap.mmap)
    mapped.set_value("Select", "Current", RegType.DWORD, struct.pack("<I", 1))
    assert isinstance(mapped._engine.buf, mmap.mmap), "an edit in place keeps the mapping"
    assert source.read_bytes() == original, "copy-on-write: edits never reach the file"
    edits(mapped)
    assert isinstance(mapped._engine.buf, bytearray), "growing the hive moves it into memory"
    assert source.read_bytes() == original

    assert mapped.to_bytes() == read.to_bytes()
    mapped.save(source, in_place=True)  # over the file it was mapped from
    again = Hive.open(source)
    assert again.key(r"ControlSet001\Services\MSExchangeDS\Parameters").value("TCP/IP port").data == 1225
    assert not check_hive(again).problems


@pytest.mark.skipif(os.name != "posix", reason="mapping is used on POSIX systems only")
def test_in_place_save_of_a_mapped_hive_that_did_not_grow(tmp_path, monkeypatch):
    require_corpus()
    source = tmp_path / "SYSTEM"
    shutil.copyfile(corpus_path(SYSTEM), source)
    original = source.read_bytes()
    monkeypatch.setattr(inputs, "MAP_THRESHOLD", 0)
    hive = Hive.open(source, CLOCK)
    hive.set_value("Select", "Current", RegType.DWORD, struct.pack("<I", 1))
    hive.save(source, in_place=True)
    saved = source.read_bytes()
    changed = {i // 4096 for i in range(0, len(saved), 4096) if saved[i:i + 4096] != original[i:i + 4096]}
    assert len(changed) <= 3  # base block, first bin header, the value's cell
    assert Hive.open(source).key("Select").value("Current").data == 1
