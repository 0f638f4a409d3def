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


EXCHANGE55_KEYS = (
    "MSExchangeDS\\Parameters",
    "MSExchangeIS\\ParametersSystem",
    "MSExchangeSA\\Parameters",
    "MSExchangeMTA\\Parameters",
)


def _select(hive: Hive, current: int, default: int, failed: int, last_known_good: int) -> None:
    select = hive.create_key("Select")
    for name, number in (("Current", current), ("Default", default), ("Failed", failed),
                         ("LastKnownGood", last_known_good)):
        hive.set_value(select, name, RegType.DWORD, dword(number))


def _control_set(hive: Hive, number: int, services: tuple[str, ...], hostname: str,
                 max_user_port: int | None = None, vista: bool = False) -> None:
    root = f"ControlSet{number:03d}"
    for service_key in services:
        hive.create_key(f"{root}\\Services\\{service_key}")
    tcpip = hive.create_key(f"{root}\\Services\\Tcpip\\Parameters")
    hive.set_value(tcpip, "Hostname", RegType.SZ, text(hostname))
    if max_user_port is not None:
        hive.set_value(tcpip, "MaxUserPort", RegType.DWORD, dword(max_user_port))
    if vista:
        # Keys that exist only from Windows Vista on: the Base Filtering Engine service and NSI.
        hive.create_key(f"{root}\\Services\\BFE\\Parameters")
        hive.create_key(f"{root}\\Control\\Nsi")


def _exchange55_system(default_set: int) -> bytes:
    """An NT 4.0-era Exchange 5.5 server: format 1.3, two control sets, the first in use."""
    hive = Hive.new(3, "ROOT", Clock(FIXED_TIME))
    _select(hive, 1, default_set, 0, 1)
    _control_set(hive, 1, EXCHANGE55_KEYS, "EXCH55")
    _control_set(hive, 2, EXCHANGE55_KEYS, "EXCH55")
    return hive.to_bytes()


def nt4_system() -> bytes:
    """The main sample: Select's Current, Default and LastKnownGood all name ControlSet001."""
    return _exchange55_system(default_set=1)


def current_differs_system() -> bytes:
    """Select names different sets: the next boot (Default) uses 2, the running one (Current) was 1."""
    return _exchange55_system(default_set=2)


def no_exchange_system() -> bytes:
    """An NT4-era server without Exchange: the profile must refuse (service not installed)."""
    hive = Hive.new(3, "ROOT", Clock(FIXED_TIME))
    _select(hive, 1, 1, 0, 1)
    _control_set(hive, 1, ("LanmanServer\\Parameters",), "FILESRV", max_user_port=10000)
    return hive.to_bytes()


def dc2008_system() -> bytes:
    """A Windows Server 2008 domain controller: format 1.5, AD services installed."""
    hive = Hive.new(5, "ROOT", Clock(FIXED_TIME))
    _select(hive, 1, 1, 0, 2)
    services = ("NTDS\\Parameters", "Netlogon\\Parameters", "NTFRS\\Parameters")
    _control_set(hive, 1, services, "DC01", vista=True)
    _control_set(hive, 2, services, "DC01", vista=True)
    return hive.to_bytes()


def cas2010_system() -> bytes:
    """An Exchange 2010 Client Access server on Windows Server 2008 R2 (service keys only:
    the profile creates the parameter keys, as the sources say to)."""
    hive = Hive.new(5, "ROOT", Clock(FIXED_TIME))
    _select(hive, 1, 1, 0, 1)
    _control_set(hive, 1, ("MSExchangeRPC", "MSExchangeAB"), "CAS01", vista=True)
    return hive.to_bytes()


def software_2003() -> bytes:
    """SOFTWARE of a Windows Server 2003 machine with Microsoft\\Rpc (no Internet pool yet)."""
    hive = Hive.new(5, "ROOT", Clock(FIXED_TIME))
    current = hive.create_key("Microsoft\\Windows NT\\CurrentVersion")
    hive.set_value(current, "CurrentVersion", RegType.SZ, text("5.2"))
    hive.set_value(current, "ProductName", RegType.SZ, text("Microsoft Windows Server 2003"))
    hive.create_key("Microsoft\\Rpc\\ClientProtocols")
    hive.create_key("Classes")
    return hive.to_bytes()


SAMPLES = {
    "SYSTEM": nt4_system,
    "SYSTEM-current-differs": current_differs_system,
    "SYSTEM-no-exchange": no_exchange_system,
    "SYSTEM-dc2008": dc2008_system,
    "SYSTEM-cas2010": cas2010_system,
    "SOFTWARE": software_2003,
}


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
