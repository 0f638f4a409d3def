"""Windows images as the unit of work: one logical registry over the hives of a mounted or
extracted system drive, or of an image in a WIM; see :mod:`.target` and :mod:`.mapping`."""
