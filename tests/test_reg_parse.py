"""The .reg parser against the rules of reg-format.md sections 1-4, 6, 9 and 10.

Each test is one rule, with the inputs of Wine's conformance tests (programs/reg/tests/import.c,
which pass on real Windows) wherever the document cites them. Every test checks both sides:
the lenient patch (what Windows applies) and the strict error (line and column of the first
offending character). Value rules (section 5) are in test_reg_parse_values.py.
"""
from __future__ import annotations

import pytest
from corpus import corpus_path, require_corpus, role_params
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hivetool.errors import RegFileError, UsageError
from hivetool.regfile.diagnostics import CODES
from hivetool.regfile.keys import LONG_ROOT_NAMES
from hivetool.regfile.parse import ParseResult, parse_reg, parse_reg_strict
from hivetool.regfile.patch import CREATE_KEY, DELETE_KEY, DELETE_VALUE, SET_VALUE, Patch

K = "HKEY_CURRENT_USER\\Software\\Wine\\reg_test"
V5 = "Windows Registry Editor Version 5.00"


# -- helpers shared with test_reg_parse_values.py -------------------------------------------------
def ansi(text: str, codepage: str = "cp1252") -> bytes:
    return text.encode(codepage)


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


def v4(*body: str) -> bytes:
    """A REGEDIT4 ANSI file: header, blank line, [K] on line 3, body from line 4."""
    return ansi("REGEDIT4\n\n[" + K + "]\n" + "\n".join(body) + "\n")


def v5(*body: str) -> bytes:
    """A 5.00 UTF-16 file laid out like v4: body from line 4."""
    return utf16(V5 + "\n\n[" + K + "]\n" + "\n".join(body) + "\n")


BODY = 4  # first body line of v4() and v5()


def sz(text: str) -> bytes:
    """REG_SZ bytes: UTF-16LE text and one NUL character."""
    return (text + "\0").encode("utf-16-le")


def col(line: str, marker: str, start: int = 0) -> int:
    """1-based column of ``marker`` in ``line`` (searching from ``start``)."""
    found = line.index(marker, start)
    return found + 1


def parsed(data: bytes, **options) -> ParseResult:
    result = parse_reg(data, "test.reg", **options)
    for diagnostic in result.diagnostics:
        assert diagnostic.code in CODES, diagnostic
        assert diagnostic.line >= 1 and diagnostic.col >= 1, diagnostic
        assert str(diagnostic).startswith(f"test.reg:{diagnostic.line}:{diagnostic.col}: {diagnostic.level}: ")
    return result


def set_values(result: ParseResult, key: str | None = None) -> dict[str, tuple[int, bytes]]:
    """name -> (type, data) of the set_value operations (the last one wins, as in a hive)."""
    return {op.name: (op.type, op.data) for op in result.patch
            if op.kind == SET_VALUE and (key is None or op.key == key)}


def errors(result: ParseResult) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.code) for d in result.errors]


def warnings(result: ParseResult) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.code) for d in result.warnings]


def check(data: bytes, values: dict[str, tuple[int, bytes]] | None = None, absent: tuple[str, ...] = (),
          expected_errors: list[tuple[int, int, str]] | None = None, key: str | None = None,
          **options) -> ParseResult:
    """Lenient result holds ``values`` and none of ``absent``; its errors are exactly
    ``expected_errors``; strict parsing fails on the first of them (or returns the same patch)."""
    result = parsed(data, **options)
    found = set_values(result, key)
    for name, expected in (values or {}).items():
        assert found.get(name) == expected, (name, found.get(name), expected)
    for name in absent:
        assert name not in found, (name, found[name])
    assert errors(result) == (expected_errors or []), errors(result)
    if expected_errors:
        with pytest.raises(RegFileError) as failure:
            parse_reg_strict(data, "test.reg", **options)
        line, column, code = expected_errors[0]
        assert (failure.value.path, failure.value.line, failure.value.col) == ("test.reg", line, column)
        assert f"[{code}]" in failure.value.detail
        if len(expected_errors) > 1:
            assert f"and {len(expected_errors) - 1} more error" in failure.value.detail
    else:
        strict = parse_reg_strict(data, "test.reg", **options)
        assert [op.same_effect(other) for op, other in zip(strict, result.patch)] == [True] * len(result.patch)
        assert len(strict) == len(result.patch)
    return result


def header_error(data: bytes) -> RegFileError:
    """A wrong header fails both functions at line 1."""
    with pytest.raises(RegFileError) as lenient:
        parse_reg(data, "test.reg")
    with pytest.raises(RegFileError) as strict:
        parse_reg_strict(data, "test.reg")
    assert (lenient.value.line, strict.value.line) == (1, 1)
    assert lenient.value.col == strict.value.col
    assert lenient.value.exit_code == 3
    return lenient.value


