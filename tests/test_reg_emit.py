"""Writing .reg text: every rule of reg-format.md section 8, as golden bytes.

The expected texts are the worked examples of sections 8 and 8.2 (taken from the Windows
conformance tests cited there), written out by hand; CRLF is spelled out where it matters.
"""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hivetool.errors import RefusedUnsafe
from hivetool.regfile.emit import DIALECT_4, RegWriter, emit_patch, hex_body, string_hex_survives
from hivetool.regfile.parse import parse_reg_strict
from hivetool.regfile.patch import Patch

KEY = "HKEY_CURRENT_USER\\Software\\Wine\\reg_test"


def sz(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def value_text(name: str, value_type: int, data: bytes, **options) -> str:
    """The value line(s) exactly as written, without the trailing CRLF."""
    writer = RegWriter(**options)
    writer.value(KEY, name, value_type, data)
    text = writer.text()
    head = writer.text().split("\r\n", 1)[0] + "\r\n"
    assert text.startswith(head) and text.endswith("\r\n\r\n")
    return text[len(head):-4]


# ------------------------------------------------------------------------------ whole files
def test_a_whole_file_is_byte_identical_to_regedit():
    # simple_data_test (reg-format 8.2): BOM, header, blank line, key, values, blank line.
    writer = RegWriter()
    writer.key(KEY)
    writer.value(KEY, "DWORD", 4, struct.pack("<I", 0x100))
    writer.value(KEY, "String", 1, sz("Your text here..."))
    expected = ("\ufeffWindows Registry Editor Version 5.00\r\n\r\n"
                "[HKEY_CURRENT_USER\\Software\\Wine\\reg_test]\r\n"
                "\"DWORD\"=dword:00000100\r\n"
                "\"String\"=\"Your text here...\"\r\n\r\n")
    assert writer.finish() == expected.encode("utf-16-le")
    assert writer.finish()[:2] == b"\xff\xfe"


def test_keys_without_values_get_their_own_block():
    writer = RegWriter()
    for key in (KEY, KEY + "\\Subkey3a", KEY + "\\Subkey3a\\Subkey3b"):
        writer.key(key)
    writer.value(KEY + "\\Subkey3a\\Subkey3b", "", 1, sz("x"))
    assert writer.text() == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[{KEY}]\r\n\r\n[{KEY}\\Subkey3a]\r\n\r\n[{KEY}\\Subkey3a\\Subkey3b]\r\n@=\"x\"\r\n\r\n")


def test_an_empty_export_is_the_header_and_one_blank_line():
    assert RegWriter().text() == "Windows Registry Editor Version 5.00\r\n\r\n"
    assert RegWriter(dialect=DIALECT_4).finish() == b"REGEDIT4\r\n\r\n"


def test_key_paths_are_written_as_stored_and_never_escaped():
    writer = RegWriter()
    writer.key(KEY + "\\https://winehq.org\\a\"b]c")
    assert f"[{KEY}\\https://winehq.org\\a\"b]c]\r\n" in writer.text()


# ------------------------------------------------------------------------------ names
@pytest.mark.parametrize("name, prefix", [
    ("", "@="), ("plain", '"plain"='), ('double"quote', '"double\\"quote"='),
    ("\\foo\\bar", '"\\\\foo\\\\bar"='), ("a=b;c'd/e", "\"a=b;c'd/e\"="), ("  spaced  ", '"  spaced  "='),
])
def test_value_names_are_quoted_and_escaped(name, prefix):
    assert value_text(name, 4, b"\1\0\0\0") == prefix + "dword:00000001"


# ------------------------------------------------------------------------------ data forms
@pytest.mark.parametrize("value_type, data, text", [
    (4, struct.pack("<I", 0xABCDEF01), "dword:abcdef01"),
    (4, b"", "hex(4):"),  # "Wine1e"
    (4, b"\1\2", "hex(4):01,02"),
    (4, bytes([0x80, 0x70, 0x60, 0x50, 0x40, 0x30, 0x20, 0x10]), "hex(4):80,70,60,50,40,30,20,10"),
    (11, struct.pack("<Q", 0x0102030405060708), "hex(b):08,07,06,05,04,03,02,01"),
    (3, b"", "hex:"),  # "Wine1d"
    (3, b"\xAB\x00\xff", "hex:ab,00,ff"),
    (0, b"\1", "hex(0):01"),
    (5, b"\0\0\1\0", "hex(5):00,00,01,00"),
    (0x100, b"\1", "hex(100):01"),
    (0xABCD, b"\1", "hex(abcd):01"),
    (0xFFFFFFFF, b"", "hex(ffffffff):"),
    (2, sz("%a%"), "hex(2):25,00,61,00,25,00,00,00"),
    (7, sz("a") + b"\0\0", "hex(7):61,00,00,00,00,00"),
])
def test_data_forms(value_type, data, text):
    assert value_text("v", value_type, data) == '"v"=' + text


