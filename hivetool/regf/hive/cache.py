"""What edits remember between calls, so that a run of edits on one key (an import of a
.reg file with thousands of values under one key) stays O(change) instead of re-reading the
key's whole subkey list or re-decoding every value name each time."""
from __future__ import annotations

from ..records.lists import SubkeyList


class EditCache:
    """The subkey lists and value names of the keys edits have touched.

    A subkey list read for an edit is kept and changed in step with the cells it describes, so
    lookups read it from here too (the engine asks :meth:`subkey_list` first); it counts as
    current only while the key still points at the same list cell with the same count. Value
    names map an upcased name to its vk cell. Cells an edit frees drop out (:meth:`forget`),
    since they may be reused for something else.
    """

    def __init__(self) -> None:
        self.subkey_lists: dict[int, SubkeyList] = {}  # nk cell -> its list
        self.value_names: dict[int, dict[str, int]] = {}  # nk cell -> upcased value name -> vk cell

    def subkey_list(self, key_cell: int, list_cell: int, count: int) -> SubkeyList | None:
        """The kept list of the key at ``key_cell``, if it is still the one the key points at."""
        kept = self.subkey_lists.get(key_cell)
        if kept is not None and kept.cell == list_cell and kept.count == count:
            return kept
        return None

    def forget(self, key_cell: int) -> None:
        self.subkey_lists.pop(key_cell, None)
        self.value_names.pop(key_cell, None)
