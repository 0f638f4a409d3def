"""A hive in memory, from the cell space up to the public :class:`Hive`.

==============  ===========================================================================
``space``       the cells of the hive bins: checked pointers, allocation with reuse, freeing
``refs``        what may point at a cell, so edits of a damaged hive do not add damage
``cache``       what edits remember between calls (subkey lists, value names)
``engine``      reading records by cell offset (private: ``hive._engine``)
``value``       a value as read
``model``       the Key view, and key paths
``sublists``    changing subkey lists as Windows does
``data``        placing, overwriting and freeing value data
``security``    security cells and their reference counts
``editor``      creating and deleting keys, setting and deleting values (``hive._editor``)
``saving``      what a save writes and where it may write it
``files``       the transaction logs beside a hive file
``create``      a new empty hive Windows loads
``scan``        reading a whole subtree in one pass (export)
``compare``     comparing two keys' values cheaply (diff)
``hive``        :class:`Hive`, the public object
==============  ===========================================================================
"""
from .hive import Hive
from .model import Key, split_path
from .value import Value

__all__ = ["Hive", "Key", "Value", "split_path"]
