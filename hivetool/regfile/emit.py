"""Writing .reg text exactly as regedit exports it (reg-format.md sections 7 and 8).

Layout: header line; then for every key a blank line, ``[path]`` and one line per value;
then one more blank line. Lines end in CRLF. ``Windows Registry Editor Version 5.00`` files
are UTF-16LE with a BOM; ``REGEDIT4`` files are in an ANSI code page.

Values are written the way regedit writes them (``"..."`` for REG_SZ, ``dword:%08x`` for a
4-byte REG_DWORD, ``hex:``/``hex(N):`` for everything else, hex wrapped by the rule of 8.1),
with one difference by default: where regedit's form would change the bytes (a REG_SZ with
an embedded NUL, no terminator or an odd length), the exact bytes are written as ``hex(1):``.
``regedit_compat`` turns that off and reproduces regedit's lossy output.

Some data no .reg file can carry exactly; every such case is recorded as a :class:`Loss`
so the caller can say so (see :func:`string_hex_survives`).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import RefusedUnsafe
from ..utf16 import decode_le, encode_le
from .encoding import windows_ansi_errors
from .patch import CREATE_KEY, DELETE_KEY, DELETE_VALUE, SET_VALUE, Patch

DIALECT_5 = "5.00"
DIALECT_4 = "REGEDIT4"
HEADERS = {DIALECT_5: "Windows Registry Editor Version 5.00", DIALECT_4: "REGEDIT4"}
CRLF = "\r\n"
BOM = "\ufeff"

REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ = 1, 2, 3, 4, 7
STRING_HEX_TYPES = (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ)  # importers re-terminate these (5.5)

WRAP_COLUMN = 77  # a hex line breaks once the column counter reaches 77 (8.1)
CONTINUATION_INDENT = "  "
BYTES_PER_CONTINUATION = 25  # (77 - 2) / 3: every continuation line holds 25 bytes
# Text is encoded and handed on in pieces of about this many characters, so that a file of any
# size (a deep chain's key lines alone grow with the square of its depth) never has to be held
# whole, once as text and again as bytes.
CHUNK_CHARS = 1 << 20


@dataclass(frozen=True)
class Loss:
    """Something the written file does not carry exactly, and why."""

    key: str
    name: str | None
    reason: str

    def __str__(self) -> str:
        return f"{where(self.key, self.name)}: {self.reason}"


def where(key: str, name: str | None) -> str:
    """``KEY`` or ``KEY 'value'`` (``KEY @`` for the default value), for messages."""
    if name is None:
        return key
    return f"{key} " + ("@" if name == "" else repr(name))


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units, the unit regedit counts columns in (8.1)."""
    if text.isascii():
        return len(text)
    return len(encode_le(text)) // 2


def escape(text: str) -> str:
    """regedit escapes these four in value names and string data (8.4; CR/LF as Wine, 10).
    (A chain of replace() is several times faster than str.translate here.)"""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")


