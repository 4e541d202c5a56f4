"""Lineage, impact and path explanation over the dependency edges (pure; reads the store only).

Edges point from the dependent to what it depends on, so upstream follows edges forward and
downstream follows them backward. Walks are breadth-first: each node gets its shortest hop
distance, and cycles terminate because a node is visited once.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

import pyoxigraph as ox

from kg.adjacency import LineageIndex, attributes_of
from kg.errors import NotFoundError
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import (
    DEPENDS_ON,
    MEMBER_OF,
    MLG,
    RDFS_LABEL,
    mlg,
    value,
)

EMAIL = mlg("email")


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


@dataclass(frozen=True, order=True)
class Edge:
    origin: str
    destination: str
    type: str


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


@dataclass
class Lineage:
    root: str
    direction: Direction
    depth: int | None
    nodes: list[Node]
    # the name of every owner the nodes give (None: it has none), for showing owners by name
    owner_names: dict[str, str | None] = field(default_factory=dict)


def owners_of(nodes: Iterable[Node]) -> list[str]:
    """Every owner the nodes give, once, in order of IRI."""
    return sorted({owner for n in nodes for owner in n.owners})


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
        edges: list[Edge] = []
        for (origin, destination), kinds in found.items():
            # The materialized mlg:dependsOn repeats a more specific edge: show the specific one.
            specific = kinds - {DEPENDS_ON.value} or kinds
            edges.extend(Edge(origin, destination, kind) for kind in specific)
        return edges

    def out_edges(self, node: str) -> list[Edge]:
        return self._edges(self.store.triples(ox.NamedNode(node), None, None))

    def in_edges(self, node: str) -> list[Edge]:
        return self._edges(self.store.triples(None, None, ox.NamedNode(node)))

    def step(self, node: str, direction: Direction) -> list[tuple[str, Edge]]:
        if direction is Direction.UPSTREAM:
            return [(e.destination, e) for e in self.out_edges(node)]
        return [(e.origin, e) for e in self.in_edges(node)]

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
        """Shortest hop distance of every node reachable from root, and each node's parents
        on shortest paths."""
        distance = {root: 0}
        parents: dict[str, list[tuple[str, Edge]]] = {root: []}
        queue = deque([root])
        while queue:
            node = queue.popleft()
            if depth is not None and distance[node] >= depth:
                continue
            for neighbour, edge in self.step(node, direction):
                if neighbour not in distance:
                    distance[neighbour] = distance[node] + 1
                    parents[neighbour] = [(node, edge)]
                    queue.append(neighbour)
                elif distance[neighbour] == distance[node] + 1:
                    parents[neighbour].append((node, edge))
        return distance, parents

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
            owners=about.owners,
            status=about.status,
            stage=about.stage,
            resolved=bool(about.types),
        )


class IndexedWalker(Walker):
    """The same walks over the in-memory index (kg.adjacency) instead of the store."""

    def __init__(self, store: GraphStore, ontology: Ontology, index: LineageIndex) -> None:
        super().__init__(store, ontology)
        self.index = index
        self._edge_cache: dict[tuple[int, int, int], Edge] = {}
        self._type_cache: dict[tuple[str, ...], str | None] = {}

    def _edge(self, s: int, p: int, o: int) -> Edge:
        key = (s, p, o)
        edge = self._edge_cache.get(key)
        if edge is None:
            name = self.index.name
            edge = self._edge_cache[key] = Edge(name(s), name(o), name(p))
        return edge

    def _specific(self, pairs: list[tuple[int, int]], node: int, outgoing: bool) -> list[Edge]:
        kinds: dict[int, set[int]] = {}
        for p, other in pairs:
            kinds.setdefault(other, set()).add(p)
        depends = self.index.known(DEPENDS_ON.value)
        edges = []
        for other, props in kinds.items():
            specific = props - {depends} if len(props) > 1 else props
            for p in specific:
                edges.append(self._edge(node, p, other) if outgoing else self._edge(other, p, node))
        return edges

    def out_edges(self, node: str) -> list[Edge]:
        found = self.index.known(node)
        return [] if found is None else self._specific(self.index.out_edges(found), found, True)

    def in_edges(self, node: str) -> list[Edge]:
        found = self.index.known(node)
        return [] if found is None else self._specific(self.index.in_edges(found), found, False)

    def distances(
        self, root: str, direction: Direction, depth: int | None, with_parents: bool = True
    ) -> tuple[dict[str, int], dict[str, list[tuple[str, Edge]]]]:
        """Breadth-first over the integer adjacency; edges are named only for the parents on
        shortest paths."""
        start = self.index.known(root)
        if start is None:
            return {root: 0}, {root: []}
        adjacency = self.index.out_edges if direction is Direction.UPSTREAM else self.index.in_edges
        distance = {start: 0}
        parents: dict[int, list[tuple[int, int]]] = {start: []}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            hops = distance[node]
            if depth is not None and hops >= depth:
                continue
            for p, other in adjacency(node):
                seen = distance.get(other)
                if seen is None:
                    distance[other] = hops + 1
                    parents[other] = [(node, p)]
                    queue.append(other)
                elif seen == hops + 1 and (node, p) not in parents[other]:
                    parents[other].append((node, p))
        name = self.index.name
        if not with_parents:
            return {name(n): d for n, d in distance.items()}, {}
        depends = self.index.known(DEPENDS_ON.value)
        named_parents: dict[str, list[tuple[str, Edge]]] = {}
        for child, pairs in parents.items():
            props: dict[int, set[int]] = {}
            for parent, p in pairs:
                props.setdefault(parent, set()).add(p)
            entries = []
            for parent, kinds in props.items():
                specific = kinds - {depends} if len(kinds) > 1 else kinds
                for p in specific:
                    edge = (
                        self._edge(parent, p, child)
                        if direction is Direction.UPSTREAM
                        else self._edge(child, p, parent)
                    )
                    entries.append((name(parent), edge))
            named_parents[name(child)] = entries
        return {name(n): d for n, d in distance.items()}, named_parents

    def answer(
        self, root: str, direction: Direction, depth: int | None, wanted: set[str] | None
    ) -> list[Node]:
        """The nodes of a lineage answer with their edges, computed on the index's integers
        (the same answer as the generic path, several times faster on large answers)."""
        with _collector_paused():
            return self._answer(root, direction, depth, wanted)

    def _answer(
        self, root: str, direction: Direction, depth: int | None, wanted: set[str] | None
    ) -> list[Node]:
        index = self.index
        start = index.known(root)
        if start is None:
            return _finish({root: self.describe(root, 0)}, self, root)
        hops: dict[int, int] = {}
        for d in (
            [Direction.UPSTREAM, Direction.DOWNSTREAM]
            if direction is Direction.BOTH
            else [direction]
        ):
            for reached, distance in self._int_distances(start, d, depth).items():
                if distance < hops.get(reached, distance + 1):
                    hops[reached] = distance
        nodes = {n: self._node(n, d) for n, d in hops.items()}
        if wanted is not None:
            nodes = {
                n: info for n, info in nodes.items()
                if n == start or _is_a(info.type, wanted, self.ontology)
            }  # fmt: skip
        depends = index.known(DEPENDS_ON.value)
        edge = self._edge
        for s, node in nodes.items():
            kinds: dict[int, set[int]] = {}
            for p, o in index.out_edges(s):
                if o in nodes:
                    kinds.setdefault(o, set()).add(p)
            for o, props in kinds.items():
                target = nodes[o]
                for p in props - {depends} if len(props) > 1 else props:
                    found = edge(s, p, o)
                    node.out_edges.append(found)
                    target.in_edges.append(found)
        for info in nodes.values():
            if len(info.out_edges) > 1:
                info.out_edges.sort(key=_edge_key)
            if len(info.in_edges) > 1:
                info.in_edges.sort(key=_edge_key)
        return sorted(nodes.values(), key=_node_key)

    def _int_distances(self, start: int, direction: Direction, depth: int | None) -> dict[int, int]:
        adjacency = self.index.out_edges if direction is Direction.UPSTREAM else self.index.in_edges
        distance = {start: 0}
        frontier = [start]
        hops = 0
        while frontier and (depth is None or hops < depth):
            hops += 1
            following = []
            for node in frontier:
                for _, other in adjacency(node):
                    if other not in distance:
                        distance[other] = hops
                        following.append(other)
            frontier = following
        return distance

    def _node(self, node: int, distance: int) -> Node:
        about = self.index.attributes(node)
        iri = self.index.name(node)
        if about is None:
            return Node(iri, None, None, distance, [], None, None, False, [], [])
        key = tuple(about.types)
        if key not in self._type_cache:
            self._type_cache[key] = self.ontology.specific_type(key)
        return Node(
            iri,
            self._type_cache[key],
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
        key = tuple(about.types)
        if key not in self._type_cache:
            self._type_cache[key] = self.ontology.specific_type(key)
        return Node(
            id=node,
            type=self._type_cache[key],
            label=about.label,
            distance=distance,
            owners=list(about.owners),
            status=about.status,
            stage=about.stage,
            resolved=bool(about.types),
        )


def lineage(
    store: GraphStore,
    ontology: Ontology,
    root: str,
    direction: Direction = Direction.UPSTREAM,
    depth: int | None = None,
    types: Iterable[str] | None = None,
    walker: Walker | None = None,
) -> Lineage:
    """Every asset upstream and/or downstream of `root`, with shortest hop distances.

    `depth` limits the hops; `types` keeps only nodes of those mlg classes (or their
    sub-classes) in the answer, while the walk still passes through the others.
    """
    walker = walker or Walker(store, ontology)
    walker.require(root)
    if isinstance(walker, IndexedWalker):
        wanted = set(types) if types is not None else None
        answer = walker.answer(root, direction, depth, wanted)
        return Lineage(root, direction, depth, answer, walker.labels(owners_of(answer)))
    directions = (
        [Direction.UPSTREAM, Direction.DOWNSTREAM] if direction is Direction.BOTH else [direction]
    )
    distance: dict[str, int] = {}
    for d in directions:
        for node, hops in walker.distances(root, d, depth, with_parents=False)[0].items():
            distance[node] = min(hops, distance.get(node, hops))
    nodes = {n: walker.describe(n, hops) for n, hops in distance.items()}
    if types is not None:
        wanted = set(types)
        nodes = {
            n: info for n, info in nodes.items() if n == root or _is_a(info.type, wanted, ontology)
        }
    finished = _finish(nodes, walker, root)
    return Lineage(root, direction, depth, finished, walker.labels(owners_of(finished)))


@contextmanager
def _collector_paused() -> Iterator[None]:
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


def _edge_key(edge: Edge) -> tuple[str, str, str]:
    return (edge.origin, edge.destination, edge.type)


def _node_key(node: Node) -> tuple[int, str]:
    return (node.distance, node.id)


def _finish(nodes: dict[str, Node], walker: Walker, root: str) -> list[Node]:
    for info in nodes.values():
        info.out_edges = sorted(e for e in walker.out_edges(info.id) if e.destination in nodes)
        info.in_edges = sorted(e for e in walker.in_edges(info.id) if e.origin in nodes)
    return sorted(nodes.values(), key=_node_key)


def _is_a(node_type: str | None, wanted: set[str], ontology: Ontology) -> bool:
    if node_type is None:
        return False
    return node_type in wanted or bool(ontology.super_classes.get(node_type, frozenset()) & wanted)


# -- impact


@dataclass
class Member:
    id: str
    label: str | None
    email: str | None


@dataclass
class Owner:
    id: str
    type: str | None
    label: str | None
    assets: list[str]
    members: list[str] = field(default_factory=list)
    email: str | None = None
    member_details: list[Member] = field(default_factory=list)


@dataclass
class Impact:
    root: str
    affected: list[Node]
    by_type: dict[str, list[str]]
    services: list[Node]
    production_services: list[Node]
    experiments: list[Node]
    owners: list[Owner]
    unowned: list[str]
    owner_names: dict[str, str | None] = field(default_factory=dict)


def email(store: GraphStore, agent: str) -> str | None:
    """An agent's address (mlg:email; the first in order when it has several), as text."""
    found = sorted(value(t.object) for t in store.triples(ox.NamedNode(agent), EMAIL, None))
    return found[0].removeprefix("mailto:") if found else None


