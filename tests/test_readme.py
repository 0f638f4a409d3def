"""README.md is the user's manual: every command is in it, its commands and example work."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import click

from hivetool.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def all_command_names() -> list[str]:
    names = []
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        names.append(name)
        if isinstance(command, click.Group):
            names += [f"{name} {sub}" for sub in command.list_commands(ctx)]
    return names


def test_every_command_is_documented():
    missing = [name for name in all_command_names() if f"hivetool {name} " not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_same_test_command():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    setup, tests = commands
    assert setup.startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert "hivetool ports set sample_hives/SYSTEM exchange55 ds=1225 is=1226 -o SYSTEM.patched" in setup
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines(), f"{tests!r} is not a line of .ci/run"


def test_the_python_example_runs(tmp_path, monkeypatch, capsys):
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    (tmp_path / "sample_hives").mkdir()
    shutil.copyfile(ROOT / "sample_hives" / "SYSTEM", tmp_path / "sample_hives" / "SYSTEM")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "1225"
    assert (tmp_path / "SYSTEM.patched").is_file() and (tmp_path / "new.hiv").is_file()
    assert (tmp_path / "sample_hives" / "SYSTEM").read_bytes() == (ROOT / "sample_hives" / "SYSTEM").read_bytes()


def test_the_batch_example_runs(tmp_path, monkeypatch, capsys):
    block = re.search(r"```python batch\n(.*?)```", README, re.S).group(1)
    shutil.copytree(ROOT / "sample_hives", tmp_path / "sample_hives")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    lines = sorted(capsys.readouterr().out.splitlines())
    assert "sample_hives/SYSTEM 0 1" in lines
    assert "sample_hives/SOFTWARE 5 None" in lines
    assert len(lines) == len([p for p in (ROOT / "sample_hives").iterdir() if p.suffix != ".py" and p.name != "README.md"])
