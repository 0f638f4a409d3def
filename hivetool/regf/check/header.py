"""Checker, part 0: the base block (regf-format 1.3), and how much of the file can be checked."""

from __future__ import annotations

from dataclasses import dataclass

from ..records.base_block import BASE_BLOCK, BASE_BLOCK_SIZE, LOG_FILE_TYPES, base_block_problems
from ..records.bins import HBIN_BASE, HBIN_SIGNATURE, PAGE
from ..records.problems import HiveFinding
from .report import Collector
from .space import trailing_bins


@dataclass
class Readable:
    """What the rest of the checker works with."""

    minor: int
    root_cell: int
    hbins_size: int  # how much of the hive-bins area can be read


def check_header(buf: bytearray, out: Collector) -> Readable | None:
    """Report the base block's problems; None when nothing beyond it can be checked (the file
    is too short, is something else, or is a transaction log)."""
    problems = base_block_problems(buf)
    if problems and problems[0].code == "E-FILE-SHORT":
        out.extend(problems)
        return None
    rec = BASE_BLOCK.unpack(buf, 0)
    bins_problem = None
    for found in problems:
        if found.code == "E-HDR-SIGNATURE":
            bins_follow = buf[HBIN_BASE : HBIN_BASE + 4] == HBIN_SIGNATURE
            more = "; hive bins follow, so the rest is checked" if bins_follow else ": not a registry hive"
            out.add(found.code, found.file_offset, found.message + more)
            if not bins_follow:
                return None
        elif found.code in ("E-HDR-BINS-SIZE", "E-FILE-TRUNCATED"):
            bins_problem = found  # reported with how much is checked instead
        else:
            out.extend([found])
            if found.code == "E-HDR-TYPE" and rec.file_type in LOG_FILE_TYPES:
                return None
    hbins_size = _readable_bins(buf, rec.hbins_size, bins_problem, out)
    if hbins_size == 0:
        return None
    return Readable(rec.minor, rec.root_cell, hbins_size)


def _readable_bins(buf: bytearray, declared: int, problem: HiveFinding | None, out: Collector) -> int:
    """The part of the hive-bins area that can be read, after reporting what is wrong with it."""
    available = (len(buf) - BASE_BLOCK_SIZE) // PAGE * PAGE
    if problem is None:
        usable = declared
        extra = trailing_bins(buf, usable)
        if extra:
            out.add("I-TRAILING-BINS", HBIN_BASE + usable,
                    f"{extra} hive bin(s) follow the declared hive-bins area; Windows ignores them")
    else:
        usable = available
        if problem.code == "E-HDR-BINS-SIZE":
            usable = min(declared // PAGE * PAGE, available) or available
        out.add(problem.code, problem.file_offset, f"{problem.message}; checking 0x{usable:x} bytes")
    if usable == 0 and not out.has("E-FILE-TRUNCATED"):
        out.add("E-FILE-TRUNCATED", BASE_BLOCK_SIZE, "the file holds no hive bins after its base block")
    return usable
