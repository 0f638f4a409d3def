""".reg text files: parse into a :class:`~hivetool.regfile.patch.Patch`, emit one, diff two hives."""
