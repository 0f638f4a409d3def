"""Comparing the values of two keys without decoding them, for diffs of an edited copy.

An edited copy of a hive keeps most cells where they were. A vk names its data cell, so two
keys whose value lists name the same cells, holding the same vk bytes and the same data-cell
bytes, hold equal values; big data and anything unusual fall back to a full comparison.
"""
from __future__ import annotations

from ..records.data import INLINE, uses_big_data
from ..records.vk import VK
from .model import Key

_DATA_FIELDS = VK.view("data_size", "data")


def same_values(old: Key, new: Key) -> bool:
    """Whether ``old`` and ``new`` (keys of two hives) surely hold the same values, in the same
    order; False also when it would take decoding them to tell."""
    old_engine, new_engine = old.hive._engine, new.hive._engine
    cells = old_engine.value_cells(old.cell)
    if cells != new_engine.value_cells(new.cell):
        return False
    old_buf, new_buf = old_engine.buf, new_engine.buf
    for cell in cells:
        old_at, old_len = old_engine.space.payload(cell, "value")
        new_at, new_len = new_engine.space.payload(cell, "value")
        if old_len != new_len or old_buf[old_at : old_at + old_len] != new_buf[new_at : new_at + new_len]:
            return False
        if old_len < VK.size:
            return False
        size_field, data_cell = _DATA_FIELDS(old_buf, old_at)
        length = size_field & 0x7FFFFFFF
        if size_field & INLINE or length == 0:
            continue
        if uses_big_data(length, old_engine.minor) or uses_big_data(length, new_engine.minor):
            if old_engine.read_value(cell) != new_engine.read_value(cell):
                return False
            continue
        old_data, old_room = old_engine.space.payload(data_cell, "value data")
        new_data, new_room = new_engine.space.payload(data_cell, "value data")
        if length > old_room or length > new_room:
            return False  # let the full read report the damage
        if old_buf[old_data : old_data + length] != new_buf[new_data : new_data + length]:
            return False
    return True
