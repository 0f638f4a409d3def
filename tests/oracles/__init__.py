"""Independent readers of a hive, each projected to exactly what it can show.

No Windows is at hand, so a written hive is shown right by the agreement of readers that
share no code with hivetool. Each reader becomes a :class:`View`: the multiset of key paths
it lists and the multiset of value records it shows. Next to each reader's ``read`` sits an
``expect`` that renders a :class:`Content` (what the hive holds: one :class:`Record` per
value, as ``(key path, value name, type, raw bytes)``) the way that reader shows it, so a
test asserts ``read(file) == expect(content)`` for everything the reader can show, and
nothing is waved through that it could show.

One module per reader says what that reader cannot show (read from its source and confirmed
on the corpus hives; its ``expect`` models each point): :mod:`.python_registry`,
:mod:`.libregf`, :mod:`.hivex` (hivexml), :mod:`.reglookup`, :mod:`.regipy`; :mod:`.own` is
hivetool's own reader, and :mod:`.model` the content, views and their comparison.
"""
from __future__ import annotations

from pathlib import Path

from .hivex import HIVEXML
from .libregf import LIBREGF
from .model import Content, ContentModel, Op, Reader, Record, adopt_layout, apply, compare, parent_of, require
from .own import OWN, read_own
from .python_registry import PYTHON_REGISTRY
from .regipy import REGIPY, Scope, regipy_scopes
from .reglookup import REGLOOKUP

__all__ = [
    "FULL_READERS", "HIVEXML", "LIBREGF", "OWN", "PYTHON_REGISTRY", "REGIPY", "Content", "ContentModel", "Op",
    "Reader", "Record", "adopt_layout", "agree", "apply", "compare", "parent_of", "read_own", "regipy_scopes",
    "require",
]

# The readers every written hive is checked with (regipy, being slow, is used separately).
FULL_READERS = (PYTHON_REGISTRY, LIBREGF, HIVEXML, REGLOOKUP)


def agree(reader: Reader, path: Path | str, content: Content, *scope: Scope) -> None:
    """Assert that ``reader`` shows exactly ``content`` (within ``scope`` for regipy)."""
    require(reader)
    problems = compare(reader.read(path, *scope), reader.expect(content, *scope))
    if problems:
        raise AssertionError(f"{reader.name} disagrees on {path}:\n  " + "\n  ".join(problems))
