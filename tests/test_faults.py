"""Nothing half-written: saves under injected faults.

* An exception at each step of a write (creating the file, writing, fsync, setting its
  mode, verification, giving it its name, replacing the target), in both ways the output
  can be staged (an unnamed file, or a named temporary file where unnamed ones are not
  available): the input is byte-identical, the target is absent or still its old self, and
  no temporary file is left.
* A full disk: a write wrapper that fails with ENOSPC after N bytes, and a real 64 KiB
  tmpfs where this machine lets us mount one.
* The process killed (SIGKILL) at every system call of a save and in the middle of a
  write, and at random moments from outside: the output is absent, or complete and valid.
* ``-o`` naming the input (directly, through a symbolic link or a hard link) is refused
  with exit 2; a missing or read-only output folder gives exit 6 with a clear message.
"""
from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hivetool import fileio
from hivetool.cli import main
from hivetool.errors import HiveIOError, VerifyFailed
from hivetool.regf.check import check_file
from hivetool.regf.compact import TreeSource, build_hive
from hivetool.regf.hive import Hive
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
KEY = "Services\\Tcpip\\Parameters"
STEPS = ("create", "write", "fsync", "chmod", "verify", "link", "replace")


def make_hive(path: Path, extra_keys: int = 20) -> Path:
    hive = Hive.new(5, clock=CLOCK)
    hive.set_value(hive.create_key(KEY), "Port", 4, b"\x01\x00\x00\x00")
    for i in range(extra_keys):
        hive.set_value(hive.create_key(f"Filler\\k{i:05d}"), "data", 3, bytes([i % 256]) * 300)
    hive.save(path)
    return path


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def port_of(path: Path) -> bytes:
    return Hive.open(path).key(KEY).value("Port").raw


@pytest.fixture(params=["unnamed", "named"])
def staging(request, monkeypatch) -> str:
    """Run with the unnamed (O_TMPFILE) staging file, and with the mkstemp fallback."""
    if request.param == "unnamed" and not fileio.USE_UNNAMED_TEMP:
        pytest.skip("this platform has no O_TMPFILE; the named fallback is tested")
    monkeypatch.setattr(fileio, "USE_UNNAMED_TEMP", request.param == "unnamed")
    return request.param


# --------------------------------------------------------------------------- one failing step
class Injected(Exception):
    """Not an OSError: something unexpected that must still leave nothing behind."""


def _raiser(kind: str):
    def fail(*args, **kwargs):
        if kind == "oserror":
            raise OSError(errno.EIO, "injected I/O error")
        if kind == "interrupt":
            raise KeyboardInterrupt
        raise Injected("injected failure")

    return fail


def inject(monkeypatch, step: str, kind: str) -> None:
    fail = _raiser(kind)
    if step == "create":
        real_open = os.open
        monkeypatch.setattr(os, "open", lambda p, flags, *a, **k: fail() if flags & getattr(os, "O_TMPFILE", 0)
                            and flags & os.O_WRONLY else real_open(p, flags, *a, **k))
        monkeypatch.setattr(tempfile, "mkstemp", fail)
    elif step == "write":
        monkeypatch.setattr(os, "write", fail)
    elif step == "fsync":
        monkeypatch.setattr(os, "fsync", fail)
    elif step == "chmod":
        monkeypatch.setattr(os, "fchmod", fail)
    elif step == "link":
        monkeypatch.setattr(os, "link", fail)
    elif step == "replace":
        monkeypatch.setattr(os, "replace", fail)


EXPECTED = {"oserror": HiveIOError, "injected": Injected, "interrupt": KeyboardInterrupt}


