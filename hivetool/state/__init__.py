"""Desired state: what a target (a hive file or a Windows image) must hold.

A pipeline writes the state once, in TOML or as .reg files, and asks three questions of any
target: does it hold the state (:func:`check_state`), make it hold it (:func:`apply_state`,
in memory; the caller commits the target), and what .reg file would make a running machine
hold it (:func:`fix_reg`).

    from hivetool.image.target import OpenOptions, open_target
    from hivetool.state import apply_state, check_state, fix_reg_bytes, load_states

    state = load_states(["base.toml", "site.reg"])
    target = open_target("/mnt/win", OpenOptions(user="default"))
    results = check_state(target, state)            # one ItemResult per item and place
    changes = apply_state(target, state)            # [] when it already holds the state

TOML schema
-----------
Four kinds of item, each an array of tables (``[[value]]`` ...); nothing else may appear at
the top level. ``path`` is a full registry path with the short or long root name
(``HKLM\\SYSTEM\\CurrentControlSet\\Services\\X``; ``CurrentControlSet`` is resolved per target
through Select, writing ``auto``'s sets); key names compare case-insensitively.

``[[value]]``: ``path``, ``name`` (``""`` or ``"@"``: the default value), ``data``, optional
``type`` (``sz expand_sz multi_sz dword dword_be qword binary none link``, ``reg_...``, or a
number). Data by type: an integer for dword, dword_be (0..2**32-1) and qword (0..2**64-1); a
string for sz, expand_sz and link (stored as UTF-16LE with one terminating NUL); a list of
strings for multi_sz; hex text for every other type (``"01 02 ab"``, ``"01,02,ab"``,
``"0102ab"``). Without ``type``: an integer is a dword (one above 32 bits is an error: say
``type = "qword"``), a string an sz, a list of strings a multi_sz. Booleans, negative numbers,
floats and dates are errors.

``[[absent]]``: ``path``, optional ``name``. Without ``name`` the key and everything below it
must not exist; with it, that value must not.

``[[key]]``: ``path``: the key must exist (it is created, with its parents).

``[[ports]]``: ``profile = "exchange55"`` and its settings (``ds = 1225``, ``is = 1226``; a pool
as ``ports = "5000-5100,5200"`` or a list), with the options ``os``, ``force`` and ``reserve`` of
``hivetool ports set``. Planned and validated exactly as ``ports set`` does it (a validation
error is exit 4; an unknown profile or setting exit 3 with its line).

Errors in a state file are exit 3 with ``file:line`` (StateError, RegFileError for .reg files).
Inside one TOML file the order of items means nothing, so contradictions are errors naming
both lines: a value given twice with other type or data, a value both given and absent, a
value or key inside a key declared absent. Exact repeats are allowed with a warning.

.reg files are states too, read as strictly as ``import`` reads them; each file is a script
whose later lines win, and ``[-KEY]`` followed by ``[KEY]`` means "KEY holds exactly this".

Several files: later files win (the module ``fold`` has the precise rules): a later value replaces an
earlier one, a later absent key drops everything declared inside it, and a later value or key
inside an earlier absent key turns that key *exact*: it must exist and hold nothing but what
later items declare inside it. ``[[ports]]`` items of one profile merge, setting by setting.

Against a target (the module ``plan``), every item goes through ``Target.locate(path, write=True)``:
checking compares exactly the places applying writes (``CurrentControlSet`` with
``control_set_mode`` ``auto``: Select\\Default's set, and Select\\Current's when it differs;
``None``, the default, means the mode the target was opened with). Places that two items spell
differently are folded again there, so applying twice changes nothing the second time.

Modules: ``model`` (items, DesiredState, StateError), ``load`` (files in order), ``tomlfile``,
``tomlscan`` (lines), ``values`` (TOML data to bytes), ``conflicts``, ``regstate``, ``ports_load``,
``fold``, ``plan``, ``ports_plan``, ``check``, ``apply``, ``fix``, ``lookup``.
"""
from .apply import Change, apply_plan, apply_state, expectations
from .check import DIFFERS, MISSING, OK, UNEXPECTED, Extra, ItemResult, check_plan, check_state
from .fix import fix_reg, fix_reg_bytes
from .load import load_states
from .model import ABSENT, EXACT, KEY, PORTS, VALUE, DesiredState, Item, PortSetting, PortsSpec, StateError
from .plan import plan_state
from .planned import Entry, StatePlan

__all__ = [
    "ABSENT", "DIFFERS", "EXACT", "KEY", "MISSING", "OK", "PORTS", "UNEXPECTED", "VALUE", "Change", "DesiredState",
    "Entry", "Extra", "Item", "ItemResult", "PortSetting", "PortsSpec", "StateError", "StatePlan", "apply_plan",
    "apply_state", "check_plan", "check_state", "expectations", "fix_reg", "fix_reg_bytes", "load_states", "plan_state",
]
