"""The on-disk records of a hive, one module per structure family, each declared once.

Every module declares its record with :class:`~.record.Record` (the one place its layout is
written: unpack, pack and single-field access all come from it) and, beside it, the one
function that lists the record's problems (``*_problems``): the engine raises the first of
them, the checker reports all of them, compaction refuses what it cannot rewrite.

=================  =========================================================================
``record``         the declaration machinery: named fields, defaults, fast partial views
``problems``       findings (code, level, message, file offset) and raising the first one
``check_codes``    the catalogue of every finding code and its meaning
``base_block``     the 4096-byte header of a hive (and of a log): checksum, sequence numbers
``bins``           hive bins: their header, the bin walk, the one offset conversion
``cells``          the cell size field, how cells tile a bin, cells of pointers
``nk``             key nodes
``vk``             value records
``data``           where value data lives: inline, one cell, or big data (``db``)
``sk``             security cells and the descriptors they hold
``lists``          subkey lists (li, lf, lh, ri) and value lists
``names``          name encodings, Windows upcase ordering, lh hashes and lf hints
``types``          value types and the meaning of their bytes
=================  =========================================================================

Nothing here knows a Hive: records are read from and written to plain buffers.
"""
