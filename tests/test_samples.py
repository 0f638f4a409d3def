"""The shipped sample hives are exactly what sample_hives/generate.py builds, and hold what
the README says they hold."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hivetool import Hive

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_hives"


def test_generator_rebuilds_every_sample_byte_for_byte():
    sys.path.insert(0, str(SAMPLES))
    try:
        import generate
    finally:
        sys.path.pop(0)
    for name, build in generate.SAMPLES.items():
        assert (SAMPLES / name).read_bytes() == build(), f"{name} differs from a fresh build"


def test_generator_check_mode_reports_success():
    done = subprocess.run([sys.executable, str(SAMPLES / "generate.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_main_sample_system_has_the_documented_layout():
    hive = Hive.open(SAMPLES / "SYSTEM")
    assert hive.version == "1.3"
    assert not hive.dirty
    select = hive.key("Select")
    assert {n: select.value(n).data for n in ("Current", "Default", "LastKnownGood")} == {
        "Current": 1, "Default": 1, "LastKnownGood": 1}
    for path in (r"ControlSet001\Services\MSExchangeDS\Parameters",
                 r"ControlSet001\Services\MSExchangeIS\ParametersSystem",
                 r"ControlSet001\Services\Tcpip\Parameters",
                 r"ControlSet002\Services\MSExchangeDS\Parameters"):
        assert hive.has_key(path), path


def test_every_sample_is_listed_in_the_sample_readme():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for sample in SAMPLES.iterdir():
        if sample.suffix not in (".py", ".md") and sample.is_file():
            assert f"`{sample.name}`" in readme, sample.name
