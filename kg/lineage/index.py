"""An in-memory index of the dependency edges and the attributes lineage shows, kept in step
with the store on every write and rebuilt from it at start-up.

Walking it is one to two orders of magnitude faster than walking the store (on disk
especially): a property path gives no hop counts, and a breadth-first walk that reads the
store node by node pays a lookup per node. The index holds integers: each IRI once in a table,
edges as (property, node) pairs in per-node lists (a multiset: an edge stated in two graphs is
held twice and removed once per graph that drops it).
"""

from __future__ import annotations

import pickle
import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from kg.graphs import INFERRED_GRAPH_PREFIX, is_derived_graph
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import OWNER, RDF_TYPE, RDFS_LABEL, SAME_AS, STAGE, STATUS, value

_ATTRIBUTES = (RDF_TYPE, RDFS_LABEL, OWNER, STATUS, STAGE)
_SNAPSHOT_FORMAT = 1


@dataclass
class Attributes:
    # tuples: a summary counts half a million nodes by (types, stage, owners) in one C pass
    types: tuple[str, ...]
    label: str | None
    owners: tuple[str, ...]
    status: str | None
    stage: str | None


def attributes_of(triples: Iterable[ox.Triple]) -> Attributes:
    """What lineage shows of a node, read from its statements."""
    return attributes_from((t.predicate.value, value(t.object)) for t in triples)


_TYPE, _LABEL, _OWNER, _STATUS, _STAGE = (p.value for p in _ATTRIBUTES)


def attributes_from(statements: Iterable[tuple[str, str]]) -> Attributes:
    """What lineage shows of a node, from its statements as (predicate IRI, value) pairs."""
    types, owners = [], []
    label = status = stage = None
    for p, o in statements:
        if p == _TYPE:
            types.append(o)
        elif p == _LABEL and label is None:
            label = o
        elif p == _OWNER:
            owners.append(o)
        elif p == _STATUS:
            status = o
        elif p == _STAGE:
            stage = o
    return Attributes(shared(tuple(types)), label, shared(tuple(sorted(owners))), status, stage)


_SHARED: dict[tuple[str, ...], tuple[str, ...]] = {}


