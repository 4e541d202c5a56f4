"""The one walk: breadth-first from some start nodes along a step function, to a depth.

Every lineage answer (lineage, impact, paths) and every closure the write gate reads is this
walk; only what a step reads differs (the store, the lineage index's integers, a write's overlay)
and which way it goes. Breadth-first gives each node its shortest hop distance, and a node is
expanded once, so cycles end.

>>> edges = {"a": [("p", "b"), ("q", "c")], "b": [("p", "c")], "c": [("p", "a")]}
>>> found = walk(["a"], lambda n: edges[n], parents=True)
>>> found.distance
{'a': 0, 'b': 1, 'c': 1}
>>> found.parents["c"]
[('a', 'q')]
>>> sorted(reach(["b"], lambda n: [m for _, m in edges[n]]))
['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

N = TypeVar("N", bound=Hashable)
E = TypeVar("E")
# A step: the (edge, neighbour) pairs one hop from a node. Edge first, as the lineage index
# stores its adjacency, so that the index's own lists are steps as they are.
Step = Callable[[N], Iterable[tuple[E, N]]]


class Direction(StrEnum):
    """Which way a walk goes: edges point from the dependent to what it depends on, so
    upstream follows them forward and downstream backward."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"

    def ways(self) -> tuple[Direction, ...]:
        """The one-way walks this direction is made of."""
        if self is Direction.BOTH:
            return (Direction.UPSTREAM, Direction.DOWNSTREAM)
        return (self,)


@dataclass
class Walk(Generic[N, E]):
    # the shortest hop distance of every node reached, in the order they were reached
    distance: dict[N, int]
    # for each node reached, its (parent, edge) pairs on shortest paths, each once (empty for
    # the start nodes); only when the walk was asked for them
    parents: dict[N, list[tuple[N, E]]] = field(default_factory=dict)


def walk(
    starts: Iterable[N],
    step: Step[N, E],
    depth: int | None = None,
    *,
    parents: bool = False,
    level: Callable[[list[N]], object] | None = None,
) -> Walk[N, E]:
    """Every node within `depth` hops of the start nodes (all of them when None), level by
    level: the nodes at `depth` are reached but not expanded. `level` is told each level's
    nodes before they are expanded (a step that reads a store can read them in one batch)."""
    distance = dict.fromkeys(starts, 0)
    tree: dict[N, list[tuple[N, E]]] | None = {n: [] for n in distance} if parents else None
    frontier = list(distance)
    hops = 0
    while frontier and (depth is None or hops < depth):
        hops += 1
        if level is not None:
            level(frontier)
        following = []
        for node in frontier:
            for edge, other in step(node):
                if other not in distance:
                    distance[other] = hops
                    following.append(other)
                    if tree is not None:
                        tree[other] = [(node, edge)]
                # another shortest path; an edge held twice (the index is a multiset: one
                # stated in two graphs) is one parent
                elif (
                    tree is not None and distance[other] == hops and (node, edge) not in tree[other]
                ):
                    tree[other].append((node, edge))
        frontier = following
    return Walk(distance, tree or {})


def reach(
    starts: Iterable[N],
    neighbours: Callable[[N], Iterable[N]],
    *,
    level: Callable[[list[N]], object] | None = None,
) -> set[N]:
    """The walk when only the nodes matter: every node reachable from the start nodes, they
    included (`neighbours` is called once for each; `level` as in `walk`)."""
    step: Step[N, None] = lambda node: ((None, other) for other in neighbours(node))  # noqa: E731
    return set(walk(starts, step, level=level).distance)


def distances(
    root: N, steps: Callable[[Direction], Step[N, E]], direction: Direction, depth: int | None
) -> dict[N, int]:
    """The shortest hop distance of every node upstream and/or downstream of `root`
    (`steps` gives the step for one way); a node found both ways keeps the shorter."""
    found: dict[N, int] = {}
    for way in direction.ways():
        for node, hops in walk([root], steps(way), depth).distance.items():
            if hops < found.get(node, hops + 1):
                found[node] = hops
    return found
