"""UTF-16-looking hex(1)/hex(2)/hex(7) data in a file that is not UTF-16 (R-HEX-UTF16-IN-ANSI).

Windows decides by the first two bytes of a .reg file only (reg-format 1): without the
``FF FE`` byte-order mark every hex byte of a string type is one ANSI character, widened to
UTF-16 (reg-format 5.5). So ``hex(2):25,00,50,00`` written by a tool that meant "%P" in UTF-16
becomes "%", NUL, "P", NUL, and programs read "%". hivetool reads it exactly as Windows does,
and says so with a warning at the data's line and column.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.regf.hive import Hive
from hivetool.regfile.diagnostics import CODES, WARNING
from hivetool.regfile.parse import parse_reg
from hivetool.timeutil import Clock

CODE = "R-HEX-UTF16-IN-ANSI"
KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\T"
SYSTEM_ROOT = "%SystemRoot%".encode("utf-16-le") + b"\0\0"  # what the author meant, in UTF-16


def ansi_file(*values: str, header: str = "REGEDIT4") -> bytes:
    return ("\r\n".join([header, "", f"[{KEY}]", *values]) + "\r\n").encode("cp1252")


def warnings(data: bytes) -> list:
    return [d for d in parse_reg(data, "f.reg").diagnostics if d.code == CODE]


def stored(data: bytes) -> bytes:
    return parse_reg(data, "f.reg").patch.ops[-1].data


def test_utf16_shaped_expand_sz_in_an_ansi_file_is_read_as_windows_reads_it_and_warned():
    data = ansi_file('"Path"=hex(2):' + SYSTEM_ROOT.hex(","))
    # Every byte one ANSI character, widened: '%', NUL, 'S', NUL, ... (Windows' reading, kept).
    assert stored(data) == SYSTEM_ROOT.decode("latin-1").encode("utf-16-le")
    (found,) = warnings(data)
    assert (found.line, found.col, found.level) == (4, 15, WARNING)  # the first hex digit
    assert "looks like UTF-16 text ('%SystemRoot%')" in found.message
    assert "stores 52 bytes: '%', NUL, 'S', NUL" in found.message  # 26 ANSI characters
    assert "programs read as the string '%'" in found.message
    assert "save the file as UTF-16" in found.message and "Unicode" in found.message
    assert CODE in CODES


@pytest.mark.parametrize("header", ["REGEDIT4", "Windows Registry Editor Version 5.00"])
@pytest.mark.parametrize("value_type", [1, 2, 7])
def test_every_string_type_and_both_headers(header, value_type):
    assert len(warnings(ansi_file(f'"V"=hex({value_type}):25,00,50,00', header=header))) == 1


def test_multi_sz_says_what_list_windows_stores():
    meant = "ab\0cd\0\0".encode("utf-16-le")
    (found,) = warnings(ansi_file('"M"=hex(7):' + meant.hex(",")))
    # a, NUL, b, NUL, NUL, ...: the list ends at the first empty string, so "cd" is lost too.
    assert "the list of 2 one-character strings ['a', 'b']" in found.message


def test_a_utf8_file_is_not_utf16_either():
    data = b"\xef\xbb\xbf" + ansi_file('"V"=hex(2):25,00,50,00,00,00', header="Windows Registry Editor Version 5.00")
    assert len(warnings(data)) == 1


@pytest.mark.parametrize("raw", [
    "25,53,79,73,00",  # ordinary ANSI text
    "25,53,79,73",  # ANSI text without its NUL
    "61,00,62,00,00",  # an ANSI multi-string of one-character strings: odd length
    "41,00",  # one character reads the same either way
    "00,00,00,00",  # no characters at all
    "41,00,00,00",  # one character and a NUL character
    "e9,74,e9,00",  # ANSI text with accents
    "",  # empty data
])
def test_ordinary_ansi_data_is_not_flagged(raw):
    assert warnings(ansi_file(f'"V"=hex(2):{raw}')) == []


def test_other_types_and_utf16_files_are_not_flagged():
    assert warnings(ansi_file('"B"=hex:25,00,50,00', '"N"=hex(0):25,00,50,00', '"Q"=hex(b):25,00,50,00')) == []
    utf16 = ("\ufeffWindows Registry Editor Version 5.00\r\n\r\n[" + KEY + "]\r\n\"V\"=hex(2):25,00,50,00\r\n")
    assert warnings(utf16.encode("utf-16-le")) == []


def test_the_shape_rule():
    from hivetool.regfile.values import looks_like_utf16

    assert looks_like_utf16(b"%\0P\0")
    assert not looks_like_utf16(b"%\0P")  # odd length
    assert not looks_like_utf16(b"%\0P\x01")  # a non-zero odd byte
    assert not looks_like_utf16(b"%\0\0\0")  # one character


# ------------------------------------------------------------------------------ through the CLI
@pytest.fixture
def ansi_reg(tmp_path: Path) -> Path:
    path = tmp_path / "f.reg"
    path.write_bytes(ansi_file('"Path"=hex(2):' + SYSTEM_ROOT.hex(",")))
    return path


def test_reg_check_shows_the_warning_and_exits_0(ansi_reg, capsys):
    assert main(["reg", "check", str(ansi_reg)]) == 0
    out = capsys.readouterr().out
    assert f"{ansi_reg}:4:15: warning: hex(2) data looks like UTF-16 text" in out and f"[{CODE}]" in out
    assert "0 error(s), 1 warning(s)" in out


def test_import_shows_the_warning_and_stores_what_windows_stores(ansi_reg, tmp_path, capsys):
    hive_path = tmp_path / "SOFTWARE"
    Hive.new(5, "ROOT", Clock(0x01DA_9B8C_0000_0000)).save(hive_path)
    out = tmp_path / "out.hiv"
    assert main(["import", str(hive_path), str(ansi_reg), "--root", "HKEY_LOCAL_MACHINE\\SOFTWARE",
                 "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{ansi_reg}:4:15: warning: hex(2) data looks like UTF-16 text" in err and f"[{CODE}]" in err
    assert Hive.open(out).key("T").value("Path").raw == SYSTEM_ROOT.decode("latin-1").encode("utf-16-le")
