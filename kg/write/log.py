"""Start-up after a crash: what changed since the indexes were last written down.

The lineage index is saved beside the store when kg stops cleanly, stamped with the latest load
record; the search index stamps itself on every write. After a kill -9 either may be behind the
store. Rather than rebuild them (every edge of the store read again), kg reads the load records
written since the stamp — which graphs each load wrote — and re-reads only the assets those
graphs describe. The load records live in a graph no protocol write can touch
(`urn:kg:graph:loads`), so a client cannot make a stale index look fresh.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.ids import DERIVED_GRAPH_PREFIX, described_subject
from kg.store import GraphStore
from kg.vocab import LOADS_GRAPH, PROV, mlg

_UNATTACHED = "urn:kg:graph:default"  # blank-node descriptions: no edges, nothing to index


def graphs_since(store: GraphStore, load: str | None) -> set[str] | None:
    """The graphs written by the loads recorded after `load` (None when `load` is unknown:
    the caller rebuilds)."""
    if load is None:
        return None
    ended = ox.NamedNode(PROV + "endedAtTime")
    stamp = ox.NamedNode(load)
    times = [
        q.object
        for q in store.quads(stamp, ended, None)
        if q.graph_name == LOADS_GRAPH and isinstance(q.object, ox.Literal)
    ]
    if not times:
        return None
    result = store.query(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH {LOADS_GRAPH} {{ ?load {ended} ?t ; "
        f"{mlg('wrote')} ?g FILTER(?t >= {times[0]} && ?load != {stamp}) }} }}"
    )
    assert isinstance(result, ox.QuerySolutions)
    return {row["g"].value for row in result}


def subjects_of(graphs: set[str]) -> set[str] | None:
    """The assets the graphs describe (None when a graph's subjects cannot be known from its
    name, such as a named graph a TriG document carried: the caller rebuilds)."""
    subjects: set[str] = set()
    for graph in graphs:
        if graph.startswith(DERIVED_GRAPH_PREFIX) or graph == _UNATTACHED:
            continue
        subject = described_subject(graph)
        if subject is None:
            return None
        subjects.add(subject)
    return subjects


def changed_since(store: GraphStore, load: str | None) -> set[str] | None:
    """The assets whose descriptions changed after `load`, or None (rebuild)."""
    graphs = graphs_since(store, load)
    return None if graphs is None else subjects_of(graphs)