# -- 1. encoding, BOM, line ends ----------------------------------------------------------------
def test_bom_ff_fe_means_utf16le_and_is_not_part_of_line_1() -> None:
    result = check(utf16(V5 + "\r\n\r\n[" + K + "]\r\n\"Unicode\"=\"\u20ac \u4e2d\"\r\n"),
                   {"Unicode": (1, sz("\u20ac \u4e2d"))})
    assert (result.encoding, result.dialect) == ("utf-16-le", "5.00")


def test_utf16_without_bom_is_read_as_ansi_and_rejected() -> None:
    # import.c:L1792, L1796: the first line reads as 'W' then NUL.
    error = header_error((V5 + "\n").encode("utf-16-le"))
    assert "UTF-16LE without its byte-order mark" in error.detail


def test_utf16_big_endian_is_rejected() -> None:
    assert "UTF-16BE" in header_error(b"\xfe\xff" + ("REGEDIT4\n").encode("utf-16-be")).detail


def test_utf8_with_bom_is_accepted_with_a_warning() -> None:
    result = check(b"\xef\xbb\xbf" + ("REGEDIT4\n[" + K + "]\n\"A\"=\"\u00e9\u20ac\"\n").encode("utf-8"),
                   {"A": (1, sz("\u00e9\u20ac"))})
    assert result.encoding == "utf-8"
    assert warnings(result) == [(1, 1, "R-ENCODING-UTF8")]


def test_utf8_without_bom_is_accepted_with_a_warning() -> None:
    data = ("REGEDIT4\n[" + K + "]\n\"A\"=\"\u00e9\u20ac\"\n").encode("utf-8")
    result = check(data, {"A": (1, sz("\u00e9\u20ac"))})
    assert result.encoding == "utf-8"
    assert warnings(result) == [(1, 1, "R-ENCODING-UTF8")]
    as_ansi = check(data, {"A": (1, sz("\u00c3\u00a9\u00e2\u201a\u00ac"))}, utf8_without_bom=False)
    assert (as_ansi.encoding, as_ansi.warnings) == ("cp1252", [])


def test_invalid_utf8_after_a_utf8_bom_is_an_error_at_its_position() -> None:
    data = b"\xef\xbb\xbfREGEDIT4\n[" + K.encode() + b"]\n\"A\"=\"x\xff\"\n"
    check(data, {"A": (1, sz("x\ufffd"))}, expected_errors=[(3, 7, "R-ENCODING-INVALID")])


def test_no_bom_means_the_ansi_code_page() -> None:
    data = b"REGEDIT4\n[" + K.encode() + b"]\n\"A\"=\"\xe9\"\n"
    result = check(data, {"A": (1, sz("\u00e9"))})
    assert result.encoding == "cp1252"
    cyrillic = parsed(data, ansi_codepage="cp1251")
    assert set_values(cyrillic) == {"A": (1, sz("\u0439"))}
    assert cyrillic.encoding == "cp1251"


def test_bytes_cp1252_leaves_undefined_read_as_the_same_c1_control() -> None:
    check(b"REGEDIT4\n[" + K.encode() + b"]\n\"A\"=\"\x81\x8d\x8f\x90\x9d\"\n",
          {"A": (1, sz("\x81\x8d\x8f\x90\x9d"))})


def test_unknown_code_page_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_reg(b"REGEDIT4\n", ansi_codepage="no-such-codepage")


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_cr_lf_and_crlf_each_end_a_line(end: str, encode) -> None:
    text = end.join(["REGEDIT4", "", "[" + K + "]", '"A"="x"', "@=dword:1", ""])
    result = check(encode(text), {"A": (1, sz("x")), "": (4, b"\1\0\0\0")})
    assert [op.origin.line for op in result.patch] == [3, 4, 5]


@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_last_line_without_line_end_is_read(encode) -> None:
    # Wine5, Wine7 (import.c:L375).
    check(encode("REGEDIT4\n\n[" + K + "]\n\"Wine6\"=dword:00000050\n\n\"Wine7\"=\"No newline\""),
          {"Wine6": (4, (0x50).to_bytes(4, "little")), "Wine7": (1, sz("No newline"))})


@pytest.mark.parametrize("header", [V5, "REGEDIT4"])
@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_both_headers_work_in_both_encodings(header: str, encode) -> None:
    result = check(encode(header + "\n[" + K + "]\n\"Test4\"=\"Value4\"\n"), {"Test4": (1, sz("Value4"))})
    assert result.dialect == ("5.00" if header == V5 else "REGEDIT4")


@pytest.mark.parametrize("data", [b"", b"R"], ids=["empty", "one-byte"])
def test_files_shorter_than_two_bytes_are_rejected(data: bytes) -> None:
    header_error(data)


def test_odd_byte_count_in_utf16_drops_the_last_byte_with_a_warning() -> None:
    result = check(utf16("REGEDIT4\n[" + K + "]\n\"A\"=\"x\"\n") + b"\x41", {"A": (1, sz("x"))})
    assert warnings(result) == [(4, 1, "R-ODD-LENGTH")]


