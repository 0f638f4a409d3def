"""One exception hierarchy for the whole package.

Every error a user can see derives from :class:`HivetoolError` and carries the
exit code the CLI returns for it, so the CLI maps errors to codes in one place.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_MALFORMED = 3
EXIT_REFUSED = 4
EXIT_NOT_FOUND = 5
EXIT_IO = 6


class HivetoolError(Exception):
    """Base of every error hivetool raises on purpose."""

    exit_code = EXIT_MALFORMED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(HivetoolError):
    """The caller asked for something that does not make sense (bad type name, bad number)."""

    exit_code = EXIT_USAGE


class BadValueData(UsageError, ValueError):
    """Value data whose size its type does not allow (a REG_DWORD of 3 bytes).

    Also a ValueError, so Python callers can catch what they would expect from a bad argument;
    being a UsageError, the command line reports it with exit code 2.
    """


class BadArgumentType(UsageError, TypeError):
    """An argument of the wrong Python type (an int where the value's bytes are expected).

    Also a TypeError, for the same reason as :class:`BadValueData`.
    """


class MalformedInput(HivetoolError):
    """An input file (hive, log, .reg) is not what its format says it must be."""

    exit_code = EXIT_MALFORMED


class HiveFormatError(MalformedInput):
    """A hive violates the regf format at a known file offset."""

    def __init__(self, message: str, file_offset: int | None = None, path: str | None = None) -> None:
        self.detail = message
        self.file_offset = file_offset
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.file_offset is not None:
            where.append(f"file offset 0x{self.file_offset:x}")
        return (": ".join(where) + ": " if where else "") + self.detail

    def with_path(self, path: str) -> "HiveFormatError":
        """Name the file once the layer that knows it sees the error."""
        if self.path is None:
            self.path = str(path)
            self.message = self._render()
            self.args = (self.message,)
        return self


class RegFileError(MalformedInput):
    """A .reg file line that cannot be accepted (file:line:col in the message)."""

    def __init__(self, message: str, path: str = "<input>", line: int = 0, col: int = 0) -> None:
        self.detail = message
        self.path = path
        self.line = line
        self.col = col
        super().__init__(f"{path}:{line}:{col}: {message}")


class RefusedUnsafe(HivetoolError):
    """The operation could lose or corrupt data, so it was not done."""

    exit_code = EXIT_REFUSED


class DirtyHiveError(RefusedUnsafe):
    """The hive has changes pending in its transaction logs."""


class VerifyFailed(RefusedUnsafe):
    """An independent reader did not see what we meant to write."""


class ValidationError(RefusedUnsafe):
    """A recipe's rules reject the requested values."""


class TypeClash(RefusedUnsafe):
    """An existing value has another type than the one we would write."""


class NotFound(HivetoolError):
    """A key or value the caller named does not exist."""

    exit_code = EXIT_NOT_FOUND


class KeyNotFound(NotFound, LookupError):
    """A key does not exist (also a LookupError, as a missing mapping entry is)."""


class ValueNotFound(NotFound, LookupError):
    """A value does not exist (also a LookupError)."""


class HiveIOError(HivetoolError):
    """Reading or writing a file failed at the operating-system level."""

    exit_code = EXIT_IO
