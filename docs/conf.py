"""Sphinx configuration of hivetool's API reference.

Why Sphinx: the docstrings are already written in reStructuredText, with ``:class:``,
``:meth:`` and ``:func:`` roles and ``>>>`` examples, so autodoc renders them as they are and
resolves every role to the page that documents its target (``-n`` reports the ones that lead
nowhere); the doctest builder runs the examples, so the reference cannot show an example that
no longer works; and no second markup language or toolchain is needed beside the docstrings.

Build (from the repository root)::

    .venv/bin/python -m sphinx -W -b html docs docs/_build/html
    .venv/bin/python -m sphinx -W -b doctest docs docs/_build/doctest
"""
from __future__ import annotations

import sys
from pathlib import Path

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the working tree, also when hivetool is not installed

import hivetool  # noqa: E402

project = "hivetool"
author = "hivetool contributors"
copyright = "hivetool contributors"
release = version = hivetool.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
smartquotes = False  # keep "--replay-logs" and 'quotes' in docstrings as typed

# Members in the order the source gives them (the order the docstrings were written to be read
# in), and type hints in the signatures, where a reader looks for them.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# A public method or property without a docstring is still part of the interface.
autodoc_default_options = {"undoc-members": True}

nitpicky = True
# Standard-library types the signatures name: there is no Python inventory to link them to
# without network access at build time.
nitpick_ignore = [
    ("py:class", "os.PathLike"),
    ("py:class", "mmap.mmap"),
    ("py:class", "pathlib.Path"),
]

# The examples open sample_hives/ relative to the repository root, wherever the build runs,
# and use the names their own module has (as tests/test_doctests.py runs them).
doctest_global_setup = f"""
import os as _os
_doctest_cwd = _os.getcwd()
_os.chdir({str(ROOT)!r})
from hivetool import Hive, RegType, decode, encode
"""
doctest_global_cleanup = """
_os.chdir(_doctest_cwd)
"""

# Classes whose objects hivetool makes and hands out, never the caller: their constructors'
# parameters are internals, so the reference shows none.
MADE_BY_HIVETOOL = {
    "hivetool.Key",  # Hive.key, Hive.root, Key.subkey
    "hivetool.image.image.ImageTarget",  # hivetool.open_image
    "hivetool.regf.compact.LayoutSummary",  # hivetool.compact
}


def _no_constructor(app: Sphinx, what: str, name: str, obj: object, options: object, signature: str | None,
                    return_annotation: str | None) -> tuple[str, str | None] | None:
    if what == "class" and name in MADE_BY_HIVETOOL:
        return "", return_annotation
    return None


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-signature", _no_constructor)
