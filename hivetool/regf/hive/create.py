"""A new, empty hive that Windows loads: the template of regf-format 11.2.

One 4 KiB bin holding the root key, one security cell and a free cell for the rest.
The layout matches the offreg-made hive shown to load on Windows 11 (root at 0x20,
its sk right after it, an 80-byte descriptor), with root flags 0x2C as every
Windows-written hive has them.
"""
from __future__ import annotations

import struct

from ...errors import UsageError
from ..records.base_block import BASE_BLOCK, BASE_BLOCK_SIZE, stamp_clean
from ..records.bins import HBIN_BASE, HBIN_HEADER_SIZE, PAGE, write_bin_header
from ..records.cells import cell_size_for
from ..records.names import check_key_name, encode_name
from ..records.nk import NK, ROOT_FLAGS, new_nk
from ..records.sk import new_sk

EVERYONE = bytes.fromhex("010100000000000100000000")  # S-1-1-0
ADMINISTRATORS = bytes.fromhex("01020000000000052000000020020000")  # S-1-5-32-544


def default_descriptor() -> bytes:
    """Self-relative SD: owner and group Administrators, DACL granting Everyone KEY_ALL_ACCESS."""
    ace = struct.pack("<BBHI", 0, 0, 8 + len(EVERYONE), 0x000F003F) + EVERYONE
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
    dacl_at = 20
    owner_at = dacl_at + len(acl)
    group_at = owner_at + len(ADMINISTRATORS)
    head = struct.pack("<BBHIIII", 1, 0, 0x8004, owner_at, group_at, 0, dacl_at)
    return head + acl + ADMINISTRATORS + ADMINISTRATORS


def empty_hive_bytes(minor: int, root_name: str, timestamp: int) -> bytes:
    if minor not in (3, 5):
        raise UsageError(f"hive version 1.{minor} cannot be created; choose 1.3 or 1.5")
    problem = check_key_name(root_name)
    if problem:
        raise UsageError(f"root name: {problem}")
    buf = bytearray(BASE_BLOCK_SIZE + PAGE)
    BASE_BLOCK.pack_into(buf, 0, minor=minor, root_cell=HBIN_HEADER_SIZE, hbins_size=PAGE)
    write_bin_header(buf, 0, PAGE, timestamp)
    name_bytes, compressed = encode_name(root_name)
    root = HBIN_HEADER_SIZE
    sk_cell = root + cell_size_for(NK.size + len(name_bytes))
    root_payload = new_nk(name_bytes, compressed, flags=ROOT_FLAGS, security=sk_cell, timestamp=timestamp)
    sk_payload = new_sk(sk_cell, default_descriptor())
    free_cell = sk_cell + cell_size_for(len(sk_payload))
    for cell, payload in ((root, root_payload), (sk_cell, sk_payload)):
        size = cell_size_for(len(payload))
        struct.pack_into("<i", buf, HBIN_BASE + cell, -size)
        buf[HBIN_BASE + cell + 4 : HBIN_BASE + cell + 4 + len(payload)] = payload
    struct.pack_into("<i", buf, HBIN_BASE + free_cell, PAGE - free_cell)
    stamp_clean(buf, 1, timestamp, PAGE)
    return bytes(buf)
