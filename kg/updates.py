"""SPARQL Update through the write pipeline.

An update runs on a scratch in-memory copy of the data, where the default graph is the union
of the data graphs (so `WHERE` sees what queries see) and each named graph is present as it is.
The difference with the graph of record is then turned into a write the pipeline checks,
derives from and gates like any other: changes made through the default graph become new
descriptions of the subjects they touch (each in its asset graph); changes made to a named
graph replace that graph. The ontology, shapes, load records, reports and derived graphs are
not data and are out of an update's reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

from kg.errors import InputError
from kg.ids import ASSET_GRAPH_PREFIX, DERIVED_GRAPH_PREFIX
from kg.ingest import Batch
from kg.pipeline import DEFAULT_DATA_GRAPH, orphans
from kg.store import GraphStore, open_store
from kg.vocab import LOADS_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH

SYSTEM_PREFIXES = ("urn:kg:graph:reports/", DERIVED_GRAPH_PREFIX)
SYSTEM_GRAPHS = {ONTOLOGY_GRAPH, SHAPES_GRAPH, LOADS_GRAPH}

# Tokens outside strings, IRIs and comments, to find keywords without being fooled by data.
_SKIP = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>\s]*>|#[^\n]*'
)
_WORD = re.compile(r"\b(USING|WITH|WHERE)\b|[{}]", re.IGNORECASE)


def is_data_graph(name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
    if not isinstance(name, ox.NamedNode):
        return False
    return name not in SYSTEM_GRAPHS and not name.value.startswith(SYSTEM_PREFIXES)


def with_dataset(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply the protocol's using-graph-uri / using-named-graph-uri as USING clauses.

    An update that names its own dataset (USING or WITH) may not also get one from the protocol.
    """
    if not using and not using_named:
        return update
    masked = _SKIP.sub(lambda m: " " * len(m.group(0)), update)
    insert_at: list[int] = []
    depth = 0
    for match in _WORD.finditer(masked):
        word = match.group(0).upper()
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
        elif depth == 0 and word in ("USING", "WITH"):
            raise InputError(
                "the update names its dataset (USING/WITH) and the request does too "
                "(using-graph-uri/using-named-graph-uri): send one or the other"
            )
        elif depth == 0 and word == "WHERE":
            insert_at.append(match.start())
    clauses = " ".join(
        [f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named]
    )
    for position in reversed(insert_at):
        update = update[:position] + clauses + " " + update[position:]
    return update


def _data_quads(store: GraphStore) -> list[ox.Quad]:
    return [q for q in store.quads(None, None, None) if is_data_graph(q.graph_name)]


def _owner_of(node: ox.BlankNode, by_object: dict[object, list[ox.Triple]]) -> set[ox.NamedNode]:
    """The IRI subjects a blank node hangs off."""
    found: set[ox.NamedNode] = set()
    stack: list[object] = [node]
    seen: set[object] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for t in by_object.get(current, []):
            if isinstance(t.subject, ox.NamedNode):
                found.add(t.subject)
            else:
                stack.append(t.subject)
    return found


def plan_update(
    store: GraphStore, update: str, *, base_iri: str | None = None, source: str = "SPARQL update"
) -> Batch | None:
    """Run `update` on a scratch copy and return the change as a batch (None if nothing changed)."""
    before = _data_quads(store)
    scratch = open_store(None)
    try:
        union = {q.triple for q in before}
        scratch.add([*before, *(ox.Quad(t.subject, t.predicate, t.object) for t in union)])
        scratch.update(update, base_iri=base_iri)
        after = list(scratch.quads(None, None, None))
    finally:
        scratch.close()
    return _diff(before, union, after, source)


def _diff(
    before: list[ox.Quad], union: set[ox.Triple], after: list[ox.Quad], source: str
) -> Batch | None:
    old_named: dict[ox.NamedNode, set[ox.Triple]] = {}
    for q in before:
        assert isinstance(q.graph_name, ox.NamedNode)
        old_named.setdefault(q.graph_name, set()).add(q.triple)
    new_named: dict[ox.NamedNode, set[ox.Triple]] = {}
    new_default: set[ox.Triple] = set()
    for q in after:
        if isinstance(q.graph_name, ox.DefaultGraph):
            new_default.add(q.triple)
        elif isinstance(q.graph_name, ox.NamedNode):
            new_named.setdefault(q.graph_name, set()).add(q.triple)
    batch = Batch(source=source)
    # Named graphs changed directly are replaced (or dropped) as they are now.
    touched_graphs = {
        g for g in old_named.keys() | new_named.keys() if old_named.get(g) != new_named.get(g)
    }
    for graph in touched_graphs:
        content = new_named.get(graph, set())
        if content:
            batch.named_graphs[graph] = sorted(content, key=str)
        else:
            batch.drop.append(graph)
    # Changes through the default graph become new descriptions of their subjects.
    changed = union ^ new_default
    if not changed:
        return batch if touched_graphs else None
    by_object: dict[object, list[ox.Triple]] = {}
    for t in new_default | union:
        by_object.setdefault(t.object, []).append(t)
    subjects: set[ox.NamedNode] = set()
    for t in changed:
        if isinstance(t.subject, ox.NamedNode):
            subjects.add(t.subject)
        elif isinstance(t.subject, ox.BlankNode):
            subjects |= _owner_of(t.subject, by_object)
    directly = {
        ox.NamedNode(g.value.removeprefix(ASSET_GRAPH_PREFIX))
        for g in touched_graphs
        if g.value.startswith(ASSET_GRAPH_PREFIX)
    }
    elsewhere = {
        t for g, ts in new_named.items() if not g.value.startswith(ASSET_GRAPH_PREFIX) for t in ts
    }
    for subject in sorted(subjects - directly, key=str):
        description = _describe(subject, new_default) - elsewhere
        if description:
            batch.triples.extend(sorted(description, key=str))
        else:
            batch.drop.append(ox.NamedNode(ASSET_GRAPH_PREFIX + subject.value))
    # Blank-node descriptions attached to no IRI live in the default data graph.
    loose = orphans(new_default - elsewhere)[1]
    if DEFAULT_DATA_GRAPH not in touched_graphs and set(loose) != old_named.get(
        DEFAULT_DATA_GRAPH, set()
    ):
        if loose:
            batch.named_graphs[DEFAULT_DATA_GRAPH] = loose
        else:
            batch.drop.append(DEFAULT_DATA_GRAPH)
    return batch


def _describe(subject: ox.NamedNode, triples: Iterable[ox.Triple]) -> set[ox.Triple]:
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    result: set[ox.Triple] = set()
    stack: list[object] = [subject]
    seen: set[object] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for t in by_subject.get(node, []):
            result.add(t)
            if isinstance(t.object, ox.BlankNode):
                stack.append(t.object)
    return result
