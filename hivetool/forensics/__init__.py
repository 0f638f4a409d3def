"""Examination: reading what a hive holds beyond its live tree's listing (searching it, and
the forensic commands built on the engine's scans). Everything here only reads."""
