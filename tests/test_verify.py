"""--verify: the independent readers re-read the output before it replaces anything."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from hivetool import Hive, RegType
from hivetool.cli import main
from hivetool.errors import VerifyFailed
from hivetool.verify import Expect, verify_hive_file

SAMPLE = Path(__file__).resolve().parent.parent / "sample_hives" / "SYSTEM"
CASES = [
    (RegType.SZ, "a".encode("utf-16-le") + b"\0\0"),  # inline: python-registry pads it
    (RegType.SZ, "hello world".encode("utf-16-le") + b"\0\0"),
    (RegType.EXPAND_SZ, "%x%".encode("utf-16-le") + b"\0\0"),
    (RegType.MULTI_SZ, "x\0\0".encode("utf-16-le")),
    (RegType.DWORD, struct.pack("<I", 1225)),
    (RegType.DWORD_BIG_ENDIAN, struct.pack(">I", 7)),
    (RegType.QWORD, struct.pack("<Q", 2**40)),
    (RegType.BINARY, bytes(range(200))),
    (RegType.BINARY, b""),
    (0xFFFF0011, b"\x01\x02\x03"),
    (RegType.BINARY, bytes(40_000)),  # big data
]


@pytest.mark.parametrize("value_type, raw", CASES, ids=[f"{t:#x}-{len(r)}" for t, r in CASES])
def test_every_kind_of_value_verifies(tmp_path, value_type, raw):
    hive = Hive.new(5)
    hive.set_value(hive.create_key("K"), "v", value_type, raw)
    path = tmp_path / "h"
    hive.save(path)
    verify_hive_file(str(path), [Expect("K", "v", value_type, raw), Expect("K")])


def test_a_disagreement_is_refused(tmp_path):
    hive = Hive.new(5)
    hive.set_value(hive.create_key("K"), "v", RegType.DWORD, struct.pack("<I", 1))
    path = tmp_path / "h"
    hive.save(path)
    with pytest.raises(VerifyFailed) as caught:
        verify_hive_file(str(path), [Expect("K", "v", RegType.DWORD, struct.pack("<I", 2)),
                                     Expect("Gone", present=False), Expect("K", "v", present=False)])
    text = str(caught.value)
    assert "python-registry: value 'v' in 'K' reads back differently" in text
    assert "regipy: value 'v' in 'K' reads back differently" in text
    assert "still exists" in text
    assert caught.value.exit_code == 4


def test_cli_writes_nothing_when_verification_fails(tmp_path, capsys, monkeypatch):
    system = tmp_path / "SYSTEM"
    shutil.copyfile(SAMPLE, system)
    import hivetool.verify as verify

    monkeypatch.setattr(verify, "_regipy_check", lambda path, exp: ["regipy: (simulated) disagreement"])
    out = tmp_path / "out"
    code = main(["set", str(system), r"ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port",
                 "--type", "dword", "--data", "1225", "-o", str(out), "--verify"])
    err = capsys.readouterr().err
    assert code == 4
    assert "verification failed, nothing written" in err and "(simulated) disagreement" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [system]  # no temp file left behind
    code = main(["set", str(system), r"ControlSet001\Services\MSExchangeDS\Parameters", "TCP/IP port",
                 "--type", "dword", "--data", "1225", "--in-place", "--verify"])
    assert code == 4
    assert system.read_bytes() == SAMPLE.read_bytes()
