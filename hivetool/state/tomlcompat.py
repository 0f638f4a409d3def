"""tomllib is in the standard library from Python 3.11; tomli is the same parser for 3.10
(pyproject: ``tomli>=2; python_version<'3.11'``)."""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["tomllib"]