@pytest.mark.parametrize("text, written", [
    ("abc", '"abc"'), ("", '""'), ('say "hi"', '"say \\"hi\\""'), ("C:\\Windows", '"C:\\\\Windows"'),
    ("two\r\nlines", '"two\\r\\nlines"'), ("semi;colon #hash", '"semi;colon #hash"'), ("日本", '"日本"'),
])
def test_reg_sz_is_a_quoted_escaped_string(text, written):
    assert value_text("S", 1, sz(text)) == '"S"=' + written


def test_expand_sz_and_multi_sz_are_always_hex():
    assert value_text("E", 2, sz("x")).startswith('"E"=hex(2):')
    assert value_text("M", 7, sz("x") + b"\0\0").startswith('"M"=hex(7):')


# ------------------------------------------------------------------------------ lossless vs regedit
@pytest.mark.parametrize("data, lossless, compat", [
    ("abc\0def\0".encode("utf-16-le"), "hex(1):61,00,62,00,63,00,00,00,64,00,65,00,66,00,00,00", '"abc"'),
    (b"", "hex(1):", '""'),  # "Wine1b": regedit writes "" for 0 bytes, which imports as 2 bytes
    ("ab".encode("utf-16-le"), "hex(1):61,00,62,00", '"ab"'),  # no terminator
    # Odd length: the last two bytes are the NUL an importer adds after the stray odd byte, so
    # they are left out (written whole, each import would add another NUL: reg-format 5.5).
    ("ab".encode("utf-16-le") + b"\0", "hex(1):61,00,62", '"ab"'),
])
def test_reg_sz_that_a_string_would_change_is_written_exactly_as_hex(data, lossless, compat):
    assert value_text("S", 1, data) == '"S"=' + lossless
    assert value_text("S", 1, data, regedit_compat=True) == '"S"=' + compat


def test_losses_are_reported():
    writer = RegWriter(regedit_compat=True)
    writer.value(KEY, "S", 1, "abc\0def\0".encode("utf-16-le"))
    assert [str(loss) for loss in writer.losses] == [
        f"{KEY} 'S': REG_SZ written as a string, as regedit does: 16 bytes become 8"]
    exact = RegWriter()
    exact.value(KEY, "S", 1, "abc\0def\0".encode("utf-16-le"))
    exact.value(KEY, "U", 2, "ab".encode("utf-16-le"))
    assert [str(loss) for loss in exact.losses] == [
        f"{KEY} 'U': string data without a terminating NUL character: importers add one (reg-format 5.5)"]


@pytest.mark.parametrize("data, survives", [
    (b"", True), (b"\0\0", True), (b"a\0\0\0", True), (b"a\0\0\0b", True),  # odd byte after a NUL char
    (b"a\0", False), (b"a\0b", False), (b"\0", False), (b"a\0\0", False),
])
def test_which_string_hex_data_survives_the_terminator_rule(data, survives):
    assert string_hex_survives(data) is survives


# ------------------------------------------------------------------------------ wrapping (8.1, 8.2)
def test_worked_example_multiple_strings():
    data = b"".join(sz(s) for s in ("Line1", "Line2", "Line3")) + b"\0\0"
    lines = value_text("Multiple strings", 7, data).split("\r\n")
    assert lines == [
        '"Multiple strings"=hex(7):4c,00,69,00,6e,00,65,00,31,00,00,00,4c,00,69,00,6e,\\',
        "  00,65,00,32,00,00,00,4c,00,69,00,6e,00,65,00,33,00,00,00,00,00",
    ]
    assert len(lines[0]) == 78


def test_worked_example_default_value_binary():
    lines = value_text("", 3, bytes(range(30))).split("\r\n")
    assert lines == [
        "@=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,17,\\",
        "  18,19,1a,1b,1c,1d",
    ]
    assert len(lines[0]) == 79


def test_worked_example_long_name_puts_one_byte_on_the_first_line():
    name = "x" * 69  # prefix '"' + 69 + '"=' is 72 characters; with 'hex:' 76
    assert value_text(name, 3, bytes(range(6))).split("\r\n") == [f'"{name}"=hex:00,\\', "  01,02,03,04,05"]
    very_long = "y" * 300
    assert value_text(very_long, 3, bytes(range(3))).split("\r\n") == [f'"{very_long}"=hex:00,\\', "  01,02"]


def test_continuation_lines_hold_25_bytes_and_values_never_end_in_a_backslash():
    lines = value_text("", 3, bytes(200)).split("\r\n")
    assert [line.count(",") + (not line.endswith("\\")) for line in lines[1:]] == [25] * 7 + [1]
    assert all(len(line) == 78 and line.endswith(",\\") for line in lines[1:-1])
    assert not lines[-1].endswith("\\")


def test_the_column_counts_utf16_units_of_the_escaped_name():
    # '"' + 'a\"b' escaped (4) + '"=' = 7, 'hex:' 4: 11 -> 22 bytes bring it to 77.
    assert value_text('a"b', 3, bytes(23)).split("\r\n")[0].count(",") == 22
    # A name of 3 units leaves room for 23 bytes, one of 4 units for 22; a character outside
    # the BMP counts as two units (a surrogate pair).
    assert value_text("abc", 3, bytes(40)).split("\r\n")[0].count(",") == 23
    assert value_text("ab\U0001F600", 3, bytes(40)).split("\r\n")[0].count(",") == 22


