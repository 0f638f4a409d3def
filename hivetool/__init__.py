"""hivetool: read and write Windows registry hives (regf) and .reg files, offline.

Library use::

    from hivetool import Hive, RegType
    hive = Hive.open("SYSTEM")
    key = hive.create_key(r"ControlSet001\\Services\\MSExchangeDS\\Parameters")
    hive.set_value(key, "TCP/IP port", RegType.DWORD, (1225).to_bytes(4, "little"))
    hive.save("SYSTEM.patched")
"""
from .errors import HivetoolError, KeyNotFound, ValueNotFound
from .regf.hive import Hive
from .regf.model import Key, Value
from .regf.types import RegType
from .timeutil import Clock

__version__ = "0.1.0"
__all__ = ["Clock", "Hive", "HivetoolError", "Key", "KeyNotFound", "RegType", "Value", "ValueNotFound"]
