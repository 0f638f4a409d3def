"""Key paths deeper than Windows allows, and hives that already hold such paths.

Windows loads keys at most 512 levels below the root key of a hive (regf-format 12.1; how the
levels are counted is written next to MAX_KEY_DEPTH in hivetool/regf/names.py): the root is
level 0, and a hive-relative path of n names is at level n. hivetool refuses to create a key
deeper than that, whether by ``mkkey``, ``set --create-keys``, the engine's create_key or a
.reg import (which names the file and line, and writes nothing). A hive that is already
deeper (damaged or hostile) is still listed, checked and exported with memory that grows
with its depth, not with its depth squared.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.errors import EXIT_MALFORMED, EXIT_USAGE, RegFileError, UsageError
from hivetool.regf.compact import TreeSource, build_hive
from hivetool.regf.hive import Hive
from hivetool.regf.records.names import MAX_KEY_DEPTH
from hivetool.regfile.apply import plan_patch
from hivetool.regfile.parse import parse_reg
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
ROOT = "HKEY_LOCAL_MACHINE\\SOFTWARE"
TS = "2024-05-01T00:00:00Z"


def chain(levels: int, name: str = "k") -> str:
    """A hive-relative path ``levels`` levels below the root."""
    return "\\".join([name] * levels)


@pytest.fixture
def empty_hive(tmp_path: Path) -> Path:
    path = tmp_path / "SOFTWARE"
    Hive.new(5, "ROOT", CLOCK).save(path)
    return path


def depth_of_deepest(hive: Hive) -> int:
    """Down the (single) chain by cells: a path lookup would build every prefix."""
    cell, depth = hive._engine.root_cell, 0
    while hive._engine.child_cells(cell):
        cell = hive._engine.child_cells(cell)[0]
        depth += 1
    return depth


# ------------------------------------------------------------------------------ the limit
def test_the_limit_is_the_one_the_checker_warns_beyond():
    from hivetool.regf.check import tree as check_tree

    assert MAX_KEY_DEPTH == 512 and check_tree.MAX_DEPTH == MAX_KEY_DEPTH


def test_engine_creates_512_levels_and_refuses_513():
    hive = Hive.new(5, "ROOT", CLOCK)
    key = hive.create_key(chain(MAX_KEY_DEPTH))
    assert key.path.count("\\") + 1 == 512 and depth_of_deepest(hive) == 512
    with pytest.raises(UsageError) as refused:
        hive.create_key(chain(MAX_KEY_DEPTH + 1))
    assert refused.value.exit_code == EXIT_USAGE
    assert "513 levels" in str(refused.value) and "at most 512" in str(refused.value)
    assert depth_of_deepest(hive) == 512  # nothing was created


def test_mkkey_at_513_levels_exits_2_and_writes_nothing(empty_hive, tmp_path, capsys):
    out = tmp_path / "out.hiv"
    assert main(["mkkey", str(empty_hive), chain(513), "-o", str(out), "--timestamp", TS]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "513 levels" in err and "at most 512" in err and "Traceback" not in err
    assert not out.exists()


def test_mkkey_at_512_levels_works(empty_hive, tmp_path, capsys):
    out = tmp_path / "out.hiv"
    assert main(["mkkey", str(empty_hive), chain(512), "-o", str(out), "--timestamp", TS]) == 0
    assert depth_of_deepest(Hive.open(out)) == 512
    capsys.readouterr()


def test_set_create_keys_at_513_levels_exits_2(empty_hive, tmp_path, capsys):
    out = tmp_path / "out.hiv"
    argv = ["set", str(empty_hive), chain(513), "v", "--type", "dword", "--data", "1", "--create-keys",
            "-o", str(out), "--timestamp", TS]
    assert main(argv) == EXIT_USAGE
    assert "at most 512" in capsys.readouterr().err and not out.exists()


def test_mkkey_of_20000_levels_is_refused_at_once(empty_hive, tmp_path):
    # Before the limit this took 6.3 GB and ended in MemoryError: the created paths are quadratic.
    code, err = run_bounded(["mkkey", str(empty_hive), "@DEEP@", "-o", str(tmp_path / "o.hiv")], tmp_path,
                            depth=20_000)
    assert code == EXIT_USAGE and "20000 levels" in err


# ------------------------------------------------------------------------------ .reg import
def reg_text(levels: int, value: bool = True, delete: bool = False) -> bytes:
    path = ROOT + "\\" + chain(levels)
    lines = ["Windows Registry Editor Version 5.00", "", "[" + ROOT + "\\other]", '"a"=dword:00000001', ""]
    lines += [f"[{'-' if delete else ''}{path}]"] + (['"v"=dword:00000002'] if value and not delete else []) + [""]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-16-le")


def test_import_refuses_a_key_513_levels_below_the_hive_root_naming_file_and_line(empty_hive, tmp_path, capsys):
    source = tmp_path / "deep.reg"
    source.write_bytes(reg_text(513))
    out = tmp_path / "out.hiv"
    code = main(["import", str(empty_hive), str(source), "--root", ROOT, "-o", str(out), "--timestamp", TS])
    err = capsys.readouterr().err
    assert code == EXIT_MALFORMED
    assert f"{source}:6:1:" in err  # the key line
    assert "513 levels" in err and "at most 512" in err and "nothing was written" in err
    assert not out.exists()


def test_import_refuses_in_lenient_mode_too(empty_hive, tmp_path, capsys):
    source = tmp_path / "deep.reg"
    source.write_bytes(reg_text(600, value=False))
    out = tmp_path / "out.hiv"
    code = main(["import", str(empty_hive), str(source), "--root", ROOT, "--lenient", "-o", str(out)])
    assert code == EXIT_MALFORMED and not out.exists()
    capsys.readouterr()


def test_import_of_exactly_512_levels_works(empty_hive, tmp_path, capsys):
    source = tmp_path / "deep.reg"
    source.write_bytes(reg_text(512))
    out = tmp_path / "out.hiv"
    assert main(["import", str(empty_hive), str(source), "--root", ROOT, "-o", str(out), "--timestamp", TS]) == 0
    hive = Hive.open(out)
    assert hive.key(chain(512)).value("v").raw == b"\x02\0\0\0"
    capsys.readouterr()


def test_levels_count_inside_the_hive_not_from_the_registry_root():
    # Mounted at HKEY_LOCAL_MACHINE\SOFTWARE, the path HKLM\SOFTWARE\k...(512) is 512 levels
    # down in the hive although it has 513 names below HKEY_LOCAL_MACHINE.
    hive = Hive.new(5, "ROOT", CLOCK)
    plan_patch(hive, parse_reg(reg_text(512)).patch, ROOT)
    with pytest.raises(RegFileError) as refused:
        plan_patch(hive, parse_reg(reg_text(513), "deep.reg").patch, ROOT)
    assert (refused.value.path, refused.value.line) == ("deep.reg", 6)
    # Mounted one level higher, the same file's key is one level deeper.
    with pytest.raises(RegFileError):
        plan_patch(hive, parse_reg(reg_text(512)).patch, "HKEY_LOCAL_MACHINE")


def test_deleting_a_too_deep_key_is_not_refused():
    # Windows silently deletes nothing when the key is missing; a hostile hive may hold one.
    hive = Hive.new(5, "ROOT", CLOCK)
    plan = plan_patch(hive, parse_reg(reg_text(600, delete=True)).patch, ROOT)
    assert [item.op.kind for item in plan.ops][-1] == "delete_key"


# ------------------------------------------------------------------------------ hives already deeper
DEPTH = 5_000
BOUND = 96 << 20  # address space for a command on the deep hive (the interpreter takes ~20 MB)


class Chain(TreeSource):
    """root -> k -> k -> ... (DEPTH keys); every 100th holds a value."""

    def name(self, handle: int) -> str:
        return "k"

    def child_handles(self, handle: int):
        return (handle + 1,) if handle < DEPTH else ()

    def value_items(self, handle: int):
        return [("v", 4, handle.to_bytes(4, "little"))] if handle % 100 == 0 else []


@pytest.fixture(scope="module")
def deep_hive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("deep") / "deep.hiv"
    build_hive(Chain(timestamp=CLOCK.now()), path, CLOCK)
    return path


CHILD = r"""
import json, os, resource, sys
spec = json.loads(sys.argv[1])
import hivetool.cli, hivetool.regf.check, hivetool.regfile.export  # imports are not the op
resource.setrlimit(resource.RLIMIT_AS, (spec["limit"], spec["limit"]))
argv = [arg.replace("@DEEP@", "\\".join(["k"] * spec["depth"])) for arg in spec["argv"]]
sys.stderr = open(spec["stderr"], "w")
sys.stdout = open(os.devnull, "w")
try:
    if argv[0] == "stream-export":  # the library's streaming export, straight to a file
        from hivetool.fileio import atomic_write
        from hivetool.regf.hive import Hive
        from hivetool.regfile.export import ExportStream
        stream = ExportStream(Hive.open(argv[1]), argv[2])
        atomic_write(argv[3], stream)
        code = 0 if stream.keys == spec["depth"] + 1 else "wrong key count"
    else:
        code = hivetool.cli.main(argv)
