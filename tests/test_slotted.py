"""The record classes made without dataclasses compare, hash and show as dataclasses did."""
from __future__ import annotations

import pickle

import pytest

from hivetool.findings import Finding
from hivetool.image.spec import TargetSpec
from hivetool.paths import LogicalPath
from hivetool.regf.records.problems import HiveFinding


def test_equal_by_fields_of_the_same_class_only():
    assert HiveFinding("E-X", "error", "m", 8) == HiveFinding("E-X", "error", "m", 8)
    assert HiveFinding("E-X", "error", "m", 8) != HiveFinding("E-X", "error", "m", 16)
    assert Finding("E-X", "error", "m") != HiveFinding("E-X", "error", "m", None)  # a subclass is another class
    assert LogicalPath("HKEY_USERS") != ("HKEY_USERS", ())


def test_frozen_records_hash_by_their_fields():
    assert len({TargetSpec("hive", "a"), TargetSpec("hive", "a"), TargetSpec("hive", "b")}) == 2
    assert hash(LogicalPath("HKEY_USERS", ("w",))) == hash(LogicalPath("HKEY_USERS", ("w",)))


def test_repr_names_the_fields_base_class_first():
    assert repr(HiveFinding("E-X", "error", "m", 8)) == "HiveFinding(code='E-X', level='error', message='m', file_offset=8)"


def test_slots_refuse_a_field_that_does_not_exist_and_pickle_round_trips():
    spec = TargetSpec("wim", "x.wim", 1)
    with pytest.raises(AttributeError):
        spec.indx = 2  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(spec)) == spec
