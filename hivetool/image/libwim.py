"""The few calls of wimlib's C library (``libwim.so.15``) that writing hives into a WIM needs.

Why ctypes and not ``wimlib-imagex``: its ``update`` command adds files only from a directory
of this system, so a replaced file gets a new directory entry without the security descriptor
and with FILE_ATTRIBUTE_NORMAL. The library can add from an NTFS volume
(``WIMLIB_ADD_FLAG_NTFS``), whose files carry a real security descriptor and attributes, and
can take several commands on one opened WIM before writing it once; the command-line tool
exposes neither. Everything else (reading hives out) still goes through ``wimlib-imagex``.

The declarations follow ``wimlib.h`` of wimlib 1.13 (the API of soname 15): argument and
return types exactly as declared there, ``wimlib_tchar`` being ``char`` (UTF-8 paths) on
Linux. :class:`UpdateCommand` has the layout of ``struct wimlib_update_command`` on LP64
systems (x86_64, aarch64): a 4-byte enum, 4 bytes of padding, then the union at offset 8,
whose largest member (``struct wimlib_add_command``: three pointers and an int) makes the
struct 40 bytes; ctypes lays out natural alignment as the C compiler does, and
:func:`_check_layout` asserts these numbers at load time.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import lru_cache
from typing import Iterator, Sequence

from ..errors import HiveIOError, MalformedInput

SONAME = "libwim.so.15"
INSTALL_HINT = "install wimlib's library (Debian and Ubuntu: apt-get install libwim15, part of wimtools)"
_DEBIAN_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")

# wimlib.h: WIMLIB_INIT_FLAG_*, WIMLIB_OPEN_FLAG_*, WIMLIB_EXTRACT_FLAG_*, WIMLIB_ADD_FLAG_*,
# WIMLIB_WRITE_FLAG_*, enum wimlib_update_op, enum wimlib_error_code (the codes used here).
INIT_FLAG_DEFAULT_CASE_INSENSITIVE = 0x00000020
OPEN_FLAG_WRITE_ACCESS = 0x00000004
EXTRACT_FLAG_NTFS = 0x00000001
ADD_FLAG_NTFS = 0x00000001
ADD_FLAG_NO_REPLACE = 0x00002000
WRITE_FLAG_FSYNC = 0x00000020
UPDATE_OP_ADD = 0
ERR_PATH_DOES_NOT_EXIST = 49
ERR_UNSUPPORTED = 68
WIM_ROOT_PATH = "/"

# Codes that say something about this system (a file, the disk, a lock), not about the WIM.
_IO_ERRORS = {
    1,   # ALREADY_LOCKED: another process is writing the WIM
    37,  # MKDIR
    39,  # NOMEM
    46,  # NTFS_3G: libntfs-3g failed on the scratch volume
    47,  # OPEN
    48,  # OPENDIR
    50,  # READ
    52,  # RENAME
    63,  # STAT
    68,  # UNSUPPORTED: e.g. a wimlib built without NTFS-3G support
    71,  # WIM_IS_READONLY
    72,  # WRITE
    88,  # CONCURRENT_MODIFICATION_DETECTED
}


class AddCommand(ctypes.Structure):
    """``struct wimlib_add_command``."""

    _fields_ = [("fs_source_path", ctypes.c_char_p), ("wim_target_path", ctypes.c_char_p),
                ("config_file", ctypes.c_char_p), ("add_flags", ctypes.c_int)]


class DeleteCommand(ctypes.Structure):
    """``struct wimlib_delete_command`` (declared only so that the union has its real size)."""

    _fields_ = [("wim_path", ctypes.c_char_p), ("delete_flags", ctypes.c_int)]


class RenameCommand(ctypes.Structure):
    """``struct wimlib_rename_command`` (likewise)."""

    _fields_ = [("wim_source_path", ctypes.c_char_p), ("wim_target_path", ctypes.c_char_p),
                ("rename_flags", ctypes.c_int)]


class _Commands(ctypes.Union):
    _fields_ = [("add", AddCommand), ("delete_", DeleteCommand), ("rename", RenameCommand)]


class UpdateCommand(ctypes.Structure):
    """``struct wimlib_update_command``: the op enum (an int) and the anonymous union."""

    _anonymous_ = ("u",)
    _fields_ = [("op", ctypes.c_int), ("u", _Commands)]


def _check_layout() -> None:
    """On LP64 (x86_64, aarch64) the struct must be what wimlib.h compiles to; a mismatch would
    hand wimlib garbage pointers, so it is an error, not something to try."""
    if ctypes.sizeof(ctypes.c_void_p) == 8 and (
            UpdateCommand.u.offset, ctypes.sizeof(AddCommand), ctypes.sizeof(UpdateCommand)) != (8, 32, 40):
        raise HiveIOError("hivetool's declaration of struct wimlib_update_command does not match wimlib.h "
                          "on this platform; WIM images cannot be written here")


def _declare(lib: ctypes.CDLL) -> None:
    handle = ctypes.c_void_p  # WIMStruct *
    lib.wimlib_global_init.argtypes = [ctypes.c_int]
    lib.wimlib_global_init.restype = ctypes.c_int
    lib.wimlib_get_error_string.argtypes = [ctypes.c_int]
    lib.wimlib_get_error_string.restype = ctypes.c_char_p
    lib.wimlib_open_wim.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(handle)]
    lib.wimlib_open_wim.restype = ctypes.c_int
    lib.wimlib_extract_paths.argtypes = [handle, ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                         ctypes.c_size_t, ctypes.c_int]
    lib.wimlib_extract_paths.restype = ctypes.c_int
    lib.wimlib_update_image.argtypes = [handle, ctypes.c_int, ctypes.POINTER(UpdateCommand), ctypes.c_size_t,
                                        ctypes.c_int]
    lib.wimlib_update_image.restype = ctypes.c_int
    lib.wimlib_overwrite.argtypes = [handle, ctypes.c_int, ctypes.c_uint]
    lib.wimlib_overwrite.restype = ctypes.c_int
    lib.wimlib_free.argtypes = [handle]
    lib.wimlib_free.restype = None


def _candidates() -> Iterator[str]:
    """The soname (the dynamic linker's search), then what ldconfig knows (only soname 15: the
    ABI declared here), then Debian's and other usual folders."""
    yield SONAME
    found = ctypes.util.find_library("wim")
    if found and found.endswith(".so.15"):
        yield found
    yield from (os.path.join(folder, SONAME) for folder in _DEBIAN_DIRS)


