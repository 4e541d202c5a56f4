"""A lineage answer kept on the index's integers: the walk's nodes in answer order (distance,
then IRI) and what a summary counts of them, with no object per node.

An answer of half a million nodes is a few arrays here; its pages, its summary and its JSON
(kg.lineage.pages) are read from them and from the index's attributes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter

from kg.lineage.index import Attributes, EdgeIndex, LineageIndex
from kg.lineage.walk import Direction
from kg.lineage.walkers import IndexedWalker, is_a
from kg.vocab import MLG, compact

SERVICE, EXPERIMENT, PRODUCTION = MLG + "Service", MLG + "Experiment", MLG + "Production"
UNKNOWN = "unknown"  # the type a summary counts a node without one under, as impact's byType


class Kinds:
    """What a walker knows of a node's types, once per distinct set of types: its most
    specific type (IRI and compact), and whether it is a service, an experiment, or a type a
    filter wants."""

    def __init__(self, walker: IndexedWalker, wanted: set[str] | None = None) -> None:
        self.walker = walker
        self.wanted = wanted
        self._known: dict[tuple[str, ...], tuple[str | None, str | None, bool, bool, bool]] = {}
        self._compact: dict[str, str] = {}

    def of(self, types: tuple[str, ...]) -> tuple[str | None, str | None, bool, bool, bool]:
        """(type IRI, compact type, is a service, is an experiment, is wanted)."""
        found = self._known.get(types)
        if found is None:
            ontology = self.walker.ontology
            kind = self.walker._type(types)
            found = self._known[types] = (
                kind,
                compact(kind) if kind else None,
                is_a(kind, {SERVICE}, ontology),
                is_a(kind, {EXPERIMENT}, ontology),
                self.wanted is None or is_a(kind, self.wanted, ontology),
            )
        return found

    def compact(self, iri: str | None) -> str | None:
        """A status or stage IRI as the answers show it (cached: a few recur everywhere)."""
        if iri is None:
            return None
        found = self._compact.get(iri)
        if found is None:
            found = self._compact[iri] = compact(iri)
        return found


@dataclass
class Ordered:
    """The nodes of one answer, level by level. Each level is sorted by IRI the first time a
    page reads it, so the first page of a large answer sorts only the levels it shows."""

    index: EdgeIndex
    root: str
    start: int | None  # the root's id (None: the index does not know it; the answer is it alone)
    levels: list[list[int]]
    distance: dict[int, int]  # every node of the answer -> its hops; membership for edges
    _sorted: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sorted = [len(level) < 2 for level in self.levels]

    def __len__(self) -> int:
        return len(self.distance) if self.start is not None else 1

    def slice(self, begin: int, end: int) -> list[int]:
        """The ids at answer positions [begin, end), in order (the caller holds the lock that
        serializes answers, so a level is sorted once)."""
        found: list[int] = []
        position = 0
        for hops, level in enumerate(self.levels):
            if position >= end:
                break
            after = position + len(level)
            if after > begin:
                if not self._sorted[hops]:
                    level.sort(key=namer(self.index))
                    self._sorted[hops] = True
                found.extend(level[max(begin - position, 0) : end - position])
            position = after
        return found


def lookup(index: EdgeIndex) -> Callable[[int], Attributes | None]:
    """How to read a node's attributes: the present index's table lookup when it is that."""
    if isinstance(index, LineageIndex):
        return index.attribute_table().get
    return index.attributes


def namer(index: EdgeIndex) -> Callable[[int], str]:
    """How to name a node: the present index's table lookup when it is that."""
    if isinstance(index, LineageIndex):
        return index.names().__getitem__
    return index.name


def steps(index: EdgeIndex, direction: Direction) -> Callable[[int], list[tuple[int, int]]]:
    upstream = direction is Direction.UPSTREAM
    if isinstance(index, LineageIndex):
        return index.adjacency(upstream).__getitem__
    return index.out_edges if upstream else index.in_edges


def _levels(
    start: int, step: Callable[[int], list[tuple[int, int]]], depth: int | None
) -> tuple[list[list[int]], dict[int, int]]:
    """The breadth-first walk of kg.lineage.walk, one way, keeping its levels: nothing else
    (no parents), as every node of a large answer passes through here."""
    distance = {start: 0}
    frontier = [start]
    levels = [frontier]
    hops = 0
    while frontier and (depth is None or hops < depth):
        hops += 1
        # a level at a time in comprehensions (C loops, no call per node): every neighbour,
        # once each in the order first met, less those already reached
        met = dict.fromkeys([other for node in frontier for _, other in step(node)])
        following = [other for other in met if other not in distance]
        if following:
            distance.update(dict.fromkeys(following, hops))
            levels.append(following)
        frontier = following
    return levels, distance


