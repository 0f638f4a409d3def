"""Later wins: folding an ordered list of claims into what they mean together.

The same fold runs twice: over the items of the state files (addresses are registry paths as
written, so a state means something before any target is seen), and over the places a target
maps them to (addresses are hive and path, so ``CurrentControlSet`` and ``ControlSet001``, or
``HKCU`` and ``HKU\\<SID>``, meet). Applying the folded claims in order gives what importing
the state files in order would give, with one exception said below, while changing only what
differs. The rules, for a claim arriving after others (names compare case-insensitively):

* a value (set or absent) replaces any earlier claim on the same value;
* a key replaces an earlier key claim on the same key;
* an absent key drops every earlier claim at or below it;
* a value or key at or below an earlier absent key does not undo that absence, it narrows
  it: the absent key becomes *exact*, a key that must exist and hold nothing but what later
  claims declare inside it (what ``[-KEY]`` followed by ``[KEY]`` and its values does);
* an absent value or key inside a key that is already absent adds nothing and is dropped.

The exception: a key that import creates only as the parent of something that a later claim
removes is not kept (``[A\\B]`` then ``[-A\\B]`` leaves ``A`` after an import; here nothing
about ``A`` remains), since a state says what must hold, not the steps to get there.

Claims live in a tree of their key paths, so a fold costs O(depth) per claim, whatever the
number of claims (a .reg export of a whole hive is a state too).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

C_VALUE = "value"
C_ABSENT_VALUE = "absent_value"
C_KEY = "key"
C_ABSENT_KEY = "absent_key"
C_EXACT = "exact"
NEEDS_KEY = (C_VALUE, C_KEY, C_EXACT)  # claims that make their key (and its parents) exist


@dataclass
class Claim:
    kind: str
    scope: Hashable  # a root name, or a hive
    parts: tuple[str, ...]  # upcased key names below the scope
    name: str | None  # upcased value name, for value claims
    seq: int
    payload: object  # what the claim stands for (an item, an entry)
    droppable: bool = False  # a key claim that only repeats what a value in the same key says


@dataclass
class _Node:
    children: dict[str, "_Node"] = field(default_factory=dict)
    key: Claim | None = None
    absent: Claim | None = None  # C_ABSENT_KEY or C_EXACT
    values: dict[str, Claim] = field(default_factory=dict)


class Folder:
    """Claims folded in the order they are added (which must be their ``seq`` order)."""

    def __init__(self) -> None:
        self.roots: dict[Hashable, _Node] = {}
        self.dropped: list[tuple[Claim, Claim]] = []  # (redundant claim, the absent key that covers it)
        self.order: dict[int, int] = {}  # id(claim) -> when it was added: breaks ties of seq

    def _chain(self, claim: Claim, create: bool) -> list[_Node]:
        """The nodes from the scope's root to the claim's key (shorter when ``create`` is false
        and the path is not in the tree)."""
        node = self.roots.get(claim.scope)
        if node is None:
            if not create:
                return []
            node = self.roots[claim.scope] = _Node()
        chain = [node]
        for part in claim.parts:
            child = node.children.get(part)
            if child is None:
                if not create:
                    return chain
                child = node.children[part] = _Node()
            node = child
            chain.append(node)
        return chain

    def add(self, claim: Claim) -> None:
        self.order[id(claim)] = len(self.order)
        depth = len(claim.parts)
        probe = self._chain(claim, create=False)
        # The nodes whose absence covers the claim: its key's ancestors, and the key itself for
        # a value claim and a key claim (an EXACT or absent key replaces its own node instead).
        covering = probe[: depth + 1] if claim.kind in (C_VALUE, C_ABSENT_VALUE, C_KEY) else probe[:depth]
        if claim.kind in (C_ABSENT_VALUE, C_ABSENT_KEY):
            for node in covering:
                if node.absent is not None and node.absent.kind == C_ABSENT_KEY:
                    self.dropped.append((claim, node.absent))
                    return
        else:
            for node in covering:
                if node.absent is not None and node.absent.kind == C_ABSENT_KEY:
                    node.absent.kind = C_EXACT
        node = self._chain(claim, create=True)[-1]
        if claim.kind in (C_VALUE, C_ABSENT_VALUE):
            assert claim.name is not None
            node.values[claim.name] = claim
        elif claim.kind == C_KEY:
            node.key = claim
        else:
            node.children.clear()
            node.values.clear()
            node.key = None
            node.absent = claim

    def claims(self) -> list[Claim]:
        """The claims left, in ``seq`` order (ties keep the order they were added in)."""
        found: list[Claim] = []
        stack = list(self.roots.values())
        while stack:
            node = stack.pop()
            if node.absent is not None:
                found.append(node.absent)
            if node.key is not None and not (node.key.droppable and (
                    any(c.kind == C_VALUE for c in node.values.values())
                    or (node.absent is not None and node.absent.kind == C_EXACT))):
                found.append(node.key)
            found.extend(node.values.values())
            stack.extend(node.children.values())
        found.sort(key=lambda claim: (claim.seq, self.order[id(claim)]))
        return found


def fold(claims: list[Claim]) -> tuple[list[Claim], list[tuple[Claim, Claim]]]:
    """The claims that remain after ``claims`` (in order) are folded, and those dropped as
    redundant with the absent key that made them so."""
    folder = Folder()
    for claim in sorted(claims, key=lambda c: c.seq):
        folder.add(claim)
    return folder.claims(), folder.dropped


def is_within(parts: tuple[str, ...], top: tuple[str, ...]) -> bool:
    """Whether the key ``parts`` lies at or below the key ``top``."""
    return parts[: len(top)] == top


__all__ = ["C_ABSENT_KEY", "C_ABSENT_VALUE", "C_EXACT", "C_KEY", "C_VALUE", "Claim", "Folder", "fold", "is_within"]