def shared(values: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple object for each distinct set of types or owners (a few thousand in a graph of
    a million nodes): less memory, and counting nodes by them compares by identity."""
    return _SHARED.setdefault(values, values)


class EdgeIndex(Protocol):
    """What a walk reads of an index: the lineage index as it is, or as it was at a position
    (kg.history.lineage)."""

    @property
    def inferred(self) -> Mapping[tuple[int, int, int], str]: ...

    def known(self, iri: str) -> int | None: ...

    def name(self, node: int) -> str: ...

    def out_edges(self, node: int) -> list[tuple[int, int]]: ...

    def in_edges(self, node: int) -> list[tuple[int, int]]: ...

    def attributes(self, node: int) -> Attributes | None: ...


class LineageIndex:
    def __init__(self, ontology: Ontology) -> None:
        # Which build of the id table this is: ids change when the index is rebuilt or
        # restored, so what holds them (kg.history.lineage) knows to start again.
        self.generation: int = getattr(self, "generation", 0) + 1
        self.ontology = ontology
        self.properties = {ox.NamedNode(p) for p in ontology.lineage_properties}
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._out: list[list[tuple[int, int]]] = []
        self._in: list[list[tuple[int, int]]] = []
        self._attributes: dict[int, Attributes] = {}
        # Edges an inference rule concluded (subject, property, object) -> the rule's name,
        # for answers to mark them (kg.inference).
        self.inferred: dict[tuple[int, int, int], str] = {}
        self.lock = threading.RLock()
        self.changed = False  # since it was built, restored or saved

    # -- identifiers

    def id(self, iri: str) -> int:
        found = self._ids.get(iri)
        if found is None:
            found = self._ids[iri] = len(self._names)
            self._names.append(iri)
            self._out.append([])
            self._in.append([])
        return found

    def size(self) -> int:
        """How many IRIs the index knows."""
        return len(self._names)

    def known(self, iri: str) -> int | None:
        return self._ids.get(iri)

    def name(self, node: int) -> str:
        return self._names[node]

    def names(self) -> Sequence[str]:
        """Every IRI the index knows, by id (for naming many at once)."""
        return self._names

    # -- building and keeping in step

    def _edges(self, triples: Iterable[ox.Triple]) -> list[tuple[int, int, int]]:
        found = []
        for t in triples:
            if (
                t.predicate in self.properties
                and isinstance(t.subject, ox.NamedNode)
                and isinstance(t.object, ox.NamedNode)
            ):
                s, p, o = (
                    self.id(t.subject.value),
                    self.id(t.predicate.value),
                    self.id(t.object.value),
                )
                found.append((s, p, o))
                if t.predicate == SAME_AS and s != o:  # an equivalence holds both ways
                    found.append((o, p, s))
        return found

    def edge_ids(self, triples: Iterable[ox.Triple]) -> list[tuple[int, int, int]]:
        """The lineage edges among `triples`, as (subject, property, object) ids."""
        with self.lock:
            return self._edges(triples)

    def add(self, triples: Iterable[ox.Triple]) -> None:
        for s, p, o in self._edges(triples):
            self._out[s].append((p, o))
            self._in[o].append((p, s))

    def remove(self, triples: Iterable[ox.Triple]) -> None:
        for s, p, o in self._edges(triples):
            if (p, o) in self._out[s]:
                self._out[s].remove((p, o))
            if (p, s) in self._in[o]:
                self._in[o].remove((p, s))

    def describe(self, iri: str, triples: Iterable[ox.Triple]) -> None:
        """Set a node's attributes from its statements (all of them, from every graph)."""
        found = attributes_of(triples)
        node = self.id(iri)
        if found.types or found.label or found.owners or found.status or found.stage:
            self._attributes[node] = found
        else:
            self._attributes.pop(node, None)

    def attributes(self, node: int) -> Attributes | None:
        return self._attributes.get(node)

    def attribute_table(self) -> Mapping[int, Attributes]:
        """Every described node's attributes by id, for reading many at once (a lookup in
        it costs half the call of `attributes`; the table is replaced when the index is)."""
        return self._attributes

    def adjacency(self, outgoing: bool) -> Sequence[list[tuple[int, int]]]:
        """Every node's (property, node) pairs one way, by id: the walk's steps as a table."""
        return self._out if outgoing else self._in

    def rebuild(self, store: GraphStore) -> None:
        """Everything afresh from the store (asserted edges, not the derived copies)."""
        with self.lock:
            self.__init__(self.ontology)  # type: ignore[misc]
            self.changed = True
            ident = self.id
            # Pattern reads, not SPARQL: a query filtering graph names costs a string per row.
            for prop in sorted(self.properties, key=str):
                p = ident(prop.value)
                symmetric = prop == SAME_AS
                for q in store.quads(None, prop, None):
                    graph, s_term, o_term = q.graph_name, q.subject, q.object
                    if (
                        not isinstance(s_term, ox.NamedNode)
                        or not isinstance(o_term, ox.NamedNode)
                        or is_derived_graph(graph)
                    ):
                        continue
                    s, o = ident(s_term.value), ident(o_term.value)
                    self._out[s].append((p, o))
                    self._in[o].append((p, s))
                    if isinstance(graph, ox.NamedNode) and graph.value.startswith(
                        INFERRED_GRAPH_PREFIX
                    ):
                        self.inferred[(s, p, o)] = _rule_of(graph.value)
                    if symmetric and s != o:
                        self._out[o].append((p, s))
                        self._in[s].append((p, o))
            described: dict[str, dict[ox.Triple, None]] = {}
            for prop in _ATTRIBUTES:
                for q in store.quads(None, prop, None):
                    if isinstance(q.subject, ox.NamedNode):
                        described.setdefault(q.subject.value, {}).setdefault(q.triple)
            for iri, triples in described.items():
                self.describe(iri, triples)

    # -- a snapshot beside the store, so that start-up need not read every edge again

    def save(self, path: Path, load: str | None) -> None:
        """Write the index, stamped with the store's latest load (written whole, then moved)."""
        with self.lock:
            edges = array("q")
            for s, pairs in enumerate(self._out):
                for p, o in pairs:
                    edges.extend((s, p, o))
            attributes = [
                (n, tuple(a.types), a.label, tuple(a.owners), a.status, a.stage)
                for n, a in self._attributes.items()
            ]
            snapshot = {
                "format": _SNAPSHOT_FORMAT,
                "load": load,
                "properties": sorted(p.value for p in self.properties),
                "names": self._names,
                "edges": edges.tobytes(),
                "attributes": attributes,
            }
            partial = path.with_name(path.name + ".partial")
            with partial.open("wb") as handle:
                pickle.dump(snapshot, handle, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(path)
            self.changed = False

    def restore(self, path: Path, load: str | None) -> bool:
        """Read a snapshot written for this very state of the store; False when there is none
        or it is stale (then the caller rebuilds, or repairs from `restore_stale`)."""
        return self.restore_stale(path) == (load,)

    def restore_stale(self, path: Path) -> tuple[str | None] | None:
        """Read a snapshot whatever state of the store it was written for: the load it is
        stamped with (in a 1-tuple), or None when there is no usable snapshot."""
        try:
            with path.open("rb") as handle:
                # kg writes this file itself, beside its own store, as it writes the store.
                snapshot = pickle.load(handle)  # noqa: S301
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None
        if (
            not isinstance(snapshot, dict)
            or snapshot.get("format") != _SNAPSHOT_FORMAT
            or snapshot.get("properties") != sorted(p.value for p in self.properties)
        ):
            return None
        with self.lock:
            self.__init__(self.ontology)  # type: ignore[misc]
            self._names = snapshot["names"]
            self._ids = {name: n for n, name in enumerate(self._names)}
            self._out = [[] for _ in self._names]
            self._in = [[] for _ in self._names]
            edges = array("q")
            edges.frombytes(snapshot["edges"])
            out, into = self._out, self._in
            for i in range(0, len(edges), 3):
                s, p, o = edges[i], edges[i + 1], edges[i + 2]
                out[s].append((p, o))
                into[o].append((p, s))
            for n, types, label, owners, status, stage in snapshot["attributes"]:
                self._attributes[n] = Attributes(
                    shared(tuple(types)), label, shared(tuple(owners)), status, stage
                )
        return (snapshot.get("load"),)

    def repair(self, store: GraphStore, subjects: set[str]) -> None:
        """Re-read the edges and attributes of `subjects` from the store (after a crash left
        the index behind it). Their equivalents (owl:sameAs either way, before and after) are
        re-read too, since an equivalence puts an edge on both sides."""
        with self.lock:
            self.changed = True
            same_as = self.id(SAME_AS.value)
            nodes = {self.id(s) for s in subjects}
            for n in list(nodes):
                nodes |= {o for p, o in self._out[n] if p == same_as}
                nodes |= {o for p, o in self._in[n] if p == same_as}
                term = ox.NamedNode(self._names[n])
                nodes |= {
                    self.id(q.object.value)
                    for q in store.quads(term, SAME_AS, None)
                    if isinstance(q.object, ox.NamedNode)
                }
                nodes |= {
                    self.id(q.subject.value)
                    for q in store.quads(None, SAME_AS, term)
                    if isinstance(q.subject, ox.NamedNode)
                }
            for n in nodes:  # the in-lists are the transpose of the out-lists
                for p, o in self._out[n]:
                    self._in[o].remove((p, n))
                self._out[n] = []
            for n in nodes:
                term = ox.NamedNode(self._names[n])
                found: list[tuple[int, int]] = []
                for prop in self.properties:
                    p = self.id(prop.value)
                    for q in store.quads(term, prop, None):
                        if isinstance(q.object, ox.NamedNode) and not is_derived_graph(
                            q.graph_name
                        ):
                            found.append((p, self.id(q.object.value)))
                for q in store.quads(None, SAME_AS, term):
                    if (
                        isinstance(q.subject, ox.NamedNode)
                        and q.subject != term
                        and not is_derived_graph(q.graph_name)
                    ):
                        found.append((same_as, self.id(q.subject.value)))
                self._out[n] = found
                for p, o in found:
                    self._in[o].append((p, n))
                self.describe(
                    term.value, [t for p in _ATTRIBUTES for t in store.triples(term, p, None)]
                )

    def apply(
        self,
        store: GraphStore,
        old: dict[ox.NamedNode, list[ox.Triple]],
        new: dict[ox.NamedNode, list[ox.Triple]],
        known: dict[str, list[ox.Triple]],
    ) -> None:
        """Follow one committed write: `old` is what the replaced graphs held before it, `new`
        what the write put in; `known` full descriptions the caller already holds."""
        with self.lock:
            self.changed = True
            subjects: set[str] = set()
            for graph, triples in old.items():
                if graph.value.startswith(INFERRED_GRAPH_PREFIX):
                    for edge in self._edges(triples):
                        self.inferred.pop(edge, None)
                if not is_derived_graph(graph):
                    self.remove(triples)
                    subjects |= {
                        t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)
                    }
            for graph, triples in new.items():
                if graph.value.startswith(INFERRED_GRAPH_PREFIX):
                    rule = _rule_of(graph.value)
                    for edge in self._edges(triples):
                        self.inferred[edge] = rule
                if not is_derived_graph(graph):
                    self.add(triples)
                    subjects |= {
                        t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)
                    }
            for iri in subjects:
                node = ox.NamedNode(iri)
                statements = known.get(iri)
                if statements is None:
                    statements = [t for p in _ATTRIBUTES for t in store.triples(node, p, None)]
                self.describe(iri, (t for t in statements if t.subject == node))

    def mark_inferred(self, store: GraphStore, properties: Iterable[ox.NamedNode]) -> None:
        """Find again which edges rules concluded (after a restore from a snapshot, which
        keeps the edges but not where they came from), reading only the rules' properties."""
        with self.lock:
            self.inferred = {}
            for prop in properties:
                if prop not in self.properties:
                    continue
                p = self.id(prop.value)
                for q in store.quads(None, prop, None):
                    graph = q.graph_name
                    if (
                        isinstance(graph, ox.NamedNode)
                        and graph.value.startswith(INFERRED_GRAPH_PREFIX)
                        and isinstance(q.subject, ox.NamedNode)
                        and isinstance(q.object, ox.NamedNode)
                    ):
                        key = (self.id(q.subject.value), p, self.id(q.object.value))
                        self.inferred[key] = _rule_of(graph.value)

    def extend(
        self, names: list[str], edges: Sequence[int], described: Mapping[int, list[str]]
    ) -> None:
        """Add a bulk load's new edges and nodes (kg.write.bulk.Added): `names` the IRIs it
        numbered, `edges` (subject, property, object) numbers three at a time, as stated;
        `described` each subject's statements as flat (predicate, value) pairs."""
        with self.lock:
            self.changed = True
            ident = self.id
            local = [ident(name) for name in names]
            same = self._ids.get(SAME_AS.value)
            out, into = self._out, self._in
            for at in range(0, len(edges), 3):
                s, p, o = local[edges[at]], local[edges[at + 1]], local[edges[at + 2]]
                out[s].append((p, o))
                into[o].append((p, s))
                if p == same and s != o:
                    out[o].append((p, s))
                    into[s].append((p, o))
            derived = "derived " + _TYPE  # kg.write.bulk.DERIVED_TYPE: shown as a type
            for node, flat in described.items():
                found = attributes_from(
                    (_TYPE if p == derived else p, o)
                    for p, o in zip(flat[::2], flat[1::2], strict=True)
                )
                if found.types or found.label or found.owners or found.status or found.stage:
                    self._attributes[local[node]] = found

    def out_edges(self, node: int) -> list[tuple[int, int]]:
        return self._out[node]

    def in_edges(self, node: int) -> list[tuple[int, int]]:
        return self._in[node]

    def edges(self) -> set[tuple[str, str, str]]:
        """Every distinct edge, as IRIs (for checking the index against the store)."""
        return {
            (self._names[s], self._names[p], self._names[o])
            for s, pairs in enumerate(self._out)
            for p, o in pairs
        }


def rule_of(graph: str) -> str:
    """The rule an inferred graph holds the conclusions of."""
    return _rule_of(graph)


def _rule_of(graph: str) -> str:
    return graph.removeprefix(INFERRED_GRAPH_PREFIX).partition(":")[0]