def test_strings_and_dwords_are_never_wrapped():
    assert "\r\n" not in value_text("S", 1, sz("z" * 500))


def _wrap_by_the_rule(column: int, data: bytes) -> str:
    """reg-format 8.1 followed literally: the independent oracle for :func:`hex_body`."""
    out = []
    for index, byte in enumerate(data):
        if index == len(data) - 1:
            out.append(f"{byte:02x}")
            break
        out.append(f"{byte:02x},")
        column += 3
        if column >= 77:
            out.append("\\\r\n  ")
            column = 2
    return "".join(out)


@given(st.integers(min_value=0, max_value=300), st.binary(max_size=400))
def test_hex_wrapping_follows_the_rule_for_any_prefix_and_length(column, data):
    assert hex_body(data, column) == _wrap_by_the_rule(column, data)


# ------------------------------------------------------------------------------ REGEDIT4
def test_regedit4_is_ansi_with_single_byte_string_hex():
    writer = RegWriter(dialect=DIALECT_4)
    writer.key(KEY)
    writer.value(KEY, "Wine64a", 7, sz("Line") + b"\0\0")
    writer.value(KEY, "Café", 1, sz("Crème"))
    assert writer.finish() == ("REGEDIT4\r\n\r\n"
                               f"[{KEY}]\r\n"
                               "\"Wine64a\"=hex(7):4c,69,6e,65,00,00\r\n"
                               "\"Café\"=\"Crème\"\r\n\r\n").encode("cp1252")


def test_regedit4_refuses_text_outside_the_code_page_unless_compat():
    writer = RegWriter(dialect=DIALECT_4)
    with pytest.raises(RefusedUnsafe, match="the value name holds '日本', which code page cp1252 cannot represent"):
        writer.value(KEY, "日本", 4, b"\1\0\0\0")
    with pytest.raises(RefusedUnsafe, match="cannot be written in code page cp1252"):
        writer.value(KEY, "S", 1, sz("日本"))
    with pytest.raises(RefusedUnsafe, match="cannot be written in code page cp1252"):
        writer.value(KEY, "E", 2, sz("日本"))
    compat = RegWriter(dialect=DIALECT_4, regedit_compat=True)
    compat.value(KEY, "S", 1, sz("日本"))
    assert compat.finish().endswith(b'"S"="??"\r\n\r\n')
    assert [loss.reason for loss in compat.losses] == ["string: characters outside cp1252 written as '?'"]


# ------------------------------------------------------------------------------ deletions and patches
def test_deletions():
    patch = Patch()
    patch.delete_key(KEY + "\\Gone")
    patch.delete_value(KEY, "old")
    patch.delete_value(KEY, "")
    assert emit_patch(patch).text() == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[-{KEY}\\Gone]\r\n\r\n[{KEY}]\r\n\"old\"=-\r\n@=-\r\n\r\n")


def test_a_patch_opens_one_section_per_run_of_operations_on_a_key():
    patch = Patch()
    patch.create_key(KEY)
    patch.set_value(KEY, "a", 4, b"\1\0\0\0")
    patch.set_value(KEY, "b", 4, b"\2\0\0\0")
    patch.set_value(KEY + "\\Sub", "c", 3, b"")
    patch.delete_key(KEY)
    patch.set_value(KEY, "d", 3, b"\1")
    assert emit_patch(patch).text() == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[{KEY}]\r\n\"a\"=dword:00000001\r\n\"b\"=dword:00000002\r\n\r\n"
        f"[{KEY}\\Sub]\r\n\"c\"=hex:\r\n\r\n"
        f"[-{KEY}]\r\n\r\n"
        f"[{KEY}]\r\n\"d\"=hex:01\r\n\r\n")


def test_a_line_break_in_a_key_name_is_refused():
    with pytest.raises(RefusedUnsafe, match="line break in a key name"):
        RegWriter().key(KEY + "\\a\nb")


# ------------------------------------------------------------------------------ parse(emit(p)) == p
NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40)
KEY_NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\\\r\n[]"),
                    min_size=1, max_size=20).filter(lambda name: name.strip(" \t") == name)
SURVIVING = st.one_of(
    st.tuples(st.sampled_from([1, 2, 7]), st.binary(max_size=60).map(lambda b: b[: len(b) & ~1] + b"\0\0")),
    st.tuples(st.sampled_from([0, 3, 4, 5, 8, 11, 0x100, 0xFFFF0011]), st.binary(max_size=90)),
    st.tuples(st.just(1), NAMES.map(sz)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(KEY_NAMES, NAMES, SURVIVING), max_size=6))
def test_parse_of_emit_gives_the_patch_back(items):
    patch = Patch()
    for key_name, name, (value_type, data) in items:
        key = f"{KEY}\\{key_name}"
        patch.create_key(key)
        patch.set_value(key, name, value_type, data)
    writer = emit_patch(patch)
    assert writer.losses == []
    parsed = parse_reg_strict(writer.finish())
    assert len(parsed) == len(patch)
    assert all(a.same_effect(b) for a, b in zip(parsed, patch))
