"""Hives written back into a WIM keep their security descriptor and attributes, and a write
killed at any moment leaves a WIM that wimlib accepts, holding the old hives or all the new.

The fixture WIM carries real metadata: a folder is captured, applied onto a scratch NTFS volume
(wimlib gives each file a security descriptor there), ntfssecaudit gives SAM, SECURITY and
SYSTEM their own descriptors and non-default attributes, and the volume is captured again
(NTFS-3G capture keeps both). Missing tools skip these tests, except under CI=true.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus import IN_CI
from hivetool.errors import EXIT_IO, HiveIOError
from hivetool.regf.hive import Hive
from hivetool.regf.records.types import RegType
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
CONFIG = "Windows/System32/config"
HIVES = ("SAM", "SECURITY", "SYSTEM")  # the three that get their own descriptor and attributes
ATTRIBUTES = {"SAM": 0x26, "SECURITY": 0x2024, "SYSTEM": 0x21}  # hidden/system/archive, not-indexed, read-only
MODES = {"SAM": "0600", "SECURITY": "0640", "SYSTEM": "0604"}  # distinct descriptors
OLD_TIME = 981173106  # 2001-02-03: the fixture's file times, so that a rewrite shows
SBIN = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/sbin", "/sbin"])
ROOT = Path(__file__).resolve().parent.parent


def need(*programs: str) -> dict[str, str]:
    found = {name: shutil.which(name, path=SBIN) for name in programs}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"{', '.join(missing)} not found (Debian: apt-get install wimtools ntfs-3g)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found  # type: ignore[return-value]


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, check=True, **kwargs)


def hive_bytes(marker: int, padding: int = 0) -> bytes:
    hive = Hive.new(5, "ROOT", CLOCK)
    key = hive.create_key("Test")
    hive.set_value(key, "Marker", RegType.DWORD, marker.to_bytes(4, "little"))
    if padding:  # incompressible data: makes wimlib's write take long enough to be killed in
        hive.set_value(key, "Padding", RegType.BINARY, random.Random(marker).randbytes(padding))
    return hive.to_bytes()


def marker_of(data: bytes) -> int:
    return Hive.from_bytes(data).key("Test").value("Marker").data


def dir_blocks(wim: Path) -> dict[str, list[str]]:
    """``wimlib-imagex dir --detailed``: path -> its lines (Reference Count left out: an equal
    new blob may share an old one)."""
    text = run("wimlib-imagex", "dir", wim, "1", "--detailed").stdout.decode()
    blocks = {}
    for block in text.split("-" * 76):
        match = re.search(r'^Full Path\s+= "(.*)"$', block, re.M)
        if match:
            blocks[match.group(1)] = [line for line in block.strip().splitlines()
                                      if not line.startswith("Reference Count")]
    return blocks


def facts(block: list[str]) -> dict[str, str]:
    """The entry's own fields (the first of each name: streams come after)."""
    found: dict[str, str] = {}
    for line in block:
        name, sep, value = line.partition("=")
        if sep and not line.startswith(("\t", " ")):
            found.setdefault(name.strip(), value.strip())
    return found


KEPT = ("Attributes", "Security Descriptor", "Creation Time", "Short Name")


def read_from(wim: Path, path: str) -> bytes:
    return run("wimlib-imagex", "extract", wim, "1", "/" + path, "--to-stdout").stdout


def accepted(wim: Path, scratch: Path) -> Path:
    """wimlib-imagex info, verify (every blob against its hash) and apply accept the WIM;
    returns the applied tree."""
    run("wimlib-imagex", "info", wim)
    run("wimlib-imagex", "verify", wim)
    target = scratch / f"applied-{time.monotonic_ns()}"
    run("wimlib-imagex", "apply", wim, "1", target)
    return target


