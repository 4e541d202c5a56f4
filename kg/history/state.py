"""The whole graph as it stood at a position, as a store of its own (read-only).

For the reads that need all of it (SPARQL as of a moment, an export, a validation, an asset's
page): the graphs changed since are put back as they were (their versions, with what kg
derives from them), the versions themselves and the load records of later writes are left out.
On an embedded store on disk this is a checkpoint changed in place, costing what changed since;
on others, a copy in memory.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.graphs import HISTORY_GRAPH_PREFIX, LOADS_GRAPH, derived_graph
from kg.history import timeline as tl
from kg.ontology import Ontology
from kg.store import GraphStore, OxigraphStore, altered_copy
from kg.write.pipeline import derive


def as_of(
    store: GraphStore,
    timeline: tl.Timeline,
    ontology: Ontology,
    position: int,
    folder: Path | None,
) -> OxigraphStore:
    changed = timeline.changed_after(position)
    contents = tl.kept(store, changed)
    replaced = set(changed) | {derived_graph(ox.NamedNode(g)).value for g in changed}
    added: list[ox.Quad] = []
    for graph, triples in contents.items():
        name = ox.NamedNode(graph)
        added += [ox.Quad(t.subject, t.predicate, t.object, name) for t in triples]
        derived = derived_graph(name)
        added += [
            ox.Quad(t.subject, t.predicate, t.object, derived) for t in derive(triples, ontology)
        ]
    later = {ox.NamedNode(w.load): {LOADS_GRAPH} for w in timeline.after(position)}

    def left_out(graph: str) -> bool:
        return graph in replaced or graph.startswith(HISTORY_GRAPH_PREFIX)

    return altered_copy(store, folder, without_graphs=left_out, without_subjects=later, added=added)
