"""The JSON rows of a lineage answer's nodes and edges, as kg.views writes them, read from the
index's integers and attributes (kg.lineage.pages and kg.lineage.whole put them together)."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from kg.lineage.ordered import Kinds, Ordered, lookup, namer, steps
from kg.lineage.walk import Direction
from kg.lineage.walkers import IndexedWalker, Node, specific
from kg.vocab import DEPENDS_ON, compact


class Rows:
    """The JSON rows of an answer's nodes, as kg.views writes them, from the index."""

    def __init__(self, walker: IndexedWalker, ordered: Ordered, kinds: Kinds) -> None:
        self.walker = walker
        self.index = index = ordered.index
        self.ordered = ordered
        self.kinds = kinds
        self.name = namer(index)
        self.attributes = lookup(index)
        self.out_edges = steps(index, Direction.UPSTREAM)
        self.in_edges = steps(index, Direction.DOWNSTREAM)
        self.depends = index.known(DEPENDS_ON.value)
        self._property: dict[int, str] = {}
        inferred = index.inferred
        # the present index's marks are a plain dict, most often empty: no lookup per edge then
        self.inferred = None if isinstance(inferred, dict) and not inferred else inferred

    def node(self, n: int, *, edges: bool) -> dict[str, Any]:
        """One node's row; its edges (to any node of the answer) when `edges`."""
        about = self.attributes(n)
        if about is None:
            row: dict[str, Any] = {
                "id": self.name(n),
                "type": None,
                "label": None,
                "distance": self.ordered.distance[n],
                "owners": [],
                "status": None,
                "stage": None,
                "resolved": False,
            }
        else:
            kinds = self.kinds
            row = {
                "id": self.name(n),
                "type": kinds.of(about.types)[1],
                "label": about.label,
                "distance": self.ordered.distance[n],
                "owners": list(about.owners),
                "status": kinds.compact(about.status),
                "stage": kinds.compact(about.stage),
                "resolved": bool(about.types),
            }
        if edges:
            edge = self._edge
            row["inEdges"] = [edge(o, p, n) for p, o in self._pairs(self.in_edges(n))]
            row["outEdges"] = [edge(n, p, o) for p, o in self._pairs(self.out_edges(n))]
        return row

    def every(self, nodes: list[int]) -> list[dict[str, Any]]:
        """The rows of all the answer's nodes with their edges: each edge made once, from its
        origin's side, and handed to its destination's row too."""
        rows = []
        into: dict[int, list[dict[str, Any]]] = {}
        edge = self._edge
        for n in nodes:
            row = self.node(n, edges=False)
            row["inEdges"] = None  # filled below, in the place kg.views gives it
            outs = row["outEdges"] = []
            for p, o in self._pairs(self.out_edges(n)):
                found = edge(n, p, o)
                outs.append(found)
                into.setdefault(o, []).append(found)
            rows.append(row)
        for row, n in zip(rows, nodes, strict=True):
            ins = into.get(n, [])
            if len(ins) > 1:  # by origin; one origin's edges came in order of type
                ins.sort(key=_ORIGIN)
            row["inEdges"] = ins
        return rows

    def _pairs(self, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The (property, node) pairs to nodes of the answer to show, by the node's IRI then
        the property's (the materialized mlg:dependsOn only where it is the one kind)."""
        inside = self.ordered.distance
        found = [(p, other) for p, other in pairs if other in inside]
        if len(found) < 2:
            return found
        name = self.name
        if len({other for _, other in found}) == len(found):
            found.sort(key=lambda pair: name(pair[1]))
            return found
        kinds: dict[int, set[int]] = {}  # two kinds to one node (or one edge held twice)
        for p, other in found:
            kinds.setdefault(other, set()).add(p)
        found = [
            (p, other) for other, props in kinds.items() for p in specific(props, self.depends)
        ]
        found.sort(key=lambda pair: (name(pair[1]), name(pair[0])))
        return found

    def _edge(self, s: int, p: int, o: int) -> dict[str, Any]:
        kind = self._property.get(p)
        if kind is None:
            kind = self._property[p] = compact(self.name(p))
        return {
            "origin": self.name(s),
            "destination": self.name(o),
            "type": kind,
            "inferredBy": None if self.inferred is None else self.inferred.get((s, p, o)),
        }

    def lonely(self) -> dict[str, Any]:
        """The row of a root the index does not know (the answer is it alone)."""
        return row_of(self.walker.describe(self.ordered.root, 0))


_ORIGIN = itemgetter("origin")


def row_of(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "type": compact(node.type) if node.type else None,
        "label": node.label,
        "distance": node.distance,
        "owners": node.owners,
        "status": compact(node.status) if node.status else None,
        "stage": compact(node.stage) if node.stage else None,
        "resolved": node.resolved,
        "inEdges": [],
        "outEdges": [],
    }


def label_of(walker: IndexedWalker) -> Callable[[str], str | None]:
    index = walker.index

    def label(iri: str) -> str | None:
        known = index.known(iri)
        about = index.attributes(known) if known is not None else None
        return about.label if about is not None else None

    return label


def owner_names(rows: list[dict[str, Any]], label: Callable[[str], str | None]) -> dict[str, Any]:
    owners = sorted({o for row in rows for o in row["owners"]})
    return {o: label(o) for o in owners}
