"""A path rule over the whole graph answered from the lineage index (see
kg.governance.shapes.Closure): the values found by one query, the walk down from each of them
on the index's integers, and the nodes that pass the rule's other test found by another.

Oxigraph evaluates `$this mlg:dependsOn+ ?value` from each value by an index lookup per node
and step; at a million assets a deprecated dataset near the roots has half a million
dependents, and the rule took minutes. The index holds the same edges (every property below
mlg:dependsOn, as the store materializes it; owl:sameAs is no dependency) and walks them in
memory. Only the present graph has an index: a run over another state, or over focus nodes,
stays in SPARQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from kg.governance.shapes import FOCUS, Check, Closure
from kg.lineage.index import LineageIndex
from kg.store import GraphStore
from kg.vocab import DEPENDS_ON, SAME_AS

Row = dict[str, ox.NamedNode]


def walkable(check: Check, index: LineageIndex | None) -> bool:
    """Whether the index can answer this check's full run: a Closure over mlg:dependsOn."""
    return (
        index is not None
        and check.closure is not None
        and check.closure.path == DEPENDS_ON.value
        and not check.per_focus
    )


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


def closure_rows(store: GraphStore, check: Check, index: LineageIndex) -> list[Row] | None:
    """The rows (`this`, `value`) of the check over every target, as its SPARQL gives them
    (DISTINCT pairs); None when a blank node is a value or passes the other test (the index
    holds IRIs only: the check then runs in SPARQL)."""
    try:
        return list(_rows(store, check, index))
    except _NotIndexedError:
        return None


def _rows(store: GraphStore, check: Check, index: LineageIndex) -> Iterator[Row]:
    closure = check.closure
    assert isinstance(closure, Closure)
    value_p, value_o = (_nt(t) for t in closure.value_test)
    this_p, this_o = (_nt(t) for t in closure.this_test)
    values = _subjects(store, f"SELECT DISTINCT ?this WHERE {{ ?this {value_p} {value_o} }}")
    if not values:
        return
    # the targets passing the other test (a few tens of thousands at most): each side listed
    # alone, as a join makes Oxigraph test one side for every row of the other
    tested = _subjects(store, f"SELECT DISTINCT ?this WHERE {{ ?this {this_p} {this_o} }}")
    listed = store.query(check.targets.replace(FOCUS, ""))
    assert isinstance(listed, ox.QuerySolutions)
    targets = {row["this"] for row in listed}
    passing = [node for node in tested if node in targets]
    with index.lock:
        wanted = {n: node for node in passing if (n := index.known(node.value)) is not None}
        starts = {n: value for value in values if (n := index.known(value.value)) is not None}
        reaches = _reaching(index, list(starts))
        found = [(wanted[n], reaches[n]) for n in wanted if reaches.get(n)]
    by_bit = list(starts.values())
    for node, mask in found:
        while mask:
            low = mask & -mask
            yield {"this": node, "value": by_bit[low.bit_length() - 1]}
            mask ^= low


def _reaching(index: LineageIndex, starts: list[int]) -> dict[int, int]:
    """For each node downstream of the starts, which starts it depends on (one or more steps),
    as a mask: bit i is starts[i]. Computed once per node, upstream first, by OR-ing what it
    depends on (each a few hundred bytes at most in C): work in proportion to the graph below
    the starts, where a walk from each start would cover the same nodes once per start."""
    same_as = index.known(SAME_AS.value)
    into, out = index.adjacency(False), index.adjacency(True)
    bit = {n: 1 << i for i, n in enumerate(starts)}
    # the nodes below the starts (the starts themselves are in only if below another)
    below: set[int] = set()
    frontier = starts
    while frontier:
        met = dict.fromkeys([o for n in frontier for p, o in into[n] if p != same_as])
        frontier = [o for o in met if o not in below]
        below.update(frontier)
    inside = below.union(starts)
    # what each node below depends on there, and what depends on it, each once
    depends = {
        n: list(dict.fromkeys([o for p, o in out[n] if p != same_as and o in inside]))
        for n in below
    }
    dependents: dict[int, list[int]] = {}
    for n, upstream in depends.items():
        for o in upstream:
            dependents.setdefault(o, []).append(n)
    # upstream first (Kahn's order); what a cycle holds is settled after, to a fixed point
    pending = {n: len(upstream) for n, upstream in depends.items()}
    mask: dict[int, int] = {}
    ready = [n for n in starts if n not in below]
    while ready:
        n = ready.pop()
        if n in below:
            mask[n] = _or(depends[n], mask, bit)
        for o in dependents.get(n, ()):
            pending[o] -= 1
            if not pending[o]:
                ready.append(o)
    unsettled = [n for n, left in pending.items() if left > 0]
    changed = bool(unsettled)
    while changed:
        changed = False
        for n in unsettled:
            found = _or(depends[n], mask, bit)
            if found != mask.get(n, 0):
                mask[n] = found
                changed = True
    return mask


def _or(nodes: list[int], mask: dict[int, int], bit: dict[int, int]) -> int:
    found = 0
    for o in nodes:
        found |= mask.get(o, 0) | bit.get(o, 0)
    return found