@pytest.fixture(scope="module")
def fixture_wim(tmp_path_factory) -> Path:
    tools = need("wimlib-imagex", "mkntfs", "ntfssecaudit", "ntfscp", "ntfsls", "ntfscat")
    base = tmp_path_factory.mktemp("wim-metadata")
    tree = base / "tree"
    config = tree / CONFIG
    config.mkdir(parents=True)
    for number, name in enumerate(("SAM", "SECURITY", "SYSTEM", "SOFTWARE", "DEFAULT"), start=1):
        (config / name).write_bytes(hive_bytes(number))
    (config / "SYSTEM.LOG1").write_bytes(b"log data that --replay-logs would empty")
    profile = tree / "Users" / "alice"
    profile.mkdir(parents=True)
    (profile / "NTUSER.DAT").write_bytes(hive_bytes(9))
    for path in sorted(tree.rglob("*"), reverse=True):
        os.utime(path, (OLD_TIME, OLD_TIME))
    run("wimlib-imagex", "capture", tree, base / "plain.wim", "fixture")
    volume = base / "volume.img"
    with open(volume, "wb") as handle:
        handle.truncate(32 << 20)
    run(tools["mkntfs"], "-F", "-f", "-q", volume)
    run("wimlib-imagex", "apply", base / "plain.wim", "1", volume)
    for name, mode in MODES.items():
        done = subprocess.run([tools["ntfssecaudit"], str(volume), mode, f"/{CONFIG}/{name}"], capture_output=True)
        if done.returncode != 0:
            message = f"ntfssecaudit cannot set a security descriptor here (it needs root): {done.stderr[-200:]!r}"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
    # ntfssecaudit -se sets "Windows attrib" from a backup listing: take one and edit it.
    backup = run(tools["ntfssecaudit"], "-b", volume, "/").stdout.decode()
    edited, current = [], None
    for line in backup.splitlines():
        if line.startswith(("File ", "Directory ")):
            current = line.split(" ", 1)[1]
        name = (current or "").rpartition("/")[2]
        if line.startswith("Windows attrib") and current == f"/{CONFIG}/{name}" and name in ATTRIBUTES:
            line = f"Windows attrib : 0x{ATTRIBUTES[name]:x}"
        edited.append(line)
    (base / "attrib.txt").write_text("\n".join(edited) + "\n")
    run(tools["ntfssecaudit"], "-se", volume, base / "attrib.txt")
    wim = base / "fixture.wim"
    run("wimlib-imagex", "capture", volume, wim, "fixture")
    blocks = dir_blocks(wim)
    for name, attributes in ATTRIBUTES.items():
        got = facts(blocks[f"/{CONFIG}/{name}"])
        assert int(got["Attributes"], 16) == attributes, got  # the fixture is what it claims
        assert got.get("Security Descriptor"), got
    descriptors = {facts(blocks[f"/{CONFIG}/{name}"])["Security Descriptor"] for name in HIVES}
    assert len(descriptors) == 3
    return wim


def store_write(wim: Path, changes: dict[str, bytes], output: Path | None = None) -> list[str]:
    from hivetool.image.store import Change
    from hivetool.image.wim import WimStore

    store = WimStore(wim, 1)
    try:
        store.fetch([f"{CONFIG}/*", "Users/*/NTUSER.DAT"])
        return store.write([Change(path, [data]) for path, data in changes.items()],
                           None if output is None else str(output))
    finally:
        store.close()


def new_hives(padding: int = 0) -> dict[str, bytes]:
    return {f"{CONFIG}/{name}": hive_bytes(100 + number, padding) for number, name in enumerate(HIVES)}


def check_written(before: Path, after: Path, changes: dict[str, bytes], new_files: tuple[str, ...], scratch: Path):
    old, new = dir_blocks(before), dir_blocks(after)
    for path, data in changes.items():
        assert read_from(after, path) == data
        if path in new_files:
            got = facts(new["/" + path])
            assert int(got["Attributes"], 16) == 0x80 and "Security Descriptor" not in got, got
            continue
        was, got = facts(old["/" + path]), facts(new["/" + path])
        assert {k: got.get(k) for k in KEPT} == {k: was.get(k) for k in KEPT}, path
        assert got["Last Write Time"] != was["Last Write Time"], f"{path}: the rewrite shows in the file's time"
    for path, block in old.items():  # every folder and every other file: untouched
        if path.strip("/") not in changes:
            assert new[path] == block, path
    assert set(new) == set(old) | {"/" + path for path in new_files}  # no NTFS system files came along
    applied = accepted(after, scratch)
    for path, data in changes.items():
        assert (applied / path).read_bytes() == data


