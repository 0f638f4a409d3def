"""Value data and its type: what ``Hive.set_value`` takes, and what ``check`` says about sizes.

``Hive.set_value`` takes natural values (an int for a number type, a str, a list of str) or the
bytes to store. What fits none is refused with a TypeError that says what the type takes
(``bytes(1225)`` once stored 1,225 zero bytes for the number 1225), and a REG_DWORD,
REG_DWORD_BIG_ENDIAN or REG_QWORD given as bytes of another width than 4, 4 and 8 with a
ValueError; both are UsageErrors, so the command line exits 2. A refusal changes nothing.

Such values are still legal in a hive (the kernel never compares size and type) and Windows
writes some itself, so ``check`` lists them as information (I-VK-TYPE-SIZE), and the raw
engine call ``Hive.set_raw_value`` still stores any size.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from corpus import corpus_path, files_with_role
from hivetool import errors
from hivetool.regf.records.bins import file_offset
from hivetool.regf.check import check_bytes, check_file
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
HIVETOOL = str(Path(sys.executable).with_name("hivetool"))
NUMBERS = [(RegType.DWORD, 4), (RegType.DWORD_BIG_ENDIAN, 4), (RegType.QWORD, 8)]


def hive_with_a_value() -> Hive:
    """Saved and opened again, so that ``modified`` starts False as after Hive.open."""
    hive = Hive.new(5, clock=CLOCK)
    hive.set_value(hive.create_key("Params"), "Existing", RegType.DWORD, (7).to_bytes(4, "little"))
    return Hive.from_bytes(hive.to_bytes(), clock=CLOCK)


def assert_refused_unchanged(hive: Hive, name: str, value_type: int, data: object, expected: type) -> Exception:
    before = bytes(hive._engine.buf), hive.modified
    with pytest.raises(expected) as caught:
        hive.set_value("Params", name, value_type, data)
    assert (bytes(hive._engine.buf), hive.modified) == before
    return caught.value


# --------------------------------------------------------------------------- the Python API
@pytest.mark.parametrize("data", ["1225", [0xC9, 4, 0, 0], None, 12.25, {"x": 1}, True])
@pytest.mark.parametrize("name", ["New", "Existing"])
def test_a_python_object_that_is_no_number_is_refused(data, name):
    error = assert_refused_unchanged(hive_with_a_value(), name, RegType.DWORD, data, TypeError)
    assert isinstance(error, errors.UsageError) and error.exit_code == errors.EXIT_USAGE
    assert "REG_DWORD data is an int (0 to 4294967295) or 4 bytes" in str(error)
    assert type(data).__name__ in str(error)


def test_the_type_error_says_what_the_type_takes():
    hive = hive_with_a_value()
    message = str(assert_refused_unchanged(hive, "New", RegType.QWORD, "5", TypeError))
    assert "REG_QWORD data is an int (0 to 18446744073709551615) or 8 bytes, not str" in message
    message = str(assert_refused_unchanged(hive, "New", RegType.SZ, 5, TypeError))
    assert "REG_SZ data is a str (or bytes), not int" in message


@pytest.mark.parametrize("value_type, width", NUMBERS)
@pytest.mark.parametrize("size_delta", [-4, -1, 1, 4, 1221])
@pytest.mark.parametrize("name", ["New", "Existing"])
def test_a_number_of_the_wrong_width_is_refused(value_type, width, size_delta, name):
    hive = hive_with_a_value()
    size = max(0, width + size_delta)
    error = assert_refused_unchanged(hive, name, value_type, bytes(size), ValueError)
    assert isinstance(error, errors.UsageError) and error.exit_code == errors.EXIT_USAGE
    assert str(error).startswith(f"REG_{RegType(value_type).name} data must be exactly {width} bytes, got {size}")
    # The same bytes as REG_BINARY, and the right width as the number, are stored.
    hive.set_value("Params", name, RegType.BINARY, bytes(size))
    hive.set_value("Params", "Number", value_type, bytes(width))
    assert {v.name: (v.type, len(v.raw)) for v in hive.key("Params").values()} == {
        "Existing": (RegType.DWORD, 4) if name == "New" else (RegType.BINARY, size),
        **({"New": (RegType.BINARY, size)} if name == "New" else {}),
        "Number": (value_type, width),
    }


def test_the_bug_report_case_stores_the_number():
    """`set_value(key, "X", RegType.DWORD, 1225)` once stored bytes(1225) and returned True; it
    was then refused; now the number is encoded."""
    hive = hive_with_a_value()
    assert hive.set_value("Params", "X", RegType.DWORD, 1225) is True
    assert hive.key("Params").value("X").raw == (1225).to_bytes(4, "little")


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
@pytest.mark.parametrize("value_type, width", NUMBERS)
def test_any_bytes_like_object_of_the_right_width_is_stored(wrap, value_type, width):
    hive = hive_with_a_value()
    raw = bytes(range(1, width + 1))
    assert hive.set_value("Params", "New", value_type, wrap(raw)) is True
    assert hive.set_value("Params", "Existing", value_type, wrap(raw)) is False
    again = Hive.from_bytes(hive.to_bytes())
    assert {v.name: (v.type, v.raw) for v in again.key("Params").values()} == {
        "Existing": (value_type, raw), "New": (value_type, raw)}


def test_a_type_that_is_not_a_number_is_refused():
    hive = hive_with_a_value()
    for value_type in ("dword", None, 4.0):
        error = assert_refused_unchanged(hive, "New", value_type, b"\0\0\0\0", TypeError)
        assert isinstance(error, errors.UsageError)


# --------------------------------------------------------------------------- the command line
def run_set(tmp_path: Path, type_name: str, data: bytes) -> tuple[subprocess.CompletedProcess, Path]:
    source = tmp_path / "in.hiv"
    source.write_bytes(hive_with_a_value().to_bytes())
    data_file = tmp_path / "data.bin"
    data_file.write_bytes(data)
    out = tmp_path / "out.hiv"
    done = subprocess.run(
        [HIVETOOL, "set", str(source), "Params", "Value", "--type", type_name, "--data-file", str(data_file),
         "-o", str(out), "--timestamp", "@0"],
        capture_output=True, text=True, timeout=120,
    )
    return done, out


@pytest.mark.parametrize("type_name, size, width", [("dword", 3, 4), ("dword_be", 8, 4), ("qword", 4, 8)])
def test_cli_data_file_of_the_wrong_width_exits_2(tmp_path, type_name, size, width):
    done, out = run_set(tmp_path, type_name, bytes(size))
    assert done.returncode == 2, done.stderr
    assert f"data must be exactly {width} bytes, got {size}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()
    done, out = run_set(tmp_path, type_name, bytes(range(1, width + 1)))
    assert done.returncode == 0, done.stderr
    assert Hive.open(out).key("Params").value("Value").raw == bytes(range(1, width + 1))


# --------------------------------------------------------------------------- check
def raw_values(values: list[tuple[str, int, bytes]]) -> bytes:
    hive = Hive.new(5, clock=CLOCK)
    key = hive.create_key("Params")
    for name, value_type, raw in values:
        hive.set_raw_value(key, name, value_type, raw)
    return hive.to_bytes()


def test_check_lists_numbers_of_the_wrong_width_as_information():
    data = raw_values([
        ("short", RegType.DWORD, b"\1\2\3"),
        ("long", RegType.DWORD_BIG_ENDIAN, bytes(8)),
        ("garbage", RegType.DWORD, bytes(1225)),
        ("qword", RegType.QWORD, bytes(16)),
        ("empty", RegType.QWORD, b""),
        ("fine", RegType.DWORD, bytes(4)),
        ("fine-qword", RegType.QWORD, bytes(8)),
        ("binary", RegType.BINARY, bytes(3)),
    ])
    report = check_bytes(data)
    hive = Hive.from_bytes(data)
    found = {(f.code, f.level, f.file_offset, f.message) for f in report.findings}

    def expected(name: str, type_name: str, size: int, width: int) -> tuple:
        at = file_offset(hive.key("Params").value(name).cell)
        return ("I-VK-TYPE-SIZE", "info", at,
                f"value {name!r} of key 'Params': {type_name} holds {size} bytes of data, not {width}")

    assert found == {
        expected("short", "REG_DWORD", 3, 4),
        expected("long", "REG_DWORD_BIG_ENDIAN", 8, 4),
        expected("garbage", "REG_DWORD", 1225, 4),
        expected("qword", "REG_QWORD", 16, 8),
        expected("empty", "REG_QWORD", 0, 8),
    }
    assert report.clean  # information only: Windows loads such values


def test_the_finding_is_documented():
    from hivetool.regf.records import check_codes as check

    assert "\nI-VK-TYPE-SIZE " in check.__doc__


# The only corpus hives with such values, all written by Windows' Group Policy client: an
# 8-byte REG_DWORD "lParam" (a 64-bit LPARAM) and a 16-byte REG_QWORD "ExecTime" (a SYSTEMTIME).
WRONG_WIDTH_IN_CORPUS = {
    "log2timeline+plaso/test_data/NTUSER-WIN7.DAT": ["REG_DWORD holds 8"] * 3,
    "strozfriedberg+notatin/test_data/win7_ntuser.dat": ["REG_DWORD holds 8"] * 2 + ["REG_QWORD holds 16"],
}


SMALL_ENOUGH = 3_000_000  # bytes; SYSTEM-sized hives (none of which has such values) take seconds


def test_corpus_hives(corpus_root):
    found: dict[str, list[str]] = {}
    for relative in files_with_role("edit") + files_with_role("reference"):
        path = corpus_path(relative)
        if path.stat().st_size > SMALL_ENOUGH:
            continue
        messages = [f.message for f in check_file(path).findings if f.code == "I-VK-TYPE-SIZE"]
        if messages:
            found[relative] = sorted(m.split(": ", 1)[1].rsplit(" bytes", 1)[0] for m in messages)
    assert found == {relative: sorted(expected) for relative, expected in WRONG_WIDTH_IN_CORPUS.items()}
