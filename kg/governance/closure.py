"""A path rule over the whole graph answered by a walk in memory (see
kg.governance.shapes.Closure): the values found by one query, the walk down from each of them
on integers, and the nodes that pass the rule's other test found by another.

Oxigraph evaluates `$this mlg:dependsOn+ ?value` from each value by an index lookup per node
and step; at a million assets a deprecated dataset near the roots has half a million
dependents, and the rule took minutes. The present graph's lineage index holds the same edges
(every property below mlg:dependsOn, as the store materializes it; owl:sameAs is no
dependency). A run with no index (a worker's view of the store, a past state) reads the
mlg:dependsOn statements the query engine sees, once per run, and walks those: a few seconds
at a million assets. A run over focus nodes stays in SPARQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox

from kg.governance.shapes import FOCUS, Check, Closure
from kg.store import GraphStore
from kg.vocab import DEPENDS_ON, SAME_AS


class Edges(Protocol):
    """Numbered nodes and the edges into each (kg.lineage.index.LineageIndex is one)."""

    @property
    def lock(self) -> contextlib.AbstractContextManager[object]: ...

    def known(self, iri: str) -> int | None: ...

    def adjacency(self, outgoing: bool) -> Sequence[list[tuple[int, int]]]: ...


@dataclass
class StoreEdges:
    """The mlg:dependsOn statements of a store as its query engine sees them, numbered: for
    a run that has no lineage index. Built by `dependency_edges`."""

    ids: dict[str, int] = field(default_factory=dict)
    into: list[list[tuple[int, int]]] = field(default_factory=list)
    lock: contextlib.nullcontext[None] = field(default_factory=contextlib.nullcontext)

    def known(self, iri: str) -> int | None:
        return self.ids.get(iri)

    def adjacency(self, outgoing: bool) -> Sequence[list[tuple[int, int]]]:
        assert not outgoing, "only the edges into each node are kept"
        return self.into


def dependency_edges(store: GraphStore) -> StoreEdges | None:
    """The store's mlg:dependsOn edges, or None when a blank node takes part in one (the
    path rules then run in SPARQL). Read as statements of every graph, as the query engine's
    union default graph holds them: an edge stated in several graphs is kept several times,
    which the walk counts alike both ways (a DISTINCT in SPARQL took ten times as long)."""
    edges = StoreEdges()
    ids, into = edges.ids, edges.into
    for quad in store.quads(None, DEPENDS_ON, None):
        s, o = quad.subject, quad.object
        if not (isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode)):
            return None
        source, target = ids.get(s.value), ids.get(o.value)
        if source is None:
            source = ids[s.value] = len(into)
            into.append([])
        if target is None:
            target = ids[o.value] = len(into)
            into.append([])
        into[target].append((-1, source))  # (property, node): one property here
    return edges


def walked_rule(check: Check) -> bool:
    """Whether a full run of the check walks in memory: a Closure over mlg:dependsOn."""
    return (
        check.closure is not None and check.closure.path == DEPENDS_ON.value and not check.per_focus
    )


def walkable(check: Check, edges: Edges | None) -> bool:
    """Whether `edges` can answer this check's full run."""
    return edges is not None and walked_rule(check)


class _NotIndexedError(Exception):
    """A node the lineage index cannot hold (a blank node) takes part: SPARQL answers."""


def _subjects(store: GraphStore, query: str) -> list[ox.NamedNode]:
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    found = [row["this"] for row in result]
    if not all(isinstance(node, ox.NamedNode) for node in found):
        raise _NotIndexedError
    return found


def _nt(iri: str) -> str:
    return str(ox.NamedNode(iri))


@dataclass
class Reached:
    """What a path rule finds over every target: its values in report order (as N-Triples),
    and each target with the values it depends on, as positions in them, in order."""

    values: list[ox.NamedNode]
    targets: list[tuple[ox.NamedNode, list[int]]]

    def pairs(self) -> list[tuple[ox.NamedNode, ox.NamedNode]]:
        return [(node, self.values[i]) for node, found in self.targets for i in found]


