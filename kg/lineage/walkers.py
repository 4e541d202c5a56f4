"""What a lineage walk reads: the dependency edges and node attributes, from the store (Walker)
or from the in-memory lineage index (IndexedWalker), which gives the same answers faster.

Both hand their steps to the one walk (kg.lineage.walk); they differ only in where an edge or
a node's attributes come from.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import pyoxigraph as ox

from kg.errors import NotFoundError
from kg.lineage.index import EdgeIndex, attributes_of
from kg.lineage.walk import Direction, Step, distances, walk
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import DEPENDS_ON, RDFS_LABEL, value

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Edge:
    origin: str
    destination: str
    type: str
    inferred: str | None = field(default=None, compare=False)  # the rule that concluded it


@dataclass(slots=True)
class Node:
    id: str
    type: str | None
    label: str | None
    distance: int
    owners: list[str] = field(default_factory=list)
    status: str | None = None
    stage: str | None = None
    resolved: bool = True
    in_edges: list[Edge] = field(default_factory=list)
    out_edges: list[Edge] = field(default_factory=list)


def specific(kinds: AbstractSet[T], depends_on: T | None) -> AbstractSet[T]:
    """The kinds of edge between two nodes to show: the materialized mlg:dependsOn repeats a
    more specific edge, so it shows only when it is the one edge there."""
    return kinds - {depends_on} if len(kinds) > 1 else kinds


def is_a(node_type: str | None, wanted: set[str], ontology: Ontology) -> bool:
    """A node of one of the wanted mlg classes, or of a sub-class of one."""
    if node_type is None:
        return False
    return node_type in wanted or bool(ontology.super_classes.get(node_type, frozenset()) & wanted)


def keep_types(
    nodes: dict[K, Node], root: K, wanted: set[str], ontology: Ontology
) -> dict[K, Node]:
    """The type filter of a lineage answer: the root, and the nodes of the wanted types (the walk
    has passed through the others, so distances are those of the whole graph)."""
    return {n: info for n, info in nodes.items() if n == root or is_a(info.type, wanted, ontology)}


def _edge_key(edge: Edge) -> tuple[str, str, str]:
    return (edge.origin, edge.destination, edge.type)


def _node_key(node: Node) -> tuple[int, str]:
    return (node.distance, node.id)


class Walker:
    """Walks dependency edges in the store, one hop at a time."""

    def __init__(self, store: GraphStore, ontology: Ontology) -> None:
        self.store = store
        self.ontology = ontology
        self.properties = ontology.lineage_properties

    def _edges(self, triples: Iterable[ox.Triple]) -> list[Edge]:
        found: dict[tuple[str, str], set[str]] = {}
        for t in triples:
            if t.predicate.value in self.properties and isinstance(t.object, ox.NamedNode):
                key = (value(t.subject), t.object.value)
                found.setdefault(key, set()).add(t.predicate.value)
        return [
            Edge(origin, destination, kind)
            for (origin, destination), kinds in found.items()
            for kind in specific(kinds, DEPENDS_ON.value)
        ]

    def out_edges(self, node: str) -> list[Edge]:
        return self._edges(self.store.triples(ox.NamedNode(node), None, None))

    def in_edges(self, node: str) -> list[Edge]:
        return self._edges(self.store.triples(None, None, ox.NamedNode(node)))

    def step(self, direction: Direction) -> Step[str, Edge]:
        """One hop one way (upstream or downstream) from a node: (edge, neighbour) pairs."""
        if direction is Direction.UPSTREAM:
            return lambda node: [(e, e.destination) for e in self.out_edges(node)]
        return lambda node: [(e, e.origin) for e in self.in_edges(node)]

    def exists(self, node: str) -> bool:
        term = ox.NamedNode(node)
        return (
            next(self.store.triples(term, None, None), None) is not None
            or next(self.store.triples(None, None, term), None) is not None
        )

    def require(self, node: str) -> None:
        if not self.exists(node):
            raise NotFoundError(f"no asset {node} in the graph")

    def distances(
        self, root: str, direction: Direction, depth: int | None, with_parents: bool = True
    ) -> tuple[dict[str, int], dict[str, list[tuple[str, Edge]]]]:
        """Shortest hop distance of every node reachable from root one way, and each node's
        parents on shortest paths (with_parents)."""
        found = walk([root], self.step(direction), depth, parents=with_parents)
        return found.distance, found.parents

    def labels(self, nodes: Iterable[str]) -> dict[str, str | None]:
        """The name (rdfs:label) of each node, None when it has none."""
        found = {}
        for n in nodes:
            labels = self.store.triples(ox.NamedNode(n), RDFS_LABEL, None)
            found[n] = next((value(t.object) for t in labels), None)
        return found

    def describe(self, node: str, distance: int) -> Node:
        about = attributes_of(self.store.triples(ox.NamedNode(node), None, None))
        return Node(
            id=node,
            type=self.ontology.specific_type(about.types),
            label=about.label,
            distance=distance,
            owners=list(about.owners),
            status=about.status,
            stage=about.stage,
            resolved=bool(about.types),
        )

    def answer(
        self, root: str, direction: Direction, depth: int | None, wanted: set[str] | None
    ) -> list[Node]:
        """The nodes of a lineage answer (those of the `wanted` types, when given), each with
        its edges to the others, nearest first."""
        hops = distances(root, self.step, direction, depth)
        nodes = {n: self.describe(n, d) for n, d in hops.items()}
        if wanted is not None:
            nodes = keep_types(nodes, root, wanted, self.ontology)
        return self.finish(nodes)

    def finish(self, nodes: dict[str, Node]) -> list[Node]:
        """The nodes, each with its edges to the others, nearest first."""
        for info in nodes.values():
            info.out_edges = sorted(e for e in self.out_edges(info.id) if e.destination in nodes)
            info.in_edges = sorted(e for e in self.in_edges(info.id) if e.origin in nodes)
        return sorted(nodes.values(), key=_node_key)


class IndexedWalker(Walker):
    """The same walks over the in-memory index (kg.lineage.index) instead of the store."""

    def __init__(self, store: GraphStore, ontology: Ontology, index: EdgeIndex) -> None:
        super().__init__(store, ontology)
        self.index = index
        self._edge_cache: dict[tuple[int, int, int], Edge] = {}
        self._type_cache: dict[tuple[str, ...], str | None] = {}

    def _edge(self, s: int, p: int, o: int) -> Edge:
        key = (s, p, o)
        edge = self._edge_cache.get(key)
        if edge is None:
            name = self.index.name
            rule = self.index.inferred.get(key)
            edge = self._edge_cache[key] = Edge(name(s), name(o), name(p), rule)
        return edge

    def _specific(self, pairs: list[tuple[int, int]], node: int, outgoing: bool) -> list[Edge]:
        kinds: dict[int, set[int]] = {}
        for p, other in pairs:
            kinds.setdefault(other, set()).add(p)
        depends = self.index.known(DEPENDS_ON.value)
        return [
            self._edge(node, p, other) if outgoing else self._edge(other, p, node)
            for other, props in kinds.items()
            for p in specific(props, depends)
        ]

    def out_edges(self, node: str) -> list[Edge]:
        found = self.index.known(node)
        return [] if found is None else self._specific(self.index.out_edges(found), found, True)

    def in_edges(self, node: str) -> list[Edge]:
        found = self.index.known(node)
        return [] if found is None else self._specific(self.index.in_edges(found), found, False)

    def _adjacency(self, direction: Direction) -> Step[int, int]:
        """One hop one way on the index's integers: its (property, node) lists as they are."""
        return self.index.out_edges if direction is Direction.UPSTREAM else self.index.in_edges

    def distances(
        self, root: str, direction: Direction, depth: int | None, with_parents: bool = True
    ) -> tuple[dict[str, int], dict[str, list[tuple[str, Edge]]]]:
        """The walk over the integer adjacency; edges are named only for the parents on
        shortest paths."""
        start = self.index.known(root)
        if start is None:
            return {root: 0}, {root: []}
        found = walk([start], self._adjacency(direction), depth, parents=with_parents)
        name = self.index.name
        distance = {name(n): d for n, d in found.distance.items()}
        if not with_parents:
            return distance, {}
        depends = self.index.known(DEPENDS_ON.value)
        named_parents: dict[str, list[tuple[str, Edge]]] = {}
        for child, pairs in found.parents.items():
            props: dict[int, set[int]] = {}
            for parent, p in pairs:
                props.setdefault(parent, set()).add(p)
            named_parents[name(child)] = [
                (
                    name(parent),
                    self._edge(parent, p, child)
                    if direction is Direction.UPSTREAM
                    else self._edge(child, p, parent),
                )
                for parent, kinds in props.items()
                for p in specific(kinds, depends)
            ]
        return distance, named_parents

    def answer(
        self, root: str, direction: Direction, depth: int | None, wanted: set[str] | None
    ) -> list[Node]:
        """The nodes of a lineage answer with their edges, computed on the index's integers
        (the same answer as the store's, several times faster on large answers)."""
        with collector_paused():
            return self._answer(root, direction, depth, wanted)

    def _answer(
        self, root: str, direction: Direction, depth: int | None, wanted: set[str] | None
    ) -> list[Node]:
        index = self.index
        start = index.known(root)
        if start is None:
            return self.finish({root: self.describe(root, 0)})
        hops = distances(start, self._adjacency, direction, depth)
        nodes = {n: self._node(n, d) for n, d in hops.items()}
        if wanted is not None:
            nodes = keep_types(nodes, start, wanted, self.ontology)
        depends = index.known(DEPENDS_ON.value)
        edge = self._edge
        for s, node in nodes.items():
            kinds: dict[int, set[int]] = {}
            for p, o in index.out_edges(s):
                if o in nodes:
                    kinds.setdefault(o, set()).add(p)
            for o, props in kinds.items():
                target = nodes[o]
                for p in specific(props, depends):
                    found = edge(s, p, o)
                    node.out_edges.append(found)
                    target.in_edges.append(found)
        for info in nodes.values():
            if len(info.out_edges) > 1:
                info.out_edges.sort(key=_edge_key)
            if len(info.in_edges) > 1:
                info.in_edges.sort(key=_edge_key)
        return sorted(nodes.values(), key=_node_key)

    def _type(self, types: tuple[str, ...]) -> str | None:
        """A node's most specific type; cached, as a few sets of types recur on many nodes."""
        if types not in self._type_cache:
            self._type_cache[types] = self.ontology.specific_type(types)
        return self._type_cache[types]

    def _node(self, node: int, distance: int) -> Node:
        about = self.index.attributes(node)
        iri = self.index.name(node)
        if about is None:
            return Node(iri, None, None, distance, [], None, None, False, [], [])
        return Node(
            iri,
            self._type(about.types),
            about.label,
            distance,
            list(about.owners),
            about.status,
            about.stage,
            bool(about.types),
            [],
            [],
        )

    def labels(self, nodes: Iterable[str]) -> dict[str, str | None]:
        """The names the index holds (it keeps every described subject's label)."""
        found = {}
        for n in nodes:
            known = self.index.known(n)
            about = self.index.attributes(known) if known is not None else None
            found[n] = about.label if about is not None else None
        return found

    def exists(self, node: str) -> bool:
        found = self.index.known(node)
        if found is not None and (
            self.index.attributes(found)
            or self.index.out_edges(found)
            or self.index.in_edges(found)
        ):
            return True
        return super().exists(node)

    def describe(self, node: str, distance: int) -> Node:
        found = self.index.known(node)
        about = self.index.attributes(found) if found is not None else None
        if about is None:
            return Node(id=node, type=None, label=None, distance=distance, resolved=False)
        return Node(
            id=node,
            type=self._type(about.types),
            label=about.label,
            distance=distance,
            owners=list(about.owners),
            status=about.status,
            stage=about.stage,
            resolved=bool(about.types),
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Building a large answer allocates a node object per asset; with a large index in memory
    each cyclic-garbage pass this triggers rescans it, which doubles the time. The answer holds
    no cycles, so collection waits until it is built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