@lru_cache(maxsize=None)
def library() -> ctypes.CDLL:
    """libwim, loaded and initialised once: paths match whatever their case, as in Windows
    (wimlib's default on Linux is case-sensitive), for extraction and for update overlays."""
    _check_layout()
    problems = []
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError as err:
            problems.append(str(err))
            continue
        _declare(lib)
        code = lib.wimlib_global_init(INIT_FLAG_DEFAULT_CASE_INSENSITIVE)
        if code:
            raise HiveIOError(f"{SONAME}: initialisation failed: {_message(lib, code)}")
        return lib
    raise HiveIOError(f"{SONAME} is needed to write hives into a WIM and was not found ({problems[0]}): "
                      f"{INSTALL_HINT}")


def _message(lib: ctypes.CDLL, code: int) -> str:
    text = lib.wimlib_get_error_string(code)
    return text.decode("utf-8", "replace") if text else f"error {code}"


def _raise(code: int, what: str) -> None:
    message = f"{what}: wimlib: {_message(library(), code)} (wimlib error {code})"
    raise (HiveIOError if code in _IO_ERRORS else MalformedInput)(message)


def _path(path: str | os.PathLike[str]) -> bytes:
    return os.fsencode(path)


class Wim:
    """One WIM file opened with wimlib for writing (``WIMLIB_OPEN_FLAG_WRITE_ACCESS``: a
    split, read-only-flagged or otherwise unwritable WIM is refused at once). Changes made with
    :meth:`update` live in memory until :meth:`overwrite`; :meth:`close` (or leaving the
    ``with`` block) frees the WIMStruct, dropping changes not written."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._lib = library()
        self._handle = ctypes.c_void_p()
        code = self._lib.wimlib_open_wim(_path(path), OPEN_FLAG_WRITE_ACCESS, ctypes.byref(self._handle))
        if code:
            _raise(code, f"{path}: cannot open the WIM for writing")

    def __enter__(self) -> "Wim":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._handle:
            self._lib.wimlib_free(self._handle)
            self._handle = ctypes.c_void_p()

    def extract_to_ntfs(self, image: int, volume: str | os.PathLike[str], path: str) -> bool:
        """Extract the file at ``path`` (any case) of ``image`` onto the NTFS volume image file
        ``volume`` at the same path, with its security descriptor, attributes, timestamps,
        streams and short name (``WIMLIB_EXTRACT_FLAG_NTFS``). False when ``path`` does not
        exist in the image. wimlib extracts one tree per call in this mode, onto an empty
        volume (a second call on the same volume fails on the existing parent folders)."""
        paths = (ctypes.c_char_p * 1)(_path(path))
        code = self._lib.wimlib_extract_paths(self._handle, image, _path(volume), paths, 1, EXTRACT_FLAG_NTFS)
        if code == ERR_PATH_DOES_NOT_EXIST:
            return False
        if code == ERR_UNSUPPORTED:
            raise HiveIOError(f"{self.path}: this wimlib was built without NTFS-3G support, which writing hives "
                              f"with their security descriptors needs: {INSTALL_HINT}")
        if code:
            _raise(code, f"{self.path}:{image}: cannot extract {path} onto a scratch NTFS volume")
        return True

    def update(self, image: int, adds: Sequence[tuple[str | os.PathLike[str], str, int]]) -> None:
        """One ``wimlib_update_image`` of ``image`` with an ADD command per (source, path in
        the image, WIMLIB_ADD_FLAG_*); in memory only, all commands or none (wimlib rolls back)."""
        commands = (UpdateCommand * len(adds))()
        keep = []  # the bytes the char pointers point into must outlive the call
        for command, (source, target, flags) in zip(commands, adds):
            keep += [_path(source), _path(target)]
            command.op = UPDATE_OP_ADD
            command.add.fs_source_path = keep[-2]
            command.add.wim_target_path = keep[-1]
            command.add.config_file = None
            command.add.add_flags = flags
        code = self._lib.wimlib_update_image(self._handle, image, commands, len(adds), 0)
        if code:
            _raise(code, f"{self.path}:{image}: update failed")

    def overwrite(self, flags: int) -> None:
        """Write the changes into the WIM file itself (``wimlib_overwrite``, no thread count:
        wimlib picks it). Afterwards only :meth:`close` may be called."""
        code = self._lib.wimlib_overwrite(self._handle, flags, 0)
        if code:
            _raise(code, f"{self.path}: writing the WIM failed")
