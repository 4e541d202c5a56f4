"""The change log: the load records in the order they were written, by position.

Every write through the pipeline leaves a load record in `urn:kg:graph:loads` (when, which
sources, which graphs it wrote or dropped) carrying `mlg:position`, one more than the write
before it; the position of the latest write is kept in `urn:kg:graph:log` (the head), replaced
by the same atomic commit that writes the record. The log is what keeps every index in step:

* at start, an index written down at position p (the search index on every write, the lineage
  snapshot at a clean stop) re-reads only the assets the loads after p wrote, instead of being
  rebuilt (after a kill -9 too: the store has the records, the index is merely behind);
* while serving on a shared store, each kg process follows the log (`Follower` in kg.graph) and
  applies what other processes wrote to its own indexes.

No protocol write can touch these graphs (kg.graphs.system_graph), so a client cannot make a stale
index look fresh. A store written before positions existed has no head: its position is 0 and
its indexes are rebuilt once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kg.graphs import (
    DEFAULT_DATA_GRAPH,
    DERIVED_GRAPH_PREFIX,
    LOADS_GRAPH,
    LOG_GRAPH,
    described_subject,
)
from kg.store import GraphStore
from kg.vocab import XSD, mlg

HEAD = ox.NamedNode("urn:kg:log")
POSITION = mlg("position")
WROTE = mlg("wrote")
_UNATTACHED = DEFAULT_DATA_GRAPH.value  # blank-node descriptions: no edges, nothing to index
_INTEGER = ox.NamedNode(XSD + "integer")


def head(store: GraphStore) -> int:
    """The position of the latest write (0 before the first)."""
    for quad in store.quads(HEAD, POSITION, None):
        if quad.graph_name == LOG_GRAPH and isinstance(quad.object, ox.Literal):
            return int(quad.object.value)
    return 0


def entries(load: ox.NamedNode, position: int) -> tuple[ox.Triple, ox.Quad]:
    """What a write at `position` adds to the log: the new head (the whole of the log graph,
    replaced) and its load record's position (appended to the record)."""
    number = ox.Literal(str(position), datatype=_INTEGER)
    return ox.Triple(HEAD, POSITION, number), ox.Quad(load, POSITION, number, LOADS_GRAPH)


@dataclass(frozen=True)
class Change:
    """One write of the log: its position, its load record and the graphs it wrote."""

    position: int
    load: str
    graphs: frozenset[str]


def since(store: GraphStore, position: int, upto: int | None = None) -> list[Change]:
    """The writes after `position` (up to `upto` included), in order."""
    bound = "" if upto is None else f" && ?p <= {upto}"
    result = store.query(
        f"SELECT ?load ?p ?g WHERE {{ GRAPH {LOADS_GRAPH} {{ ?load {POSITION} ?p "
        f"FILTER(?p > {position}{bound}) OPTIONAL {{ ?load {WROTE} ?g }} }} }}"
    )
    assert isinstance(result, ox.QuerySolutions)
    found: dict[int, tuple[str, set[str]]] = {}
    for row in result:
        number = int(row["p"].value)
        entry = found.setdefault(number, (row["load"].value, set()))
        if row["g"] is not None:
            entry[1].add(row["g"].value)
    return [Change(n, load, frozenset(gs)) for n, (load, gs) in sorted(found.items())]


def subjects_of(graphs: set[str] | frozenset[str]) -> set[str] | None:
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


def changed_since(store: GraphStore, position: int | None) -> set[str] | None:
    """The assets whose descriptions changed after `position`, or None (rebuild): the position
    is unknown, or a write after it replaced a graph whose subjects its name does not tell."""
    if position is None:
        return None
    graphs: set[str] = set()
    for change in since(store, position):
        graphs |= change.graphs
    return subjects_of(graphs)


def stamp_position(stamp: str | None) -> int | None:
    """The position an index was stamped with (None: no stamp, or one from before positions)."""
    if stamp is None or not stamp.isdigit():
        return None
    return int(stamp)