def test_nul_character_ends_the_line() -> None:
    line = '"A"="x"\0 trailing'
    check(v4(line, '"B"="y"'), {"A": (1, sz("x")), "B": (1, sz("y"))},
          expected_errors=[(BODY, col(line, "\0"), "R-NUL-CHAR")])


# -- 2. the header -----------------------------------------------------------------------------
@pytest.mark.parametrize("header, dialect", [
    (V5, "5.00"), ("REGEDIT4", "REGEDIT4"), ("REGEDIT", "win31"),
    (" REGEDIT4", "REGEDIT4"), ("\tREGEDIT4", "REGEDIT4"), (" \t " + V5, "5.00"),
    ("                    REGEDIT4", "REGEDIT4"),
])
@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_accepted_headers(header: str, dialect: str, encode) -> None:
    # import.c:L163-L175, L323, L1708, L1711, L3233-L3251, L3384-L3396.
    assert check(encode(header + "\n")).dialect == dialect
    assert check(encode(header)).dialect == dialect


@pytest.mark.parametrize("header, column", [
    ("regedit4", 1), ("Regedit4", 2), ("regedit", 1),
    ("Windows Registry Editor Version 4.00", 33), ("Windows Registry Editor Version 5", 34),
    ("WINDOWS REGISTRY EDITOR VERSION 5.00", 2), ("Windows Registry Editor version 5.00", 25),
    ("AREGEDIT4", 1), ("1REGEDIT4", 1), ("  Windows Registry Editor Version 5.0", 38),
])
@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_rejected_headers(header: str, column: int, encode) -> None:
    # import.c:L155, L159, L182, L186, L229, L236, L273-L294, L319, L1800, L1810.
    error = header_error(encode(header + "\n\n[" + K + "]\n\"Test\"=\"Value\"\n"))
    assert error.col == column
    assert "[R-HEADER]" in error.detail


@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_header_must_be_on_line_1(encode) -> None:
    # A blank line, then a header: import.c:L178, L1714, L1820.
    error = header_error(encode("\nREGEDIT4\n[" + K + "]\n"))
    assert (error.line, error.col) == (1, 1)


@pytest.mark.parametrize("header", ["REGEDIT3", "REGEDIT5", "REGEDIT9", "REGEDIT 4", "REGEDIT4 FOO",
                                    "REGEDIT4FOO", "REGEDIT4 ", "REGEDIT "])
@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_regedit_prefixed_header_is_accepted_but_imports_nothing(header: str, encode) -> None:
    # import.c:L190-L202, L223, L243-L267: exit 0 and no value set.
    data = encode(header + "\n\n[" + K + "]\n\"Test5\"=\"Value\"\n")
    column = 9 if header.startswith("REGEDIT4") else 8
    result = check(data, absent=("Test5",), expected_errors=[(1, column, "R-HEADER-IGNORED")])
    assert result.dialect == "ignored"
    assert len(result.patch) == 0


def test_trailing_blanks_after_the_5_00_header_are_accepted_with_a_warning() -> None:
    result = check(ansi(V5 + " \t\n[" + K + "]\n\"A\"=\"x\"\n"), {"A": (1, sz("x"))})
    assert result.dialect == "5.00"
    assert warnings(result) == [(1, len(V5) + 1, "R-HEADER-TRAILING-BLANKS")]


def test_header_without_body_and_without_blank_line_after_it() -> None:
    assert len(check(ansi("REGEDIT4\n")).patch) == 0  # import.c:L169
    check(ansi("REGEDIT4\n[" + K + "]\n\"Wine\"=dword:00000123\n"), {"Wine": (4, b"\x23\x01\0\0")})  # L205


# -- 3. body lines: comments and ignored lines ------------------------------------------------
def test_semicolon_and_hash_lines_are_comments_even_indented() -> None:
    check(v4('#"Comment1"="Value 1"', ';"Comment2"="Value 2"', '    #"Comment3"="Value 3"',
             '    ;"Comment4"="Value 4"', '"Wine19"="Value 7";"Comment6"="Value 6"'),
          {"Wine19": (1, sz("Value 7"))}, absent=("Comment1", "Comment2", "Comment3", "Comment4", "Comment6"))


def test_comment_line_ending_in_backslash_does_not_continue() -> None:
    # Wine8, Wine9 (import.c:L398).
    check(v5("#comment\\", '"Wine8"="Line 1"', ";comment\\", '"Wine9"="Line 2"'),
          {"Wine8": (1, sz("Line 1")), "Wine9": (1, sz("Line 2"))})