def impact(
    store: GraphStore, ontology: Ontology, root: str, walker: Walker | None = None
) -> Impact:
    """What a change to `root` affects: every downstream asset grouped by type, the services
    (production first) and experiments among them, and who to notify."""
    walker = walker or Walker(store, ontology)
    down = lineage(store, ontology, root, Direction.DOWNSTREAM, walker=walker)
    affected = [n for n in down.nodes if n.id != root]
    by_type: dict[str, list[str]] = {}
    for n in affected:
        by_type.setdefault(n.type or "unknown", []).append(n.id)
    services = [n for n in affected if _is_a(n.type, {MLG + "Service"}, ontology)]
    production = [n for n in services if n.stage == MLG + "Production"]
    experiments = [n for n in affected if _is_a(n.type, {MLG + "Experiment"}, ontology)]
    owned: dict[str, list[str]] = {}
    for n in affected:
        for owner in n.owners:
            owned.setdefault(owner, []).append(n.id)
    owners = []
    for owner_id, assets in sorted(owned.items()):
        info = walker.describe(owner_id, 0)
        members = sorted(
            value(t.subject) for t in store.triples(None, MEMBER_OF, ox.NamedNode(owner_id))
        )
        details = [Member(m, label, email(store, m)) for m, label in walker.labels(members).items()]
        owners.append(
            Owner(
                owner_id,
                info.type,
                info.label,
                sorted(assets),
                members,
                email(store, owner_id),
                details,
            )
        )
    return Impact(
        root=root,
        affected=affected,
        by_type=dict(sorted(by_type.items())),
        services=services,
        production_services=production,
        experiments=experiments,
        owners=owners,
        unowned=sorted(n.id for n in affected if not n.owners and n.resolved),
        owner_names={o.id: o.label for o in owners},  # the owners of the affected, each once
    )


