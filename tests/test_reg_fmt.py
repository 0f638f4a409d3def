"""`reg fmt` rewrites a .reg file without changing what an import reads, and is idempotent.

The specification: for every file Windows reads without skipping a line, in either dialect and
any of the encodings a .reg file comes in, ``parse(fmt(x))`` holds exactly the operations of
``parse(x)``, byte for byte, and ``fmt(fmt(x)) == fmt(x)``. ``fmt`` is what the command does:
the strict parse, then ``emit_patch`` (reg-format 8). The trap is the NUL an importer adds to
``hex(1)``/``hex(2)``/``hex(7)`` data that does not end in one (reg-format 5.5): data whose
odd stray byte is followed by that added NUL must be written without it, or every pass adds
another.
"""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hivetool.cli import main
from hivetool.regfile.emit import DIALECT_4, DIALECT_5, emit_patch
from hivetool.regfile.parse import ParseResult, parse_reg
from hivetool.regfile.patch import SET_VALUE

ROOT = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Fmt"
V5 = "Windows Registry Editor Version 5.00"


def parsed(data: bytes, ansi_detect_utf8: bool = True) -> ParseResult:
    result = parse_reg(data, "x.reg", utf8_without_bom=ansi_detect_utf8)
    assert result.errors == [], [str(d) for d in result.errors]
    return result


def fmt(data: bytes, dialect: str = DIALECT_5, ansi_detect_utf8: bool = True) -> bytes:
    """What `hivetool reg fmt` writes to a file: the strict parse, then the emitter."""
    writer = emit_patch(parsed(data, ansi_detect_utf8).patch, dialect)
    assert writer.losses == [], [str(loss) for loss in writer.losses]
    return writer.finish()


def effects(result: ParseResult) -> list[tuple]:
    """The operations, without where they came from."""
    return [(op.kind, op.key, op.name, op.type, op.data) for op in result.patch]


def utf16_file(text: str) -> bytes:
    return ("\ufeff" + text).encode("utf-16-le", "surrogatepass")


# ------------------------------------------------------------------------------ the 47-byte regression
# 22 UTF-16 characters and one stray byte: 45 bytes, whose last whole character is no NUL, so
# an importer stores them with one NUL character added: 47 bytes.
ODD_45 = "C:\\Windows\\System32\\x1".encode("utf-16-le") + b"\x41"
ODD_FILE = utf16_file(f"{V5}\r\n\r\n[{ROOT}]\r\n\"Odd\"=hex(2):{ODD_45.hex(',')}\r\n\r\n")


def test_odd_length_string_hex_imports_with_the_same_47_bytes_after_fmt():
    first = parsed(ODD_FILE).patch.ops[-1]
    assert len(ODD_45) == 45 and first.type == 2 and first.data == ODD_45 + b"\0\0"  # 47 bytes
    writer = emit_patch(parsed(ODD_FILE).patch)
    once = writer.finish()
    again = parsed(once).patch.ops[-1]
    assert len(again.data) == 47 and again.data == first.data  # was 49: a NUL more per pass
    assert writer.losses == []  # nothing is lost, so nothing is reported
    assert fmt(once) == once


def test_the_nul_an_importer_added_is_left_out_of_what_is_written():
    from hivetool.regfile.emit import string_hex_written

    stored = ODD_45 + b"\0\0"  # what an import of ODD_FILE stores
    assert string_hex_written(stored) == ODD_45  # the next import adds the NUL back


def test_fmt_command_keeps_the_47_bytes(tmp_path: Path, capsys):
    source = tmp_path / "odd.reg"
    source.write_bytes(ODD_FILE)
    outputs = [tmp_path / "once.reg", tmp_path / "twice.reg"]
    assert main(["reg", "fmt", str(source), "-o", str(outputs[0])]) == 0
    assert main(["reg", "fmt", str(outputs[0]), "-o", str(outputs[1])]) == 0
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    assert len(parsed(outputs[1].read_bytes()).patch.ops[-1].data) == 47
    capsys.readouterr()


def test_data_no_file_can_carry_is_still_reported_as_a_loss():
    from hivetool.regfile.emit import string_hex_written

    # Even-length data ending in no NUL character: every importer adds one (5.5).
    assert string_hex_written("ab".encode("utf-16-le")) is None
    # Odd data whose last two bytes are no NUL pair: nothing an importer could have added.
    assert string_hex_written(b"a\0b") is None


# ------------------------------------------------------------------------------ generated files
# Characters every encoding used here can hold (cp1252 for the ANSI files), no line breaks.
_TEXT = st.characters(codec="cp1252", blacklist_characters="\0\r\n")
KEY_NAME = st.text(_TEXT.filter(lambda ch: ch not in "\\[]"), min_size=1, max_size=12).filter(
    lambda name: name.strip(" \t") == name)
