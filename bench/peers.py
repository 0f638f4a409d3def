"""The peers' side of each benchmark job, run in their own processes.

hivex's Python binding imports only under Debian's /usr/bin/python3, so every peer job is
a small script executed by a chosen interpreter; each prints its own elapsed seconds,
measured around the work only (imports excluded), like the hivetool side.
"""
from __future__ import annotations

HIVEX_SET = r'''
import struct, sys, time, hivex
src, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
h = hivex.Hivex(src, write=True)
node = h.root()
for part in r"ControlSet001\Services\MSExchangeDS\Parameters".split("\\"):
    child = h.node_get_child(node, part)
    node = child if child is not None else h.node_add_child(node, part)
h.node_set_value(node, {"key": "TCP/IP port", "t": 4, "value": struct.pack("<I", 1225)})
h.commit(out)
print(time.perf_counter() - t)
'''

BARE_READ_WRITE = r'''
import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    f.write(data)
'''

PYREGISTRY_WALK = r'''
import sys, time
from Registry import Registry
t = time.perf_counter()
reg = Registry.Registry(sys.argv[1])
stack = [reg.root()]
keys = values = 0
while stack:
    key = stack.pop()
    keys += 1
    for value in key.values():
        value.value(); values += 1
    stack.extend(key.subkeys())
print(time.perf_counter() - t)
'''

LIBREGF_WALK = r'''
import sys, time, pyregf
t = time.perf_counter()
f = pyregf.file(); f.open(sys.argv[1])
stack = [f.get_root_key()]
keys = values = 0
while stack:
    key = stack.pop()
    keys += 1
    for value in key.values:
        value.data; values += 1
    stack.extend(key.sub_keys)
print(time.perf_counter() - t)
'''

REGIPY_WALK = r'''
import sys, time
from regipy.registry import RegistryHive
t = time.perf_counter()
hive = RegistryHive(sys.argv[1])
for entry in hive.recurse_subkeys(as_json=False):
    pass
print(time.perf_counter() - t)
'''