# -- path explanation


@dataclass
class Paths:
    origin: str
    target: str
    direction: Direction | None
    length: int | None
    paths: list[list[Edge]]


def paths(
    store: GraphStore,
    ontology: Ontology,
    origin: str,
    target: str,
    limit: int = 50,
    walker: Walker | None = None,
) -> Paths:
    """The shortest dependency path(s) between two assets, in whichever direction one exists.

    Upstream means `origin` depends on `target` (origin -> ... -> target).
    """
    walker = walker or Walker(store, ontology)
    walker.require(origin)
    walker.require(target)
    for direction, start, end in (
        (Direction.UPSTREAM, origin, target),
        (Direction.DOWNSTREAM, target, origin),
    ):
        distance, parents = walker.distances(start, Direction.UPSTREAM, None)
        if end in distance and end != start:
            found = _enumerate(parents, start, end, limit)
            return Paths(origin, target, direction, distance[end], found)
    return Paths(origin, target, None, None, [])


def _enumerate(
    parents: dict[str, list[tuple[str, Edge]]], start: str, end: str, limit: int
) -> list[list[Edge]]:
    """Every shortest path from start to end (at most `limit`), built back from end."""
    result: list[list[Edge]] = []
    stack: list[tuple[str, list[Edge]]] = [(end, [])]
    while stack and len(result) < limit:
        node, suffix = stack.pop()
        if node == start:
            result.append(suffix)
            continue
        for parent, edge in sorted(parents.get(node, []), reverse=True):
            stack.append((parent, [edge, *suffix]))
    return sorted(result)