except MemoryError:
    code = "MemoryError"
sys.stderr.close()
print(json.dumps({"code": code}), file=sys.__stdout__)
"""


def run_bounded(argv: list[str], work: Path, depth: int = 0, limit: int = BOUND) -> tuple[object, str]:
    """Run in a fresh process whose address space is capped at ``limit``; returns (exit code
    or "MemoryError", stderr). ``@DEEP@`` in ``argv`` becomes a path ``depth`` levels deep."""
    stderr = work / "stderr.txt"
    spec = {"argv": argv, "depth": depth, "stderr": str(stderr), "limit": limit}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["code"], stderr.read_text(errors="replace")


def expected_export_size() -> int:
    """UTF-16 bytes of the chain's export: its key lines alone hold about DEPTH**2 characters."""
    chars = len("Windows Registry Editor Version 5.00\r\n") + len("\r\n")  # header, final blank line
    for level in range(DEPTH + 1):
        chars += len("\r\n[" + ROOT + "]\r\n") + 2 * level  # each level adds "\k"
        chars += len('"v"=dword:00000000\r\n') if level % 100 == 0 else 0
    return 2 + 2 * chars  # the BOM, then UTF-16


@pytest.mark.parametrize("command", ["ls -r", "check", "ls deepest"])
def test_listing_and_checking_a_5000_deep_hive_stay_small(command, deep_hive, tmp_path):
    argv, allowed = {
        "ls -r": (["ls", "-r", str(deep_hive)], {0}),
        "check": (["check", str(deep_hive)], {1}),  # W-NK-DEPTH: deeper than Windows loads
        "ls deepest": (["ls", str(deep_hive), "@DEEP@"], {0}),
    }[command]
    code, err = run_bounded(argv, tmp_path, DEPTH)
    assert code in allowed, err[-500:]


def test_streamed_export_of_a_5000_deep_hive_needs_no_more_memory_than_listing_it(deep_hive, tmp_path):
    # The file is 50 MB (each key line holds its full path); the process stays within BOUND.
    out = tmp_path / "stream.reg"
    code, err = run_bounded(["stream-export", str(deep_hive), ROOT, str(out)], tmp_path, DEPTH)
    assert code == 0, err[-500:]
    assert out.stat().st_size == expected_export_size() > 48 << 20


def test_export_command_of_a_5000_deep_hive_streams_its_output(deep_hive, tmp_path):
    # The export command streams the file as the library produces it: its memory does not grow
    # with the 50 MB output (it held 3.4 times the output: the parts, the joined text, a UCS-2
    # copy with the BOM, then the encoded bytes).
    out = tmp_path / "cli.reg"
    code, err = run_bounded(["export", str(deep_hive), "--root", ROOT, "-o", str(out)], tmp_path, DEPTH)
    assert code == 0, err[-500:]
    assert out.stat().st_size == expected_export_size()