def order(
    walker: IndexedWalker, root: str, direction: Direction, depth: int | None, kinds: Kinds
) -> Ordered:
    """The walk from `root` over the walker's index, kept to the types `kinds` wants (the root
    always), level by level."""
    index = walker.index
    start = index.known(root)
    if start is None:
        return Ordered(index, root, None, [], {})
    if direction is Direction.BOTH:  # a node found both ways keeps the shorter distance
        _, distance = _levels(start, steps(index, Direction.UPSTREAM), depth)
        _, down = _levels(start, steps(index, Direction.DOWNSTREAM), depth)
        for n, d in down.items():
            if d < distance.get(n, d + 1):
                distance[n] = d
        levels: list[list[int]] = [[] for _ in range(max(distance.values()) + 1)]
        for n, d in distance.items():
            levels[d].append(n)
    else:
        levels, distance = _levels(start, steps(index, direction), depth)
    if kinds.wanted is not None:
        attributes, kind = lookup(index), kinds.of
        kept = {}
        for n, d in distance.items():
            about = attributes(n)
            if n == start or (about is not None and kind(about.types)[4]):
                kept[n] = d
        distance = kept
        levels = [[n for n in level if n in kept] for level in levels]
    return Ordered(index, root, start, levels, distance)


@dataclass
class OwnerCount:
    id: str
    label: str | None
    nodes: int  # how many of the answer's nodes it owns


@dataclass
class Summary:
    """What an answer holds, counted: enough to show half a million nodes without them."""

    nodes: int
    max_distance: int
    by_type: dict[str, int]  # compact type (or "unknown") -> nodes, by type
    services: int
    production_services: int
    experiments: int
    owners: list[OwnerCount]  # most nodes first, then by IRI
    unowned: int  # described nodes no one owns

    def view(self) -> dict[str, object]:
        return {
            "nodes": self.nodes,
            "maxDistance": self.max_distance,
            "byType": self.by_type,
            "services": self.services,
            "productionServices": self.production_services,
            "experiments": self.experiments,
            "owners": [{"id": o.id, "label": o.label, "nodes": o.nodes} for o in self.owners],
            "unowned": self.unowned,
        }


def summarize(
    ordered: Ordered, kinds: Kinds, label: Callable[[str], str | None], *, root: bool = True
) -> Summary:
    """The counts of an answer's nodes (without its root when not `root`: impact counts what
    is affected); `label` names an owner. Counted by C-level iterators (Counter over maps):
    half a million nodes is well under a second."""
    levels = ordered.levels if root else ordered.levels[1:]
    nodes = sum(map(len, levels))
    described = list(filter(None, map(lookup(ordered.index), chain.from_iterable(levels))))
    # one count per distinct (types, stage, owners), in one pass in C: a few thousand kinds
    # of node, however many nodes
    shapes = Counter(map(attrgetter("types", "stage", "owners"), described))
    by_type: Counter[str | None] = Counter({None: nodes - len(described)})
    owners: Counter[str] = Counter()
    services = production = experiments = unowned = 0
    for (types, stage, owned), count in shapes.items():
        _, short, service, experiment, _ = kinds.of(types)
        by_type[short] += count
        services += count if service else 0
        production += count if service and stage == PRODUCTION else 0
        experiments += count if experiment else 0
        unowned += count if types and not owned else 0
        for owner in owned:
            owners[owner] += count
    if ordered.start is None and root:  # the root alone, unknown to the index
        nodes, by_type = 1, Counter({None: 1})
    present = [hops for hops, level in enumerate(ordered.levels) if level]
    return Summary(
        nodes=nodes,
        max_distance=present[-1] if present and nodes else 0,
        by_type={(k or UNKNOWN): n for k, n in sorted(by_type.items(), key=_type_key) if n},
        services=services,
        production_services=production,
        experiments=experiments,
        owners=[
            OwnerCount(o, label(o), count)
            for o, count in sorted(owners.items(), key=lambda item: (-item[1], item[0]))
        ],
        unowned=unowned,
    )


def _type_key(item: tuple[str | None, int]) -> str:
    return item[0] or UNKNOWN
