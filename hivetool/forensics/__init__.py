"""Examination: reading what a hive holds beyond its live tree's listing (searching it, and
the forensic commands built on the engine's scans). Everything here only reads.

================  ==========================================================================
``find``          searching key names, value names and data
``changes``       what changed between two hives, for a person to read (diff)
``live``          the cells the live tree reaches, walked tolerantly (never reported deleted)
``plausible``     when bytes outside the live tree are a key node or value record Windows wrote
``carve``         where remnants can be (free cells, slack, unreached cells, past the bins)
``deleted_data``  a deleted value's data: intact, partly overwritten or gone
``recover``       deleted keys and values with their paths and states (``hivetool recover``)
``recover_reg``   what was recovered, as a .reg file that imports back
``timeline``      key last-write times as body file, CSV or JSON lines (``hivetool timeline``)
``log_states``    the key states a dirty hive's transaction logs hold (``timeline --logs``)
``salvage``       reading a damaged hive from a mended copy, never written (``--salvage``)
``tolerant``      keys that read past damage, for ls, find and export with ``--salvage``
================  ==========================================================================
"""