def test_lines_starting_with_anything_else_are_ignored() -> None:
    # NameNoBeginQuote, NameNoQuotes (import.c:L677-L701) and plain text.
    check(v4('NameNoBeginQuote"="Asdffdsa"', "NameNoQuotes=\"Asdffdsa\"", "  some text", '"A"="ok"'),
          {"A": (1, sz("ok"))}, absent=("NameNoBeginQuote", "NameNoQuotes"),
          expected_errors=[(BODY, 1, "R-LINE-IGNORED"), (BODY + 1, 1, "R-LINE-IGNORED"),
                           (BODY + 2, 3, "R-LINE-IGNORED")])


@pytest.mark.parametrize("encode", [ansi, utf16], ids=["ansi", "utf16"])
def test_blanks_before_key_and_value_lines_are_skipped(encode) -> None:
    # Wine2a-c, Wine3a-c, Wine4a-c (import.c:L3257-L3307).
    data = encode("                    REGEDIT4\n\n\t\t\t[" + K + "]\n"
                  "\t    \"Wine4a\"=\"Tab and four spaces\"\n"
                  "    \"Wine4b\"=dword:00112233\n"
                  "\t  \t  \t  \t  \t  \t  \"Wine4c\"=hex(7):4c,69,6e,65,20,\\\n"
                  "        63,6f,6e,\\;comment\n"
                  "\t\t\t\t63,61,74,\\;comment\n"
                  "  \t65,6e,61,74,69,6f,6e,00,00\n\n")
    multi = "Line concatenation\0\0".encode("utf-16-le") if encode is ansi else b"Line concatenation\0\0"
    check(data, {"Wine4a": (1, sz("Tab and four spaces")), "Wine4b": (4, b"\x33\x22\x11\0"),
                 "Wine4c": (7, multi)}, key=K)


# -- 4. key lines ------------------------------------------------------------------------------
@pytest.mark.parametrize("blank", [" ", "\t"])
def test_root_name_must_follow_the_bracket_directly(blank: str) -> None:
    # Subkey1a, Subkey1b (import.c:L937, L942). The key opened before stays open [W].
    result = check(v4("[" + blank + K + "\\Subkey1a]", '"After"="x"'), {"After": (1, sz("x"))}, key=K,
                   expected_errors=[(BODY, 2, "R-KEY-BLANK")])
    assert [op.key for op in result.patch] == [K, K]


def test_key_line_without_closing_bracket_is_ignored() -> None:
    # No_Closing_Bracket, No_Opening_Bracket (import.c:L932); Subkey1, Subkey2 split over two
    # lines (L746, L752).
    line = "[" + K + "\\No_Closing_Bracket"
    result = check(v4(line, K + "\\No_Opening_Bracket]", "[" + K + "\\", "Subkey1]", "[" + K, "\\Subkey2]"),
                   expected_errors=[(BODY, len(line) + 1, "R-KEY-NO-BRACKET"), (BODY + 1, 1, "R-LINE-IGNORED"),
                                    (BODY + 2, len(K) + 3, "R-KEY-NO-BRACKET"), (BODY + 3, 1, "R-LINE-IGNORED"),
                                    (BODY + 4, len(K) + 2, "R-KEY-NO-BRACKET"), (BODY + 5, 1, "R-LINE-IGNORED")])
    assert [op.key for op in result.patch] == [K]


def test_key_path_ends_at_the_last_closing_bracket() -> None:
    line = "[" + K + "\\a]b] ;text"
    result = check(v4(line, '"V"="x"'), {"V": (1, sz("x"))}, key=K + "\\a]b")
    assert warnings(result) == [(BODY, col(line, ";"), "R-KEY-TRAILING-TEXT")]


@pytest.mark.parametrize("name", ["Subkey1c ", "Subkey1d\t"])
def test_blanks_inside_the_brackets_belong_to_the_name(name: str) -> None:
    # import.c:L947, L953.
    result = check(v4("[" + K + "\\" + name + "]"))
    assert [op.key for op in result.patch] == [K, K + "\\" + name]


@pytest.mark.parametrize("slashes", ["\\", "\\\\", "\\\\\\\\"])
def test_trailing_backslashes_are_dropped(slashes: str) -> None:
    # Subkey1e, Subkey1f, Subkey1g (import.c:L959-L982): the values land in the key.
    line = "[" + K + "\\Subkey1e" + slashes + "]"
    result = check(v4(line, '"Wine"="Test value"'), {"Wine": (1, sz("Test value"))}, key=K + "\\Subkey1e")
    assert warnings(result) == [(BODY, len(line) - len(slashes), "R-KEY-TRAILING-BACKSLASH")]


@pytest.mark.parametrize("subkey", ['Subkey"1', "Subkey/2", "https://winehq.org", "a\\b\\c"])
def test_no_escapes_in_key_names(subkey: str) -> None:
    # import.c:L908, L917, L1663.
    result = check(v4("[" + K + "\\" + subkey + "]", '"Wine\\\\31"="Test value"'),
                   {"Wine\\31": (1, sz("Test value"))}, key=K + "\\" + subkey)
    assert result.patch.ops[-2].key == K + "\\" + subkey