VALUE_NAME = st.text(_TEXT, max_size=12)
HEX_TYPES = [0, 3, 4, 5, 8, 11, 0x10, 0x100, 0xFFFF0011]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _hex_items(data: bytes, wrap: int | None, one_digit: bool) -> str:
    """Hex bytes as a .reg file may hold them: two digits or one, wrapped every ``wrap`` bytes
    with a continuation backslash, or on one line."""
    items = [f"{b:x}" if one_digit and b < 16 else f"{b:02x}" for b in data]
    if not wrap:
        return ",".join(items)
    lines = [",".join(items[at:at + wrap]) for at in range(0, len(items), wrap)]
    return ",\\\r\n  ".join(lines)


@st.composite
def value_lines(draw) -> str:
    name = draw(st.one_of(st.just("@"), VALUE_NAME.map(_quoted)))
    form = draw(st.sampled_from(["string", "dword", "hex", "string-hex", "delete"]))
    if form == "delete":
        return f"{name}=-"
    if form == "string":
        return f"{name}={_quoted(draw(st.text(_TEXT, max_size=20)))}"
    if form == "dword":
        return f"{name}=dword:{draw(st.integers(0, 0xFFFFFFFF)):0{draw(st.integers(1, 8))}x}"
    wrap = draw(st.one_of(st.none(), st.integers(1, 9)))
    one_digit = draw(st.booleans())
    if form == "hex":
        value_type = draw(st.sampled_from(HEX_TYPES))
        tag = "hex:" if value_type == 3 and draw(st.booleans()) else f"hex({value_type:x}):"
        return f"{name}={tag}{_hex_items(draw(st.binary(max_size=40)), wrap, one_digit)}"
    # hex(1)/hex(2)/hex(7): odd and even lengths, embedded and trailing NULs, UTF-16-looking bytes.
    value_type = draw(st.sampled_from([1, 2, 7]))
    data = draw(st.one_of(
        st.binary(max_size=30),
        st.lists(st.sampled_from([b"\0", b"\0\0", b"a\0", b"b", b"\xe9\0", b"\x81"]), max_size=12).map(b"".join),
    ))
    return f"{name}=hex({value_type}):{_hex_items(data, wrap, one_digit)}"


@st.composite
def reg_files(draw) -> tuple[str, bytes]:
    """A file Windows reads without skipping a line: (its kind, its bytes)."""
    kind = draw(st.sampled_from(["utf-16", "regedit4-ansi", "v5-ansi", "utf-8-bom"]))
    lines = ["REGEDIT4" if kind == "regedit4-ansi" else V5, ""]
    for _ in range(draw(st.integers(0, 5))):
        path = "\\".join([ROOT] + draw(st.lists(KEY_NAME, min_size=0, max_size=3)))
        if draw(st.integers(0, 5)) == 0:
            lines += [f"[-{path}]", ""]
            continue
        lines.append(f"[{path}]")
        lines += draw(st.lists(value_lines(), max_size=5))
        lines.append("")
    text = "\r\n".join(lines) + "\r\n"
    if kind == "utf-16":
        return kind, utf16_file(text)
    if kind == "utf-8-bom":
        return kind, b"\xef\xbb\xbf" + text.encode("utf-8")
    return kind, text.encode("cp1252", "hivetool-windows-ansi")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reg_files())
def test_fmt_keeps_what_an_import_reads_and_is_idempotent(case):
    kind, data = case
    ansi = kind.endswith("-ansi")
    original = parsed(data, not ansi)  # ANSI files stay ANSI: no accidental UTF-8 reading
    once = fmt(data, ansi_detect_utf8=not ansi)
    assert effects(parsed(once)) == effects(original)
    assert fmt(once) == once
    if kind == "regedit4-ansi":
        # Back to REGEDIT4 in the same code page: also exact, and idempotent.
        ansi_once = fmt(data, DIALECT_4, ansi_detect_utf8=False)
        assert effects(parsed(ansi_once, False)) == effects(original)
        assert fmt(ansi_once, DIALECT_4, ansi_detect_utf8=False) == ansi_once


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([1, 2, 7]), st.binary(max_size=40))
def test_every_string_hex_value_an_import_can_store_is_written_back_exactly(value_type, raw):
    # Whatever hex bytes a UTF-16 file holds, the stored value written back reads the same.
    data = utf16_file(f"{V5}\r\n\r\n[{ROOT}]\r\n@=hex({value_type}):{raw.hex(',')}\r\n")
    stored = [op for op in parsed(data).patch if op.kind == SET_VALUE][0].data
    once = fmt(data)
    assert [op.data for op in parsed(once).patch if op.kind == SET_VALUE] == [stored]
    assert fmt(once) == once
