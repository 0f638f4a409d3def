"""One rule for every command: an output never destroys an input, and inputs that are not
regular files are refused before they can hang or exhaust memory.

* ``-o`` naming any input of the command (the hive, the logs beside it or given with
  ``--log``, a .reg file, ``--data-file``, ``--software``, either side of ``diff``), by its own
  name, through a symbolic link or a hard link: exit 2 before anything is read, and every
  input is byte-identical afterwards.
* The library's ``Hive.save()`` to the file it opened needs ``in_place=True``.
* ``-o`` onto a FIFO or a device is refused and the node is left as it was (``-o -`` is
  standard output where the command writes text).
* A hive input that is a FIFO, a device or a folder is refused at once (exit 3); a regular
  file that is not a hive is refused after its first 4 KiB. .reg inputs may be pipes or ``-``.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.errors import UsageError
from hivetool.fileio import OutputIsInput
from hivetool.regf.hive import Hive
from hivetool.timeutil import Clock

from test_replay import NEW_DIRTY

CLOCK = Clock(0x01DA_9B8C_0000_0000)
KEY = "ControlSet001\\Services\\Tcpip\\Parameters"
REG = ('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\New]\r\n'
       '"v"=dword:00000001\r\n\r\n')


def system_hive(path: Path, port: int = 1) -> Path:
    hive = Hive.new(5, clock=CLOCK)
    hive.set_value(hive.create_key("Select"), "Current", 4, b"\x01\0\0\0")
    hive.set_value("Select", "Default", 4, b"\x01\0\0\0")
    hive.set_value(hive.create_key(KEY), "Port", 4, port.to_bytes(4, "little"))
    hive.create_key("ControlSet001\\Services\\MSExchangeDS\\Parameters")
    hive.create_key("ControlSet001\\Services\\MSExchangeIS\\ParametersSystem")
    hive.save(path)
    return path


@pytest.fixture
def files(tmp_path, corpus_copy) -> dict[str, Path]:
    found = {
        "system": system_hive(tmp_path / "SYSTEM"),
        "other": system_hive(tmp_path / "SYSTEM.other", 2),
        "reg": tmp_path / "patch.reg",
        "data": tmp_path / "data.bin",
        "dirty": corpus_copy(NEW_DIRTY, with_logs=True),
    }
    found["reg"].write_text(REG, encoding="utf-16")
    found["data"].write_bytes(b"\x05\0\0\0")
    found["log1"] = found["dirty"].with_name(found["dirty"].name + ".LOG1")
    found["log2"] = found["dirty"].with_name(found["dirty"].name + ".LOG2")
    assert found["log1"].is_file() and found["log2"].is_file()
    return found


def every_command(f: dict[str, Path]) -> list[tuple[list[str], Path]]:
    """(argv without -o, the input an -o may not name) for every command that has -o."""
    s, other, reg, data, dirty = (str(f[k]) for k in ("system", "other", "reg", "data", "dirty"))
    put = ["set", s, KEY, "Port", "--type", "dword", "--data", "2"]
    return [
        (["replay", dirty], f["log1"]),
        (["replay", dirty], f["log2"]),
        (["replay", dirty], f["dirty"]),
        (["replay", dirty, "--log", str(f["log2"])], f["log2"]),
        (["set", dirty, KEY, "v", "--type", "dword", "--data", "1", "--replay-logs"], f["log1"]),
        (put, f["system"]),
        (["set", s, KEY, "Port", "--type", "dword", "--data-file", data], f["data"]),
        (["mkkey", s, "New"], f["system"]),
        (["rm", s, KEY, "Port"], f["system"]),
        (["import", s, reg], f["reg"]),
        (["import", s, reg], f["system"]),
        (["export", s], f["system"]),
        (["export", dirty], f["log1"]),
        (["diff", s, other], f["system"]),
        (["diff", s, other], f["other"]),
        (["reg", "fmt", reg], f["reg"]),
        (["compact", s], f["system"]),
        (["ports", "set", s, "exchange55", "ds=1225", "is=1226"], f["system"]),
        (["ports", "set", s, "exchange55", "ds=1225", "is=1226", "--software", other], f["other"]),
    ]


def snapshot(f: dict[str, Path]) -> dict[str, tuple[bytes, int, int]]:
    return {name: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for name, p in f.items()}


@pytest.mark.parametrize("alias", ["itself", "symlink", "hardlink"])
def test_no_output_may_name_an_input(files, tmp_path, capsys, alias):
    before = snapshot(files)
    for index, (argv, victim) in enumerate(every_command(files)):
        if alias == "itself":
            out = victim
        elif alias == "symlink":
            out = tmp_path / f"link{index}"
            out.symlink_to(victim)
        else:
            out = tmp_path / f"hard{index}"
            os.link(victim, out)
        code = main(argv + ["-o", str(out)])
        err = capsys.readouterr().err
        assert code == 2, (argv, victim.name, err)
        assert "names an input of this command" in err, err
        assert snapshot(files) == before, (argv, victim.name)


def test_replay_onto_its_own_log_is_refused_before_anything_is_read(files, capsys, monkeypatch):
    import hivetool.inputs as inputs

    opened = []
    real = inputs.open_input
    monkeypatch.setattr(inputs, "open_input", lambda *a, **k: opened.append(a) or real(*a, **k))
    assert main(["replay", str(files["dirty"]), "-o", str(files["log1"])]) == 2
    assert opened == []


def test_library_save_over_the_opened_file_needs_in_place(files, tmp_path):
    path = files["system"]
    original = path.read_bytes()
    hive = Hive.open(path, CLOCK)
    hive.set_value(KEY, "Port", 4, b"\x07\0\0\0")
    link = tmp_path / "alias"
    link.symlink_to(path)
    for target in (path, str(path), link):
        with pytest.raises(OutputIsInput) as caught:
            hive.save(target)
        assert caught.value.exit_code == 2 and "in_place=True" in str(caught.value)
    assert path.read_bytes() == original
    with pytest.raises(UsageError):
        hive.save(tmp_path / "elsewhere", in_place=True)  # in place names the opened file only
    with pytest.raises(UsageError):
        Hive.new(5, clock=CLOCK).save(in_place=True)  # nothing was opened
    hive.save(in_place=True)
    assert Hive.open(path).key(KEY).value("Port").raw == b"\x07\0\0\0"
    hive.save(tmp_path / "copy")  # any other file is fine
    dirty = Hive.open(files["dirty"])
    with pytest.raises(OutputIsInput):
        dirty.save(files["log1"])  # its logs are inputs too (refused before the dirty check)


def test_in_place_save_after_the_file_was_renamed_over(files):
    hive = Hive.open(files["system"], CLOCK)
    hive.set_value(KEY, "Port", 4, b"\x08\0\0\0")
    hive.save(in_place=True)
    hive.set_value(KEY, "Port", 4, b"\x09\0\0\0")
    hive.save(in_place=True)  # the identity follows the new file
    with pytest.raises(OutputIsInput):
        hive.save(files["system"])
    assert Hive.open(files["system"]).key(KEY).value("Port").raw == b"\x09\0\0\0"


# ------------------------------------------------------------------ outputs that are not files
def test_output_onto_a_fifo_is_refused(files, tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    s = str(files["system"])
    for argv in (["set", s, KEY, "Port", "--type", "dword", "--data", "2"], ["export", s], ["new"],
                 ["ports", "reg", "exchange55", "ds=1225", "is=1226"]):
        args = argv + [str(fifo)] if argv == ["new"] else argv + ["-o", str(fifo)]
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "is a FIFO (named pipe), not a regular file" in err, err
        assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device node needs root (CI runs as root)")
def test_output_onto_a_device_is_refused(files, tmp_path, capsys):
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the /dev/null device
    for out in (device, Path("/dev/null")):
        assert main(["set", str(files["system"]), KEY, "Port", "--type", "dword", "--data", "2", "-o", str(out)]) == 2
        assert "is a character device, not a regular file" in capsys.readouterr().err
        assert stat.S_ISCHR(out.lstat().st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dash_is_standard_output_for_text_only(files, capsysbinary, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(files["system"]), "-o", "-"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"\xff\xfeW\x00")
    assert main(["set", str(files["system"]), KEY, "Port", "--type", "dword", "--data", "2", "-o", "-"]) == 2
    assert b"a hive is written to a file" in capsysbinary.readouterr().err
    assert not Path("-").exists()
    assert main(["set", str(files["system"]), KEY, "Port", "--type", "dword", "--data", "2", "-o", "./-"]) == 0
    assert Hive.open("-").key(KEY).value("Port").raw == b"\x02\0\0\0"


# ------------------------------------------------------------------ inputs that are not files
def run_cli(args: list[str], timeout: float = 30, stdin=None, input_bytes: bytes | None = None,
            limit_mb: int | None = None) -> subprocess.CompletedProcess:
    prelude = ""
    if limit_mb:
        prelude = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit_mb << 20}, {limit_mb << 20})); "
    code = prelude + "import sys; from hivetool.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=timeout,
                          stdin=stdin, input=input_bytes)


def test_hive_inputs_that_are_not_regular_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: opening it for reading would block forever
    cases = [("/dev/zero", "is a character device"), (str(fifo), "is a FIFO"),
             (str(tmp_path), "not a Windows image")]  # a folder is an image: this one is none
    for path, kind in cases:
        for argv in (["info", path], ["ls", path], ["check", path], ["export", path], ["replay", path, "-o",
                     str(tmp_path / "out")], ["set", path, "k", "v", "--type", "dword", "--data", "1", "--in-place"]):
            done = run_cli(argv, timeout=20, limit_mb=400)
            assert done.returncode == 3, (argv, done.stderr)
            assert kind in done.stderr.decode() and "regular file" in done.stderr.decode(), done.stderr
    assert not (tmp_path / "out").exists()


def test_a_big_file_that_is_not_a_hive_is_refused_after_its_base_block(tmp_path):
    big = tmp_path / "disk.img"
    with open(big, "wb") as handle:  # 2 GiB, sparse: reading it whole would need 2 GiB of memory
        handle.truncate(2 << 30)
    for argv in (["info", str(big)], ["ls", str(big)], ["get", str(big), "k", "v"],
                 ["replay", str(big), "-o", str(tmp_path / "o")]):
        done = run_cli(argv, limit_mb=400)
        assert done.returncode == 3, (argv, done.stderr)
        assert "not a registry hive" in done.stderr.decode()
    done = run_cli(["check", str(big)], limit_mb=400)
    assert done.returncode == 1 and b"E-HDR-SIGNATURE" in done.stdout


def test_reg_inputs_may_be_pipes_or_standard_input(files, tmp_path):
    out = tmp_path / "out.hiv"
    done = run_cli(["import", str(files["system"]), "-", "-o", str(out), "--root", "HKEY_LOCAL_MACHINE\\SYSTEM"],
                   input_bytes=REG.encode("utf-16"))
    assert done.returncode == 0, done.stderr
    assert Hive.open(out).key("ControlSet001\\New").value("v").data == 1
    fifo = tmp_path / "fifo.reg"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(REG.encode("utf-16")))
    writer.start()
    done = run_cli(["reg", "check", str(fifo)])
    writer.join()
    assert done.returncode == 0 and b"0 error(s)" in done.stdout, done.stderr
    done = run_cli(["reg", "check", "/dev/zero"], limit_mb=400)
    assert done.returncode == 3 and b"is a character device" in done.stderr
    assert main(["import", str(files["system"]), "-", "-", "-o", str(tmp_path / "x")]) == 2