def closure_pairs(store: GraphStore, check: Check, index: Edges) -> Reached | None:
    """The (`this`, `value`) pairs of the check over every target, as its SPARQL gives them
    (DISTINCT), in the order of a report: by `this`, then `value`, as N-Triples. None when a
    blank node is a value or passes the other test (the index holds IRIs only: the check then
    runs in SPARQL)."""
    try:
        return _reached(store, check, index)
    except _NotIndexedError:
        return None


def _reached(store: GraphStore, check: Check, index: Edges) -> Reached:
    closure = check.closure
    assert isinstance(closure, Closure)
    value_p, value_o = (_nt(t) for t in closure.value_test)
    this_p, this_o = (_nt(t) for t in closure.this_test)
    values = _subjects(store, f"SELECT DISTINCT ?this WHERE {{ ?this {value_p} {value_o} }}")
    if not values:
        return Reached([], [])
    # the targets passing the other test (a few tens of thousands at most): each side listed
    # alone, as a join makes Oxigraph test one side for every row of the other
    tested = _subjects(store, f"SELECT DISTINCT ?this WHERE {{ ?this {this_p} {this_o} }}")
    listed = store.query(check.targets.replace(FOCUS, ""))
    assert isinstance(listed, ox.QuerySolutions)
    targets = {row["this"] for row in listed}
    passing = sorted((node for node in tested if node in targets), key=str)
    # bit i of a mask is the i-th value in report order: a mask's bits, low to high, are
    # its pairs in order
    values.sort(key=str)
    with index.lock:
        wanted = [(node, n) for node in passing if (n := index.known(node.value)) is not None]
        starts = [(value, n) for value in values if (n := index.known(value.value)) is not None]
        masks = _reaching(index, [n for _, n in starts])
        found = [(node, mask) for node, n in wanted if (mask := masks[n])]
    reached = Reached([value for value, _ in starts], [])
    for node, mask in found:
        bits = []
        bit = 0
        while mask:
            skip = (mask & -mask).bit_length() - 1  # to the next set bit
            bit += skip
            bits.append(bit)
            mask >>= skip + 1
            bit += 1
        reached.targets.append((node, bits))
    return reached


def _reaching(index: Edges, starts: list[int]) -> list[int]:
    """For each node (by id), which starts it depends on (one or more steps), as a mask: bit i
    is starts[i]. Each node's mask is settled once, upstream first, and pushed to what depends
    on it (an OR of a few hundred bytes, in C): work in proportion to the edges below the
    starts, where a walk from each start would cover them once per start. The tables are
    lists by node id: an index into a list costs half a dict lookup, and a million entries
    are a few MB."""
    same_as = index.known(SAME_AS.value)
    into = index.adjacency(False)
    # Down from the starts, each node once, counting for each node below how many of its
    # edges lead up into what the walk covers (Kahn's order waits for them all).
    pending = [0] * len(into)
    seen = set(starts)
    frontier = starts
    while frontier:
        reached = []
        for n in frontier:
            for p, m in into[n]:
                if p != same_as:
                    pending[m] += 1
                    if m not in seen:
                        seen.add(m)
                        reached.append(m)
        frontier = reached
    mask = [0] * len(into)
    own = mask.copy()
    for i, n in enumerate(starts):
        own[n] = 1 << i
    ready = [n for n in starts if not pending[n]]
    while ready:
        n = ready.pop()
        pushed = mask[n] | own[n]
        for p, m in into[n]:
            if p != same_as:
                mask[m] |= pushed
                pending[m] -= 1
                if not pending[m]:
                    ready.append(m)
    # what a cycle holds, and what stands below it, never became ready: settled by pushing
    # again until nothing changes (masks only grow)
    unsettled = [n for n in seen if pending[n]]
    changed = bool(unsettled)
    while changed:
        changed = False
        for n in unsettled:
            pushed = mask[n] | own[n]
            for p, m in into[n]:
                if p != same_as and mask[m] | pushed != mask[m]:
                    mask[m] |= pushed
                    changed = True
    return mask
