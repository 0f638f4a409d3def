"""Read-only means read-only.

Every command that reads a hive (``info``, ``ls``, ``get``, ``check``, ``export``, ``diff``,
``import --dry-run``, ``ports check``, ``recover``, ``timeline``, the ``--salvage`` reads, log
replay into memory with ``--replay-logs``, and the
writing commands with ``-o``, which read their input) leaves the input's bytes and mtime
unchanged, and its transaction logs too. The files are made read-only (mode 0444), but as
root that alone proves nothing, so every ``open``/``os.open`` during the command is also
watched: none may name an input with a flag or mode that could write, and no call may
change an input's name, mode, times or size. ``hivetool view`` serves until it is stopped, so
tests/test_view_server.py runs it in-process under this file's :class:`Watch`, through every
endpoint of its API.
"""
from __future__ import annotations

import builtins
import io
import os
import shutil
import stat
from pathlib import Path

import pytest

from corpus import corpus_path, require_corpus
from hivetool.cli import main
from hivetool.regf.hive import Hive
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
KEY = "ControlSet001\\Services\\Tcpip\\Parameters"
DIRTY = "msuhanov+yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive"
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class Watch:
    """Records every attempt to open or change one of the watched files in a writing way."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = {os.path.realpath(p) for p in paths}
        self.opened: list[str] = []
        self.violations: list[str] = []

    def _watched(self, path) -> bool:
        if isinstance(path, int):
            return False
        try:
            return os.path.realpath(os.fspath(path)) in self.paths
        except (TypeError, ValueError):
            return False

    def install(self, monkeypatch) -> None:
        real_open, real_os_open = builtins.open, os.open

        def watched_open(file, mode="r", *args, **kwargs):
            if self._watched(file):
                self.opened.append(f"open({file}, {mode!r})")
                if any(c in mode for c in "wax+"):
                    self.violations.append(f"open({file}, {mode!r})")
            return real_open(file, mode, *args, **kwargs)

        def watched_os_open(path, flags, *args, **kwargs):
            if self._watched(path):
                self.opened.append(f"os.open({path}, 0x{flags:x})")
                if flags & WRITE_FLAGS:
                    self.violations.append(f"os.open({path}, 0x{flags:x})")
            return real_os_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", watched_open)
        monkeypatch.setattr(io, "open", watched_open)
        monkeypatch.setattr(os, "open", watched_os_open)
        for name in ("utime", "chmod", "chown", "truncate", "remove", "unlink", "rename", "replace", "link"):
            real = getattr(os, name)
            monkeypatch.setattr(os, name, self._forbid(name, real))

    def _forbid(self, name: str, real):
        def wrapper(*args, **kwargs):
            folders = (kwargs.get("src_dir_fd", kwargs.get("dir_fd")), kwargs.get("dst_dir_fd", kwargs.get("dir_fd")))
            for arg, folder in zip(args[:2], folders):
                if self._watched(_relative_to(arg, folder)):
                    self.violations.append(f"os.{name}{args}")
            return real(*args, **kwargs)

        return wrapper


def _relative_to(path, dir_fd: int | None):
    """A path given relative to a directory descriptor, made absolute (Linux /proc)."""
    if dir_fd is None or isinstance(path, int) or os.path.isabs(os.fspath(path)):
        return path
    return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), os.fspath(path))


def fingerprint(paths: list[Path]) -> list[tuple]:
    return [(p.name, p.read_bytes(), p.stat().st_mtime_ns, stat.S_IMODE(p.stat().st_mode)) for p in paths]


@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    """A clean SYSTEM-like hive, a second one to diff against, a .reg file, and a dirty hive
    with its logs; everything read-only."""
    hive = Hive.new(5, clock=CLOCK)
    hive.set_value(hive.create_key("Select"), "Current", 4, b"\x01\0\0\0")
    hive.set_value("Select", "Default", 4, b"\x01\0\0\0")
    hive.set_value(hive.create_key(KEY), "Port", 4, b"\xc9\x04\0\0")
    hive.set_value(KEY, "Name", 1, "tcp\0".encode("utf-16-le"))
    clean = tmp_path / "SYSTEM"
    hive.save(clean)
    hive.set_value(KEY, "Port", 4, b"\xca\x04\0\0")
    other = tmp_path / "SYSTEM.other"
    hive.save(other)
    reg = tmp_path / "patch.reg"
    reg.write_text('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\New]\r\n'
                   '"v"=dword:00000001\r\n\r\n', encoding="utf-16")
    found = {"clean": clean, "other": other, "reg": reg}
    require_corpus()
    source = corpus_path(DIRTY)
    for sibling in source.parent.iterdir():
        if sibling.name.startswith(source.name):
            shutil.copyfile(sibling, tmp_path / sibling.name)
    found["dirty"] = tmp_path / source.name
    found["logs"] = [tmp_path / (source.name + suffix) for suffix in (".LOG1", ".LOG2")]
    for path in [clean, other, reg, found["dirty"], *found["logs"]]:
        path.chmod(0o444)
    found["out"] = tmp_path / "out"
    found["out"].mkdir()
    return found


def reading_commands(f: dict) -> list[tuple[str, list[str], set[int]]]:
    """(label, argv, acceptable exit codes) for each way a command only reads its input."""
    clean, dirty, out = str(f["clean"]), str(f["dirty"]), f["out"]
    root = ["--root", "HKEY_LOCAL_MACHINE\\SYSTEM"]
    return [
        ("info", ["info", clean], {0}),
        ("info --json", ["info", clean, "--json"], {0}),
        ("ls", ["ls", clean], {0}),
        ("ls -r --json", ["ls", clean, "-r", "--json"], {0}),
        ("get", ["get", clean, KEY, "Port"], {0}),
        ("get --json", ["get", clean, KEY, "Name", "--json"], {0}),
        ("get --raw", ["get", clean, KEY, "Port", "--raw"], {0}),
        ("check", ["check", clean], {0}),
        ("check --json", ["check", clean, "--json"], {0}),
        ("export", ["export", clean, *root], {0}),
        ("export -o", ["export", clean, *root, "-o", str(out / "export.reg")], {0}),
        ("diff", ["diff", clean, str(f["other"]), *root], {0}),
        ("import --dry-run", ["import", clean, str(f["reg"]), "--dry-run", *root], {0}),
        ("ports check", ["ports", "check", clean], {0, 1}),
        ("info dirty", ["info", dirty], {0}),
        ("check dirty", ["check", dirty], {0, 1}),
        ("recover", ["recover", clean], {0}),
        ("recover --json --salvage", ["recover", clean, "--json", "--salvage"], {0}),
        ("recover --reg", ["recover", clean, "--reg", str(out / "recovered.reg"), *root], {0}),
        ("recover dirty --csv", ["recover", dirty, "--csv"], {0}),
        ("timeline --deleted", ["timeline", clean, "--deleted"], {0}),
        ("timeline --logs", ["timeline", dirty, "--logs", "--format", "jsonl"], {0}),
        ("ls --salvage", ["ls", clean, "-r", "--salvage", "--json"], {0}),
        ("export --salvage", ["export", clean, *root, "--salvage"], {0}),
        ("find --salvage", ["find", clean, "Tcpip", "--salvage"], {0}),
        ("ls --replay-logs", ["ls", dirty, "-r", "--replay-logs"], {0}),
        ("get --replay-logs", ["get", dirty, "Key3", "@", "--replay-logs"], {0}),
        ("replay -o", ["replay", dirty, "-o", str(out / "replayed")], {0}),
        ("set -o", ["set", clean, KEY, "Port", "--type", "dword", "--data", "7", "-o", str(out / "set")], {0}),
        ("mkkey -o", ["mkkey", clean, "A\\B", "-o", str(out / "mkkey")], {0}),
        ("rm -o", ["rm", clean, KEY, "Name", "-o", str(out / "rm")], {0}),
        ("compact -o", ["compact", clean, "-o", str(out / "compact")], {0}),
        ("set --replay-logs -o", ["set", dirty, "Key3", "x", "--type", "dword", "--data", "1", "--replay-logs",
                                  "-o", str(out / "set-replayed")], {0}),
    ]


LABELS = [label for label, _, _ in reading_commands({k: Path("x") for k in ("clean", "dirty", "other", "reg", "out")})]


@pytest.mark.parametrize("label", LABELS)
def test_reading_leaves_the_input_untouched(label, inputs, monkeypatch, capsysbinary):
    _, argv, acceptable = next(c for c in reading_commands(inputs) if c[0] == label)
    if argv[0] not in _commands():
        pytest.fail(f"command {argv[0]!r} is gone; update this list")
    watched = [inputs["clean"], inputs["other"], inputs["reg"], inputs["dirty"], *inputs["logs"]]
    before = fingerprint(watched)
    watch = Watch(watched)
    watch.install(monkeypatch)
    code = main(argv)
    monkeypatch.undo()
    err = capsysbinary.readouterr().err.decode(errors="replace")
    assert code in acceptable, f"{label}: exit {code}: {err}"
    assert watch.opened, f"{label}: the input was never opened (the watch saw nothing)"
    assert watch.violations == [], f"{label}: {watch.violations}"
    assert fingerprint(watched) == before
    assert sorted(os.listdir(inputs["clean"].parent)) == sorted(
        [p.name for p in watched] + ["out"]
    ), "no file may appear beside the inputs"


def _commands() -> set[str]:
    from hivetool.cli import COMMANDS

    return set(COMMANDS)


def test_the_watch_sees_a_write(inputs, monkeypatch):
    """The interception is real: an in-place edit of the same file is caught (as root the
    0444 mode does not stop it)."""
    target = inputs["clean"]
    target.chmod(0o644)
    watch = Watch([target])
    watch.install(monkeypatch)
    code = main(["set", str(target), KEY, "Port", "--type", "dword", "--data", "9", "--in-place"])
    monkeypatch.undo()
    assert code == 0 and watch.violations, "an in-place save replaces the file: the watch must see it"


def test_read_only_mode_is_enough_for_reading(inputs, capsysbinary):
    """Without any interception: mode 0444 files, every reading command succeeds."""
    for label, argv, acceptable in reading_commands(inputs):
        assert main(argv) in acceptable, label
    capsysbinary.readouterr()
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in [inputs["clean"], inputs["dirty"], *inputs["logs"]])