def test_root_names_match_case_insensitively() -> None:
    # Subkey3a, Subkey3b (import.c:L1031, L1038): the path after the root keeps its case.
    result = check(v4("[hkey_CURRENT_user\\Software\\Wine\\reg_test\\Subkey3a]",
                      "[HkEy_CuRrEnT_uSeR\\Software\\Wine\\reg_test\\SuBkEy3b]"))
    assert [op.key for op in result.patch][1:] == [K + "\\Subkey3a", K + "\\SuBkEy3b"]


def test_root_name_must_end_at_a_backslash_or_the_bracket() -> None:
    # Subkey4b, Wine46b (import.c:L1059): HKEY_CURRENT_USERS is unknown, its values dropped.
    check(v4("[HKEY_CURRENT_USERS\\Software\\Subkey4b]", '"Wine46b"=dword:12345678'), absent=("Wine46b",),
          expected_errors=[(BODY, 2, "R-KEY-ROOT"), (BODY + 1, 1, "R-NO-KEY")])


@pytest.mark.parametrize("short, long", [("HKLM", "HKEY_LOCAL_MACHINE"), ("hkcu", "HKEY_CURRENT_USER"),
                                         ("HKCR", "HKEY_CLASSES_ROOT"), ("HKU", "HKEY_USERS"),
                                         ("HKCC", "HKEY_CURRENT_CONFIG")])
def test_short_root_names_are_accepted_with_a_warning_and_made_long(short: str, long: str) -> None:
    result = check(v4("[" + short + "\\Software\\X]", '"A"="x"', "[-" + short + "\\Software\\Y]"),
                   {"A": (1, sz("x"))}, key=long + "\\Software\\X")
    assert [(op.kind, op.key) for op in result.patch][1:] == [
        (CREATE_KEY, long + "\\Software\\X"), (SET_VALUE, long + "\\Software\\X"),
        (DELETE_KEY, long + "\\Software\\Y")]
    assert warnings(result) == [(BODY, 2, "R-KEY-SHORT-ROOT"), (BODY + 2, 3, "R-KEY-SHORT-ROOT")]


def test_values_after_a_failed_key_line_are_dropped_until_the_next_good_one() -> None:
    result = check(v4("[HKEY_NOWHERE\\x]", '"A"="x"', '"B"=-', "[" + K + "\\ok]", '"C"="y"'),
                   {"C": (1, sz("y"))}, absent=("A",),
                   expected_errors=[(BODY, 2, "R-KEY-ROOT"), (BODY + 1, 1, "R-NO-KEY"), (BODY + 2, 1, "R-NO-KEY")])
    assert [op.kind for op in result.patch] == [CREATE_KEY, CREATE_KEY, SET_VALUE]


def test_values_after_a_key_deletion_are_dropped() -> None:
    # Subkey4a, Wine46a (import.c:L1051).
    result = check(v4("", "[-" + K + "\\Subkey4a]", '"Wine46a"=dword:12345678'), absent=("Wine46a",),
                   expected_errors=[(BODY + 2, 1, "R-NO-KEY")])
    assert [(op.kind, op.key) for op in result.patch] == [(CREATE_KEY, K), (DELETE_KEY, K + "\\Subkey4a")]


@pytest.mark.parametrize("line, column", [
    ("[ -" + K + "\\Subkey2a]", 2), ("[\t-" + K + "\\Subkey2b]", 2),
    ("[- " + K + "\\Subkey2a]", 3), ("[-\t" + K + "\\Subkey2b]", 3),
])
def test_deletion_needs_the_minus_and_root_right_after_the_bracket(line: str, column: int) -> None:
    # import.c:L1003-L1018: these delete nothing.
    result = check(v4(line), expected_errors=[(BODY, column, "R-KEY-BLANK")])
    assert DELETE_KEY not in [op.kind for op in result.patch]


def test_deletion_matches_the_root_case_insensitively() -> None:
    # import.c:L1023, L1038.
    result = check(v4("[-HKEY_current_USER\\Software\\Wine\\reg_test\\sUBKEY3A]",
                      "[-hKeY_cUrReNt_UsEr\\Software\\Wine\\reg_test\\sUbKeY3B]"))
    assert [(op.kind, op.key) for op in result.patch][1:] == [
        (DELETE_KEY, K + "\\sUBKEY3A"), (DELETE_KEY, K + "\\sUbKeY3B")]


@pytest.mark.parametrize("root", ["HKEY_CURRENT_USER", "HKEY_CURRENT_USER\\"])
def test_deleting_a_bare_root_does_nothing(root: str) -> None:
    result = check(v4("[-" + root + "]"), expected_errors=[(BODY, 3, "R-KEY-DELETE-ROOT")])
    assert DELETE_KEY not in [op.kind for op in result.patch]


