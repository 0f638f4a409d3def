"""The command line behaves as people expect of a Unix tool.

* .reg text goes to a terminal in UTF-8 (said on stderr), to files and pipes in regedit's
  UTF-16; ``--utf8`` asks for UTF-8 anywhere, and such a file imports back the same.
* A closed output pipe (``| head``) ends the command quietly, by SIGPIPE as ``cat`` ends.
* Usage errors look like every other error (``hivetool: error:``, exit 2), with a hint for
  the common slips.
* ``ports set``: no reminders when nothing was written; ``--reserve`` shows what it changes.
* A missing key names its first missing component and that component's parent.
* ``set`` that changes a value's type says so.
* Shell completion of KEY arguments from the hive's keys.
"""
from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hivetool.cli import main
from hivetool.regf.hive import Hive
from hivetool.timeutil import Clock

CLOCK = Clock(0x01DA_9B8C_0000_0000)
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_hives" / "SYSTEM"
ENTRY = "import sys; from hivetool.cli import entry_point; sys.argv[0] = 'hivetool'; entry_point()"
DS = "ControlSet001\\Services\\MSExchangeDS\\Parameters"


def hivetool(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, timeout=120, **kwargs)


def with_terminal_stdout(*args: str) -> tuple[int, bytes, bytes]:
    """Run hivetool with a pseudo-terminal as standard output (stderr a pipe)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, *args], stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = read_terminal(master)
    err = proc.stderr.read()
    return proc.wait(timeout=60), out, err


def read_terminal(master: int) -> bytes:
    """Everything written to the pseudo-terminal until the child closes it."""
    out = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return bytes(out)


@pytest.fixture
def system(tmp_path) -> Path:
    copy = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLE, copy)
    return copy


# ------------------------------------------------------------------ encodings of .reg output
def test_reg_text_to_a_terminal_is_utf8_and_to_a_pipe_utf16(system, tmp_path):
    code, out, err = with_terminal_stdout("export", str(system), "ControlSet001\\Services")
    assert code == 0, err
    assert out.startswith(b"Windows Registry Editor Version 5.00\r\r\n")  # the terminal turns \n into \r\n
    assert b"\x00" not in out
    assert b"writing UTF-8 to the terminal" in err
    piped = hivetool("export", str(system), "ControlSet001\\Services")
    assert piped.returncode == 0 and piped.stdout.startswith(b"\xff\xfeW\x00i\x00")
    assert b"UTF-8" not in piped.stderr
    other = tmp_path / "other"
    assert main(["set", str(system), DS, "TCP/IP port", "--type", "dword", "--data", "1225", "-o", str(other)]) == 0
    code, out, err = with_terminal_stdout("diff", str(system), str(other))
    assert code == 0 and b'"TCP/IP port"=dword:000004c9' in out and b"\x00" not in out


def test_utf8_flag_writes_utf8_anywhere_and_imports_back(system, tmp_path):
    target = tmp_path / "out.reg"
    assert main(["export", str(system), "-o", str(target), "--utf8"]) == 0
    data = target.read_bytes()
    assert data.startswith(b"Windows Registry Editor Version 5.00\r\n") and b"\x00" not in data
    regedit = tmp_path / "regedit.reg"
    assert main(["export", str(system), "-o", str(regedit)]) == 0
    assert data.decode("utf-8") == regedit.read_bytes()[2:].decode("utf-16-le")
    empty = tmp_path / "empty.hiv"
    assert main(["new", str(empty), "--hive-version", "1.3", "--timestamp", "@0"]) == 0
    rebuilt = tmp_path / "rebuilt.hiv"
    assert main(["import", str(empty), str(target), "-o", str(rebuilt), "--root", "HKEY_LOCAL_MACHINE\\SYSTEM"]) == 0
    patch = hivetool("diff", str(system), str(rebuilt), "--root", "HKEY_LOCAL_MACHINE\\SYSTEM")
    assert patch.returncode == 0 and b"0 operation(s)" in patch.stderr, patch.stderr
    assert main(["export", str(system), "--utf8", "--regedit4"]) == 2


# ------------------------------------------------------------------ closed pipes
def test_a_closed_pipe_ends_the_command_quietly_like_cat(tmp_path):
    hive = Hive.new(5, clock=CLOCK)
    for i in range(3000):  # output far beyond a pipe's 64 KiB buffer: the writer must meet the closed pipe
        hive.set_value(hive.create_key(f"Key\\k{i:05d}"), "value", 1, "some text\0".encode("utf-16-le"))
    path = tmp_path / "big.hiv"
    hive.save(path)
    for args in (["ls", "-r", str(path)], ["export", str(path), "--root", "HKEY_CURRENT_USER"]):
        done = subprocess.run(["bash", "-c", 'set -o pipefail; "$@" | head -c 10 >/dev/null', "bash",
                               sys.executable, "-c", ENTRY, *args], capture_output=True, timeout=120)
        cat = subprocess.run(["bash", "-c", "set -o pipefail; yes | head -c 10 >/dev/null"], capture_output=True)
        assert done.returncode == cat.returncode == 141, done.stderr
        assert b"Error" not in done.stderr and b"Traceback" not in done.stderr and b"error" not in done.stderr


# ------------------------------------------------------------------ usage errors
def test_usage_errors_follow_the_common_form(system, capsys):
    for argv, expected, hint in [
        (["set", str(system), "K", "V", "--bogus"], "hivetool: error: no such option '--bogus'", None),
        (["lst"], "hivetool: error: no such command 'lst'", "hint: did you mean 'hivetool ls'"),
        (["set", str(system), "K", "V", "dword", "1"], "hivetool: error: missing option '--type'",
         "hint: the type and the data are options"),
        (["get", str(system), "K"], "hivetool: error: missing argument 'VALUE'", "hint: VALUE '@' names"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(expected), err
        assert "Usage: hivetool" in err and "--help' for help." in err
        assert "\nError:" not in err
        if hint:
            assert hint in err, err


def test_import_with_its_arguments_swapped_says_so(system, tmp_path, capsys):
    reg = tmp_path / "tweak.reg"
    reg.write_text("Windows Registry Editor Version 5.00\r\n\r\n", encoding="utf-16")
    before = system.read_bytes()
    assert main(["import", str(reg), str(system), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "the arguments look swapped" in err and "hivetool import HIVE FILE.reg" in err
    assert system.read_bytes() == before and not (tmp_path / "out").exists()


# ------------------------------------------------------------------ ports set reports
def test_a_refused_ports_set_gives_no_reminders(system, tmp_path, capsys):
    assert main(["ports", "set", str(system), "exchange55", "ds=135", "is=1226", "-o", str(tmp_path / "o")]) == 4
    out = capsys.readouterr().out
    assert "reminders" not in out and "Restart" not in out and "nothing written." in out
    assert main(["ports", "set", str(system), "exchange55", "ds=135", "is=1226", "-o", str(tmp_path / "o"),
                 "--json"]) == 4
    document = json.loads(capsys.readouterr().out)
    assert document["written"] is False and document["reminders"] == []


def test_reserve_is_in_the_text_and_json_reports(tmp_path, capsys):
    hive = Hive.open(SAMPLE, CLOCK)
    hive.create_key("ControlSet001\\Services\\Tcpip\\Parameters")
    hive.set_value("ControlSet001\\Services\\Tcpip\\Parameters", "ReservedPorts", 7,
                   "1433-1434\0\0".encode("utf-16-le"))
    source = tmp_path / "SYSTEM"
    hive.save(source)
    out_file = tmp_path / "out"
    assert main(["ports", "set", str(source), "exchange55", "ds=1225", "is=1226", "--reserve", "-o",
                 str(out_file)]) == 0
    text = capsys.readouterr().out
    assert ("ControlSet001\\Services\\Tcpip\\Parameters\\ReservedPorts  1433-1434 -> "
            "1433-1434,1225-1225,1226-1226  (adds 1225-1225, 1226-1226)") in text
    assert main(["ports", "set", str(source), "exchange55", "ds=1225", "is=1226", "--reserve", "-o",
                 str(out_file), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["reserved_ports"] == [{
        "control_set": "ControlSet001", "key": "ControlSet001\\Services\\Tcpip\\Parameters",
        "value": "ReservedPorts", "old": ["1433-1434"], "new": ["1433-1434", "1225-1225", "1226-1226"],
        "added": ["1225-1225", "1226-1226"]}]


def test_ports_reg_help_is_about_a_live_machine(capsys):
    assert main(["ports", "reg", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "inferred from the hive" not in text
    assert "There is no --reserve here" in text and "wipe the reservations" in text


# ------------------------------------------------------------------ messages
def test_a_missing_key_names_the_first_missing_component(system, capsys):
    assert main(["ls", str(system), "ControlSet001\\Servicez\\MSExchangeDS"]) == 5
    assert capsys.readouterr().err == ("hivetool: error: key 'ControlSet001\\Servicez\\MSExchangeDS' not found: "
                                       "key 'ControlSet001' has no subkey 'Servicez'\n")
    assert main(["get", str(system), "Nowhere\\Else", "v"]) == 5
    assert "the root key has no subkey 'Nowhere'" in capsys.readouterr().err


def test_set_that_changes_a_type_warns(system, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["set", str(system), DS, "TCP/IP port", "--type", "dword", "--data", "1225", "-o", str(out)]) == 0
    assert "changes type" not in capsys.readouterr().err
    assert main(["set", str(out), DS, "tcp/ip PORT", "--type", "sz", "--data", "1225", "--in-place"]) == 0
    assert ("hivetool: warning: ControlSet001\\Services\\MSExchangeDS\\Parameters\\\"TCP/IP port\" changes type: "
            "REG_DWORD -> REG_SZ") in capsys.readouterr().err


# ------------------------------------------------------------------ completion
def complete(shell: str, words: str, cword: int) -> list[str]:
    env = dict(os.environ, _HIVETOOL_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    done = subprocess.run([sys.executable, "-c", ENTRY], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines() if done.stdout.strip() else []


def test_key_arguments_complete_from_the_hive(system):
    assert complete("zsh", f"hivetool ls {system} Cont", 3) == ["plain", "ControlSet001", "_", "plain",
                                                               "ControlSet002", "_"]
    lines = complete("zsh", f"hivetool get {system} 'ControlSet001\\Services\\MSExchange", 3)  # as typed
    assert lines[1::3] == [f"ControlSet001\\Services\\MSExchange{s}" for s in ("DS", "IS", "MTA", "SA")]
    assert complete("zsh", f"hivetool ls {system} nothing\\here", 3) == []
    assert complete("zsh", f"hivetool ls {system.parent / 'missing'} C", 3) == []


def test_bash_gets_completions_it_can_insert(system):
    """Through click's own bash script: the inserted word, run by the shell, is the key path."""
    script = subprocess.run([sys.executable, "-c", ENTRY], env=dict(os.environ, _HIVETOOL_COMPLETE="bash_source"),
                            capture_output=True, text=True, timeout=60).stdout
    hivetool_cmd = f"{sys.executable} -c \"{ENTRY}\""
    program = (script.replace("$1)", f"{hivetool_cmd})") + "\n"
               f'COMP_WORDS=(hivetool ls {system} "ControlSet001\\\\\\\\Services\\\\\\\\MSExchangeD"); COMP_CWORD=3\n'
               "_hivetool_completion hivetool\n"
               'eval "set -- ${COMPREPLY[0]}"; printf "%s" "$1"\n')
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60)
    assert done.stdout == "ControlSet001\\Services\\MSExchangeDS", (done.stdout, done.stderr)