def test_in_place_keeps_descriptors_and_attributes(fixture_wim, tmp_path):
    wim = tmp_path / "image.wim"
    shutil.copyfile(fixture_wim, wim)
    changes = new_hives()
    changes[f"{CONFIG}/SYSTEM.LOG1"] = b""  # an emptied transaction log
    changes[f"{CONFIG}/SYSTEM.LOG2"] = b""  # a file new to the image
    changes["users/ALICE/ntuser.dat"] = hive_bytes(110)  # any case: written at the stored spelling
    written = store_write(wim, changes)
    assert written == [f"{wim}:1"]
    stored = {("Users/alice/NTUSER.DAT" if k.lower() == "users/alice/ntuser.dat" else k): v for k, v in changes.items()}
    check_written(fixture_wim, wim, stored, (f"{CONFIG}/SYSTEM.LOG2",), tmp_path)
    for number, name in enumerate(HIVES):  # hivetool opens each hive and reads the change
        assert marker_of(read_from(wim, f"{CONFIG}/{name}")) == 100 + number
    assert marker_of(read_from(wim, "Users/alice/NTUSER.DAT")) == 110


def test_output_copy_keeps_descriptors_and_attributes(fixture_wim, tmp_path):
    wim = tmp_path / "image.wim"
    shutil.copyfile(fixture_wim, wim)
    digest = hashlib.sha256(wim.read_bytes()).hexdigest()
    out = tmp_path / "out" / "patched.wim"
    out.parent.mkdir()
    changes = new_hives()
    assert store_write(wim, changes, out) == [f"{out}:1"]
    assert hashlib.sha256(wim.read_bytes()).hexdigest() == digest  # the source is untouched
    check_written(fixture_wim, out, changes, (), tmp_path)
    assert sorted(p.name for p in out.parent.iterdir()) == ["patched.wim"]  # no temporary left


def test_missing_library_is_exit_6(fixture_wim, tmp_path, monkeypatch):
    from hivetool.image import libwim

    wim = tmp_path / "image.wim"
    shutil.copyfile(fixture_wim, wim)
    monkeypatch.setattr(libwim, "_candidates", lambda: iter(["libwim-not-here.so.15"]))
    libwim.library.cache_clear()
    try:
        with pytest.raises(HiveIOError) as caught:
            store_write(wim, new_hives())
    finally:
        libwim.library.cache_clear()
    assert caught.value.exit_code == EXIT_IO and "apt-get install" in str(caught.value)
    assert wim.read_bytes() == fixture_wim.read_bytes()


def test_missing_ntfs_tools_is_exit_6(fixture_wim, tmp_path, monkeypatch):
    """Without ntfs-3g the hives cannot keep their metadata: refuse (no silent fallback)."""
    from hivetool.image import wim_write
    from hivetool.image.store import Change
    from hivetool.image.wim import WimStore

    wim = tmp_path / "image.wim"
    shutil.copyfile(fixture_wim, wim)
    store = WimStore(wim, 1)
    try:
        store.fetch([f"{CONFIG}/*"])
        only_wimlib = tmp_path / "bin"
        only_wimlib.mkdir()
        (only_wimlib / "wimlib-imagex").symlink_to(shutil.which("wimlib-imagex"))
        monkeypatch.setenv("PATH", str(only_wimlib))
        monkeypatch.setattr(wim_write, "_SBIN", ())
        with pytest.raises(HiveIOError) as caught:
            store.write([Change(path, [data]) for path, data in new_hives().items()], None)
    finally:
        store.close()
    assert caught.value.exit_code == EXIT_IO and "apt-get install ntfs-3g" in str(caught.value)
    assert wim.read_bytes() == fixture_wim.read_bytes()


def test_update_command_matches_wimlib_h():
    """struct wimlib_update_command on LP64: enum at 0, the union at 8, 40 bytes."""
    import ctypes

    from hivetool.image import libwim

    if ctypes.sizeof(ctypes.c_void_p) != 8:
        pytest.skip("the layout checked here is LP64's")
    assert libwim.UpdateCommand.op.offset == 0 and libwim.UpdateCommand.u.offset == 8
    assert ctypes.sizeof(libwim.AddCommand) == 32 and ctypes.sizeof(libwim.UpdateCommand) == 40
    assert libwim.AddCommand.add_flags.offset == 24


