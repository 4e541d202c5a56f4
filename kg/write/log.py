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


_LOOKED_UP = 1000  # positions asked for one by one; past this, the records are scanned


def since(store: GraphStore, position: int, upto: int | None = None) -> list[Change]:
    """The writes after `position` (up to `upto` included), in order. Positions follow one
    another without gaps, so a few are looked up by value (cheap however long the log is)."""
    if upto is not None and upto - position <= _LOOKED_UP:
        if upto <= position:
            return []
        numbers = " ".join(f'"{n}"^^{_INTEGER}' for n in range(position + 1, upto + 1))
        select = f"VALUES ?p {{ {numbers} }} ?load {POSITION} ?p"
    else:
        bound = "" if upto is None else f" && ?p <= {upto}"
        select = f"?load {POSITION} ?p FILTER(?p > {position}{bound})"
    result = store.query(
        f"SELECT ?load ?p ?g WHERE {{ GRAPH {LOADS_GRAPH} {{ {select} "
        f"OPTIONAL {{ ?load {WROTE} ?g }} }} }}"
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
    for change in since(store, position, head(store)):
        graphs |= change.graphs
    return subjects_of(graphs)


def stamp(position: int, load: str | None) -> str:
    """What an index is stamped with: the position it reflects and that write's load record
    (so an index is never taken for in step with another store that reached the same
    position)."""
    return "0" if position == 0 or load is None else f"{position} {load}"


def head_stamp(store: GraphStore) -> tuple[int, str]:
    """The head's position and its stamp."""
    position = head(store)
    return position, stamp(position, _load_at(store, position))


def stamp_position(store: GraphStore, stamped: str | None) -> int | None:
    """The position an index was stamped with, if that write is this store's (None: no stamp,
    one from before positions, or one of another store: the caller rebuilds)."""
    if stamped == "0":
        return 0
    number, _, load = (stamped or "").partition(" ")
    if not number.isdigit() or not load:
        return None
    return int(number) if _load_at(store, int(number)) == load else None


def _load_at(store: GraphStore, position: int) -> str | None:
    number = ox.Literal(str(position), datatype=_INTEGER)
    for quad in store.quads(None, POSITION, number):
        if quad.graph_name == LOADS_GRAPH and isinstance(quad.subject, ox.NamedNode):
            return quad.subject.value
    return None
