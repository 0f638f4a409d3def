"""Regenerate the sample hives in this folder, byte for byte, with hivetool's own engine.

    python sample_hives/generate.py            # rewrite the samples
    python sample_hives/generate.py --check    # exit 1 if a sample differs from what this makes

Every timestamp is fixed, so the output never changes unless this script or the engine does.
"""
from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hivetool import Clock, Hive, RegType  # noqa: E402
from hivetool.timeutil import parse_timestamp  # noqa: E402

FIXED_TIME = parse_timestamp("2001-05-01T12:00:00Z")


def dword(number: int) -> bytes:
    return struct.pack("<I", number)


def text(value: str) -> bytes:
    return value.encode("utf-16-le") + b"\0\0"


def nt4_system() -> bytes:
    """SYSTEM of an NT 4.0-era Exchange 5.5 server: format 1.3, one control set."""
    hive = Hive.new(3, "ROOT", Clock(FIXED_TIME))
    select = hive.create_key("Select")
    for name, number in (("Current", 1), ("Default", 1), ("Failed", 0), ("LastKnownGood", 1)):
        hive.set_value(select, name, RegType.DWORD, dword(number))
    services = "ControlSet001\\Services"
    hive.create_key(services + "\\MSExchangeDS\\Parameters")
    hive.create_key(services + "\\MSExchangeIS\\ParametersSystem")
    tcpip = hive.create_key(services + "\\Tcpip\\Parameters")
    hive.set_value(tcpip, "Hostname", RegType.SZ, text("EXCH55"))
    return hive.to_bytes()


SAMPLES = {"SYSTEM": nt4_system}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    differing = []
    for name, build in SAMPLES.items():
        data = build()
        target = HERE / name
        if args.check:
            if not target.is_file() or target.read_bytes() != data:
                differing.append(name)
        else:
            target.write_bytes(data)
            print(f"wrote {target} ({len(data)} bytes)")
    if differing:
        print("differs from a fresh build: " + ", ".join(differing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
