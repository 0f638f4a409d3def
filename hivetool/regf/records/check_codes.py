"""Every code a structural check of a hive can report, with its meaning: the one catalogue.

The rules live beside the records they are about (``records/*.py``: each record's
``*_problems`` function) and in the checker for rules that span records (:mod:`..check`); both
name their findings with these codes, and a test holds every code used in the source to this
list. A code's first letter is its level:

* ``E`` error: Windows would refuse the hive or silently repair it (losing data);
* ``W`` warning: it loads, but readers may misbehave;
* ``I`` information: tolerated by Windows; worth knowing (e.g. for forensics).

The offset of a finding is the file offset of the record at fault; for a bad pointer, of the
record that holds the pointer. The module docstring below the first paragraph is built from
:data:`MEANINGS`, so ``help()`` shows the list.
"""
from __future__ import annotations

LEVELS = ("error", "warning", "info")
_LEVEL_OF_PREFIX = {"E": "error", "W": "warning", "I": "info"}

MEANINGS: dict[str, str] = {
    "E-FILE-SHORT": 'file shorter than the 4096-byte base block (or empty)',
    "E-FILE-TRUNCATED": 'the header claims more hive bins than the file holds',
    "E-HDR-SIGNATURE": 'base block does not start with ``regf``',
    "E-HDR-VERSION": 'version is not 1.3 to 1.6',
    "E-HDR-TYPE": 'file type is not 0 (1, 2 and 6 are transaction logs)',
    "E-HDR-FORMAT": 'file format is not 1',
    "E-HDR-CLUSTER": 'clustering factor is not 1',
    "E-HDR-BINS-SIZE": 'hive-bins size is zero or not a multiple of 4096',
    "E-HDR-CHECKSUM": 'checksum wrong (Windows rule: XOR of 127 words, 0 -> 1, 0xFFFFFFFF -> 0xFFFFFFFE)',
    "W-HDR-DIRTY": 'sequence numbers differ: dirty, replay the logs',
    "I-TRAILING-BINS": 'bins after the declared hive-bins area (ignored, as Windows does)',
    "E-BIN-SIGNATURE": 'bin header signature is not ``hbin``',
    "E-BIN-OFFSET": "bin offset field differs from the bin's position",
    "E-BIN-SIZE": 'bin size not a multiple of 4096 inside the hive-bins area',
    "E-CELL-SIZE": 'cells do not tile their bin: size < 8, not a multiple of 8, or past the bin end',
    "E-REF": 'a pointer misses the start of an allocated cell',
    "E-CELL-SHARED": 'a cell reached twice (a cycle, or one cell with two owners)',
    "E-ROOT": 'the root pointer does not lead to an allocated key node',
    "E-NK-SIGNATURE": 'a cell listed as a subkey is not a key node (nk)',
    "E-NK-SIZE": 'key node cell smaller than the 76-byte record',
    "E-NK-NAME": 'key name length is zero or exceeds the cell',
    "E-NK-NAME-CHAR": 'key name contains a backslash',
    "W-NK-NAME-LONG": 'key name longer than 255 characters',
    "W-NAME-ODD": 'UTF-16 key or value name of odd byte length',
    "E-NK-PARENT": 'parent field does not point at the key whose list holds the key',
    "E-NK-SUBKEY-COUNT": 'subkey count differs from the entries of the subkey list',
    "E-NK-CLASS": 'class name cell missing or smaller than the class length',
    "E-NK-SYMLINK": 'symbolic-link key holds values other than one SymbolicLinkValue',
    "W-NK-MAXIMA": 'a "largest name/class/data" field is smaller than the real maximum',
    "W-NK-DEPTH": 'key deeper than 512 levels',
    "E-LIST-SIGNATURE": 'subkey list is not li, lf, lh or ri',
    "E-LIST-NESTING": 'ri points at another ri',
    "E-LIST-EMPTY": 'leaf or ri with no entries',
    "E-LIST-SIZE": 'list count does not fit its cell',
    "E-LIST-CYCLE": 'ri lists itself',
    "E-LIST-ORDER": 'siblings not in strictly ascending Windows upcase order',
    "E-LIST-DUPLICATE": 'two siblings with the same name (case-insensitively)',
    "W-LIST-HASH": "lh entry hash differs from the name's hash",
    "W-LIST-HINT": "lf entry hint differs from the name's first four characters",
    "I-LIST-TYPE": 'lh leaves in a hive older than 1.5',
    "E-VALUE-LIST": 'value list missing or smaller than the value count',
    "E-VK-SIGNATURE": 'a cell listed as a value is not a value record (vk)',
    "E-VK-SIZE": 'value cell smaller than the 20-byte record',
    "E-VK-NAME": 'value name length exceeds the cell',
    "E-VK-DUPLICATE": 'two values of one key with the same name (case-insensitively)',
    "E-VK-INLINE": 'inline data longer than 4 bytes',
    "E-VK-DATA-SIZE": "data cell smaller than the value's size",
    "I-VK-TYPE-SIZE": 'REG_DWORD or REG_DWORD_BIG_ENDIAN data not 4 bytes, REG_QWORD data not 8 (Windows loads it)',
    "E-DB-SIGNATURE": 'value above 16,344 bytes in a 1.4+ hive whose data is not big data (db)',
    "E-DB-COUNT": 'big-data segment count differs from ceil(size / 16344)',
    "E-DB-SEGMENT": 'segment list or segment too small',
    "E-DB-VERSION": 'big data (db) in a version 1.3 hive',
    "E-SK-REF": "a key's security pointer does not lead to a security cell (sk)",
    "E-SK-RING": "sk ring broken (flink/blink disagree) or an sk in use outside the root's ring",
    "E-SK-REFCOUNT": 'sk reference count lower than the number of keys using it',
    "W-SK-REFCOUNT": 'sk reference count higher than the number of keys using it, or 0',
    "E-SK-DESCRIPTOR": 'security descriptor size or structure invalid',
    "I-SK-DUPLICATE": 'the same descriptor stored in two security cells',
    "I-LEAK": 'allocated cell not reachable from the root key',
    "I-FREE-ADJACENT": 'free cell next to another free cell',
    "I-MORE": 'findings beyond the 200 listed for one code',
    "E-STOPPED": 'checking stopped early on an unexpected format error',
}

__doc__ = (__doc__ or "") + "\nCodes:\n\n" + "".join(f"{code:<18} {meaning}\n" for code, meaning in MEANINGS.items())


def level_of(code: str) -> str:
    """``error``, ``warning`` or ``info``, from the code's first letter."""
    return _LEVEL_OF_PREFIX[code[0]]