def test_key_path_with_an_empty_component_is_rejected() -> None:
    line = "[" + K + "\\a\\\\b]"
    check(v4(line, '"A"="x"'), absent=("A",),
          expected_errors=[(BODY, col(line, "\\\\") + 1, "R-KEY-EMPTY-COMPONENT"), (BODY + 1, 1, "R-NO-KEY")])


def test_key_name_over_255_characters_is_rejected() -> None:
    check(v4("[" + K + "\\" + "k" * 255 + "]", '"A"="x"'), {"A": (1, sz("x"))}, key=K + "\\" + "k" * 255)
    line = "[" + K + "\\" + "k" * 256 + "\\x]"
    check(v4(line, '"A"="x"'), absent=("A",),
          expected_errors=[(BODY, len(K) + 3, "R-KEY-NAME-LONG"), (BODY + 1, 1, "R-NO-KEY")])


def test_values_before_the_first_key_line_are_dropped() -> None:
    result = check(ansi('REGEDIT4\n"A"="x"\n@=-\n[' + K + ']\n"B"="y"\n'), {"B": (1, sz("y"))}, absent=("A",),
                   expected_errors=[(2, 1, "R-NO-KEY"), (3, 1, "R-NO-KEY")])
    assert [op.kind for op in result.patch] == [CREATE_KEY, SET_VALUE]


def test_key_lines_name_keys_only_parents_are_left_to_the_applier() -> None:
    # Creating a key creates its missing parents (KB310516): one operation names the full path.
    result = check(v4("[" + K + "\\a\\b\\c]"))
    assert [(op.kind, op.key) for op in result.patch] == [(CREATE_KEY, K), (CREATE_KEY, K + "\\a\\b\\c")]


# -- 6. errors do not stop the import ------------------------------------------------------------
def test_bad_lines_are_skipped_and_the_rest_applies_in_file_order() -> None:
    result = check(v4('"A"="1"', '"B"=dword:xyz', "[HKEY_BAD]", '"C"="lost"', "[" + K + "\\S]", '"D"=hex:01',
                      '"A"="2"'),
                   {"A": (1, sz("2")), "D": (3, b"\x01")}, absent=("B", "C"),
                   expected_errors=[(BODY + 1, col('"B"=dword:xyz', "xyz"), "R-DWORD-DIGITS"), (BODY + 2, 2, "R-KEY-ROOT"),
                                    (BODY + 3, 1, "R-NO-KEY")])
    assert [(op.kind, op.key, op.name, op.origin.line) for op in result.patch] == [
        (CREATE_KEY, K, None, 3), (SET_VALUE, K, "A", BODY), (CREATE_KEY, K + "\\S", None, BODY + 4),
        (SET_VALUE, K + "\\S", "D", BODY + 5), (SET_VALUE, K + "\\S", "A", BODY + 6)]


def test_strict_parsing_names_the_first_error_and_counts_the_others() -> None:
    data = v4('"B"=dword:', "oops", "[HKEY_BAD]")
    with pytest.raises(RegFileError) as failure:
        parse_reg_strict(data, "x.reg")
    assert str(failure.value).startswith(f"x.reg:{BODY}:11: expected 1 to 8 hex digits")
    assert str(failure.value).endswith("[R-DWORD-DIGITS] (and 2 more errors)")
    assert failure.value.exit_code == 3


# -- 9. Windows 3.1 format -----------------------------------------------------------------------
CR = "HKEY_CLASSES_ROOT\\Software\\Wine\\regedit_test"


@pytest.mark.parametrize("line, value", [
    (CR + " = Value0", "Value0"), (CR + " =Value1", "Value1"), (CR + " =  Value2", " Value2"),
    (CR + " = Value3 ", "Value3 "), (CR + " Value4", "Value4"), (CR + "  Value5", "Value5"),
    (CR, ""), (CR + "  ", ""), (CR + "\t=\tx", "\tx"),
])
def test_win31_lines_set_the_default_value(line: str, value: str) -> None:
    # import.c:L3516-L3570.
    result = check(ansi("REGEDIT\r\n" + line + "\r\n"), {"": (1, sz(value))}, key=CR)
    assert result.dialect == "win31"
    assert [op.kind for op in result.patch] == [CREATE_KEY, SET_VALUE]


def test_win31_last_line_without_line_end() -> None:
    check(ansi("REGEDIT\r\n" + CR + " = No newline"), {"": (1, sz("No newline"))}, key=CR)


@pytest.mark.parametrize("line, column", [
    (" " + CR + " = Value1a", 2), ("  " + CR + " = Value1b", 3), ("\t" + CR + " = Value1c", 2),
    ("hkey_classes_root\\Software = Value3a", 1), ("hKEY_CLASSES_ROOT\\Software = Value3b", 1),
    ("Hkey_Classes_Root\\Software = Value3c", 1),
])
def test_win31_reads_only_hkey_classes_root_in_column_1(line: str, column: int) -> None:
    # import.c:L3580-L3624.
    result = check(ansi("REGEDIT\r\n" + line + "\r\n"), expected_errors=[(2, column, "R-WIN31-IGNORED")])
    assert len(result.patch) == 0


