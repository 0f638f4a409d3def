"""Transaction log parsing: headers, HvLE entry chains, DIRT bitmaps (regf-format 9)."""
from __future__ import annotations

import struct

import pytest

from corpus import corpus_path, role_params
from hivetool.regf.records.base_block import BASE_BLOCK, checksum
from hivetool.regf.logs.log import (
    FORMAT_EMPTY,
    FORMAT_NEW,
    FORMAT_OLD,
    FORMAT_UNUSABLE,
    TransactionLog,
    sequence_before,
    sequence_ranges,
)
from hivetool.regf.logs.marvin import marvin32

SYSTEM_B = "mkorman90+regipy/regipy_tests/data/SYSTEM_B"
OLD_DIRTY = "msuhanov+yarp/hives_for_tests/OldDirtyHive/OldDirtyHive"


# ---------------------------------------------------------------------- a log writer for tests
def log_header(sequence: int, file_type: int = 6, hbins_size: int = 0x2000, timestamp: int = 0,
               log_id: bytes = bytes(16), seq2: int | None = None) -> bytes:
    """A 512-byte log header: a base-block copy with the log's file type, checksummed."""
    head = bytearray(512)
    BASE_BLOCK.pack_into(head, 0, (
        b"regf", sequence, sequence if seq2 is None else seq2, timestamp, 1, 5, file_type, 1, 0x20,
        hbins_size, 1, bytes(64), log_id, log_id, 0, bytes(16), b"rmtm", 0, bytes(4), 0, bytes(324), 0,
    ))
    BASE_BLOCK.write(head, 0, "checksum", checksum(head))
    return bytes(head)


