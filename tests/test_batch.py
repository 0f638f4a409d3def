"""hivetool batch: one reading command over many targets, run the way users run it (a separate
process, worker processes below it), and compared with the command run on each target alone."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus import IN_CI, corpus_path
from hivetool.cli import main
from hivetool.batch.worker import parse_output

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_hives"
HIVETOOL = [sys.executable, "-c", "from hivetool.cli import entry_point; entry_point()"]
FIELDS = {"target", "sha256", "exit_code", "output", "error", "seconds", "command"}
BIG_SYSTEM = "mkorman90+regipy/regipy_tests/data/SYSTEM"


def run(*args, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*HIVETOOL, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def records(path: Path) -> list[dict]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "a torn last line"
    return [json.loads(line) for line in data.splitlines()]


def by_target(rows: list[dict]) -> dict[str, dict]:
    found = {row["target"]: row for row in rows}
    assert len(found) == len(rows), "a target twice"
    return found


def without_timings(rows: list[dict]) -> dict[str, dict]:
    return {target: {k: v for k, v in row.items() if k != "seconds"} for target, row in by_target(rows).items()}


def hives_below(folder: Path) -> list[str]:
    """What a folder search must find, worked out independently: files starting with regf,
    transaction logs left out."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.upper().rsplit(".", 1)[-1].startswith("LOG"):
            with open(path, "rb") as handle:
                if handle.read(4) == b"regf":
                    found.append(str(path))
    return sorted(found)


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def alone(capsys, argv: list[str]) -> tuple[int, object, str]:
    """The command run by itself, in this process: exit code, JSON, error lines."""
    code = main(argv)
    captured = capsys.readouterr()
    errors = [line[len("hivetool: error: "):] for line in captured.err.splitlines()
              if line.startswith("hivetool: error: ")]
    # JSON, or the text itself when it is not (a dump cut short by a damaged key), as a worker does
    return code, parse_output(captured.out.encode()), "\n".join(errors) or None


def small_hives(folder: Path, count: int, first: int = 0) -> list[Path]:
    import hivetool

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(first, first + count):
        hive = hivetool.new()
        key = hive.create_key(r"Software\Fleet")
        key.set("Host", hivetool.RegType.SZ, f"host{index}")
        key.set("Index", hivetool.RegType.DWORD, index)
        path = folder / f"host{index:04d}.dat"
        hive.save(path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------- the corpus

def test_corpus_one_line_per_target_each_what_the_command_says_alone(tmp_path, corpus_root, capsys):
    out = tmp_path / "results.jsonl"
    done = run("batch", corpus_root, "--jobs", "2", "--out", out, "--", "check")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    rows = records(out)
    assert sorted(row["target"] for row in rows) == hives_below(corpus_root)
    broken = 0
    for row in rows:
        assert set(row) == FIELDS
        assert row["command"] == ["check"]
        assert row["sha256"] == sha256(row["target"])
        code, output, error = alone(capsys, ["check", row["target"], "--json"])
        assert (row["exit_code"], row["output"], row["error"]) == (code, output, error), row["target"]
        assert "unexpected" not in (row["error"] or "")
        broken += code not in (0, 1)
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"batch: {len(rows)} target(s)")
    assert broken == 0  # check reports damage as findings (exit 1), it does not fail on it


@pytest.mark.slow
def test_corpus_info_ls_and_get_through_workers_match_the_commands(tmp_path, corpus_root, capsys):
    for command in (["info"], ["ls", "--recursive"], ["get", "Select", "Current"]):
        out = tmp_path / f"{command[0]}.jsonl"
        done = run("batch", corpus_root, "-j", "2", "--out", out, "--", *command)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        rows = records(out)
        assert len(rows) == len(hives_below(corpus_root))
        codes = set()
        for row in rows:
            code, output, error = alone(capsys, [command[0], row["target"], *command[1:], "--json"])
            assert (row["exit_code"], row["output"], row["error"]) == (code, output, error), (command, row["target"])
            codes.add(code)
        if command[0] == "get":
            assert 0 in codes and 5 in codes  # SYSTEM hives have Select; the others say not found


# ------------------------------------------------------------------------ what TARGETS can name