# ------------------------------------------------------------------ progress
def with_terminal_stderr(*args: str, env: dict) -> tuple[int, bytes]:
    """Run hivetool with a pseudo-terminal (100 columns) as standard error."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, *args], stdout=subprocess.DEVNULL, stderr=slave,
                            env=dict(os.environ, **env))
    os.close(slave)
    err = read_terminal(master)
    return proc.wait(timeout=60), err


def big_hive(path: Path, keys: int = 4000) -> Path:
    hive = Hive.new(5, clock=CLOCK)
    for i in range(keys):
        hive.set_value(hive.create_key(f"Key\\k{i:05d}"), "value", 4, i.to_bytes(4, "little"))
    hive.save(path)
    return path


def test_long_work_shows_a_bar_on_a_terminal_only(tmp_path):
    hive = big_hive(tmp_path / "big.hiv")
    code, err = with_terminal_stderr("compact", str(hive), "-o", str(tmp_path / "c1"),
                                     env={"HIVETOOL_PROGRESS_DELAY": "0"})
    assert code == 0, err
    assert b"reading keys" in err and b"writing keys" in err and b"/4002 [" in err
    piped = hivetool("compact", str(hive), "-o", str(tmp_path / "c2"), env=dict(os.environ, HIVETOOL_PROGRESS_DELAY="0"))
    assert piped.returncode == 0 and b"keys" not in piped.stderr.split(b"->")[0] and b"\r" not in piped.stderr
    code, err = with_terminal_stderr("compact", str(hive), "-o", str(tmp_path / "c3"), env={})
    assert code == 0 and b"writing keys" not in err  # a quick job: no bar (it waits two seconds)
    code, err = with_terminal_stderr("check", str(hive), env={"HIVETOOL_PROGRESS_DELAY": "0"})
    assert code == 0 and b"checking keys" in err, err
    reg = tmp_path / "big.reg"
    assert main(["export", str(hive), "-o", str(reg), "--root", "HKEY_CURRENT_USER"]) == 0
    empty = tmp_path / "empty.hiv"
    Hive.new(5, clock=CLOCK).save(empty)
    code, err = with_terminal_stderr("import", str(empty), str(reg), "-o", str(tmp_path / "imported"),
                                     "--root", "HKEY_CURRENT_USER", env={"HIVETOOL_PROGRESS_DELAY": "0"})
    assert code == 0, err
    assert b"reading " + str(reg).encode() in err and b"applying" in err, err
    assert b"\rroot: HKEY_CURRENT_USER" in err  # a message clears the bar's line first


def test_quick_commands_never_import_the_progress_library(tmp_path):
    code = ("import sys; from hivetool.cli import main; main(sys.argv[1:]); "
            "print('tqdm' in sys.modules, file=sys.stderr)")
    for argv in (["ls", str(SAMPLE)], ["compact", str(SAMPLE), "-o", str(tmp_path / "out")]):
        done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, timeout=60)
        assert done.stderr.strip().endswith(b"False"), done.stderr