# ---------------------------------------------------------------------------- killed writes
WORKER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from hivetool.image.store import Change
from hivetool.image.wim import WimStore
wim, output, payloads = sys.argv[2], sys.argv[3] or None, Path(sys.argv[4])
store = WimStore(wim, 1)
store.fetch(["Windows/System32/config/*"])
store.write([Change("Windows/System32/config/" + p.name, [p.read_bytes()]) for p in sorted(payloads.iterdir())], output)
store.close()
"""


def kill_rounds(fixture_wim: Path, tmp_path: Path, rounds: int, seed: int) -> dict[str, int]:
    """Write three 3-MB hives (in place; every fourth round with -o) and SIGKILL the writer: at a
    random moment of the whole run, or every other round at a random moment after the WIM (or
    the -o copy) first changes, i.e. while wimlib writes it. Returns how often each happened."""
    payloads = tmp_path / "payloads"
    payloads.mkdir()
    new = new_hives(padding=3 << 20)
    for path, data in new.items():
        (payloads / Path(path).name).write_bytes(data)
    old = {path: read_from(fixture_wim, path) for path in new}
    descriptors = {name: facts(dir_blocks(fixture_wim)[f"/{CONFIG}/{name}"])["Security Descriptor"] for name in HIVES}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))  # what a killed writer leaves stays in tmp_path
    chooser = random.Random(seed)
    outcome: dict[str, int] = {}
    duration = tail = 0.0
    recovered = False
    for number in range(rounds):
        wim = tmp_path / f"round{number}.wim"
        shutil.copyfile(fixture_wim, wim)
        output = tmp_path / f"round{number}-out.wim" if number % 4 == 3 else None
        watched = tmp_path / f".{output.name}." if output else wim  # -o: the copy being written
        initial = _stat(watched)
        start = time.monotonic()
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT), str(wim), str(output or ""), str(payloads)],
                                  env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if number == 0:
            deadline = float("inf")  # the first round runs to the end: how long a write and its tail take
        elif number % 2 == 0:
            deadline = start + 2 * duration  # kill once the WIM changes (below)
        else:
            deadline = start + chooser.uniform(0, duration)
        changed_at = None
        while worker.poll() is None and time.monotonic() < deadline:
            if changed_at is None and _stat(watched) != initial:
                changed_at = time.monotonic()
                if number and number % 2 == 0:
                    deadline = changed_at + chooser.uniform(0, 1.2 * tail)
            time.sleep(0.0005)
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)  # the writer and its ntfs-3g children
            worker.wait()
            phase = "killed while the WIM was written" if changed_at or _stat(watched) != initial \
                else "killed before the WIM changed"
        else:
            assert worker.returncode == 0, worker.stderr.read().decode()[-2000:]
            phase = "finished"
            if number == 0:
                duration = time.monotonic() - start
                tail = duration - ((changed_at or start) - start)
        worker.stderr.close()
        if output is not None:
            assert wim.read_bytes() == fixture_wim.read_bytes()  # -o never touches the source
        target = output or wim
        if not target.exists():
            state = "no output"
        else:
            accepted(target, scratch)
            got = {path: read_from(target, path) for path in new}
            state = "new" if got == new else "old"
            assert got == (new if state == "new" else old), "every hive old, or every hive new"
            assert output is None or state == "new", "an -o output appears only complete"
            blocks = dir_blocks(target)
            for name in HIVES:
                assert facts(blocks[f"/{CONFIG}/{name}"]).get("Security Descriptor") == descriptors[name], name
        key = f"{phase}: {state}"
        outcome[key] = outcome.get(key, 0) + 1
        if phase.startswith("killed while") and output is None and not recovered:
            store_write(wim, {f"{CONFIG}/SAM": hive_bytes(7)})  # a killed WIM takes the next write
            assert marker_of(read_from(wim, f"{CONFIG}/SAM")) == 7
            accepted(wim, scratch)
            recovered = True
    print(f"\nkill rounds: {rounds}; one write {duration:.2f} s, of which wimlib writing the WIM {tail:.2f} s; "
          f"{outcome}")
    return outcome


def _stat(path: Path) -> tuple[int, int] | None:
    if path.name.endswith("."):  # a prefix: the -o temporary beside the output
        matches = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
        path = matches[0] if matches else path
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns


def killed(outcome: dict[str, int], phase: str = "killed") -> int:
    return sum(count for key, count in outcome.items() if key.startswith(phase))


def test_killed_writes_leave_old_or_new(fixture_wim, tmp_path):
    outcome = kill_rounds(fixture_wim, tmp_path, rounds=15, seed=1)
    assert killed(outcome) >= 5 and killed(outcome, "killed while") >= 2, outcome


@pytest.mark.slow
def test_killed_writes_leave_old_or_new_many(fixture_wim, tmp_path):
    outcome = kill_rounds(fixture_wim, tmp_path, rounds=80, seed=2)
    assert killed(outcome) >= 40 and killed(outcome, "killed while") >= 20, outcome