@pytest.fixture
def hosts(tmp_path) -> Path:
    """A triage collection: an image folder, a host folder holding a hive and its logs, a WIM."""
    from images import build_image

    root = tmp_path / "hosts"
    build_image(root / "pc1")
    pc2 = root / "pc2"
    pc2.mkdir()
    source = corpus_path("msuhanov+yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive")
    shutil.copyfile(source, pc2 / "NTUSER.DAT")
    for log in source.parent.glob(source.name + ".LOG*"):
        shutil.copyfile(log, pc2 / ("NTUSER.DAT" + log.name[len(source.name):]))
    (pc2 / "notes.txt").write_text("not a hive")
    return root


def test_folders_images_logs_lists_and_globs(hosts, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# the samples\n{SAMPLES / 'SYSTEM'}\n\n{SAMPLES}/SYSTEM-dc*\n")
    out = tmp_path / "r.jsonl"
    done = run("batch", hosts, f"@{listing}", hosts / "pc2" / "NTUSER.DAT.LOG1", "--out", out, "--", "info")
    assert done.returncode == 0, done.stderr
    assert "NTUSER.DAT.LOG1: a transaction log is read with its hive, not as a target" in done.stderr
    rows = by_target(records(out))
    assert set(rows) == {str(hosts / "pc1"), str(hosts / "pc2" / "NTUSER.DAT"), str(SAMPLES / "SYSTEM"),
                         str(SAMPLES / "SYSTEM-dc2008")}
    image = rows[str(hosts / "pc1")]
    assert image["exit_code"] == 0 and {h["mount"] for h in image["output"]["hives"]} >= {
        r"HKEY_LOCAL_MACHINE\SYSTEM", r"HKEY_LOCAL_MACHINE\SOFTWARE"}
    # An image's digest covers its hives and logs: another file in it changes nothing, a hive does.
    (hosts / "pc1" / "Windows" / "notes.txt").write_text("x")
    again = run("batch", hosts / "pc1", "--", "info")
    assert json.loads(again.stdout)["sha256"] == image["sha256"]
    with open(hosts / "pc1" / "Windows" / "System32" / "config" / "SAM", "ab") as sam:
        sam.write(b"\0")
    changed = run("batch", hosts / "pc1", "--", "info")
    assert json.loads(changed.stdout)["sha256"] != image["sha256"]


@pytest.mark.skipif(shutil.which("wimlib-imagex") is None and not IN_CI,
                    reason="wimlib-imagex is not installed (Debian: apt-get install wimtools)")
def test_a_wim_is_every_image_in_it_with_the_digest_of_the_same_folder(hosts, tmp_path):
    from images import capture_wim

    wims = tmp_path / "wims"
    wims.mkdir()
    wim = capture_wim(hosts / "pc1", wims / "golden.wim")
    subprocess.run(["wimlib-imagex", "append", str(hosts / "pc1"), str(wim), "second"], check=True,
                   capture_output=True)
    out = tmp_path / "r.jsonl"
    done = run("batch", hosts / "pc1", wims, "-j", "2", "--out", out, "--",
               "get", r"HKLM\SYSTEM\Select", "Current")
    assert done.returncode == 0, done.stderr
    rows = by_target(records(out))
    assert set(rows) == {str(hosts / "pc1"), f"{wim}:1", f"{wim}:2"}
    digests = {row["sha256"] for row in rows.values()}
    assert len(digests) == 1 and None not in digests
    assert {json.dumps(row["output"]["data"]) for row in rows.values()} == {"1"}


def test_name_placeholder_gives_each_target_its_own_output(tmp_path, capsys):
    out_dir = tmp_path / "regs"
    out_dir.mkdir()
    done = run("batch", SAMPLES, "--", "export", "-o", f"{out_dir}/{{name}}.reg")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(hives_below(SAMPLES))
    for row in rows:
        written = Path(row["output"]["output"])
        assert written.parent == out_dir and written.name.endswith(Path(row["target"]).name + ".reg")
        main(["export", row["target"], "-o", str(tmp_path / "alone.reg")])
        capsys.readouterr()
        assert written.read_bytes() == (tmp_path / "alone.reg").read_bytes()


# ------------------------------------------------------------------- failures are results

def test_a_hang_is_stopped_by_the_timeout_and_the_batch_goes_on(tmp_path):
    targets = [shutil.copyfile(SAMPLES / name, tmp_path / name) for name in ("SYSTEM", "SOFTWARE", "SYSTEM-dc2008")]
    held = open(targets[0], "rb")
    fcntl.flock(held, fcntl.LOCK_EX)  # a writer holds the hive: the command waits for it (5 s)
    try:
        started = time.monotonic()
        done = run("batch", *targets, "--timeout", "1", "--", "check")
        took = time.monotonic() - started
    finally:
        held.close()
    assert done.returncode == 0, done.stderr
    assert took < 4.5  # stopped at the timeout, not at the end of the command's own wait
    rows = by_target([json.loads(line) for line in done.stdout.splitlines()])
    hung = rows[str(targets[0])]
    assert hung["exit_code"] is None and hung["error"] == "timed out after 1 s (--timeout)"
    assert hung["sha256"] == sha256(targets[0]) and hung["seconds"] == 1
    assert [rows[str(t)]["exit_code"] for t in targets[1:]] == [0, 0]
    assert "timed out: 1" in done.stderr
    fcntl.flock(open(targets[0], "rb"), fcntl.LOCK_EX)  # the killed worker held nothing
    failing = run("batch", *targets[1:], "--fail-on", "timeout,3", "--", "check")
    assert failing.returncode == 0


def test_over_the_memory_limit_fails_that_target_only(tmp_path, corpus_root):
    big = corpus_path(BIG_SYSTEM)
    out = tmp_path / "r.jsonl"
    # Finding "x" in a 12 MB SYSTEM hive matches every number (0x...): its JSON list of
    # matches takes over 100 MB; in the sample, little.
    done = run("batch", big, SAMPLES / "SYSTEM", "-j", "1", "--max-memory", "64", "--out", out, "--fail-on", "6",
               "--", "find", "x")
    assert done.returncode == 1, done.stderr
    rows = by_target(records(out))
    assert rows[str(big)]["exit_code"] in (6, None)
    assert "--max-memory 64 MB" in rows[str(big)]["error"]
    assert rows[str(SAMPLES / "SYSTEM")]["exit_code"] == 0
    roomy = run("batch", big, "--max-memory", "2000", "--", "ls", "--recursive")
    assert json.loads(roomy.stdout)["exit_code"] == 0
    # A whole-hive dump streams within the limit; its output (35 MB of JSON) is read after it.
    streamed = json.loads(run("batch", big, "--max-memory", "64", "--", "ls", "--recursive").stdout)
    assert streamed["exit_code"] == 0 and len(streamed["output"]) > 30000


def test_exit_codes_summary_and_fail_on(tmp_path, corpus_root):
    import jsonschema

    out = tmp_path / "r.jsonl"
    done = run("batch", corpus_root, "--out", out, "--json", "--fail-on", "1", "--", "check")
    summary = json.loads(done.stdout)
    schemas = ROOT / "hivetool" / "schemas"
    jsonschema.validate(summary, json.loads((schemas / "batch.schema.json").read_text()))
    for row in records(out):
        jsonschema.validate(row, json.loads((schemas / "batch-result.schema.json").read_text()))
    ones = sorted(row["target"] for row in records(out) if row["exit_code"] == 1)
    assert ones and summary["failed_on"] == ones and done.returncode == 1
    assert summary["exit_codes"] == {"0": summary["targets"] - len(ones), "1": len(ones)}
    assert summary["ran"] == summary["targets"] == len(hives_below(corpus_root))
    assert run("batch", corpus_root, "--out", out, "--fail-on", "3,timeout,died", "--", "check").returncode == 0


@pytest.mark.parametrize("args, message", [
    (["batch", str(SAMPLES), "check"], "put the command after --"),
    (["batch", "--", "check"], "give the targets before --"),
    (["batch", str(SAMPLES), "--"], "give the command to run after --"),
    (["batch", str(SAMPLES), "--", "set", "Select", "X", "--data", "1"], "a batch runs reading commands"),
    (["batch", str(SAMPLES), "--", "apply", "state.toml"], "only with --check"),
    (["batch", str(SAMPLES), "--", "export", "-o", "x.reg"], "put {name} in the -o path"),
    (["batch", str(SAMPLES), "--", "frobnicate"], "no such command: frobnicate"),
    (["batch", str(SAMPLES), "--", "ports"], "'ports' needs a command after it"),
    (["batch", str(SAMPLES), "--resume", "--", "check"], "--resume continues a results file"),
    (["batch", str(SAMPLES), "--json", "--", "check"], "--json prints the summary"),
    (["batch", str(SAMPLES), "--fail-on", "1,often", "--", "check"], "'often' is not an exit code"),
    (["batch", str(SAMPLES), "--out", str(SAMPLES / "SYSTEM"), "--", "check"], "is a hive or a WIM"),
    (["batch", "/nonexistent-*-dir", "--", "check"], "no targets"),
])
def test_usage_errors(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_results_file_another_batch_writes_is_refused(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    out.write_text("")
    with open(out, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert main(["batch", str(SAMPLES), "--out", str(out), "--", "check"]) == 4
    assert "another batch is writing this results file" in capsys.readouterr().err


def test_a_results_file_over_an_input_is_refused(tmp_path, capsys):
    """--out may not name a target (also through a hard link), a hive, a WIM, a folder or a
    device: exit 2 before anything runs, and the file is unchanged."""
    hive = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLES / "SYSTEM", hive)
    other = tmp_path / "elsewhere.dat"
    shutil.copyfile(SAMPLES / "SOFTWARE", other)
    linked = tmp_path / "results.jsonl"
    os.link(hive, linked)
    before = hive.read_bytes()
    for out in (hive, linked, other, tmp_path, "/dev/null"):
        assert main(["batch", str(hive), "--out", str(out), "--", "check"]) == 2, out
        assert "--out" in capsys.readouterr().err
    assert hive.read_bytes() == before and other.read_bytes() == (SAMPLES / "SOFTWARE").read_bytes()


def test_a_missing_or_unreadable_target_is_a_result(tmp_path):
    done = run("batch", tmp_path / "gone", SAMPLES / "SYSTEM", "--", "check")
    assert done.returncode == 0
    rows = by_target([json.loads(line) for line in done.stdout.splitlines()])
    gone = rows[str(tmp_path / "gone")]
    assert gone["exit_code"] == 6 and gone["sha256"] is None and "no such file" in gone["error"].lower()


# ------------------------------------------------------------------------------------- resume

def test_resume_skips_unchanged_reruns_changed_and_drops_a_torn_line(tmp_path):
    import hivetool

    targets = [shutil.copyfile(SAMPLES / name, tmp_path / name) for name in ("SYSTEM", "SOFTWARE", "SYSTEM-dc2008")]
    out = tmp_path / "r.jsonl"
    assert run("batch", *targets, "--out", out, "--", "check").returncode == 0
    first = by_target(records(out))
    with open(out, "ab") as torn:
        torn.write(b'{"target": "half a li')
    with hivetool.open(targets[1], for_update=True) as hive:
        hive.create_key("Changed")
        hive.save(in_place=True)
    done = run("batch", *targets, "--out", out, "--resume", "--json", "--", "check")
    summary = json.loads(done.stdout)
    assert (summary["ran"], summary["skipped"], summary["exit_codes"]) == (1, 2, {"0": 3})
    rows = by_target(records(out))  # each target once: the changed one's new line replaced its old one
    assert set(rows) == {str(t) for t in targets}
    assert rows[str(targets[1])]["sha256"] == sha256(targets[1]) != first[str(targets[1])]["sha256"]
    assert rows[str(targets[0])] == first[str(targets[0])]
    other = run("batch", *targets, "--out", out, "--resume", "--json", "--", "info")
    assert json.loads(other.stdout)["ran"] == 3  # another command: nothing to skip
    assert run("batch", *targets, "--out", out, "--resume", "--json", "--", "info").stdout.count('"skipped": 3')


def test_a_results_file_of_something_else_is_not_resumed(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    out.write_text("first line of a diary\n")
    assert main(["batch", str(SAMPLES), "--out", str(out), "--resume", "--", "check"]) == 3
    assert "line 1 is not a batch result" in capsys.readouterr().err
    assert out.read_text() == "first line of a diary\n"


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_killed_at_random_moments_and_resumed_every_target_exactly_once(tmp_path):
    targets = small_hives(tmp_path / "fleet", 5000)
    out = tmp_path / "r.jsonl"
    rng = random.Random(20261207)
    kills = rounds = 0
    while kills < 20:  # a round that finishes before its moment comes is not a kill: go on
        rounds += 1
        assert rounds <= 60, "the batch kept finishing before it could be killed"
        if _lines(out) >= len(targets):  # all done (a fast machine): more work for the next rounds to cut
            targets += small_hives(tmp_path / "fleet", 1000, first=len(targets))
        resume = ["--resume"] if rounds > 1 else []
        before = _lines(out)
        process = subprocess.Popen([*HIVETOOL, "batch", str(tmp_path / "fleet"), "-j", "2", "--out", str(out),
                                    *resume, "--", "check"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Half the kills come at a random time (often while it starts or skips what is done),
        # half once a random number of new lines are written (while results stream in).
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0.0, 0.5))
        else:
            wanted, deadline = rng.randint(1, 100), time.monotonic() + 30
            while _lines(out) - before < wanted and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        if process.poll() is None:
            process.send_signal(rng.choice([signal.SIGKILL, signal.SIGINT, signal.SIGTERM]))
            kills += 1
        process.wait(timeout=60)
        rows = records(out)  # whole lines only, whatever the moment
        assert len({row["target"] for row in rows}) == len(rows)
    done = run("batch", tmp_path / "fleet", "-j", "2", "--out", out, "--resume", "--json", "--", "check")
    summary = json.loads(done.stdout)
    rows = records(out)
    assert sorted(row["target"] for row in rows) == sorted(map(str, targets))
    assert all(row["exit_code"] == 0 and row["sha256"] == sha256(row["target"]) for row in rows)
    assert summary["skipped"] > 0 and summary["skipped"] + summary["ran"] == len(targets)


# ------------------------------------------------------------------------- how it runs

def test_workers_are_started_once_not_per_target(tmp_path):
    small_hives(tmp_path / "fleet", 300)
    done = run("batch", tmp_path / "fleet", "-j", "2", "--out", tmp_path / "r.jsonl", "--json", "--", "check")
    summary = json.loads(done.stdout)
    assert summary["ran"] == 300 and summary["workers"] == 2


def test_progress_lines_when_not_a_terminal(tmp_path):
    small_hives(tmp_path / "fleet", 200)
    done = run("batch", tmp_path / "fleet", "-j", "1", "--out", tmp_path / "r.jsonl", "--", "check",
               env={"HIVETOOL_PROGRESS_EVERY": "0"})
    lines = [line for line in done.stderr.splitlines() if " done (" in line]
    assert lines and all(line.startswith("batch: ") and "/200 done (0: " in line and "/s" in line for line in lines)
    assert "\r" not in done.stderr


def test_a_progress_bar_on_a_terminal(tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    small_hives(tmp_path / "fleet", 300)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal has a size
    process = subprocess.Popen([*HIVETOOL, "batch", str(tmp_path / "fleet"), "-j", "2", "--out",
                                str(tmp_path / "r.jsonl"), "--", "check"], stdin=follower, stdout=follower,
                               stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=60)
    os.close(leader)
    text = shown.decode("utf-8", "replace")
    assert "targets/s" in text and "/300" in text and "\r" in text
    assert "batch: 300 target(s)" in text


def test_the_same_from_python(tmp_path):
    from hivetool.batch import run_batch

    results = list(run_batch([str(SAMPLES)], ["get", "Select", "Current"], jobs=2))
    assert sorted(r["target"] for r in results) == hives_below(SAMPLES)
    for result in results:
        if Path(result["target"]).name.startswith("SYSTEM"):
            assert (result["exit_code"], result["output"]["data"]) == (0, 1)
        else:
            assert result["exit_code"] == 5 and "Select" in result["error"]


# --------------------------------------------------------------------------------- Dask

def test_without_dask_installed_the_hint_says_how(tmp_path):
    blocker = tmp_path / "blocker"
    (blocker / "distributed").mkdir(parents=True)
    (blocker / "distributed" / "__init__.py").write_text("raise ImportError('no distributed here')\n")
    done = run("batch", SAMPLES, "--dask", "tcp://127.0.0.1:1", "--", "check",
               env={"PYTHONPATH": f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert done.returncode == 6
    assert "pip install 'hivetool[dask]'" in done.stderr and "Traceback" not in done.stderr
