"""Lineage, impact and path explanation over the dependency edges (pure; reads the store only).

Each answer is the one walk (kg.lineage.walk) over a walker's steps: the store's, or the
lineage index's when the caller passes an IndexedWalker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.lineage.walk import Direction
from kg.lineage.walkers import Edge, Node, Walker, is_a
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import MEMBER_OF, MLG, mlg, value

EMAIL = mlg("email")


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
    wanted = set(types) if types is not None else None
    nodes = walker.answer(root, direction, depth, wanted)
    return Lineage(root, direction, depth, nodes, walker.labels(owners_of(nodes)))


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
    services = [n for n in affected if is_a(n.type, {MLG + "Service"}, ontology)]
    production = [n for n in services if n.stage == MLG + "Production"]
    experiments = [n for n in affected if is_a(n.type, {MLG + "Experiment"}, ontology)]
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
    """Every shortest path from start to end (at most `limit`), built back from end.

    Not a walk of the graph but of the walk's shortest-path parents: a path, not a node, is
    what is visited, and a node is on as many paths as lead through it, so it is depth-first
    (the first `limit` paths are done before the next ones begin) with no visited set."""
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
