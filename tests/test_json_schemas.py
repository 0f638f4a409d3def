"""Every command's --json output validates against its JSON Schema, the schema files are what
tools/make_schemas.py makes, and README documents every field."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from hivetool.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_hives" / "SYSTEM"
sys.path.insert(0, str(ROOT / "tools"))

import make_schemas  # noqa: E402

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency: pip install -e '.[test]'")


def schema(name: str) -> dict:
    return json.loads((ROOT / "hivetool" / "schemas" / f"{name}.schema.json").read_text())


def test_the_schema_files_are_what_the_generator_makes(tmp_path, monkeypatch):
    monkeypatch.setattr(make_schemas, "OUT", tmp_path)
    make_schemas.write_files()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in (ROOT / "hivetool" / "schemas").iterdir())
    for name in made:
        assert (tmp_path / name).read_text() == (ROOT / "hivetool" / "schemas" / name).read_text(), name
    for name in make_schemas.SCHEMAS:
        jsonschema.Draft202012Validator.check_schema(schema(name))


def test_readme_documents_every_field():
    readme = (ROOT / "README.md").read_text()
    assert make_schemas.readme_section() in readme


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    hive = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLE, hive)
    reg = tmp_path / "x.reg"
    reg.write_text("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\X]\r\n"
                   "\"v\"=dword:00000001\r\n\r\n", encoding="utf-16")
    return {"hive": hive, "reg": reg, "dir": tmp_path}


def run_json(capsys, argv: list) -> object:
    code = main([str(a) for a in argv])
    out = capsys.readouterr().out
    assert code in (0, 1), (argv, code)
    return json.loads(out)


DS = r"ControlSet001\Services\MSExchangeDS\Parameters"


def commands(f: dict[str, Path]) -> list[tuple[str, list]]:
    hive, reg, d = f["hive"], f["reg"], f["dir"]
    return [
        ("set", ["set", hive, DS, "TCP/IP port", "--type", "dword", "--data", "1225", "-o", d / "a"]),
        ("set", ["set", d / "a", DS, "TCP/IP port", "--type", "dword", "--data", "1225", "--in-place"]),  # no-op
        ("mkkey", ["mkkey", hive, r"CurrentControlSet\Services\New", "-o", d / "b"]),
        ("rm", ["rm", d / "a", DS, "TCP/IP port", "--in-place"]),
        ("import", ["import", hive, reg, "-o", d / "c"]),
        ("import-dry-run", ["import", hive, reg, "--dry-run"]),
        ("diff", ["diff", hive, d / "c"]),
        ("diff", ["diff", d / "c", hive]),  # a deleted key: its contents
        ("find", ["find", hive, "MSExchange"]),
        ("export", ["export", hive, "-o", d / "e.reg"]),
        ("reg-fmt", ["reg", "fmt", reg, "-o", d / "f.reg"]),
        ("reg-check", ["reg", "check", reg]),
        ("compact", ["compact", hive, "-o", d / "g"]),
        ("new", ["new", d / "h"]),
        ("ls", ["ls", hive, "ControlSet001", "-r"]),
        ("get", ["get", hive, "Select", "Current"]),
        ("check", ["check", hive]),
        ("info", ["info", hive]),
        ("info", ["info", hive, "--hash"]),
        ("ports-set", ["ports", "set", hive, "exchange55", "ds=1225", "is=1226", "-o", d / "p", "--force"]),
        ("ports-set", ["ports", "check", d / "p", "exchange55", "ds=1225", "is=1226"]),
        ("ports-reg", ["ports", "reg", "exchange55", "ds=1225", "is=1226", "-o", d / "p.reg", "--force"]),
        ("ports-firewall", ["ports", "firewall", "exchange55", "ds=1225", "is=1226"]),
        ("ports-list", ["ports", "list"]),
    ]


def test_every_output_validates(files, capsys):
    seen = set()
    for name, argv in commands(files):
        document = run_json(capsys, argv + ["--json"])
        jsonschema.validate(document, schema(name))
        seen.add(name)
    state = files["dir"] / "state.toml"
    state.write_text('[[value]]\npath = \'HKLM\\SYSTEM\\CurrentControlSet\\X\'\nname = "v"\ndata = 1\n'
                     '[[absent]]\npath = \'HKLM\\SYSTEM\\ControlSet001\\Services\\MSExchangeMTA\'\n')
    receipt = files["dir"] / "receipt.json"
    jsonschema.validate(run_json(capsys, ["apply", files["hive"], state, "--check", "--json"]), schema("apply-check"))
    jsonschema.validate(run_json(capsys, ["apply", files["hive"], state, "-o", files["dir"] / "ap", "--receipt",
                                          receipt, "--json"]), schema("apply"))
    jsonschema.validate(json.loads(receipt.read_text()), schema("receipt"))
    seen |= {"apply", "apply-check", "receipt"}
    seen |= _forensic_outputs_validate(files, capsys)
    batch = {"batch", "batch-result"}  # validated in test_batch.py, where batches run
    assert seen == set(make_schemas.SCHEMAS) - {"image-info", "replay", "replay-image"} - batch


def _forensic_outputs_validate(files: dict[str, Path], capsys) -> set[str]:
    """recover (of the hive whose value rm deleted above), timeline's JSON lines, and the
    --salvage forms of ls, find and export on a copy cut short."""
    edited, d = files["dir"] / "a", files["dir"]
    recovered = run_json(capsys, ["recover", edited, "--json"])
    assert recovered["count"] >= 1
    jsonschema.validate(recovered, schema("recover"))
    assert main(["timeline", str(edited), "--format", "jsonl", "--deleted"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines
    for line in lines:
        jsonschema.validate(json.loads(line), schema("timeline"))
    cut = d / "cut"
    cut.write_bytes(files["hive"].read_bytes()[:200_000])
    jsonschema.validate(run_json(capsys, ["ls", cut, "-r", "--salvage", "--json"]), schema("ls-salvage"))
    jsonschema.validate(run_json(capsys, ["find", cut, "Services", "--salvage", "--json"]), schema("find"))
    jsonschema.validate(run_json(capsys, ["export", cut, "--salvage", "-o", d / "cut.reg", "--json"]),
                        schema("export"))
    jsonschema.validate(run_json(capsys, ["recover", cut, "--salvage", "--json"]), schema("recover"))
    whole = run_json(capsys, ["timeline", edited, "--deleted", "--json"])
    jsonschema.validate(whole, schema("timeline-json"))
    assert whole["events"] == [json.loads(line) for line in lines]  # the same events as --format jsonl
    short = d / "short"  # cut inside its one bin: the salvaged timeline has problems to report
    short.write_bytes(files["hive"].read_bytes()[:7000])
    salvaged = run_json(capsys, ["timeline", short, "--salvage", "--json"])
    jsonschema.validate(salvaged, schema("timeline-json"))
    assert salvaged["events"] and salvaged["problems"]
    return {"recover", "timeline", "timeline-json", "ls-salvage"}


def test_image_and_replay_outputs_validate(tmp_path, capsys, corpus_copy):
    from images import build_image

    image = build_image(tmp_path / "image", "dirty")
    jsonschema.validate(run_json(capsys, ["image", "info", image, "--json"]), schema("image-info"))
    jsonschema.validate(run_json(capsys, ["info", image, "--json"]), schema("image-info"))
    checks = run_json(capsys, ["check", image, "--json"])
    for check in checks:
        jsonschema.validate(check, schema("check"))
    jsonschema.validate(run_json(capsys, ["replay", image, "-o", tmp_path / "out", "--json"]), schema("replay-image"))
    dirty = corpus_copy("msuhanov+yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive", with_logs=True)
    jsonschema.validate(run_json(capsys, ["replay", dirty, "-o", tmp_path / "r", "--json"]), schema("replay"))
