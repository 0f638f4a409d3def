"""The old home of :func:`find_logs`, kept for code written against it (``hivetool.batch``);
new code imports it from :mod:`hivetool.regf.hive.files`."""
from .hive.files import LOG_SUFFIXES, find_logs

__all__ = ["LOG_SUFFIXES", "find_logs"]
