"""The SPARQL 1.1 Graph Store Protocol's operations as pipeline batches.

`graph=None` is the protocol's default graph, which in kg is the union of the data graphs:
what is put there is filed per subject into asset graphs, and reading it gives back the
union. A named graph is kept as given and replaced or merged as a whole.

kg's own graphs (the ontology, shapes, load records, reports and derived graphs) can be read
by name (GET ?graph=urn:kg:graph:loads answers the load records, as SPARQL would) but not
written: a PUT, POST or DELETE of one becomes a batch the pipeline refuses (403). They are
not part of the default graph.

The callers (KnowledgeGraph.graph_write) hold the write lock from these reads to the commit.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.graphs import (
    ASSET_GRAPH_PREFIX,
    DEFAULT_DATA_GRAPH,
    described_subject,
    is_data_graph,
    is_inferred_graph,
)
from kg.ingest import Batch
from kg.store import GraphStore
from kg.write.pipeline import orphans


def read(store: GraphStore, graph: ox.NamedNode | None) -> list[ox.Triple] | None:
    """The graph's triples, or None when a named graph does not exist."""
    if graph is None:
        seen: dict[ox.Triple, None] = {}
        for q in store.quads(None, None, None):
            if is_data_graph(q.graph_name):
                seen.setdefault(q.triple)
        return list(seen)
    triples = store.graph(graph)
    if not triples and graph not in store.graphs():
        return None
    return triples


def _asset_graphs(store: GraphStore) -> list[ox.NamedNode]:
    """The graphs describing assets that a client may replace (what rules inferred follows
    their premises instead)."""
    return [
        g
        for g in store.graphs()
        if described_subject(g.value) is not None and not is_inferred_graph(g)
    ]


def replace(
    store: GraphStore, graph: ox.NamedNode | None, triples: list[ox.Triple], source: str
) -> Batch:
    """PUT: the graph becomes exactly `triples`."""
    batch = Batch(source=source)
    if graph is None:
        # Blank-node descriptions attached to no IRI go to the default data graph.
        batch.triples, loose = orphans(triples)
        batch.drop = [g for g in _asset_graphs(store) if g != DEFAULT_DATA_GRAPH]
        if loose:
            batch.named_graphs[DEFAULT_DATA_GRAPH] = loose
        elif DEFAULT_DATA_GRAPH in store.graphs():
            batch.drop.append(DEFAULT_DATA_GRAPH)
    elif triples:
        batch.named_graphs[graph] = triples
    else:
        batch.drop = [graph]
    return batch


def merge(
    store: GraphStore, graph: ox.NamedNode | None, triples: list[ox.Triple], source: str
) -> Batch:
    """POST: `triples` are added to what the graph holds."""
    batch = Batch(source=source)
    if graph is not None:  # (a system graph: the pipeline refuses the batch)
        existing = store.graph(graph)
        present = set(existing)
        batch.named_graphs[graph] = existing + [t for t in triples if t not in present]
        return batch
    attached, loose = orphans(triples)
    subjects = {t.subject for t in attached if isinstance(t.subject, ox.NamedNode)}
    kept: list[ox.Triple] = []
    for subject in subjects:
        kept.extend(store.graph(ox.NamedNode(ASSET_GRAPH_PREFIX + subject.value)))
    present = set(kept)
    batch.triples = kept + [t for t in attached if t not in present]
    if loose:
        batch.named_graphs[DEFAULT_DATA_GRAPH] = store.graph(DEFAULT_DATA_GRAPH) + loose
    return batch


def delete(store: GraphStore, graph: ox.NamedNode | None, source: str) -> Batch | None:
    """DELETE: None when a named data graph does not exist (a system graph: a batch the
    pipeline refuses, whether it exists or not)."""
    if graph is None:
        return Batch(source=source, drop=[*_asset_graphs(store), DEFAULT_DATA_GRAPH])
    if is_data_graph(graph) and read(store, graph) is None:
        return None
    return Batch(source=source, drop=[graph])
