"""Lineage: the in-memory index of the dependency edges (`index`), the one breadth-first walk
(`walk`), what a walk reads, the store or the index (`walkers`), and the answers built on it:
lineage, impact and paths (`answers`). Large answers, whole or paged with a summary, are
made on the index's integers with no object per node (`ordered`, `rows`, `pages`, `whole`,
`cursor`). The walk itself is `kg.lineage.walk.walk`: here that name is its module."""

from kg.lineage.answers import (
    Impact,
    Lineage,
    Member,
    Owner,
    Paths,
    email,
    impact,
    lineage,
    owners_of,
    paths,
)
from kg.lineage.index import Attributes, LineageIndex, attributes_of
from kg.lineage.walk import Direction, Walk, distances, reach
from kg.lineage.walkers import Edge, IndexedWalker, Node, Walker, is_a

__all__ = [
    "Attributes",
    "Direction",
    "Edge",
    "Impact",
    "IndexedWalker",
    "Lineage",
    "LineageIndex",
    "Member",
    "Node",
    "Owner",
    "Paths",
    "Walk",
    "Walker",
    "attributes_of",
    "distances",
    "email",
    "impact",
    "is_a",
    "lineage",
    "owners_of",
    "paths",
    "reach",
]
