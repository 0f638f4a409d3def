"""Importing a large patch into an empty hive goes through the bulk layout; it must give
exactly what the sequential path gives, with the same counts, and readers must agree."""
from __future__ import annotations

import struct

import oracles
from hivetool import Clock, Hive
from hivetool.regfile import apply as apply_module
from hivetool.regfile import bulk
from hivetool.regfile.apply import apply_plan, plan_patch
from hivetool.regfile.patch import Patch

ROOT = r"HKEY_LOCAL_MACHINE\SOFTWARE"
CLOCK = Clock(0x01D0000000000000)


def patch() -> Patch:
    p = Patch()
    for group in range(20):
        for item in range(12):
            key = rf"{ROOT}\Group{group:02d}\Item{item:02d}"
            p.create_key(key)
            p.set_value(key, "n", 4, struct.pack("<I", group * 100 + item))
            p.set_value(key, "", 1, f"g{group}i{item}".encode("utf-16-le") + b"\0\0")
    p.set_value(rf"{ROOT}\group03\ITEM04", "N", 4, b"\xff\0\0\0")  # case variant: updates, keeps "n"
    p.set_value(rf"{ROOT}\Group03\Item04", "Big", 3, bytes(range(256)) * 80)  # big data
    p.delete_value(rf"{ROOT}\Group03\Item04", "")  # the default value goes
    p.delete_value(rf"{ROOT}\Group03\Item04", "missing")  # silent
    p.delete_key(rf"{ROOT}\Group05")  # a subtree of 13 keys
    p.delete_key(rf"{ROOT}\NoSuchKey")  # silent
    p.delete_key(ROOT)  # the root: skipped with a note
    p.set_value(rf"{ROOT}\Group05\Again", "back", 1, "x".encode("utf-16-le") + b"\0\0")  # recreated
    p.create_key(rf"{ROOT}\日本\Grüße")
    return p


def imported(monkeypatch, bulk_path: bool) -> tuple[Hive, object]:
    hive = Hive.new(5, clock=CLOCK)
    if not bulk_path:
        monkeypatch.setattr(apply_module, "BULK_MIN_OPS", 10**9)
    plan = plan_patch(hive, patch(), ROOT)
    assert len(plan.ops) >= bulk.BULK_MIN_OPS
    counts = apply_plan(hive, plan)
    monkeypatch.undo()
    return hive, counts


def test_bulk_and_sequential_imports_agree(monkeypatch, tmp_path):
    sequential, seq_counts = imported(monkeypatch, bulk_path=False)
    laid_out, bulk_counts = imported(monkeypatch, bulk_path=True)
    assert sequential._engine.buf != laid_out._engine.buf  # two different layouts...
    assert oracles.read_own(sequential) == oracles.read_own(laid_out)  # ...of the same content
    assert seq_counts == bulk_counts
    assert bulk_counts.keys_deleted == 13 and bulk_counts.values_deleted == 1
    assert bulk_counts.notes == [f"{ROOT} is the hive's root key, which cannot be deleted; skipped"]
    key = laid_out.key(r"Group03\Item04")
    assert [(v.name, v.raw) for v in key.values()][:1] == [("n", b"\xff\0\0\0")]
    path = tmp_path / "bulk.hiv"
    laid_out.save(path)
    content = oracles.read_own(path)
    for reader in oracles.FULL_READERS:
        oracles.agree(reader, path, content)