def test_win31_comment_lines_are_ignored_silently() -> None:
    result = check(ansi("REGEDIT\r\n;" + CR + " = Value2a\r\n#" + CR + " = Value2b\r\n\r\n"))
    assert len(result.patch) == 0


def test_win31_key_must_be_under_a_root() -> None:
    check(ansi("REGEDIT\r\nHKEY_CLASSES_ROOTX\\a = v\r\n"), expected_errors=[(2, 1, "R-WIN31-KEY")])


# -- corpus ------------------------------------------------------------------------------------
@pytest.mark.parametrize("relative", role_params(".reg"))
def test_every_corpus_reg_file_parses(relative: str | None) -> None:
    if relative is None:
        require_corpus()  # fails under CI=true when the corpus is missing
        pytest.skip("the corpus lists no .reg files")
    data = corpus_path(relative).read_bytes()
    result = parsed(data)
    if data.startswith(b"\xff\xfe"):
        assert result.encoding == "utf-16-le"
        text = data[2:].decode("utf-16-le", "replace")
    else:
        assert result.encoding in ("cp1252", "utf-8")
        text = data.decode(result.encoding, "replace")
    line_count = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    assert all(d.line <= line_count for d in result.diagnostics)
    for op in result.patch:
        assert op.key.split("\\", 1)[0] in LONG_ROOT_NAMES
        assert op.origin is not None and 2 <= op.origin.line <= line_count
    print(f"\n{relative}: {result.dialect}, {result.encoding}, {len(result.patch)} operations, "
          f"{len(result.errors)} errors, {len(result.warnings)} warnings")


# -- diagnostics ----------------------------------------------------------------------------------
EXAMPLES = {  # one input per documented code (body lines of v4, unless bytes)
    "R-ENCODING-UTF8": ("REGEDIT4\n[" + K + "]\n\"\u00e9\"=\"x\"\n").encode("utf-8"),
    "R-ENCODING-INVALID": b"\xef\xbb\xbfREGEDIT4\n\xff\n",
    "R-ODD-LENGTH": utf16("REGEDIT4\n") + b"A",
    "R-NUL-CHAR": ("@=\"x\"\0",),
    "R-HEADER-TRAILING-BLANKS": ansi(V5 + " \n"),
    "R-HEADER-IGNORED": ansi("REGEDIT5\n"),
    "R-LINE-IGNORED": ("text",),
    "R-HEX-ORPHAN": ("  00,01",),
    "R-KEY-BLANK": ("[ " + K + "]",),
    "R-KEY-NO-BRACKET": ("[" + K,),
    "R-KEY-TRAILING-TEXT": ("[" + K + "] x",),
    "R-KEY-ROOT": ("[HKEY_X\\a]",),
    "R-KEY-SHORT-ROOT": ("[HKLM\\a]",),
    "R-KEY-TRAILING-BACKSLASH": ("[" + K + "\\]",),
    "R-KEY-EMPTY-COMPONENT": ("[" + K + "\\\\a]",),
    "R-KEY-NAME-LONG": ("[" + K + "\\" + "x" * 256 + "]",),
    "R-KEY-DELETE-ROOT": ("[-HKEY_USERS]",),
    "R-NO-KEY": ("[-" + K + "]", '"a"="b"'),
    "R-NAME-UNTERMINATED": ('"a=1',),
    "R-NAME-NO-EQUALS": ('"a" 1',),
    "R-VALUE-NAME-LONG": ('"' + "n" * 16384 + '"=-',),
    "R-ESCAPE-NUL": ('"a"="\\0"',),
    "R-ESCAPE-UNKNOWN": ('"a"="\\t"',),
    "R-DATA-TYPE": ('"a"=x',),
    "R-KEYWORD-CASE": ('"a"=HEX:00',),
    "R-STRING-UNTERMINATED": ('"a"="b',),
    "R-STRING-TRAILING": ('"a"="b" c',),
    "R-DWORD-DIGITS": ('"a"=dword:',),
    "R-DWORD-TRAILING": ('"a"=dword:1 2',),
    "R-HEX-TYPE": ('"a"=hex(x):00',),
    "R-HEX-BYTE": ('"a"=hex:100',),
    "R-HEX-TRAILING": ('"a"=hex:00 #',),
    "R-HEX-BACKSLASH": ('"a"=hex:00\\',),
    "R-HEX-ODD-UTF16": utf16("REGEDIT4\n[" + K + "]\n\"a\"=hex(2):41\n"),
    "R-HEX-UTF16-IN-ANSI": ('"a"=hex(2):25,00,50,00',),
    "R-CONT-TRAILING": ('"a"=hex:00,\\ x',),
    "R-CONT-BROKEN": ('"a"=hex:00,\\', "x"),
    "R-CONT-EOF": ansi("REGEDIT4\n[" + K + "]\n\"a\"=hex:00,\\"),
    "R-DELETE-TRAILING": ('"a"=- x',),
    "R-WIN31-IGNORED": ansi("REGEDIT\nx\n"),
    "R-WIN31-KEY": ansi("REGEDIT\nHKEY_CLASSES_ROOTS\n"),
}


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_documented_code_occurs(code: str) -> None:
    if code == "R-HEADER":  # the one problem that refuses the whole file
        assert "[R-HEADER]" in header_error(ansi("REGEDIT 5.00\n".lower())).detail
        return
    example = EXAMPLES[code]
    result = parsed(example if isinstance(example, bytes) else v4(*example))
    assert code in [d.code for d in result.diagnostics]


