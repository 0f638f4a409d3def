"""The binary hive engine (regf). Layers, each importing only those below it:

``records/``   what is on disk: one module per record (base block, bin, cell, nk, vk, data and
               db, sk, lists), each declared once and validated beside its declaration; names
               and value types. Pure functions over buffers.
``hive/``      a hive in memory: the cell space (checked pointers, allocation with reuse), the
               read engine (lookups by cell), the Key and Value views, the editor with its
               caches, and :class:`~hivetool.regf.hive.Hive`, the public object on top.
``check/``     the structural checker: every record's problems, plus the rules that span
               records (the tree, cell ownership, the security ring), as findings.
``logs/``      transaction logs (.LOG1/.LOG2, old and new format) and their replay.
``compact/``   rewriting a hive without free space, and laying out a new one in bulk.
``info``       the facts ``hivetool info`` shows (a hive and its logs).

A cell offset (relative to the first hive bin, as stored) and a file offset (absolute, as
shown to users) are never mixed: ``records.bins.file_offset`` is the one conversion. Every
pointer read from a file is checked before it is followed. Nothing here knows of .reg files
or the command line.
"""