def hex_body(data: bytes, column: int) -> str:
    """Comma-separated bytes, wrapped as regedit wraps them (8.1).

    ``column`` is what the line already holds (name prefix and ``hex...:``). After each byte
    but the last, the counter grows by 3 and the line breaks once it reaches 77; a
    continuation line starts at column 2, so it holds exactly 25 bytes.
    """
    count = len(data)
    if count == 0:
        return ""
    # Smallest k >= 1 with column + 3k >= 77: the bytes that fit the first line.
    first = max(1, -(-(WRAP_COLUMN - column) // 3))
    if count <= first:
        return data.hex(",")
    chunks = [data[:first].hex(",")]
    for start in range(first, count, BYTES_PER_CONTINUATION):
        chunks.append(data[start : start + BYTES_PER_CONTINUATION].hex(","))
    return (",\\" + CRLF + CONTINUATION_INDENT).join(chunks)


def string_hex_survives(data: bytes) -> bool:
    """Whether ``hex(1)``/``hex(2)``/``hex(7)`` data in a UTF-16 file reads back unchanged:
    importers add one NUL character unless the last whole character already is one
    (reg-format 5.5), so an odd trailing byte after a NUL character survives too."""
    whole = len(data) & ~1
    return not data or (whole >= 2 and data[whole - 2 : whole] == b"\0\0")


def string_hex_written(data: bytes) -> bytes | None:
    """The bytes to write after ``hex(1)``/``hex(2)``/``hex(7)`` in a UTF-16 file so that an
    importer stores exactly ``data``, or None when no bytes do (reg-format 5.5).

    Data that survives the terminator rule is written as it is. Odd-length data whose last two
    bytes are the NUL character an importer added (it follows a stray odd byte, so it is not on
    a character boundary) is written without them: the importer adds them back. Writing it whole
    would make each import add another NUL, so ``reg fmt`` would grow the value on every pass.
    """
    if string_hex_survives(data):
        return data
    if len(data) % 2 and data.endswith(b"\0\0") and not string_hex_survives(data[:-2]):
        return data[:-2]
    return None


@dataclass
class RegWriter:
    """Builds a .reg file line by line; :meth:`finish` returns the encoded bytes.

    ``codepage`` is used for REGEDIT4 only. In REGEDIT4, text that the code page cannot hold
    is refused (RefusedUnsafe) unless ``regedit_compat``, which writes ``?`` as Windows does.
    """

    dialect: str = DIALECT_5
    regedit_compat: bool = False
    codepage: str = "cp1252"
    losses: list[Loss] = field(default_factory=list)
    keys: int = 0
    values: int = 0

    def __post_init__(self) -> None:
        if self.dialect not in HEADERS:
            raise ValueError(f"unknown .reg dialect {self.dialect!r}")
        self.ansi = self.dialect == DIALECT_4
        # What an importer reads back as the same text, undefined bytes of the code page included.
        self._errors = windows_ansi_errors(self.codepage) if self.ansi else "strict"
        self._parts: list[str] = [HEADERS[self.dialect] + CRLF]
        self.pending = len(self._parts[0])  # characters written since the last take()
        self._taken = False  # whether take() handed out the start of the file

    # ------------------------------------------------------------------ text checks
    def _text(self, text: str, key: str, name: str | None, what: str) -> str:
        """``text`` as it can be written: in REGEDIT4 it must fit the code page."""
        if not self.ansi or text.isascii():
            return text
        try:
            encoded = text.encode(self.codepage, self._errors)
        except UnicodeEncodeError as err:
            bad = text[err.start : err.end]
            if not self.regedit_compat:
                raise RefusedUnsafe(
                    f"{where(key, name)}: the {what} holds {bad!r}, which code page {self.codepage} cannot represent; "
                    "write Windows Registry Editor 5.00 (drop --regedit4), or accept '?' with --regedit-compat"
                ) from None
            self.losses.append(Loss(key, name, f"{what}: characters outside {self.codepage} written as '?'"))
            return text.encode(self.codepage, "replace").decode(self.codepage)
        if encoded.decode(self.codepage, self._errors) != text:
            self.losses.append(Loss(key, name, f"{what} changes in code page {self.codepage}"))
        return text

    # ------------------------------------------------------------------ lines
    def _put(self, text: str) -> None:
        self._parts.append(text)
        self.pending += len(text)

    def key(self, path: str) -> None:
        self._check_key(path)
        self.keys += 1
        self._put(f"{CRLF}[{self._text(path, path, None, 'key path')}]{CRLF}")

    def delete_key(self, path: str) -> None:
        self._check_key(path)
        self._put(f"{CRLF}[-{self._text(path, path, None, 'key path')}]{CRLF}")

    def _check_key(self, path: str) -> None:
        if "\r" in path or "\n" in path:
            raise RefusedUnsafe(f"key {path!r}: a line break in a key name cannot be written to a .reg file")
        if "\0" in path:
            self.losses.append(Loss(path, None, "key name holds a NUL character, which Windows cannot import"))

    def _prefix(self, key: str, name: str) -> str:
        if name == "":
            return "@="
        if "\0" in name:
            if self.regedit_compat:
                cut = name.split("\0", 1)[0]
                self.losses.append(Loss(key, name, "value name cut at its NUL character, as regedit does"))
                return f'"{escape(self._text(cut, key, name, "value name"))}"=' if cut else "@="
            self.losses.append(Loss(key, name, "value name holds a NUL character, which Windows cannot import"))
        return f'"{escape(self._text(name, key, name, "value name"))}"='

    def value(self, key: str, name: str, value_type: int, data: bytes) -> None:
        """One value line (wrapped over several for long hex data)."""
        self.values += 1
        if name == "":
            prefix = "@="
        elif "\0" in name or (self.ansi and not name.isascii()):
            prefix = self._prefix(key, name)
        else:
            prefix = '"' + escape(name) + '"='
        self._put(prefix + self._data(key, name, value_type, data, prefix) + CRLF)

    def delete_value(self, key: str, name: str) -> None:
        self._put(self._prefix(key, name) + "-" + CRLF)

    def comment(self, text: str) -> None:
        """``;`` comment lines, one per line of ``text`` (importers and regedit skip them)."""
        for line in text.splitlines() or [""]:
            self._put(f"; {self._text(line, line, None, 'comment')}{CRLF}")

    def _data(self, key: str, name: str, value_type: int, data: bytes, prefix: str) -> str:
        if value_type == REG_DWORD and len(data) == 4:
            return f"dword:{int.from_bytes(data, 'little'):08x}"
        if value_type == REG_SZ:
            text = self._sz_text(key, name, data)
            if text is not None:
                return f'"{escape(text)}"'
        if value_type in STRING_HEX_TYPES:
            data = self._string_bytes(key, name, value_type, data)
        tag = "hex:" if value_type == REG_BINARY else f"hex({value_type:x}):"
        return tag + hex_body(data, utf16_units(prefix) + len(tag))

    def _sz_text(self, key: str, name: str, data: bytes) -> str | None:
        """The quoted-string text for REG_SZ data, or None when only hex keeps it exact."""
        whole = decode_le(data[: len(data) & ~1])
        text = whole.split("\0", 1)[0]
        exact = len(data) % 2 == 0 and whole == text + "\0"
        if exact and (not self.ansi or self._fits(text)):
            return text
        if self.regedit_compat:
            if not exact:
                # regedit writes the characters before the first NUL and drops the rest (8.5).
                self.losses.append(Loss(key, name, "REG_SZ written as a string, as regedit does: "
                                        f"{len(data)} bytes become {2 * len(text) + 2}"))
            return self._text(text, key, name, "string")
        return None

    def _fits(self, text: str) -> bool:
        """Whether ``text`` survives the round trip through the ANSI code page."""
        if text.isascii():
            return True
        try:
            return text.encode(self.codepage, self._errors).decode(self.codepage, self._errors) == text
        except UnicodeEncodeError:
            return False

    def _string_bytes(self, key: str, name: str, value_type: int, data: bytes) -> bytes:
        """The bytes written after ``hex(1/2/7):``: as stored in 5.00, as ANSI in REGEDIT4 (7)."""
        if self.ansi:
            whole = decode_le(data[: len(data) & ~1])
            try:
                # The importer reads these bytes with the same mapping (reg-format 5.5).
                ansi = whole.encode(self.codepage, self._errors)
                exact = len(data) % 2 == 0 and ansi.decode(self.codepage, self._errors) == whole
            except UnicodeEncodeError:
                exact = False
            if not exact:
                if not self.regedit_compat:
                    raise RefusedUnsafe(
                        f"{where(key, name)}: the data of this type-{value_type} value cannot be written in code page "
                        f"{self.codepage} without change; write Windows Registry Editor 5.00 (drop --regedit4), "
                        "or accept the change with --regedit-compat"
                    )
                self.losses.append(Loss(key, name, f"string data converted to code page {self.codepage} with loss"))
                ansi = whole.encode(self.codepage, "replace")
            if ansi and ansi[-1] != 0:
                self.losses.append(Loss(key, name, "string data without a terminating NUL: importers add one"))
            return ansi
        written = string_hex_written(data)
        if written is None:
            self.losses.append(Loss(key, name, "string data without a terminating NUL character: "
                                    "importers add one (reg-format 5.5)"))
            return data
        return written

    # ------------------------------------------------------------------ output
    def _encode(self, text: str) -> bytes:
        if self.ansi:
            try:  # every piece was checked or replaced above, so this does not fail
                return text.encode(self.codepage, self._errors)
            except UnicodeEncodeError:
                return text.encode(self.codepage, "replace")
        return encode_le(text)

    def _start(self) -> bytes:
        """What comes before the first character: the BOM of a 5.00 file (reg-format 8)."""
        return b"" if self.ansi else BOM.encode("utf-16-le")

    def take(self) -> bytes:
        """The file's bytes since the last take (the BOM first), encoded, and forget them: lets
        a caller stream a file of any size in bounded memory. :meth:`finish` then gives the
        rest, ending in the final blank line."""
        head = b"" if self._taken else self._start()
        self._taken = True
        chunk = head + self._encode("".join(self._parts))
        self._parts.clear()
        self.pending = 0
        return chunk

    def text(self) -> str:
        """The file as text (without the BOM), ending in the final blank line; after
        :meth:`take`, only what was written since."""
        return "".join(self._parts) + CRLF

    def finish(self) -> bytes:
        """The encoded file (after :meth:`take`, its rest), ending in the final blank line.
        The text is encoded a piece at a time, so it is never held whole twice."""
        out = io.BytesIO()
        out.write(b"" if self._taken else self._start())
        batch: list[str] = []
        size = 0
        for part in self._parts:
            batch.append(part)
            size += len(part)
            if size >= CHUNK_CHARS:
                out.write(self._encode("".join(batch)))
                batch.clear()
                size = 0
        batch.append(CRLF)
        out.write(self._encode("".join(batch)))
        return out.getvalue()

    def chunks(self) -> Iterator[bytes]:
        """The rest of the file, as :meth:`finish` gives it, without the copy: for streaming."""
        yield self.take()
        yield self._encode(CRLF)


def emit_patch(patch: Patch, dialect: str = DIALECT_5, regedit_compat: bool = False,
               codepage: str = "cp1252") -> RegWriter:
    """Write a Patch as .reg text, one ``[key]`` section per run of operations on a key.

    A ``create_key`` always opens a section (so keys without values appear); value
    operations open one only when the current section is another key or a deletion.
    """
    writer = RegWriter(dialect, regedit_compat, codepage)
    section: tuple[str, bool] | None = None  # (key, is a deletion)
    for op in patch:
        if op.kind == CREATE_KEY:
            writer.key(op.key)
            section = (op.key, False)
        elif op.kind == DELETE_KEY:
            writer.delete_key(op.key)
            section = (op.key, True)
        else:
            if section != (op.key, False):
                writer.key(op.key)
                section = (op.key, False)
            if op.kind == SET_VALUE:
                writer.value(op.key, op.name or "", op.type or 0, op.data or b"")
            elif op.kind == DELETE_VALUE:
                writer.delete_value(op.key, op.name or "")
    return writer
