"""What a write adds to the history: the content of each graph it replaces or drops.

A graph's version is named after the write that replaced it and the graph
(`urn:kg:version:<position>:<graph>`), so finding what a graph held before a write is one lookup;
the versions a write keeps are one graph, `urn:kg:graph:history:<position>`.
Its triples are kept as N-Triples text in one literal: the history graph then holds a few
statements per version that no lineage, search or validation pattern can match, which keeps the
present as fast with history as without it. (Versions state no rdf:type: lineage and search
read every subject with a type as an asset.) Blank nodes keep their store labels, so a version
read back is the graph as it was.

    <urn:kg:version:7:urn:kg:graph:asset:…/m>            # an mlg:GraphVersion
        prov:specializationOf <urn:kg:graph:asset:…/m> ;
        prov:wasInvalidatedBy <urn:kg:load:…> ;
        mlg:statements "<…/m> <…#owner> <…/team/a> .\n…" .
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

import pyoxigraph as ox

from kg.auth.principal import Principal
from kg.graphs import LOADS_GRAPH, LOG_GRAPH, history_graph, is_derived_graph
from kg.store import GraphStore
from kg.vocab import PROV, XSD, mlg

GRAPH_VERSION = mlg("GraphVersion")
STATEMENTS = mlg("statements")
SPECIALIZATION_OF = ox.NamedNode(PROV + "specializationOf")
INVALIDATED_BY = ox.NamedNode(PROV + "wasInvalidatedBy")
ASSOCIATED_WITH = ox.NamedNode(PROV + "wasAssociatedWith")
VERSION_PREFIX = "urn:kg:version:"
PRINCIPAL_PREFIX = "urn:kg:principal:"
# Where history starts: writes before this position have no versions (history was off, or was
# pruned), so no answer is given as of a moment before it.
HISTORY = ox.NamedNode("urn:kg:history")
SINCE = mlg("historySince")
_INTEGER = ox.NamedNode(XSD + "integer")


def version_iri(position: int, graph: str) -> ox.NamedNode:
    return ox.NamedNode(f"{VERSION_PREFIX}{position}:{graph}")


def principal_iri(name: str) -> ox.NamedNode:
    return ox.NamedNode(PRINCIPAL_PREFIX + quote(name, safe=""))


def principal_name(iri: str) -> str:
    return unquote(iri.removeprefix(PRINCIPAL_PREFIX))


def text(triples: Iterable[ox.Triple]) -> str:
    written = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    assert written is not None  # no output given: the bytes are returned
    return "".join(sorted(written.decode("utf-8").splitlines(keepends=True)))  # one text per state


def parsed(statements: str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(statements, format=ox.RdfFormat.N_TRIPLES)]


def unchanged(
    old: Mapping[ox.NamedNode, list[ox.Triple]],
    replace: Mapping[ox.NamedNode, Iterable[ox.Triple]],
    drop: Iterable[ox.NamedNode],
) -> set[ox.NamedNode]:
    """The data graphs a write would leave as they are: replaced with the same triples, or
    dropped while empty (derived graphs follow theirs). Blank nodes parsed again are new
    ones, so a description with blank nodes is a change each time it is written: a version
    too many, never one too few."""
    same = set()
    for g, new in replace.items():
        if is_derived_graph(g):
            continue
        was = old.get(g)
        if was is None:  # a new graph (most of a bulk load): a change unless it is empty
            if not new:
                same.add(g)
        elif len(was) == len(new := list(new)) and set(was) == set(new):
            same.add(g)
    return same | {g for g in drop if not is_derived_graph(g) and not old.get(g)}


def versions(
    load: ox.NamedNode, position: int, old: Mapping[ox.NamedNode, list[ox.Triple]]
) -> list[ox.Quad]:
    """The versions a write at `position` keeps: each graph it replaces or drops that had
    content, as it was."""
    quads: list[ox.Quad] = []
    kept = history_graph(position)  # one graph per write: pruning drops whole graphs
    for graph, triples in old.items():
        if not triples:
            continue
        node = version_iri(position, graph.value)
        quads += [
            ox.Quad(node, SPECIALIZATION_OF, graph, kept),
            ox.Quad(node, INVALIDATED_BY, load, kept),
            ox.Quad(node, STATEMENTS, ox.Literal(text(triples)), kept),
        ]
    return quads


def writer(load: ox.NamedNode, principal: Principal) -> list[ox.Quad]:
    """Who made the write, on its load record (PROV: the activity associated with an agent,
    whose name its IRI holds: no statement about the agent, which would make it an asset)."""
    return [ox.Quad(load, ASSOCIATED_WITH, principal_iri(principal.name), LOADS_GRAPH)]


def since(store: GraphStore) -> int | None:
    """The first position history covers (None: history is off, or was never on)."""
    for quad in store.quads(HISTORY, SINCE, None):
        if quad.graph_name == LOG_GRAPH and isinstance(quad.object, ox.Literal):
            return int(quad.object.value)
    return None


def since_mark(store: GraphStore, position: int) -> ox.Triple:
    """The mark a write with history keeps in the change log's graph (replaced whole by every
    write): where history starts, or this write if it was off until now. A write without
    history leaves the mark out, so history restarts with the next write that keeps it."""
    start = since(store)
    return ox.Triple(
        HISTORY, SINCE, ox.Literal(str(start if start is not None else position), datatype=_INTEGER)
    )