def log_entry(sequence: int, pages: list[tuple[int, bytes]], hbins_size: int = 0x2000, flags: int = 0,
              pad_to: int = 512) -> bytes:
    """One HvLE entry with both Marvin32 hashes, padded to a multiple of ``pad_to``."""
    refs = b"".join(struct.pack("<II", offset, len(data)) for offset, data in pages)
    body = refs + b"".join(data for _, data in pages)
    size = -(-(40 + len(body)) // pad_to) * pad_to
    body += bytes(size - 40 - len(body))
    hash1 = marvin32(body)
    head = struct.pack("<4sIIIIIQ", b"HvLE", size, flags, sequence, hbins_size, len(pages), hash1)
    return head + struct.pack("<Q", marvin32(head)) + body


def page(fill: int, size: int = 4096) -> bytes:
    return bytes([fill]) * size


def new_log(first: int, entries: list[bytes], **header) -> bytes:
    return log_header(first, **header) + b"".join(entries)


def parse(data: bytes) -> TransactionLog:
    return TransactionLog(data, "test.LOG1")


# ---------------------------------------------------------------------- headers
def test_a_sound_new_format_log() -> None:
    log = parse(new_log(7, [log_entry(7, [(0, page(1))]), log_entry(8, [(4096, page(2))])]))
    assert log.format == FORMAT_NEW and log.problem is None
    assert log.sequence == 7
    assert [(e.sequence, [(p.offset, p.size) for p in e.pages]) for e in log.chain.entries] == [
        (7, [(0, 4096)]), (8, [(4096, 4096)])]
    assert log.chain.damage is None


def test_page_references_point_at_the_page_bytes() -> None:
    data = new_log(1, [log_entry(1, [(0, page(0xAA)), (8192, page(0xBB, 8192))], hbins_size=0x4000)])
    entry = parse(data).chain.entries[0]
    assert [data[p.data_at : p.data_at + p.size] for p in entry.pages] == [page(0xAA), page(0xBB, 8192)]
    assert entry.hbins_size == 0x4000


@pytest.mark.parametrize(
    "mangle, why",
    [
        (lambda h: b"rexf" + h[4:], "signature"),
        (lambda h: h[:60] + bytes([h[60] ^ 1]) + h[61:], "checksum"),
        (lambda h: _rechecksum(h, seq2=9), "sequence numbers differ"),
        (lambda h: _rechecksum(h, file_type=0), "primary hive"),
        (lambda h: _rechecksum(h, file_type=3), "file type 3"),
        (lambda h: _rechecksum(h, hbins_size=0x1234), "hive-bins size"),
        (lambda h: _rechecksum(h, clustering=8), "clustering"),
        (lambda h: _rechecksum(h, major=2), "version"),
        (lambda h: bytes(512), "never written"),
    ],
)
def test_a_log_with_an_invalid_header_is_unusable_and_says_why(mangle, why: str) -> None:
    data = new_log(5, [log_entry(5, [(0, page(1))])])
    log = parse(mangle(data[:512]) + data[512:])
    assert log.format == FORMAT_UNUSABLE
    assert why in log.problem
    assert log.chain.entries == []


def _rechecksum(header: bytes, **fields: int) -> bytes:
    head = bytearray(header)
    for name, value in fields.items():
        BASE_BLOCK.write(head, 0, name, value)
    BASE_BLOCK.write(head, 0, "checksum", checksum(head))
    return bytes(head)


def test_a_file_shorter_than_a_header_is_unusable() -> None:
    log = parse(log_header(5)[:300])
    assert log.format == FORMAT_UNUSABLE and "shorter than the 512-byte log header" in log.problem


def test_an_empty_file_is_an_empty_log() -> None:
    log = parse(b"")
    assert log.format == FORMAT_EMPTY and log.problem is None and log.max_sequence == 0


# ---------------------------------------------------------------------- entry chains
def test_the_chain_ends_quietly_at_an_older_remnant() -> None:
    """Entries of an earlier cycle after the current ones are normal (9.3)."""
    log = parse(new_log(10, [log_entry(10, [(0, page(1))]), log_entry(4, [(0, page(2))])]))
    assert [e.sequence for e in log.chain.entries] == [10]
    assert log.chain.damage is None


def test_a_gap_in_the_sequence_stops_the_chain() -> None:
    log = parse(new_log(10, [log_entry(10, [(0, page(1))]), log_entry(12, [(0, page(2))]),
                             log_entry(13, [(0, page(3))])]))
    assert [e.sequence for e in log.chain.entries] == [10]
    assert "expected sequence 11" in log.chain.damage
    assert log.chain.left_out == [12, 13]
    assert log.max_sequence == 13


def test_the_chain_must_start_at_the_headers_sequence_number() -> None:
    log = parse(new_log(10, [log_entry(11, [(0, page(1))])]))
    assert log.chain.entries == []
    assert "expected sequence 10" in log.chain.damage


def test_a_wrong_hash_1_stops_the_chain_before_that_entry() -> None:
    good = log_entry(1, [(0, page(1))])
    bad = bytearray(log_entry(2, [(0, page(2))]))
    bad[2000] ^= 0x40  # page data: hash-1 no longer matches
    log = parse(new_log(1, [good, bytes(bad), log_entry(3, [(0, page(3))])]))
    assert [e.sequence for e in log.chain.entries] == [1]
    assert "hash-1" in log.chain.damage and "sequence 2" in log.chain.damage
    assert log.chain.left_out == [2, 3]


def test_a_wrong_hash_2_stops_the_chain() -> None:
    bad = bytearray(log_entry(2, [(0, page(2))]))
    bad[16] ^= 0x10  # the hive-bins size field, covered by hash-2 only
    log = parse(new_log(1, [log_entry(1, [(0, page(1))]), bytes(bad)]))
    assert [e.sequence for e in log.chain.entries] == [1]
    assert "hash-2" in log.chain.damage


def test_a_truncated_log_keeps_the_entries_before_the_cut() -> None:
    data = new_log(1, [log_entry(1, [(0, page(1))]), log_entry(2, [(0, page(2))])])
    log = parse(data[:-1000])
    assert [e.sequence for e in log.chain.entries] == [1]
    assert "truncated" in log.chain.damage


def test_a_log_cut_inside_an_entry_header_says_so() -> None:
    data = new_log(1, [log_entry(1, [(0, page(1))]), log_entry(2, [(0, page(2))])])
    second = 512 + len(log_entry(1, [(0, page(1))]))
    log = parse(data[: second + 20])
    assert [e.sequence for e in log.chain.entries] == [1]
    assert "cut short" in log.chain.damage


def test_an_entry_size_that_is_not_sector_aligned_is_damage() -> None:
    bad = bytearray(log_entry(2, [(0, page(2))]))
    struct.pack_into("<I", bad, 4, 1000)
    log = parse(new_log(1, [log_entry(1, [(0, page(1))]), bytes(bad)]))
    assert [e.sequence for e in log.chain.entries] == [1]
    assert "multiple of 512" in log.chain.damage


def test_a_page_outside_the_hive_bins_is_damage_even_with_good_hashes() -> None:
    log = parse(new_log(1, [log_entry(1, [(0x2000, page(1))], hbins_size=0x2000)]))
    assert log.chain.entries == []
    assert "outside" in log.chain.damage


def test_a_zero_page_count_is_damage() -> None:
    log = parse(new_log(1, [log_entry(1, [])]))
    assert log.chain.entries == [] and "page count" in log.chain.damage


def test_sequence_numbers_wrap_around() -> None:
    log = parse(new_log(0xFFFFFFFF, [log_entry(0xFFFFFFFF, [(0, page(1))]), log_entry(0, [(0, page(2))])]))
    assert [e.sequence for e in log.chain.entries] == [0xFFFFFFFF, 0]
    assert sequence_before(0xFFFFFFFF, 0) and not sequence_before(0, 0xFFFFFFFF)
    assert not sequence_before(5, 5) and sequence_before(5, 6)


def test_max_sequence_sees_remnants_past_the_chain() -> None:
    """A save must go above every sequence number in the logs, even ones not applied."""
    log = parse(new_log(10, [log_entry(10, [(0, page(1))]), bytes(512), log_entry(40, [(0, page(2))])]))
    assert [e.sequence for e in log.chain.entries] == [10]
    assert log.max_sequence == 40


def test_sequence_ranges() -> None:
    assert sequence_ranges([3, 4, 5, 9, 11, 12]) == "3..5, 9, 11..12"
    assert sequence_ranges([]) == ""


# ---------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("relative", role_params("log"))
def test_every_corpus_log_parses_cleanly(corpus_copy, relative: str) -> None:
    log = TransactionLog.read(corpus_copy(relative))
    assert log.format in (FORMAT_NEW, FORMAT_OLD, FORMAT_EMPTY), log.problem
    if log.format == FORMAT_NEW:
        chain = log.chain
        assert chain.damage is None and chain.entries
        assert [e.sequence for e in chain.entries] == list(range(log.sequence, log.sequence + len(chain.entries)))
        assert log.max_sequence >= chain.last


def test_system_b_logs_hold_2107_to_2130() -> None:
    first = TransactionLog.read(corpus_path(SYSTEM_B + ".LOG1"))
    second = TransactionLog.read(corpus_path(SYSTEM_B + ".LOG2"))
    assert (first.chain.first, first.chain.last) == (2107, 2110)
    assert (second.chain.first, second.chain.last) == (2111, 2130)
    # The hive grew while these entries were written; the file must grow with it.
    assert first.chain.entries[0].hbins_size == 0xBD3000
    assert second.chain.entries[-1].hbins_size == 0xC02000
    facts = second.describe()
    assert facts["format"] == FORMAT_NEW and facts["sequences"] == [2111, 2130] and facts["entries"] == 20


def test_old_format_dirty_pages_follow_the_bitmap() -> None:
    data = corpus_path(OLD_DIRTY + ".LOG1").read_bytes()
    log = TransactionLog(data, "OldDirtyHive.LOG1")
    assert log.format == FORMAT_OLD
    pages, why = log.dirty_pages()
    assert why is None
    hbins_size = BASE_BLOCK.read(data, 0, "hbins_size")
    bitmap = data[516 : 516 + hbins_size // 4096]
    marked = [i for i in range(len(bitmap) * 8) if bitmap[i // 8] >> (i % 8) & 1]
    assert [p.offset for p in pages] == [512 * i for i in marked]
    # Pages are packed from the first sector after the bitmap, 512 bytes each.
    first = -(-(516 + len(bitmap)) // 512) * 512
    assert [p.data_at for p in pages] == [first + 512 * k for k in range(len(pages))]
    assert all(p.data_at + 512 <= len(data) for p in pages)


def test_a_truncated_old_format_log_says_so() -> None:
    data = corpus_path(OLD_DIRTY + ".LOG1").read_bytes()
    facts = TransactionLog(data[:5000], "cut.LOG1").describe()
    assert "truncated" in facts["damage"]


def test_an_old_format_log_without_a_dirty_vector_holds_no_pages() -> None:
    data = bytearray(corpus_path(OLD_DIRTY + ".LOG1").read_bytes())
    data[512:516] = b"DIRX"
    pages, why = TransactionLog(bytes(data), "x.LOG1").dirty_pages()
    assert pages == [] and "DIRT" in why
