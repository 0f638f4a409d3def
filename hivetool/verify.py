"""``--verify``: re-read a written hive with independent readers before it replaces anything.

python-registry and regipy (the project's declared dependencies) each open the new file
and must see every expected value with its type and bytes, and none of the removed keys
or values. They are imported here only, so commands that do not verify stay fast.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, TypeVar

from .errors import VerifyFailed

# A reader's key and value objects (python-registry and regipy have no type information: Any).
_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


class Expect(NamedTuple):
    """One thing the written hive must show: a value (type + bytes), a key, or an absence."""

    key: str
    name: str | None = None  # None: the key itself
    type: int | None = None
    raw: bytes | None = None
    present: bool = True


def _compare(reader: str, open_key: Callable[[str], _Key | None],
             value_items: Callable[[_Key], list[tuple[str, _Value]]], matches: Callable[[_Value, Expect], str | None],
             expectations: list[Expect]) -> list[str]:
    """The checks both readers share. ``open_key(path)`` gives a key or None; ``value_items(key)``
    gives ``(name, value)`` pairs (the default value named ``''``); ``matches(value, exp)``
    says why the value differs, or None when the reader shows what was meant."""
    problems = []
    for exp in expectations:
        where = exp.key or "(root)"
        key = open_key(exp.key)
        if key is None:
            if exp.present:
                problems.append(f"{reader}: key {where!r} is missing")
            continue
        if exp.name is None:
            if not exp.present:
                problems.append(f"{reader}: key {where!r} still exists")
            continue
        found = None
        for name, value in value_items(key):
            if name.lower() == exp.name.lower():
                found = value
        if found is None:
            if exp.present:
                problems.append(f"{reader}: value {exp.name!r} in {where!r} is missing")
        elif not exp.present:
            problems.append(f"{reader}: value {exp.name!r} in {where!r} still exists")
        else:
            why = matches(found, exp)
            if why:
                problems.append(f"{reader}: value {exp.name!r} in {where!r} {why}")
    return problems


def _pyreg_check(path: str, expectations: list[Expect]) -> list[str]:
    from Registry import Registry

    reg = Registry.Registry(path)

    def open_key(path_in_hive: str) -> Any:
        try:
            return reg.open(path_in_hive) if path_in_hive else reg.root()
        except Registry.RegistryKeyNotFoundException:
            return None

    def value_items(key: Any) -> list[tuple[str, Any]]:
        return [("" if v.name() == "(default)" else v.name(), v) for v in key.values()]

    def matches(value: Any, exp: Expect) -> str | None:
        if value.value_type() != (exp.type or 0) & 0xFFF or not _pyreg_data_matches(value, exp):
            return "reads back differently"
        return None

    return _compare("python-registry", open_key, value_items, matches, expectations)


def _pyreg_data_matches(found: Any, exp: Expect) -> bool:
    """python-registry shows some data only partly (its ``raw_data()`` is type-driven): compare
    what it can show. Inline data (0-4 bytes) of string or unknown types comes back as the
    whole 4-byte field, inline REG_MULTI_SZ as nothing, REG_DWORD_BIG_ENDIAN and REG_QWORD are
    read from a data cell even when the data is inline or short."""
    raw = exp.raw or b""
    value_type = exp.type or 0
    try:
        seen = bytes(found.raw_data())
    except Exception:  # a reader's own decoding failure on data it cannot show
        return value_type in (5, 11, 7) or len(raw) <= 4
    if value_type == 4:
        return len(raw) != 4 or seen == raw
    if value_type in (5, 11, 7) or (value_type == 0x10 and len(raw) <= 4):
        return True
    if len(raw) <= 4:
        return seen[: len(raw)] == raw
    return seen == raw


def _regipy_check(path: str, expectations: list[Expect]) -> list[str]:
    from regipy.exceptions import RegistryKeyNotFoundException
    from regipy.registry import RegistryHive

    hive = RegistryHive(path)

    def open_key(path_in_hive: str) -> Any:
        try:
            return hive.get_key("\\" + path_in_hive if path_in_hive else "\\")
        except RegistryKeyNotFoundException:
            return None

    def value_items(key: Any) -> list[tuple[str, Any]]:
        values = key.iter_values(as_json=False, max_len=None, trim_values=False)
        return [("" if v.name == "(default)" else v.name, v) for v in values]

    def matches(value: Any, exp: Expect) -> str | None:
        if _regipy_type(value.value_type) != _as_regipy_shows(exp.type or 0):
            return f"has another type ({value.value_type})"
        if not _regipy_data_matches(value.value, exp.type, exp.raw or b""):
            return "reads back differently"
        return None

    return _compare("regipy", open_key, value_items, matches, expectations)


def _regipy_data_matches(seen: object, value_type: int | None, raw: bytes) -> bool:
    """regipy decodes data itself; compare where its decoding is unambiguous."""
    from .regf.records.types import decode_text

    if value_type == 4 and len(raw) == 4:
        return seen == int.from_bytes(raw, "little")
    if value_type == 11 and len(raw) == 8:
        return seen == int.from_bytes(raw, "little")
    if value_type == 3:
        return seen == raw
    if value_type in (1, 2) and len(raw) % 2 == 0 and raw.endswith(b"\0\0"):
        text = raw[:-2].decode("utf-16-le", "surrogatepass")
        return "\0" in text or seen == decode_text(raw)
    return True


_REGIPY_TYPES = {
    "REG_NONE": 0, "REG_SZ": 1, "REG_EXPAND_SZ": 2, "REG_BINARY": 3, "REG_DWORD": 4,
    "REG_DWORD_BIG_ENDIAN": 5, "REG_LINK": 6, "REG_MULTI_SZ": 7, "REG_RESOURCE_LIST": 8,
    "REG_FULL_RESOURCE_DESCRIPTOR": 9, "REG_RESOURCE_REQUIREMENTS_LIST": 10, "REG_QWORD": 11,
}


def _as_regipy_shows(value_type: int) -> int:
    """regipy shows device-property types (0xFFFFxxxx) by their low 16 bits."""
    return value_type & 0xFFFF if value_type >= 0xFFFF0000 else value_type


def _regipy_type(name: object) -> int | None:
    if isinstance(name, int):
        return name
    return _REGIPY_TYPES.get(str(name))


def verify_hive_file(path: str, expectations: list[Expect]) -> None:
    """Raise :class:`VerifyFailed` (exit 4) listing every disagreement."""
    problems: list[str] = []
    for reader in (_pyreg_check, _regipy_check):
        try:
            problems.extend(reader(path, expectations))
        except Exception as err:  # a reader that cannot even open the file is a disagreement
            problems.append(f"{reader.__name__.strip('_').split('_')[0]}: cannot read the output: {err}")
    if problems:
        raise VerifyFailed("verification failed, nothing written:\n  " + "\n  ".join(problems))
