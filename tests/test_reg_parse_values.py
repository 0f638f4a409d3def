"""Value lines of .reg files against reg-format.md section 5, one test per rule.

Inputs are Wine's conformance cases (programs/reg/tests/import.c; the value names such as
Wine43i are theirs). v4() builds an ANSI REGEDIT4 file and v5() a UTF-16 5.00 file, both with
the key on line 3 and the body from line BODY = 4. check() asserts the lenient values and the
exact error list, and that strict parsing fails at the first error.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reg_parse import BODY, K, V5, ansi, check, col, parsed, set_values, sz, utf16, v4, v5, warnings

from hivetool.errors import RegFileError
from hivetool.regfile.parse import parse_reg_strict
from hivetool.regfile.patch import DELETE_VALUE, SET_VALUE

LINE_CONCAT = "Line concatenation\0\0"


def multi(text: str) -> bytes:
    return text.encode("utf-16-le")


def dword(number: int) -> bytes:
    return number.to_bytes(4, "little")


# -- 5.1 names and '=' ---------------------------------------------------------------------------
def test_backslash_and_quote_escapes_in_names() -> None:
    # import.c:L736, L908, L917, L1663.
    check(v4('"double\\"quote"="valid \\"or\\" not"', "\"single'quote\"=dword:00000008",
             '"Wine\\\\31"="Test value"', '"123/\\"4;\'5"="Random value name"', '"\\\\foo\\\\bar"=""',
             '"count/up"="one/two/three"'),
          {'double"quote': (1, sz('valid "or" not')), "single'quote": (4, dword(8)),
           "Wine\\31": (1, sz("Test value")), "123/\"4;'5": (1, sz("Random value name")),
           "\\foo\\bar": (1, sz("")), "count/up": (1, sz("one/two/three"))})


def test_n_and_r_escapes_give_lf_and_cr() -> None:
    check(v5('"a\\nb"="c\\rd"'), {"a\nb": (1, sz("c\rd"))})


def test_other_escapes_drop_the_backslash_with_a_warning() -> None:
    line = '"a\\tb"="c\\qd"'
    result = check(v4(line), {"atb": (1, sz("cqd"))})
    assert warnings(result) == [(BODY, col(line, "\\t"), "R-ESCAPE-UNKNOWN"), (BODY, col(line, "\\q"), "R-ESCAPE-UNKNOWN")]


def test_escaped_nul_in_a_name_rejects_the_line() -> None:
    line = '"Wine\\0"="x"'
    check(v4(line), absent=("Wine",), expected_errors=[(BODY, col(line, "\\0"), "R-ESCAPE-NUL")])


def test_spaces_inside_name_quotes_are_kept() -> None:
    # Wine6a-c (import.c:L3319).
    check(v4('"  Wine6a"="Leading spaces"', '"\t\tWine6b"="Leading tabs"',
             '  "  Wine6c  "  =  "  Spaces everywhere  "  '),
          {"  Wine6a": (1, sz("Leading spaces")), "\t\tWine6b": (1, sz("Leading tabs")),
           "  Wine6c  ": (1, sz("  Spaces everywhere  "))})


def test_name_without_closing_quote_is_ignored() -> None:
    # NameNoEndQuote, MixedQuotes (import.c:L689, L701).
    check(v4('"NameNoEndQuote="Asdffdsa"', '"MixedQuotes=Asdffdsa"'),
          absent=("NameNoEndQuote", "NameNoEndQuote=", "MixedQuotes", "MixedQuotes=Asdffdsa"),
          expected_errors=[(BODY, col('"NameNoEndQuote="Asdffdsa"', "A"), "R-NAME-NO-EQUALS"),
                           (BODY + 1, len('"MixedQuotes=Asdffdsa"') + 1, "R-NAME-NO-EQUALS")])
    check(v4('"Unterminated=dword:1'), expected_errors=[(BODY, 1, "R-NAME-UNTERMINATED")])


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_blanks_around_the_equals_sign(make) -> None:
    # Wine5a-d, @ with blanks (import.c:L3307, L3354, L3360).
    check(make('  "Wine5a"="Leading spaces"', '\t\t"Wine5b"\t\t="Leading tabs"', '\t  "Wine5c"=\t  "Tabs and spaces"',
               '    "Wine5d"    \t    =    \t    "More whitespace"', '"Wine9a"=dword:  00000008',
               '"Wine9b"=dword:\t\t00000008'),
          {"Wine5a": (1, sz("Leading spaces")), "Wine5b": (1, sz("Leading tabs")),
           "Wine5c": (1, sz("Tabs and spaces")), "Wine5d": (1, sz("More whitespace")),
           "Wine9a": (4, dword(8)), "Wine9b": (4, dword(8))})
    check(make('@  =  "Test Value"'), {"": (1, sz("Test Value"))})
    check(make("\t@\t=\tdword:\t00000008\t"), {"": (4, dword(8))})


def test_trailing_blanks_are_removed_before_the_data_is_read() -> None:
    # Wine8a, Wine8b (import.c:L3337).
    check(v4('"Wine8a"="Trailing spaces"    ', '"Wine8b"="Trailing tabs and spaces"\t  \t',
             '"Hex"=hex:01,02, \t', '"Dword"=dword:1\t'),
          {"Wine8a": (1, sz("Trailing spaces")), "Wine8b": (1, sz("Trailing tabs and spaces")),
           "Hex": (3, b"\x01\x02"), "Dword": (4, dword(1))})


def test_a_name_cannot_continue_on_the_next_line() -> None:
    # Wine42a-c (import.c:L758).
    check(v4('"Wine\\', '42a"="Value 1"', '"Wine42b"="Value 2"', '"Wine', '\\42c"="Value 3"'),
          {"Wine42b": (1, sz("Value 2"))}, absent=("Wine42a", "Wine\n42a", "Wine42c"),
          expected_errors=[(BODY, 1, "R-NAME-UNTERMINATED"), (BODY + 1, 1, "R-LINE-IGNORED"),
                           (BODY + 3, 1, "R-NAME-UNTERMINATED"), (BODY + 4, 1, "R-LINE-IGNORED")])


def test_default_value_is_at_sign_or_empty_name() -> None:
    check(v4('""="Default Value Name"', '"Empty string"=""'),
          {"": (1, sz("Default Value Name")), "Empty string": (1, sz(""))})
    check(v4('@foo="x"'), absent=("",), expected_errors=[(BODY, 2, "R-NAME-NO-EQUALS")])


def test_value_name_over_16383_characters_is_rejected() -> None:
    check(v5('"' + "n" * 16383 + '"="x"'), {"n" * 16383: (1, sz("x"))})
    check(v5('"' + "n" * 16384 + '"="x"'), absent=("n" * 16384,), expected_errors=[(BODY, 1, "R-VALUE-NAME-LONG")])


# -- 5.2 string data -----------------------------------------------------------------------------
def test_string_is_stored_as_utf16_with_one_nul() -> None:
    result = check(v4('"Test1"="Value1"'), {"Test1": (1, b"V\0a\0l\0u\0e\x001\0\0\0")})
    assert len(set_values(result)["Test1"][1]) == 14


def test_only_blanks_and_a_semicolon_comment_may_follow_a_string() -> None:
    # Wine10, Wine11, Wine37a/b, Wine39a-d, Wine18 (import.c:L408, L437, L625, L653).
    lines = ['"Wine10"="Value 1"#comment', '"Wine11"="Value 2";comment', '"Wine37a"="foo"bar"',
             '"Wine37b"="foo""bar"', '"Wine39a"="Value1"  ;comment', '"Wine39b"="Value2"\t\t;comment',
             '"Wine39c"="Value3"  #comment', '"Wine39d"="Value4"\t\t#comment',
             '"Wine18"="Value 6"#"Comment5"="Value 5"']
    check(v4(*lines), {"Wine11": (1, sz("Value 2")), "Wine39a": (1, sz("Value1")), "Wine39b": (1, sz("Value2"))},
          absent=("Wine10", "Wine37a", "Wine37b", "Wine39c", "Wine39d", "Wine18", "Comment5"),
          expected_errors=[(BODY, col(lines[0], "#"), "R-STRING-TRAILING"),
                           (BODY + 2, col(lines[2], "bar"), "R-STRING-TRAILING"),
                           (BODY + 3, col(lines[3], '"bar'), "R-STRING-TRAILING"),
                           (BODY + 6, col(lines[6], "#"), "R-STRING-TRAILING"),
                           (BODY + 7, col(lines[7], "#"), "R-STRING-TRAILING"),
                           (BODY + 8, col(lines[8], "#"), "R-STRING-TRAILING")])


def test_semicolon_and_hash_inside_quotes_are_data() -> None:
    # Wine22-27 (import.c:L455).
    check(v5('"Wine22"="#comment1"', '"Wine23"=";comment2"', '"Wine24"="Value#comment3"',
             '"Wine25"="Value;comment4"', '"Wine26"="Value #comment5"', '"Wine27"="Value ;comment6"'),
          {"Wine22": (1, sz("#comment1")), "Wine23": (1, sz(";comment2")), "Wine24": (1, sz("Value#comment3")),
           "Wine25": (1, sz("Value;comment4")), "Wine26": (1, sz("Value #comment5")),
           "Wine27": (1, sz("Value ;comment6"))})


def test_comment_characters_cannot_start_data() -> None:
    # Wine20, Wine21, Wine28, Wine29.
    lines = ['"Wine20"=#"Value 8"', '"Wine21"=;"Value 9"', '"Wine28"=#dword:00000001', '"Wine29"=;dword:00000002']
    check(v4(*lines), absent=("Wine20", "Wine21", "Wine28", "Wine29"),
          expected_errors=[(BODY + i, 10, "R-DATA-TYPE") for i in range(4)])


def test_escaped_nul_rejects_a_string_but_an_escaped_backslash_before_0_does_not() -> None:
    # Wine69a-f (import.c:L1630), Wine70a-f (L1646).
    check(v4('"Wine69a"="\\\\0"', '"Wine69c"="Value1\\\\0"', '"Wine69e"="Value3\\\\0Value4"'),
          {"Wine69a": (1, sz("\\0")), "Wine69c": (1, sz("Value1\\0")), "Wine69e": (1, sz("Value3\\0Value4"))})
    lines = ['"Wine70a"="\\0"', '"Wine70c"="Value1\\0"', '"Wine70e"="Value3\\0Value4"', '"Wine70f"="\\0Value5"']
    check(v5(*lines), absent=("Wine70a", "Wine70c", "Wine70e", "Wine70f"),
          expected_errors=[(BODY + i, col(line, "\\0"), "R-ESCAPE-NUL") for i, line in enumerate(lines)])


def test_missing_quotes_reject_the_value() -> None:
    # TestNoBeginQuote, TestNoEndQuote, TestNoQuotes, Test38a-d (import.c:L641, L665, L671).
    lines = ['"TestNoBeginQuote"=Asdffdsa"', '"TestNoEndQuote"="Asdffdsa', '"TestNoQuotes"=Asdffdsa',
             '"Test38a"=', '"Test38b"=\\"', '"Test38c"=\\"Value\\"', '"Test38d"=\\"Value"']
    check(v4(*lines), absent=("TestNoBeginQuote", "TestNoEndQuote", "TestNoQuotes", "Test38a", "Test38b",
                              "Test38c", "Test38d"),
          expected_errors=[(BODY, 20, "R-DATA-TYPE"), (BODY + 1, 18, "R-STRING-UNTERMINATED"),
                           (BODY + 2, 16, "R-DATA-TYPE"), (BODY + 3, 11, "R-DATA-TYPE"),
                           (BODY + 4, 11, "R-DATA-TYPE"), (BODY + 5, 11, "R-DATA-TYPE"),
                           (BODY + 6, 11, "R-DATA-TYPE")])


def test_a_string_cannot_continue_on_the_next_line() -> None:
    # Wine41b (import.c:L726).
    check(v4('"Wine41b"="Test \\', 'Value"'), absent=("Wine41b",),
          expected_errors=[(BODY, 11, "R-STRING-UNTERMINATED"), (BODY + 1, 1, "R-LINE-IGNORED")])


def test_strings_in_ansi_files_are_read_in_the_code_page() -> None:
    data = b"REGEDIT4\n[" + K.encode() + b"]\n\"\xc4\"=\"\x80 \xe9\"\n"
    check(data, {"\u00c4": (1, sz("\u20ac \u00e9"))})


# -- 5.3 dword data ------------------------------------------------------------------------------
def test_dword_takes_1_to_8_hex_digits() -> None:
    # Wine32a/b, Wine36a/b (import.c:L570-L612, L3345); upper-case digits [W].
    check(v4('"Wine32a"=dword:1', '"Wine32b"=dword:4444', '"Wine36a"=dword:1234;5678', '"Wine36b"=dword:1234 ;5678',
             '"Upper"=dword:ABCDEF01', '"Max"=dword:ffffffff'),
          {"Wine32a": (4, dword(1)), "Wine32b": (4, dword(0x4444)), "Wine36a": (4, dword(0x1234)),
           "Wine36b": (4, dword(0x1234)), "Upper": (4, dword(0xABCDEF01)), "Max": (4, dword(0xFFFFFFFF))})


@pytest.mark.parametrize("data, offending, code", [
    ("", None, "R-DWORD-DIGITS"), ("hello", "h", "R-DWORD-DIGITS"), ("123456789", "9", "R-DWORD-DIGITS"),
    ("012345678", "8", "R-DWORD-DIGITS"), ("000000001", "1", "R-DWORD-DIGITS"),
    ("12345678abc", "a", "R-DWORD-DIGITS"), ("12345678 abc", "a", "R-DWORD-TRAILING"),
    ("0x123", "x", "R-DWORD-TRAILING"), ("123 456", "4", "R-DWORD-TRAILING"),
    ("1234 5678", "5", "R-DWORD-TRAILING"), ("1234#5678", "#", "R-DWORD-TRAILING"),
    ("1234 #5678", "#", "R-DWORD-TRAILING"), ("00000003#comment", "#", "R-DWORD-TRAILING"),
    ("01020304 #comment", "#", "R-DWORD-TRAILING"), ("1234\\", "\\", "R-DWORD-TRAILING"),
])
def test_dword_rejects(data: str, offending: str | None, code: str) -> None:
    # Wine33a-e, Wine34a/b, Wine35a-c, Wine36c/d, Wine30, Wine12, Wine41a.
    line = '"Wine"=dword:' + data
    where = len(line) + 1 if offending is None else col(line, offending, len('"Wine"=dword:'))
    check(v4(line), absent=("Wine",), expected_errors=[(BODY, where, code)])


def test_dword_digit_counts_include_leading_zeros() -> None:
    check(v4('"Wine33c"=dword:123456789'), expected_errors=[(BODY, 25, "R-DWORD-DIGITS")])


# -- 5.4 hex data --------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_hex_type_number_is_hex_within_32_bits(make) -> None:
    # Wine47a-l (import.c:L1102), hex(abcd) (L1607).
    lines = ['"Wine47a"=hex(0):56,61,6c,75,65,00', '"Wine47b"=hex(10):56,61,6c,75,65,00',
             '"Wine47c"=hex(100):56,61,6c,75,65,00', '"Wine47d"=hex(1000):56,61,6c,75,65,00',
             '"Wine47e"=hex(7fff):56,61,6c,75,65,00', '"Wine47f"=hex(ffff):56,61,6c,75,65,00',
             '"Wine47g"=hex(7fffffff):56,61,6c,75,65,00', '"Wine47h"=hex(ffffffff):56,61,6c,75,65,00',
             '"Wine47i"=hex(100000000):56,61,6c,75,65,00', '"Wine47j"=hex(0x2):56,61,6c,75,65,00',
             '"Wine47k"=hex(0X2):56,61,6c,75,65,00', '"Wine47l"=hex(x2):56,61,6c,75,65,00',
             '"Upper"=hex(ABCD):56', '"Binary"=hex:56']
    value = b"Value\0"
    check(make(*lines), {"Wine47a": (0, value), "Wine47b": (0x10, value), "Wine47c": (0x100, value),
                         "Wine47d": (0x1000, value), "Wine47e": (0x7FFF, value), "Wine47f": (0xFFFF, value),
                         "Wine47g": (0x7FFFFFFF, value), "Wine47h": (0xFFFFFFFF, value),
                         "Upper": (0xABCD, b"V"), "Binary": (3, b"V")},
          absent=("Wine47i", "Wine47j", "Wine47k", "Wine47l"),
          expected_errors=[(BODY + 8, 15, "R-HEX-TYPE"), (BODY + 9, 16, "R-HEX-TYPE"),
                           (BODY + 10, 16, "R-HEX-TYPE"), (BODY + 11, 15, "R-HEX-TYPE")])


def test_hex_bytes_are_one_or_two_digits_and_over_ff_rejects_the_value() -> None:
    # Wine51a/b (import.c:L1159).
    lines = ['"Wine51a"=hex(0):25,50,100,54,48,25,00', '"Wine51b"=hex(0):25,1a4,100,164,124,25,00',
             '"Short"=hex:7,a,0B,Cd']
    check(v4(*lines), {"Short": (3, b"\x07\x0a\x0b\xcd")}, absent=("Wine51a", "Wine51b"),
          expected_errors=[(BODY, col(lines[0], "100"), "R-HEX-BYTE"), (BODY + 1, col(lines[1], "1a4"), "R-HEX-BYTE")])


def test_hex_data_may_end_in_a_comma_but_has_no_empty_items() -> None:
    # Wine49 (import.c:L1140); 63,,6f (L1514).
    lines = ['"Wine49"=hex(2):25,50,41,54,48,25,00,', '"Empty"=hex:63,,6f', '"Lead"=hex:,63']
    check(v4(*lines), {"Wine49": (2, multi("%PATH%\0"))}, absent=("Empty", "Lead"),
          expected_errors=[(BODY + 1, col(lines[1], ",,") + 1, "R-HEX-BYTE"), (BODY + 2, 12, "R-HEX-BYTE")])


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_only_blanks_and_a_semicolon_comment_may_follow_hex_data(make) -> None:
    # Wine50a-d (import.c:L1146).
    lines = ['"Wine50a"=hex(0):25,50,41,54,48,25,00  ;comment', '"Wine50b"=hex(0):25,50,41,54,48,25,00\t;comment',
             '"Wine50c"=hex(0):25,50,41,54,48,25,00  #comment', '"Wine50d"=hex(0):25,50,41,54,48,25,00\t#comment']
    check(make(*lines), {"Wine50a": (0, b"%PATH%\0"), "Wine50b": (0, b"%PATH%\0")}, absent=("Wine50c", "Wine50d"),
          expected_errors=[(BODY + 2, col(lines[2], "#"), "R-HEX-TRAILING"),
                           (BODY + 3, col(lines[3], "#"), "R-HEX-TRAILING")])


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_empty_hex_data_gives_zero_bytes_of_that_type(make) -> None:
    # Wine68a-i (import.c:L1607): no NUL is added, hex(4): is an empty REG_DWORD.
    types = {"a": "hex(1):", "b": "hex(2):", "c": "hex(3):", "d": "hex(4):", "e": "hex(7):", "f": "hex(100):",
             "g": "hex(abcd):", "h": "hex:", "i": "hex(0):", "j": "hex(2):;comment"}
    result = check(make(*(f'"Wine68{k}"={t}' for k, t in types.items())))
    assert set_values(result) == {"Wine68a": (1, b""), "Wine68b": (2, b""), "Wine68c": (3, b""), "Wine68d": (4, b""),
                                  "Wine68e": (7, b""), "Wine68f": (0x100, b""), "Wine68g": (0xABCD, b""),
                                  "Wine68h": (3, b""), "Wine68i": (0, b""), "Wine68j": (2, b"")}


def test_backslash_in_hex_data_rejects_the_value_unless_it_continues_the_line() -> None:
    # Wine52a-l (import.c:L1168).
    lines = ['"Wine52a"=hex(2):25,48\\,4f,4d,45,25,00', '"Wine52b"=hex(2):25,48,\\4f,4d,45,25,00',
             '"Wine52c"=hex(2):25,48\\ ,4f,4d,45,25,00', '"Wine52d"=hex(2):25,48,\\ 4f,4d,45,25,00',
             '"Wine52e"=hex(2):\\25,48,4f,4d,45,25,00', '"Wine52f"=hex(2):\\ 25,48,4f,4d,45,25,00',
             '"Wine52g"=hex(2):25,48,4\\f,4d,45,25,00', '"Wine52h"=hex(2):25,48,4\\', "  f,4d,45,25,00",
             '"Wine52i"=hex(2):25,50,\\,41,54,48,25,00', '"Wine52j"=hex(2):25,48,4f,4d,45,25,5c,\\\\',
             "  25,50,41,54,48,25,00", '"Wine52k"=hex(2):,\\', "  25,48,4f,4d,45,25,00", '"Wine52l"=hex(2):\\',
             "  25,48,4f,4d,45,25,00"]
    slash = "\\"
    check(v4(*lines), {"Wine52l": (2, multi("%HOME%\0"))},
          absent=tuple(f"Wine52{c}" for c in "abcdefghijk"),
          expected_errors=[(BODY, col(lines[0], slash), "R-HEX-BACKSLASH"),
                           (BODY + 1, col(lines[1], "4f"), "R-CONT-TRAILING"),
                           (BODY + 2, col(lines[2], slash), "R-HEX-BACKSLASH"),
                           (BODY + 3, col(lines[3], "4f"), "R-CONT-TRAILING"),
                           (BODY + 4, col(lines[4], "25"), "R-CONT-TRAILING"),
                           (BODY + 5, col(lines[5], "25"), "R-CONT-TRAILING"),
                           (BODY + 6, col(lines[6], slash), "R-HEX-BACKSLASH"),
                           (BODY + 7, col(lines[7], slash), "R-HEX-BACKSLASH"),
                           (BODY + 8, 3, "R-HEX-ORPHAN"),
                           (BODY + 9, col(lines[9], ",41"), "R-CONT-TRAILING"),
                           (BODY + 10, len(lines[10]), "R-CONT-TRAILING"),
                           (BODY + 11, 3, "R-HEX-ORPHAN"),
                           (BODY + 12, col(lines[12], ","), "R-HEX-BYTE"),
                           (BODY + 13, 3, "R-HEX-ORPHAN")])


def test_slash_is_not_a_continuation() -> None:
    # Wine61a/b (import.c:L1448).
    lines = ['"Wine61a"=hex(0):25,48,4f,4d,45,25,5c,/', "  25,50,41,54,48,25,00",
             '"Wine61b"=hex(0):25,48,4f,4d,45,25,5c/', "  25,50,41,54,48,25,00"]
    check(v5(*lines), absent=("Wine61a", "Wine61b"),
          expected_errors=[(BODY, col(lines[0], "/"), "R-HEX-BYTE"), (BODY + 1, 3, "R-HEX-ORPHAN"),
                           (BODY + 2, col(lines[2], "/"), "R-HEX-TRAILING"), (BODY + 3, 3, "R-HEX-ORPHAN")])


# -- 5.5 what hex bytes of string types mean -----------------------------------------------------
def test_string_type_hex_bytes_follow_the_file_encoding() -> None:
    # Wine64a (import.c:L1524 ANSI, L3071 UTF-16): the same multi-string either way.
    ansi_file = check(v4('"Wine64a"=hex(7):4c,69,6e,65,00,00'))
    utf16_file = check(v5('"Wine64a"=hex(7):4c,00,69,00,6e,00,65,00,00,00,00,00'))
    assert set_values(ansi_file) == set_values(utf16_file) == {"Wine64a": (7, multi("Line\0\0"))}
    # The header does not matter, the encoding does: REGEDIT4 in UTF-16, 5.00 in ANSI.
    assert set_values(parsed(utf16("REGEDIT4\n[" + K + "]\n\"A\"=hex(2):41,00,00,00\n"))) == {"A": (2, multi("A\0"))}
    assert set_values(parsed(ansi(V5 + "\n[" + K + "]\n\"A\"=hex(2):41,00\n"))) == {"A": (2, multi("A\0"))}


def test_hex_string_bytes_in_ansi_files_use_the_code_page() -> None:
    check(v4('"Sz"=hex(1):e9,80', '"Nul"=hex(1):e9,00,41'), {"Sz": (1, multi("\u00e9\u20ac\0")),
                                                         "Nul": (1, multi("\u00e9\0A\0"))})
    result = parsed(v4('"Sz"=hex(1):e9'), ansi_codepage="cp1251")
    assert set_values(result) == {"Sz": (1, multi("\u0439\0"))}


@pytest.mark.parametrize("make, units", [(v4, 1), (v5, 2)], ids=["ansi", "utf16"])
def test_one_nul_is_added_when_string_type_data_lacks_it(make, units: int) -> None:
    # Wine66a-f, Wine67a-d (import.c:L1579, L1595, L3127).
    def hexes(text: str) -> str:
        return ",".join(f"{b:02x}" for b in text.encode("utf-16-le" if units == 2 else "cp1252"))
    lines = [f'"Wine66a"=hex(7):{hexes("Line")}', f'"Wine66b"=hex(7):{hexes("Line")},',
             f'"Wine66c"=hex(7):{hexes("Line")},{hexes(chr(0))}', f'"Wine66e"=hex(7):{hexes("Line")},{hexes(chr(0))},'
             f'{hexes(chr(0))}', f'"Wine67a"=hex(2):{hexes("%PATH%")}', f'"Wine67c"=hex(2):{hexes("%PATH%")},'
             f'{hexes(chr(0))}', f'"Sz"=hex(1):{hexes("abc")}']
    check(make(*lines), {"Wine66a": (7, multi("Line\0")), "Wine66b": (7, multi("Line\0")),
                         "Wine66c": (7, multi("Line\0")), "Wine66e": (7, multi("Line\0\0")),
                         "Wine67a": (2, multi("%PATH%\0")), "Wine67c": (2, multi("%PATH%\0")),
                         "Sz": (1, multi("abc\0"))})


def test_other_types_keep_their_bytes_exactly() -> None:
    # Wine43a (import.c:L771): hex(0) in an ANSI file stays UTF-16-looking; hex(3), hex(4), hex(b).
    check(v4('"Wine43a"=hex(0):56,00,61,00,6c,00,75,00,65,00,00,00', '"B"=hex:41,42', '"D"=hex(4):01,02',
             '"Q"=hex(b):08,07,06,05,04,03,02,01', '"L"=hex(6):41'),
          {"Wine43a": (0, b"V\0a\0l\0u\0e\0\0\0"), "B": (3, b"AB"), "D": (4, b"\x01\x02"),
           "Q": (11, bytes.fromhex("0807060504030201")), "L": (6, b"A")})


def test_odd_string_type_hex_in_a_utf16_file_warns_and_gets_a_nul_character() -> None:
    line = '"Odd"=hex(1):41,00,42'
    result = check(v5(line), {"Odd": (1, b"A\0B\0\0")})
    assert warnings(result) == [(BODY, col(line, "41"), "R-HEX-ODD-UTF16")]


# -- 5.6 keywords --------------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["DWORD:00000001", "HEX:01", "Hex(7):41,00", "Dword:1"])
def test_upper_case_keywords_reject_the_value(data: str) -> None:
    check(v4('"Kw"=' + data), absent=("Kw",), expected_errors=[(BODY, 6, "R-KEYWORD-CASE")])


def test_upper_case_keywords_are_read_when_asked_with_a_warning() -> None:
    result = check(v4('"A"=DWORD:00000001', '"B"=HEX:01', '"C"=HEX(7):41,00'),
                   {"A": (4, dword(1)), "B": (3, b"\1"), "C": (7, multi("A\0"))}, accept_upper_keywords=True)
    assert warnings(result) == [(BODY, 5, "R-KEYWORD-CASE"), (BODY + 1, 5, "R-KEYWORD-CASE"),
                                (BODY + 2, 5, "R-KEYWORD-CASE")]


# -- 5.7 continuation lines ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_backslash_after_a_comma_continues_hex_data(make) -> None:
    # Wine3, Wine43b, Wine44b, Wine45b, Wine48a/b (import.c:L1130), Multi-Line1/7/8, Wine53a/c/e (L484, L1200).
    lines = ['"Wine43b"=hex(0):56,00,61,00,6c,00,\\', "  75,00,65,00,00,00",
             '"Wine45b"=hex:11,22,33,44,\\', "  55,66,77,88",
             '"Wine48a"=hex(0):4c,69,6e,65,20,  \\', "  63,6f,6e,63,61,74,65,6e,61,74,69,6f,6e,00,00",
             '"Wine48b"=hex(0):4c,69,6e,65,20,\t\\', "  63,6f,6e,63,61,74,65,6e,61,74,69,6f,6e,00,00",
             '"Multi-Line8"=hex(0):4c,69,6e,\\;#comment', "  65,20,\\;#comment", "  63,6f,6e,\\;#comment",
             "  63,61,74,\\;#comment", "  65,6e,61,74,69,6f,6e,00,00",
             '"Wine53c"=hex(0):25,48,4f,4d,45,25,5c,  \\  ;comment', "  25,50,41,54,48,25,00",
             '"Wine53e"=hex(0):25,48,4f,4d,45,25,5c,\\\t  ;comment', "  25,50,41,54,48,25,00"]
    concat = b"Line concatenation\0\0"
    check(make(*lines), {"Wine43b": (0, b"V\0a\0l\0u\0e\0\0\0"), "Wine45b": (3, bytes.fromhex("1122334455667788")),
                         "Wine48a": (0, concat), "Wine48b": (0, concat), "Multi-Line8": (0, concat),
                         "Wine53c": (0, b"%HOME%\\%PATH%\0"), "Wine53e": (0, b"%HOME%\\%PATH%\0")})


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_backslash_without_a_comma_before_it_rejects_the_value(make) -> None:
    # Wine43c-g, Multi-Line3/4, Wine53b/d/f (import.c:L502, L550, L1200). The next line is then
    # an ignored line of its own.
    lines = ['"Wine43c"=hex(0):56,00,61,00,6c,00\\', ",75,00,65,00,00,00",
             '"Wine43e"=hex(0):56,00,61,00,6c,00\\', "  75,00,65,00,00,00",
             '"Wine43f"=hex(0):56,00,61,00,6c,00,7\\', "5,00,65,00,00,00",
             '"Wine53d"=hex(2):25,48,4f,4d,45,25,5c  \\  ;comment', "  25,50,41,54,48,25,00"]
    check(make(*lines), absent=("Wine43c", "Wine43e", "Wine43f", "Wine53d"),
          expected_errors=[(BODY, col(lines[0], "\\"), "R-HEX-BACKSLASH"), (BODY + 1, 1, "R-LINE-IGNORED"),
                           (BODY + 2, col(lines[2], "\\"), "R-HEX-BACKSLASH"), (BODY + 3, 3, "R-HEX-ORPHAN"),
                           (BODY + 4, col(lines[4], "\\"), "R-HEX-BACKSLASH"), (BODY + 5, 1, "R-HEX-ORPHAN"),
                           (BODY + 6, col(lines[6], "\\"), "R-HEX-BACKSLASH"), (BODY + 7, 3, "R-HEX-ORPHAN")])


def test_hash_comment_after_a_continuation_backslash_rejects_the_value() -> None:
    # Multi-Line9, Wine43k (import.c:L1200).
    lines = ['"Multi-Line9"=hex(7):4c,69,6e,\\;comment', "  65,20,\\;comment", "  63,61,74,\\#comment",
             "  65,6e,61,74,69,6f,6e,00,00"]
    check(v4(*lines), absent=("Multi-Line9",),
          expected_errors=[(BODY + 2, col(lines[2], "#"), "R-CONT-TRAILING"), (BODY + 3, 3, "R-HEX-ORPHAN")])


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_blank_and_semicolon_lines_are_skipped_inside_hex_data(make) -> None:
    # Multi-Line10, Wine60a/b/e/f, Wine16 (import.c:L560, L1388-L1438).
    lines = ['"Multi-Line10"=hex(0):4c,69,6e,65,20,\\', "  63,6f,6e,\\;comment", "  63,61,74,\\", "",
             "  65,6e,\\;comment", "", "  61,74,69,6f,6e,00,00",
             '"Wine60b"=hex(0):4c,69,6e,65,20,\\', "  63,6f,6e,63,61,74,\\", "  ;comment", "  65,6e,\\;comment",
             "  61,74,69,6f,6e,00,00",
             '"Wine60f"=hex(0):4c,69,6e,65,20,\\', "  63,6f,6e,\\", " ", "  63,61,74,\\", "\t", "\t",
             "  65,6e,\\", "\t \t", "\t \t", "  61,74,69,6f,6e,00,00",
             '"Wine16"=hex(0):4c,69,6e,65,20,\\', ";comment", "  63,6f,6e,63,61,74,65,6e,61,74,69,6f,6e,00,00",
             '"Wine17"="Another valid line"']
    concat = b"Line concatenation\0\0"
    check(make(*lines), {"Multi-Line10": (0, concat), "Wine60b": (0, concat), "Wine60f": (0, concat),
                         "Wine16": (0, concat), "Wine17": (1, sz("Another valid line"))})


def test_continuation_line_must_start_with_a_hex_digit() -> None:
    # Wine14 '#comment', Wine63a ',63', Wine59a/b lone '\' (import.c:L421, L509, L1376).
    lines = ['"Wine14"=hex(7):4c,69,6e,65,20,\\', "  #comment", "  63,6f,6e,63,61,74,65,6e,61,74,69,6f,6e,00,00",
             '"Wine15"="A valid line"',
             '"Wine63a"=hex(7):4c,69,6e,65,20,\\', "  ,63,6f,6e,63,61,74,65,6e,61,74,69,6f,6e,00,00",
             '"Wine63b"=hex(7):4c,69,6e,65,20,\\', "  63,,6f,6e,63,61,74,65,6e,61,74,69,6f,6e,00,00",
             '"Wine59a"=hex:11,22,33,\\', "\\", "  44,55,66",
             '"Wine59b"=hex:11,22,33,\\', "  \\", "  44,55,66"]
    check(v4(*lines), {"Wine15": (1, sz("A valid line"))}, absent=("Wine14", "Wine63a", "Wine63b", "Wine59a", "Wine59b"),
          expected_errors=[(BODY + 1, 3, "R-CONT-BROKEN"), (BODY + 2, 3, "R-HEX-ORPHAN"),
                           (BODY + 5, 3, "R-CONT-BROKEN"), (BODY + 7, col(lines[7], ",,") + 1, "R-HEX-BYTE"),
                           (BODY + 9, 1, "R-CONT-BROKEN"), (BODY + 10, 3, "R-HEX-ORPHAN"),
                           (BODY + 12, 3, "R-CONT-BROKEN"), (BODY + 13, 3, "R-HEX-ORPHAN")])


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_the_line_that_breaks_a_continuation_is_lost(make) -> None:
    # Wine55a-j, Wine58a-e (import.c:L1222, L1240-L1368).
    lines = ['"Wine55a"=hex(2):4c,69,6e,65,20,\\', '"Wine55b"="Test value"',
             '"Wine55c"=hex(2):4c,69,6e,65,20,\\', ";comment", '"Wine55d"="Test value"',
             '"Wine55e"=hex(2):4c,69,6e,65,20,\\', "#comment", '"Wine55f"="Test value"',
             '"Wine55g"=hex(2):4c,69,6e,65,20,\\', "", '"Wine55h"="Test value"',
             '"Wine55i"=hex(2):4c,69,6e,65,20\\', '"Wine55j"="Test value"',
             '"Wine58a"=hex(2):4c,69,6e,65,20,\\', '@="Default value 1"',
             '"Wine58c"=hex(2):4c,69,6e,65,20,\\', "#comment", '@="Default value 3"']
    check(make(*lines), {"Wine55f": (1, sz("Test value")), "Wine55j": (1, sz("Test value")),
                         "": (1, sz("Default value 3"))},
          absent=("Wine55a", "Wine55b", "Wine55c", "Wine55d", "Wine55e", "Wine55g", "Wine55h", "Wine55i", "Wine58a",
                  "Wine58c"),
          expected_errors=[(BODY + 1, 1, "R-CONT-BROKEN"), (BODY + 4, 1, "R-CONT-BROKEN"),
                           (BODY + 6, 1, "R-CONT-BROKEN"), (BODY + 10, 1, "R-CONT-BROKEN"),
                           (BODY + 11, col(lines[11], "\\"), "R-HEX-BACKSLASH"), (BODY + 14, 1, "R-CONT-BROKEN"),
                           (BODY + 16, 1, "R-CONT-BROKEN")])


def test_a_key_line_after_a_dangling_backslash_is_lost() -> None:
    # Wine54a/b: the key stays the one opened before.
    result = check(v4('"Wine54a"=hex(2):4c,69,6e,65,20,\\', "[" + K + "\\Subkey1]", '"After"="x"',
                      '"Wine54b"=hex(2):4c,69,6e,65,20\\', "[" + K + "\\Subkey2]"),
                   {"After": (1, sz("x"))}, key=K, absent=("Wine54a", "Wine54b"),
                   expected_errors=[(BODY + 1, 1, "R-CONT-BROKEN"), (BODY + 3, 32, "R-HEX-BACKSLASH")])
    assert [op.key for op in result.patch] == [K, K, K + "\\Subkey2"]


@pytest.mark.parametrize("make", [v4, v5], ids=["ansi", "utf16"])
def test_a_continuation_line_without_backslash_ends_the_value(make) -> None:
    # Wine43i/j, Wine45i/j, Multi-Line2, Wine65d/e (import.c:L771, L865): the line after is ignored.
    lines = ['"Wine43i"=hex(0):56,00,61,00,\\;comment', "  6c,00,75,00,", "  65,00,00,00",
             '"Wine45j"=hex:11,22,33,44,\\;comment', "  55,66,;comment", "  77,88",
             '"Multi-Line2"=hex(0):4c,69,6e,65,20,\\', "  63,6f,6e,\\;comment", "  63,61,74,;comment",
             "  65,6e,61,74,69,6f,6e,00,00",
             '"Wine65d"=hex(100):25,50,41,\\;comment', "  54,48,", "  25,00"]
    check(make(*lines), {"Wine43i": (0, b"V\0a\0l\0u\0"), "Wine45j": (3, bytes.fromhex("112233445566")),
                         "Multi-Line2": (0, b"Line concat"), "Wine65d": (0x100, b"%PATH")},
          expected_errors=[(BODY + 2, 3, "R-HEX-ORPHAN"), (BODY + 5, 3, "R-HEX-ORPHAN"), (BODY + 9, 3, "R-HEX-ORPHAN"),
                           (BODY + 12, 3, "R-HEX-ORPHAN")])


@pytest.mark.parametrize("tail", ["", "\n", "\n\n  ;comment\n"], ids=["eof", "newline", "comment"])
def test_end_of_file_after_a_backslash_keeps_the_bytes_read(tail: str) -> None:
    # Wine62a-e (import.c:L1458-L1498); Wine62f has no comma before the backslash.
    for data_line, expected in [('"Wine62a"=hex(0):56,61,6c,75,65,\\', (0, b"Value")),
                                ('"Wine62b"=hex(2):25,50,41,54,48,25,\\', (2, multi("%PATH%\0"))),
                                ('"Wine62d"=hex(7):4c,69,6e,65,\\', (7, multi("Line\0")))]:
        data = ansi("REGEDIT4\n\n[" + K + "]\n" + data_line + tail)
        result = check(data, {data_line[1:8]: expected})
        assert warnings(result) == [(BODY, len(data_line), "R-CONT-EOF")]
    check(ansi("REGEDIT4\n\n[" + K + "]\n\"Wine62f\"=hex(7):4c,69,6e,65,20\\" + tail), absent=("Wine62f",),
          expected_errors=[(BODY, 32, "R-HEX-BACKSLASH")])


def test_only_hex_data_continues() -> None:
    # Wine41a (import.c:L726).
    check(v4('"Wine41a"=dword:1234\\', "5678"), absent=("Wine41a",),
          expected_errors=[(BODY, 21, "R-DWORD-TRAILING"), (BODY + 1, 1, "R-LINE-IGNORED")])


def _wrap(prefix: str, data: bytes) -> list[str]:
    """Hex data laid out the way regedit writes it (reg-format.md 8.1)."""
    lines, out, column = [], prefix, len(prefix)
    for index, byte in enumerate(data):
        if index == len(data) - 1:
            out += f"{byte:02x}"
            break
        out += f"{byte:02x},"
        column += 3
        if column >= 77:
            lines.append(out + "\\")
            out, column = "  ", 2
    return lines + [out]


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=1, max_size=300), width=st.integers(1, 30), indent=st.sampled_from(["", " ", "\t", "   "]),
       value_type=st.sampled_from(["hex:", "hex(0):", "hex(2):", "hex(7):", "hex(abc):"]), unicode=st.booleans())
def test_regedit_layout_and_any_other_layout_read_the_same(data: bytes, width: int, indent: str, value_type: str,
                                                           unicode: bool) -> None:
    """regedit's wrapping takes a faster path; other wrappings, indents, single-digit bytes
    and comments must give the same value."""
    regedit = _wrap('"V"=' + value_type, data)
    items = [f"{b:x}" if b % 3 else f"{b:02X}" for b in data]
    other = ['"V"=' + value_type + "\\ ;start"]
    for first in range(0, len(items), width):
        chunk = ",".join(items[first:first + width])
        last = first + width >= len(items)
        other.append(indent + chunk + ("" if last else ", \\"))
        if not last:
            other.append("  ;between")
    make = v5 if unicode else v4
    expected = set_values(parsed(make(*regedit)))
    assert errors_of(make(*regedit)) == errors_of(make(*other)) == []
    assert set_values(parsed(make(*other))) == expected
    assert len(expected["V"][1]) >= len(data)


@pytest.mark.parametrize("flaw, code", [
    (lambda line: line.replace(",", "", 1), "R-HEX-BYTE"), (lambda line: line.replace(",", ",0", 1), "R-HEX-BYTE"),
    (lambda line: line.replace("1", "g", 1), "R-HEX-TRAILING"), (lambda line: line[:-1] + " #\\", "R-HEX-BYTE"),
    (lambda line: line.replace(",", ",,", 1), "R-HEX-BYTE"), (lambda line: line[:-2] + "\\", "R-HEX-BACKSLASH"),
], ids=["missing-comma", "three-digits", "not-hex", "hash", "empty-item", "no-comma-before-backslash"])
def test_a_flaw_inside_regedit_layout_is_still_found(flaw, code: str) -> None:
    lines = _wrap('"V"=hex:', bytes(range(16, 116)))
    lines[2] = flaw(lines[2])
    data = v4(*lines, '"After"="x"')
    result = parsed(data)
    assert set_values(result) == {"After": (1, sz("x"))}
    assert [(d.line, d.code) for d in result.errors][0] == (BODY + 2, code)
    with pytest.raises(RegFileError) as failure:
        parse_reg_strict(data)
    assert failure.value.line == BODY + 2


def errors_of(data: bytes) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.code) for d in parsed(data).errors]


# -- 5.8 deleting a value ------------------------------------------------------------------------
def test_value_deletion() -> None:
    # Wine46a-f (import.c:L1085): '=-"Test"' and '=- #comment' do nothing and raise no error.
    lines = ['"Wine46a"=-', '"Wine46b"=  -', '"Wine46c"=  \t-\t  ', '"Wine46d"=-"Test"', '"Wine46e"=- ;comment',
             '"Wine46f"=- #comment', "@=-", '""=-']
    result = check(v4(*lines), expected_errors=[(BODY + 3, col(lines[3], '"Test'), "R-DELETE-TRAILING"),
                                                (BODY + 5, col(lines[5], "#"), "R-DELETE-TRAILING")])
    assert [(op.kind, op.name) for op in result.patch if op.kind != "create_key"] == [
        (DELETE_VALUE, "Wine46a"), (DELETE_VALUE, "Wine46b"), (DELETE_VALUE, "Wine46c"), (DELETE_VALUE, "Wine46e"),
        (DELETE_VALUE, ""), (DELETE_VALUE, "")]
    assert all(op.key == K for op in result.patch)


def test_set_then_delete_keeps_file_order() -> None:
    result = check(v4('"A"="x"', '"A"=-', '"A"=dword:2'))
    assert [(op.kind, op.name, op.origin.line) for op in result.patch][1:] == [
        (SET_VALUE, "A", BODY), (DELETE_VALUE, "A", BODY + 1), (SET_VALUE, "A", BODY + 2)]
