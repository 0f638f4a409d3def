"""Desired-state files: the TOML schema, .reg files as states, and "later wins" across files.

Every error is exit 3 and starts with ``file:line`` (the line of the field at fault, else of the
item's ``[[...]]`` header); contradictions inside one TOML file name both lines.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hivetool.errors import EXIT_MALFORMED, RegFileError
from hivetool.regf.records.types import RegType, encode_multi, encode_text
from hivetool.state import ABSENT, EXACT, KEY, PORTS, VALUE, StateError, load_states

SW = r"HKLM\SOFTWARE\Vendor\App"
LONG_SW = r"HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App"


def write(tmp_path: Path, text: str, name: str = "state.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load(tmp_path: Path, text: str, name: str = "state.toml"):
    return load_states([write(tmp_path, text, name)])


def value_toml(data: str, extra: str = "", name: str = "v") -> str:
    return f"[[value]]\npath = '{SW}'\nname = \"{name}\"\n{extra}data = {data}\n"


def reg_file(tmp_path: Path, body: str, name: str = "state.reg") -> str:
    path = tmp_path / name
    path.write_bytes(("Windows Registry Editor Version 5.00\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-16"))
    return str(path)


# ---------------------------------------------------------------------------- values and types
@pytest.mark.parametrize("data, extra, value_type, raw", [
    ("1225", "", RegType.DWORD, struct.pack("<I", 1225)),
    ("0xffffffff", "", RegType.DWORD, b"\xff\xff\xff\xff"),
    ("'text'", "", RegType.SZ, encode_text("text")),
    ("['a', 'b']", "", RegType.MULTI_SZ, encode_multi(["a", "b"])),
    ("[]", "", RegType.MULTI_SZ, b"\0\0"),
    ("1225", "type = 'dword_be'\n", RegType.DWORD_BIG_ENDIAN, struct.pack(">I", 1225)),
    ("18446744073709551615", "type = 'qword'\n", RegType.QWORD, b"\xff" * 8),
    ("5", "type = 'qword'\n", RegType.QWORD, struct.pack("<Q", 5)),
    ("'%SystemRoot%'", "type = 'expand_sz'\n", RegType.EXPAND_SZ, encode_text("%SystemRoot%")),
    ("'\\Registry\\Machine'", "type = 'link'\n", RegType.LINK, encode_text("\\Registry\\Machine")),
    ("'01 02 ab'", "type = 'binary'\n", RegType.BINARY, b"\x01\x02\xab"),
    ("'01,02,ab'", "type = 'binary'\n", RegType.BINARY, b"\x01\x02\xab"),
    ("'0102ab'", "type = 'binary'\n", RegType.BINARY, b"\x01\x02\xab"),
    ("''", "type = 'none'\n", RegType.NONE, b""),
    ("'beef'", "type = 0x4000\n", 0x4000, b"\xbe\xef"),
    ("'beef'", "type = '0x4000'\n", 0x4000, b"\xbe\xef"),
    ("7", "type = 4\n", RegType.DWORD, struct.pack("<I", 7)),
    ("'x'", "type = 'REG_SZ'\n", RegType.SZ, encode_text("x")),
    ("'01 02'", "type = 8\n", RegType.RESOURCE_LIST, b"\x01\x02"),
])
def test_value_types_and_data(tmp_path, data, extra, value_type, raw):
    state = load(tmp_path, value_toml(data, extra))
    (item,) = state.items
    assert (item.kind, item.path, item.name, item.type, item.data) == (VALUE, LONG_SW, "v", value_type, raw)
    assert str(item.origin).endswith("state.toml:1")


@pytest.mark.parametrize("name", ["", "@"])
def test_empty_name_and_at_are_the_default_value(tmp_path, name):
    (item,) = load(tmp_path, value_toml("1", name=name)).items
    assert item.name == ""


def test_short_and_long_roots_are_one_path(tmp_path):
    text = value_toml("1") + f"[[value]]\npath = '{LONG_SW.lower()}'\nname = 'V'\ndata = 1\n"
    state = load(tmp_path, text)
    assert len(state.items) == 1  # the exact repeat is folded, with a warning
    assert "repeats line 1" in state.warnings[0]


def test_absent_and_key_items(tmp_path):
    text = (f"[[absent]]\npath = '{SW}\\Old'\n\n[[absent]]\npath = '{SW}'\nname = 'gone'\n\n"
            f"[[key]]\npath = 'HKCU\\Software\\Vendor'\n")
    kinds = [(i.kind, i.path, i.name, i.origin.line) for i in load(tmp_path, text).items]
    assert kinds == [(ABSENT, LONG_SW + "\\Old", None, 1), (ABSENT, LONG_SW, "gone", 4),
                     (KEY, r"HKEY_CURRENT_USER\Software\Vendor", None, 8)]


def test_ports_item(tmp_path):
    text = "[[ports]]\nprofile = 'exchange55'\nds = 1225\nis = '1226'\nos = 'nt4'\n"
    (item,) = load(tmp_path, text).items
    assert item.kind == PORTS and item.ports.profile == "exchange55" and item.ports.os == "nt4"
    assert [(s.name, s.text, s.origin.line) for s in item.ports.settings] == [("ds", "1225", 3), ("is", "1226", 4)]


def test_port_pool_as_a_list(tmp_path):
    (item,) = load(tmp_path, "[[ports]]\nprofile = 'rpc-internet'\nports = [5000, '5100-5200']\n").items
    assert item.ports.settings[0].text == "5000,5100-5200"


def test_lines_survive_strings_and_arrays_that_look_like_headers(tmp_path):
    text = ("# [[value]] in a comment\n"
            "[[value]]\npath = 'HKLM\\SOFTWARE\\A'\nname = 'doc'\ndata = '''\n[[value]]\n'''\n"
            "[[value]]\npath = 'HKLM\\SOFTWARE\\A'\nname = 'list'\ndata = [\n  '[[value]]',\n  \"]\",\n]\n"
            "[[value]]\npath = 'HKLM\\SOFTWARE\\A'\nname = 'bad'\ndata = true\n")
    err = _error(tmp_path, text)
    assert err.line == 18 and "boolean" in str(err)


# ---------------------------------------------------------------------------- errors
def _error(tmp_path: Path, text: str, name: str = "state.toml") -> StateError:
    path = write(tmp_path, text, name)
    with pytest.raises(StateError) as caught:
        load_states([path])
    err = caught.value
    assert err.exit_code == EXIT_MALFORMED
    assert str(err).startswith(f"{path}:{err.line}")
    return err


VALUE_HEAD = f"[[value]]\npath = '{SW}'\nname = 'v'\n"  # data goes on line 4


@pytest.mark.parametrize("text, line, words", [
    (VALUE_HEAD + "data = true\n", 4, "boolean"),
    (VALUE_HEAD + "data = -1\n", 4, "negative"),
    (VALUE_HEAD + "data = 4294967296\n", 4, 'type = "qword"'),
    (VALUE_HEAD + "type = 'dword'\ndata = 4294967296\n", 5, "does not fit REG_DWORD"),
    (VALUE_HEAD + "type = 'dword_be'\ndata = -5\n", 5, "does not fit REG_DWORD_BIG_ENDIAN"),
    (VALUE_HEAD + "type = 'qword'\ndata = 18446744073709551616\n", 5, "does not fit REG_QWORD"),
    (VALUE_HEAD + "type = 'dword'\ndata = true\n", 5, "must be an integer, not a boolean"),
    (VALUE_HEAD + "type = 'dword'\ndata = '5'\n", 5, "must be an integer, not a string"),
    (VALUE_HEAD + "data = 1.5\n", 4, "float"),
    (VALUE_HEAD + "data = 1979-05-27\n", 4, "date"),
    (VALUE_HEAD + "data = { a = 1 }\n", 4, "table"),
    (VALUE_HEAD + "type = 'sz'\ndata = 5\n", 5, "must be a string"),
    (VALUE_HEAD + "data = ['a', 1]\n", 4, "array holding an integer"),
    (VALUE_HEAD + 'data = ["a\\u0000b"]\n', 4, "NUL"),
    (VALUE_HEAD + "type = 'binary'\ndata = 'zz'\n", 5, "not hex bytes"),
    (VALUE_HEAD + "type = 'binary'\ndata = 1\n", 5, "hex bytes in a string"),
    (VALUE_HEAD + "type = 'word'\ndata = 1\n", 4, "unknown value type"),
    (VALUE_HEAD + "type = true\ndata = 1\n", 4, "type must be"),
    (VALUE_HEAD + "type = 4294967296\ndata = '00'\n", 4, "32 bits"),
    (VALUE_HEAD + "data = 1\ncolour = 'red'\n", 5, "unknown field 'colour'"),
    (VALUE_HEAD + "data = 1\n[value.more]\nx = 1\n", 5, "unknown field 'more'"),
    (VALUE_HEAD, 1, "needs data"),
    (f"[[value]]\npath = '{SW}'\ndata = 1\n", 1, "needs name"),
    ("[[value]]\nname = 'v'\ndata = 1\n", 1, "needs path"),
    ("[[value]]\npath = 5\nname = 'v'\ndata = 1\n", 2, "path must be a string"),
    ("[[value]]\npath = 'HKXX\\SOFTWARE'\nname = 'v'\ndata = 1\n", 2, "registry root"),
    ("[[value]]\npath = 'HKLM\\SOFTWARE\\\\X'\nname = 'v'\ndata = 1\n", 2, "empty component"),
    ("[[value]]\npath = 'HKLM'\nname = 'v'\ndata = 1\n", 2, "holds hives"),
    ("[[absent]]\npath = 'HKLM\\SOFTWARE'\nname = 5\n", 3, "name must be a string"),
    ("[[key]]\npath = 'HKLM\\SOFTWARE'\nname = 'v'\n", 3, "unknown field 'name'"),
    ("[[values]]\npath = 'x'\n", 1, "unknown table or key 'values'"),
    ("version = 1\n[[key]]\npath = 'HKLM\\SOFTWARE'\n", 1, "unknown table or key 'version'"),
    ("[[key]]\npath = 'HKLM\\SOFTWARE'\n[value]\npath = 'x'\n", 3, "write [[value]]"),
    ("value = [{ path = 'HKLM\\SOFTWARE', name = 'v', data = 1 }]\n", 1, "inline array"),
    ("[[key]]\npath = 'HKLM\\SOFTWARE'\n\n[[value]]\npath = \n", 5, "TOML syntax: invalid value"),
    ("[[key]]\npath = 'HKLM\\SOFTWARE\n", 2, "TOML syntax"),
    ("[[ports]]\nprofile = 'exchange99'\nds = 1225\n", 2, "unknown profile 'exchange99'"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\nxx = 1300\n", 4, "has no setting 'xx'"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 'abc'\n", 3, "a port is a decimal number"),
    ("[[ports]]\nprofile = 'exchange55'\nds = true\n", 3, "boolean"),
    ("[[ports]]\nprofile = 'exchange55'\n", 2, "sets nothing"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\nos = 'win95'\n", 4, "os must be one of"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\nforce = 'yes'\n", 4, "force must be true or false"),
    ("[[ports]]\nds = 1225\n", 1, "needs profile"),
    ("[[ports]]\nprofile = 'rpc-internet'\navailable = 'maybe'\n", 3, "use Y or N"),
])
def test_errors_name_file_line_and_exit_3(tmp_path, text, line, words):
    err = _error(tmp_path, text)
    assert err.line == line, str(err)
    assert words in str(err), str(err)


def test_toml_syntax_error_has_line_and_column(tmp_path):
    err = _error(tmp_path, "[[key]]\npath = 'HKLM\\SOFTWARE'\nname == 1\n")
    assert (err.line, err.col) == (3, 7)  # as tomllib counts
    assert str(err).endswith("3:7: TOML syntax: invalid value")


def test_not_utf8(tmp_path):
    path = tmp_path / "state.toml"
    path.write_bytes(b"[[key]]\npath = 'HKLM\\SOFTWARE\\\xe9'\n")
    with pytest.raises(StateError, match=r"state\.toml:2: not UTF-8"):
        load_states([str(path)])


def test_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "state.toml"
    path.write_bytes(b"\xef\xbb\xbf[[key]]\npath = 'HKLM\\SOFTWARE\\X'\n")
    assert load_states([str(path)]).items[0].origin.line == 1


# ---------------------------------------------------------------------------- conflicts in one file
@pytest.mark.parametrize("text, lines, words", [
    (VALUE_HEAD + "data = 1\n\n" + VALUE_HEAD + "data = 2\n", (1, 6), "REG_DWORD 2 here, REG_DWORD 1 there"),
    (VALUE_HEAD + "data = 1\n\n" + VALUE_HEAD + "data = '1'\n", (1, 6), "REG_SZ"),
    (VALUE_HEAD + "data = 1\n\n[[absent]]\npath = '" + LONG_SW.lower() + "'\nname = 'V'\n", (1, 6), "forbids"),
    (VALUE_HEAD + "data = 1\n\n[[absent]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n", (1, 6), "must not exist"),
    ("[[absent]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n\n" + VALUE_HEAD + "data = 1\n", (1, 4), "must not exist"),
    ("[[key]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n[[absent]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n", (1, 3),
     "must not exist"),
    ("[[key]]\npath = 'HKLM\\SOFTWARE\\Vendor\\A\\B'\n[[absent]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n", (1, 3),
     "must not exist"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\n[[ports]]\nprofile = 'exchange55'\nds = 1300\n", (3, 6),
     "REG_DWORD 1300 here, REG_DWORD 1225 there"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\n[[value]]\n"
     "path = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS\\Parameters'\nname = 'TCP/IP Port'\ndata = 9\n",
     (3, 4), "contradicts"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\n[[absent]]\n"
     "path = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeDS'\n", (3, 4), "must not exist"),
    ("[[ports]]\nprofile = 'exchange55'\nds = 1225\nos = 'nt4'\n[[ports]]\nprofile = 'exchange55'\nis = 1300\n"
     "os = '2000'\n", (1, 5), "os = '2000' contradicts line 1"),
])
def test_contradictions_in_one_file_name_both_lines(tmp_path, text, lines, words):
    err = _error(tmp_path, text)
    first, second = lines
    assert err.line == second, str(err)
    assert f"line {first}" in str(err), str(err)
    assert words in str(err), str(err)


def test_exact_repeats_are_allowed_with_a_warning(tmp_path):
    text = (VALUE_HEAD + "data = 1\n" + VALUE_HEAD + "data = 1\n"
            "[[absent]]\npath = 'HKLM\\SOFTWARE\\Old'\n[[absent]]\npath = 'HKLM\\SOFTWARE\\old'\n"
            "[[absent]]\npath = 'HKLM\\SOFTWARE\\Old\\Deeper'\n"
            "[[key]]\npath = 'HKLM\\SOFTWARE\\K'\n[[key]]\npath = 'HKLM\\SOFTWARE\\K'\n")
    state = load(tmp_path, text)
    assert [(i.kind, i.origin.line) for i in state.items] == [(VALUE, 5), (ABSENT, 11), (KEY, 17)]
    assert len(state.warnings) == 4
    assert any("adds nothing: line 9" in w for w in state.warnings)


# ---------------------------------------------------------------------------- later files win
def test_a_later_value_replaces_an_earlier_one(tmp_path):
    base = write(tmp_path, VALUE_HEAD + "data = 1\n", "base.toml")
    site = write(tmp_path, f"[[value]]\npath = '{LONG_SW.upper()}'\nname = 'V'\ndata = 'two'\n", "site.toml")
    (item,) = load_states([base, site]).items
    assert (item.type, item.data, item.origin.path) == (RegType.SZ, encode_text("two"), site)


def test_a_later_absent_drops_what_is_inside(tmp_path):
    base = write(tmp_path, VALUE_HEAD + "data = 1\n[[key]]\npath = 'HKLM\\SOFTWARE\\Vendor\\App\\Sub'\n"
                 "[[value]]\npath = 'HKLM\\SOFTWARE\\Other'\nname = 'keep'\ndata = 1\n", "base.toml")
    site = write(tmp_path, "[[absent]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n", "site.toml")
    items = load_states([base, site]).items
    assert [(i.kind, i.path) for i in items] == [(VALUE, r"HKEY_LOCAL_MACHINE\SOFTWARE\Other"),
                                                 (ABSENT, r"HKEY_LOCAL_MACHINE\SOFTWARE\Vendor")]


def test_a_later_absent_value_drops_the_value(tmp_path):
    base = write(tmp_path, VALUE_HEAD + "data = 1\n", "base.toml")
    site = write(tmp_path, f"[[absent]]\npath = '{SW}'\nname = 'v'\n", "site.toml")
    (item,) = load_states([base, site]).items
    assert (item.kind, item.name, item.origin.path) == (ABSENT, "v", site)


def test_a_later_value_inside_an_absent_key_makes_it_exact(tmp_path):
    base = write(tmp_path, "[[absent]]\npath = 'HKLM\\SOFTWARE\\Vendor'\n", "base.toml")
    site = write(tmp_path, VALUE_HEAD + "data = 1\n", "site.toml")
    items = load_states([base, site]).items
    assert [(i.kind, i.path, i.origin.path) for i in items] == [
        (EXACT, r"HKEY_LOCAL_MACHINE\SOFTWARE\Vendor", base), (VALUE, LONG_SW, site)]


def test_ports_merge_across_files_and_values_override_settings(tmp_path):
    base = write(tmp_path, "[[ports]]\nprofile = 'exchange55'\nds = 1225\nis = 1226\nsa = 1227\nos = 'nt4'\n",
                 "base.toml")
    site = write(tmp_path, "[[ports]]\nprofile = 'exchange55'\nis = 1300\n"
                 "[[absent]]\npath = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeSA\\Parameters'\n"
                 "name = 'tcp/ip PORT'\n", "site.toml")
    items = load_states([base, site]).items
    ports = next(i for i in items if i.kind == PORTS)
    assert [(s.name, s.text, s.origin.path) for s in ports.ports.settings] == [("ds", "1225", base),
                                                                               ("is", "1300", site)]
    assert ports.ports.os == "nt4"  # the later item did not say: the earlier choice stands
    assert [i.kind for i in items] == [PORTS, ABSENT]


# ---------------------------------------------------------------------------- .reg files as states
def test_reg_operations_become_items(tmp_path):
    path = reg_file(tmp_path, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\"s\"=\"text\"\n\"d\"=dword:0000002a\n"
                    "\"gone\"=-\n\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Old]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Empty]\n")
    items = load_states([path]).items
    assert [(i.kind, i.path.rpartition("\\")[2], i.name, i.origin.line) for i in items] == [
        (VALUE, "A", "s", 4), (VALUE, "A", "d", 5), (ABSENT, "A", "gone", 6), (ABSENT, "Old", None, 8),
        (KEY, "Empty", None, 10)]  # the section line of A is implied by its values
    assert items[1].data == struct.pack("<I", 42)


def test_reg_delete_then_recreate_is_an_exact_key(tmp_path):
    path = reg_file(tmp_path, "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n"
                    "\"x\"=dword:00000001\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\Sub]\n")
    items = load_states([path]).items
    assert [(i.kind, i.path.partition("SOFTWARE\\")[2], i.name) for i in items] == [
        (EXACT, "A", None), (VALUE, "A", "x"), (KEY, "A\\Sub", None)]


def test_reg_later_lines_win_and_a_deleted_value_keeps_its_key(tmp_path):
    path = reg_file(tmp_path, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\"x\"=dword:00000001\n\"x\"=-\n")
    items = load_states([path]).items
    assert [(i.kind, i.name) for i in items] == [(KEY, None), (ABSENT, "x")]


def test_reg_errors_are_strict_with_file_line_col(tmp_path):
    path = reg_file(tmp_path, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\"x\"=dword:xyz\n")
    with pytest.raises(RegFileError) as caught:
        load_states([path])
    assert caught.value.exit_code == EXIT_MALFORMED
    assert str(caught.value).startswith(f"{path}:4:")


def test_reg_recognised_by_content_and_utf8(tmp_path):
    path = tmp_path / "state"
    path.write_bytes(b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\A]\r\n"
                     b"\"x\"=\"\xc3\xa9\"\r\n")
    state = load_states([str(path)])
    assert state.items[0].data == encode_text("é")
    assert any("R-ENCODING-UTF8" in w for w in state.warnings)


def test_toml_after_reg_wins(tmp_path):
    reg = reg_file(tmp_path, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\n\"v\"=dword:00000001\n")
    toml = write(tmp_path, VALUE_HEAD + "data = 2\n")
    (item,) = load_states([reg, toml]).items
    assert item.data == struct.pack("<I", 2)


def test_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(Exception) as caught:
        load_states([str(tmp_path / "nope.toml")])
    assert caught.value.exit_code == 6


def test_state_json_is_plain_data(tmp_path):
    import json

    state = load(tmp_path, VALUE_HEAD + "data = ['a']\n[[ports]]\nprofile = 'exchange55'\nds = 1225\n")
    document = state.to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["items"][0]["value"] == {"type": "REG_MULTI_SZ", "type_id": 7, "data": ["a"],
                                             "raw": encode_multi(["a"]).hex()}


def test_fold_rules_in_a_reg_script(tmp_path):
    sw = "HKEY_LOCAL_MACHINE\\SOFTWARE\\"
    body = (f"[{sw}A\\B]\n\"x\"=dword:00000001\n\n[-{sw}A\\B]\n\n"  # created, then deleted: nothing of A is kept
            f"[-{sw}C]\n\n[-{sw}C\\D]\n\n"  # an absence inside an absent key adds nothing
            f"[-{sw}E]\n\n[{sw}E\\F]\n\n[-{sw}E\\F]\n\n[{sw}E\\F\\G]\n")  # exact keys nest
    items = load_states([reg_file(tmp_path, body)]).items
    assert [(i.kind, i.path.removeprefix(sw)) for i in items] == [
        (ABSENT, "A\\B"), (ABSENT, "C"), (EXACT, "E"), (EXACT, "E\\F"), (KEY, "E\\F\\G")]


def test_reg_header_that_imports_nothing_is_refused(tmp_path):
    path = tmp_path / "state.reg"
    path.write_bytes(b"REGEDIT5\r\n\r\n[HKEY_CURRENT_USER\\Software\\A]\r\n")
    with pytest.raises(RegFileError, match="R-HEADER-IGNORED"):
        load_states([str(path)])


def test_an_empty_file_is_a_warning(tmp_path):
    state = load(tmp_path, "# nothing yet\n")
    assert state.items == [] and state.warnings == [f"{tmp_path / 'state.toml'}: declares nothing"]
