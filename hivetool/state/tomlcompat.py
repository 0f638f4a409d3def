"""tomllib is in the standard library from Python 3.11; tomli is the same parser for 3.10
(pyproject: ``tomli>=2; python_version<'3.11'``)."""
from __future__ import annotations

import sys

# A version test rather than try/except ImportError: type checkers then see one module per version.
if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["tomllib"]