@pytest.mark.parametrize("kind", ["oserror", "injected", "interrupt"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-target", "existing-target"])
@pytest.mark.parametrize("step", STEPS)
def test_a_failing_step_leaves_nothing_behind(step, existing, kind, staging, tmp_path, monkeypatch):
    target = tmp_path / "out.hiv"
    if existing:
        target.write_bytes(b"old content")
        os.chmod(target, 0o640)
    before = listing(tmp_path)
    verify = None
    if step == "verify":
        verify = _raiser(kind)
    else:
        inject(monkeypatch, step, kind)
    # With a named staging file there is no link step, and with a new target no replace.
    reached = not ((step == "link" and staging == "named") or (step == "replace" and staging == "unnamed" and not existing))
    if reached:
        with pytest.raises(EXPECTED[kind] if step != "verify" or kind != "oserror" else OSError):
            fileio.atomic_write(target, [b"new ", memoryview(b"content")], verify=verify)
        monkeypatch.undo()
        assert (target.read_bytes() if existing else target.exists()) == (b"old content" if existing else False)
    else:
        fileio.atomic_write(target, [b"new ", memoryview(b"content")], verify=verify)
        monkeypatch.undo()
        assert target.read_bytes() == b"new content"
    assert listing(tmp_path) == sorted(set(before) | ({"out.hiv"} if target.exists() else set()))


def test_success_keeps_mode_and_writes_through_a_symlink(staging, tmp_path):
    real = tmp_path / "real.hiv"
    real.write_bytes(b"old")
    os.chmod(real, 0o604)
    link = tmp_path / "link.hiv"
    link.symlink_to(real)
    fileio.atomic_write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert real.stat().st_mode & 0o777 == 0o604
    fileio.atomic_write(tmp_path / "fresh.hiv", iter([b"a", bytearray(b"b"), memoryview(b"c")]))
    assert (tmp_path / "fresh.hiv").read_bytes() == b"abc"
    assert listing(tmp_path) == ["fresh.hiv", "link.hiv", "real.hiv"]


def test_a_generator_that_fails_midway_leaves_nothing(staging, tmp_path):
    def chunks():
        yield b"x" * 1000
        raise Injected("the producer failed")

    with pytest.raises(Injected):
        fileio.atomic_write(tmp_path / "out.hiv", chunks())
    assert listing(tmp_path) == []


@pytest.mark.parametrize("command", ["set", "compact"])
def test_cli_failures_during_save_keep_input_and_exit_6(command, staging, tmp_path, monkeypatch, capsys):
    source = make_hive(tmp_path / "in.hiv")
    original, stamp = source.read_bytes(), source.stat().st_mtime_ns
    argv = (["set", str(source), KEY, "Port", "--type", "dword", "--data", "1225"] if command == "set"
            else ["compact", str(source)])
    for step in ("write", "fsync", "replace" if staging == "named" else "link"):
        inject(monkeypatch, step, "oserror")
        code = main(argv + ["-o", str(tmp_path / "out.hiv")])
        monkeypatch.undo()
        monkeypatch.setattr(fileio, "USE_UNNAMED_TEMP", staging == "unnamed")
        assert code == 6, step
        assert "nothing was written" in capsys.readouterr().err
        assert listing(tmp_path) == ["in.hiv"]
    if command == "set":
        inject(monkeypatch, "write", "oserror")
        assert main(argv + ["--in-place"]) == 6
        monkeypatch.undo()
    assert source.read_bytes() == original and source.stat().st_mtime_ns == stamp
    assert listing(tmp_path) == ["in.hiv"]


def test_failed_verify_writes_nothing(tmp_path, monkeypatch, capsys):
    source = make_hive(tmp_path / "in.hiv")
    original = source.read_bytes()

    def disagree(path, expectations):
        raise VerifyFailed("verification failed, nothing written: a reader disagreed")

    monkeypatch.setattr("hivetool.verify.verify_hive_file", disagree)
    for extra in (["-o", str(tmp_path / "out.hiv")], ["--in-place"]):
        code = main(["set", str(source), KEY, "Port", "--type", "dword", "--data", "9", "--verify", *extra])
        assert code == 4
    assert main(["compact", str(source), "-o", str(tmp_path / "c.hiv"), "--verify"]) == 4
    assert source.read_bytes() == original and listing(tmp_path) == ["in.hiv"]
    assert "nothing written" in capsys.readouterr().err


# --------------------------------------------------------------------------- a full disk
@pytest.mark.parametrize("budget", [0, 1, 511, 4096, 4097, 30_000])
def test_disk_full_after_n_bytes(budget, staging, tmp_path, monkeypatch, capsys):
    source = make_hive(tmp_path / "in.hiv", extra_keys=60)
    original = source.read_bytes()
    assert len(original) > budget
    real_write = os.write
    written = [0]

    def limited(fd, data):
        room = budget - written[0]
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real_write(fd, memoryview(data)[:room])
        written[0] += n
        return n

    monkeypatch.setattr(os, "write", limited)
    for argv in (["set", str(source), KEY, "Port", "--type", "dword", "--data", "7", "--in-place"],
                 ["compact", str(source), "-o", str(tmp_path / "out.hiv")]):
        written[0] = 0
        assert main(argv) == 6
        assert "no space left on the device" in capsys.readouterr().err
    monkeypatch.undo()
    assert source.read_bytes() == original and listing(tmp_path) == ["in.hiv"]


def _mount_tmpfs(folder: Path, options: str) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_tmpfs(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    if not _mount_tmpfs(folder, "size=64k"):
        pytest.skip("cannot mount a tmpfs here (needs root and mount rights); the ENOSPC wrapper test covers this")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_tmpfs(small_tmpfs, tmp_path, capsys):
    source = make_hive(tmp_path / "in.hiv", extra_keys=400)
    assert source.stat().st_size > 64 * 1024
    original = source.read_bytes()
    out = small_tmpfs / "out.hiv"
    assert main(["compact", str(source), "-o", str(out)]) == 6
    assert "no space left on the device" in capsys.readouterr().err
    assert listing(small_tmpfs) == [] and source.read_bytes() == original
    shutil.copyfile(make_hive(tmp_path / "small.hiv", extra_keys=5), small_tmpfs / "in.hiv")
    before = (small_tmpfs / "in.hiv").read_bytes()
    filler = small_tmpfs / "filler"
    with open(filler, "wb", buffering=0) as handle:  # leave less room than another copy of the hive needs
        try:
            while handle.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    assert main(["set", str(small_tmpfs / "in.hiv"), KEY, "Port", "--type", "dword", "--data", "5", "--in-place"]) == 6
    assert (small_tmpfs / "in.hiv").read_bytes() == before
    assert listing(small_tmpfs) == ["filler", "in.hiv"]


# --------------------------------------------------------------------------- killed mid-save
CHILD = r"""
import os, signal, sys
target_call = int(sys.argv[1])
calls = [0]
names = []
def deadly(real, name):
    def wrapper(*args, **kwargs):
        calls[0] += 1
        names.append(name)
        if calls[0] == target_call:
            if name == "write" and len(args[1]) > 1:
                real(args[0], memoryview(args[1])[: len(args[1]) // 2])  # die half-way through a write
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapper
from hivetool.cli import main
for name in ("open", "write", "fsync", "fchmod", "link", "replace", "close"):
    setattr(os, name, deadly(getattr(os, name), name))
code = main(sys.argv[2:])
sys.stderr.write("CALLS " + ",".join(names) + "\n")
sys.exit(code)
"""


def run_child(call: int, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(call), *argv], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("mode", ["set-in-place", "set-new-output", "compact"])
def test_killed_at_every_system_call(mode, tmp_path):
    source = make_hive(tmp_path / "in.hiv", extra_keys=3000)  # about 1.5 MB: compact writes in chunks
    original = source.read_bytes()
    out = tmp_path / "out.hiv"
    argv = {
        "set-in-place": ["set", str(source), KEY, "Port", "--type", "dword", "--data", "1225", "--in-place"],
        "set-new-output": ["set", str(source), KEY, "Port", "--type", "dword", "--data", "1225", "-o", str(out)],
        "compact": ["compact", str(source), "-o", str(out)],
    }[mode] + ["--timestamp", "@0"]
    dry = run_child(0, argv)
    assert dry.returncode == 0, dry.stderr
    calls = dry.stderr.rsplit("CALLS ", 1)[1].split()[0].split(",")
    assert {"write", "fsync", "fchmod", "link"} <= set(calls)
    expected = (source if mode == "set-in-place" else out).read_bytes()
    saw = {"absent": 0, "complete": 0}
    for call, name in enumerate(calls, start=1):
        source.write_bytes(original)
        if out.exists():
            out.unlink()
        done = run_child(call, argv)
        assert done.returncode in (-signal.SIGKILL, 0), done.stderr
        result = source if mode == "set-in-place" else out
        if mode != "set-in-place":
            assert source.read_bytes() == original
        if result.exists() and result.read_bytes() != original:
            assert result.read_bytes() == expected, f"killed at call {call} ({name}): the output is not complete"
            saw["complete"] += 1
        else:
            saw["absent"] += 1
        stray = [n for n in listing(tmp_path) if n not in ("in.hiv", "out.hiv")]
        if stray:
            # Replacing an existing file needs a name for rename(2): killed between linking the
            # finished file under a temporary name and the rename, that complete file remains.
            assert mode == "set-in-place" and name == "replace", f"killed at call {call} ({name}): {stray}"
            assert [(tmp_path / n).read_bytes() for n in stray] == [expected]
            (tmp_path / stray[0]).unlink()
    assert saw["absent"] and saw["complete"], saw
    assert check_file(source if mode == "set-in-place" else out).clean


class Wide(TreeSource):
    def name(self, handle: int) -> str:
        return f"key{handle:06d}"

    def child_handles(self, handle: int):
        return range(1, 40_001) if handle == 0 else ()

    def value_items(self, handle: int):
        return [("data", 3, handle.to_bytes(4, "little") * 100)] if handle else []


def test_killed_from_outside_at_random_moments(tmp_path):
    source = tmp_path / "in.hiv"
    build_hive(Wide(timestamp=CLOCK.now()), source, CLOCK)  # about 20 MB: a save takes a while
    original = source.read_bytes()
    # A fixed clock: a run that finishes before the kill must write exactly ``updated``.
    argv = [sys.executable, "-c", "from hivetool.cli import entry_point; entry_point()", "set", str(source),
            "key000001", "data", "--type", "dword", "--data", "5", "--in-place", "--timestamp", "@1000000000"]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    duration = time.perf_counter() - start
    updated = source.read_bytes()
    rng = random.Random(7)
    for _ in range(12):
        source.write_bytes(original)
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = source.read_bytes()
        assert now in (original, updated)
        stray = [name for name in listing(tmp_path) if name != "in.hiv"]
        # Replacing an existing file needs a name for rename(2); a kill in the two system
        # calls between linking the finished file under a temporary name and renaming it
        # leaves that complete file behind, under that name.
        for name in stray:
            assert (tmp_path / name).read_bytes() == updated
            (tmp_path / name).unlink()


# --------------------------------------------------------------------------- refused targets
def test_output_naming_the_input_is_refused(tmp_path, capsys):
    source = make_hive(tmp_path / "in.hiv")
    original = source.read_bytes()
    (tmp_path / "sym.hiv").symlink_to(source)
    os.link(source, tmp_path / "hard.hiv")
    for alias in (source, tmp_path / "sym.hiv", tmp_path / "hard.hiv", tmp_path / "." / "in.hiv"):
        for argv in (["set", str(source), KEY, "Port", "--type", "dword", "--data", "2"], ["compact", str(source)],
                     ["mkkey", str(source), "New"], ["rm", str(source), KEY]):
            assert main(argv + ["-o", str(alias)]) == 2, (argv, alias)
            assert "names an input of this command" in capsys.readouterr().err
    assert source.read_bytes() == original
    assert listing(tmp_path) == ["hard.hiv", "in.hiv", "sym.hiv"]


def test_missing_output_folder_is_exit_6(tmp_path, capsys):
    source = make_hive(tmp_path / "in.hiv")
    for argv in (["set", str(source), KEY, "Port", "--type", "dword", "--data", "2"], ["compact", str(source)]):
        assert main(argv + ["-o", str(tmp_path / "no" / "such" / "out.hiv")]) == 6
        assert "does not exist" in capsys.readouterr().err
    assert main(["new", str(tmp_path / "missing" / "new.hiv")]) == 6
    (tmp_path / "afile").write_bytes(b"")
    assert main(["compact", str(source), "-o", str(tmp_path / "afile" / "out.hiv")]) == 6
    assert "is not a folder" in capsys.readouterr().err


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """A folder we cannot write to, made as honestly as this machine allows: permission bits
    for a normal user; for root (whom permission bits do not stop) a read-only tmpfs, or,
    where mounting is not allowed, a wrapper that answers file creation there with EACCES
    the way the kernel would."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder, "permission denied"
        folder.chmod(0o755)
        return
    if _mount_tmpfs(folder, "ro,size=64k"):
        yield folder, "read-only"
        subprocess.run(["umount", str(folder)], check=True)
        return
    real_open, real_mkstemp = os.open, tempfile.mkstemp

    def guarded_open(path, flags, *args, **kwargs):
        if Path(path) == folder and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    def guarded_mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(tempfile, "mkstemp", guarded_mkstemp)
    yield folder, "permission denied"


def test_read_only_output_folder_is_exit_6(read_only_folder, tmp_path, capsys):
    folder, reason = read_only_folder
    source = make_hive(tmp_path / "in.hiv")
    for argv in (["set", str(source), KEY, "Port", "--type", "dword", "--data", "2"], ["compact", str(source)]):
        assert main(argv + ["-o", str(folder / "out.hiv")]) == 6
        err = capsys.readouterr().err
        assert f"cannot create a file in {folder}" in err and reason in err, err
    assert listing(folder) == []