def test_diagnostic_text_names_file_line_column_level_and_code() -> None:
    result = parse_reg(v4("[" + K + "] x", '"a"=x'), "dir/f.reg")
    assert [str(d) for d in result.diagnostics] == [
        f"dir/f.reg:{BODY}:{len(K) + 4}: warning: text after ']' is ignored [R-KEY-TRAILING-TEXT]",
        f"dir/f.reg:{BODY + 1}:5: error: expected '\"string\"', 'dword:', 'hex:', 'hex(N):' or '-' after '=', "
        "found 'x' [R-DATA-TYPE]"]


# -- properties --------------------------------------------------------------------------------
def _escape(text: str) -> str:
    """How names and strings are written (reg-format.md 8.4, 10)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


_TEXT = st.text(st.one_of(st.sampled_from('\\"\n\r =;#[]@-'),
                          st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(name=_TEXT, data=_TEXT)
def test_string_escaping_round_trips_names_and_data(name: str, data: str) -> None:
    """The parse side of the escaping round trip: escaped names and strings read back exactly."""
    text = V5 + "\r\n\r\n[" + K + "]\r\n\"" + _escape(name) + "\"=\"" + _escape(data) + "\"\r\n"
    result = parse_reg_strict(utf16(text))
    assert [(op.name, op.data) for op in result if op.kind == SET_VALUE] == [(name, sz(data))]


@settings(max_examples=200, deadline=None)
@given(name=_TEXT, data=_TEXT, regedit4=st.booleans())
def test_names_and_strings_written_by_the_emitter_read_back(name: str, data: str, regedit4: bool) -> None:
    """parse(emit(p)) == p for names and string data full of backslashes and quotes."""
    emit = pytest.importorskip("hivetool.regfile.emit", reason="the .reg emitter is not in this checkout")
    if regedit4:
        assume(all(text.encode("cp1252", "ignore").decode("cp1252") == text for text in (name, data)))
    patch = Patch()
    patch.create_key(K)
    patch.set_value(K, name, 1, sz(data))
    written = emit.emit_patch(patch, emit.DIALECT_4 if regedit4 else emit.DIALECT_5).finish()
    back = parse_reg_strict(written, utf8_without_bom=False)
    assert [(op.kind, op.key, op.name, op.type, op.data) for op in back] == \
        [(op.kind, op.key, op.name, op.type, op.data) for op in patch]
    # Read with UTF-8 detection, cp1252 bytes that happen to be valid UTF-8 are read as UTF-8,
    # but never silently.
    detected = parse_reg(written)
    if not all(a.same_effect(b) for a, b in zip(detected.patch, patch)):
        assert [d.code for d in detected.warnings] == ["R-ENCODING-UTF8"]


_LINE_PIECES = st.sampled_from(['"', "@", "=", "[", "]", "-", "\\", ",", ";", "#", " ", "\t", "hex:", "hex(",
                                "dword:", "00", "7", "ff", "100", "HKEY_CURRENT_USER", "HKCU", "\\x", "a", "\u00e9"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_LINE_PIECES, max_size=12).map("".join), max_size=12),
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_any_body_parses_without_crashing(lines: list[str], end: str, unicode: bool) -> None:
    text = end.join(["REGEDIT4", "[HKEY_CURRENT_USER\\k]"] + lines)
    data = utf16(text) if unicode else text.encode("cp1252")
    result = parsed(data)
    line_count = len(lines) + 2
    assert all(d.line <= line_count for d in result.diagnostics)
    for op in result.patch:
        assert op.key.split("\\", 1)[0] in LONG_ROOT_NAMES
        assert op.kind in (CREATE_KEY, DELETE_KEY, SET_VALUE, DELETE_VALUE)
    if not result.errors:
        assert len(parse_reg_strict(data)) == len(result.patch)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_fail_with_a_header_error(data: bytes) -> None:
    for candidate in (data, b"REGEDIT4\n" + data, utf16("REGEDIT4\n") + data):
        try:
            parsed(candidate)
        except RegFileError as error:
            assert (error.line, error.col) >= (1, 1)
