"""One asset as people and scripts see it: its statements, its relations both ways, its owners.

The view is read from the union of graphs; derived triples (super-properties and
super-classes) are left out so each relation shows once, by its most specific property.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import NotFoundError
from kg.ids import DERIVED_GRAPH_PREFIX
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import (
    DCAT_KEYWORD,
    DCTERMS_DESCRIPTION,
    MLG,
    OWNER,
    RDF_TYPE,
    RDFS_LABEL,
    STAGE,
    STATUS,
    compact,
    value,
)


@dataclass
class Relation:
    property: str
    node: str
    label: str | None
    type: str | None
    resolved: bool


@dataclass
class AssetView:
    id: str
    type: str | None
    label: str | None
    description: str | None
    tags: list[str] = field(default_factory=list)
    owners: list[Relation] = field(default_factory=list)
    status: str | None = None
    stage: str | None = None
    properties: dict[str, list[str]] = field(default_factory=dict)
    outgoing: list[Relation] = field(default_factory=list)
    incoming: list[Relation] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        def rel(r: Relation, key: str) -> dict[str, object]:
            return {
                "property": compact(r.property),
                key: r.node,
                "label": r.label,
                "type": compact(r.type) if r.type else None,
                "resolved": r.resolved,
            }

        return {
            "id": self.id,
            "type": compact(self.type) if self.type else None,
            "label": self.label,
            "description": self.description,
            "tags": self.tags,
            "owners": [rel(o, "id") for o in self.owners],
            "status": compact(self.status) if self.status else None,
            "stage": compact(self.stage) if self.stage else None,
            "properties": {compact(k): v for k, v in self.properties.items()},
            "outgoing": [rel(r, "target") for r in self.outgoing],
            "incoming": [rel(r, "source") for r in self.incoming],
        }


def _asserted(
    store: GraphStore, subject: ox.NamedNode | None, obj: ox.NamedNode | None
) -> list[ox.Triple]:
    """Statements as the sources made them (no derived graph), each once."""
    seen: dict[ox.Triple, None] = {}
    for q in store.quads(subject, None, obj):
        graph = q.graph_name
        if isinstance(graph, ox.NamedNode) and graph.value.startswith(DERIVED_GRAPH_PREFIX):
            continue
        if isinstance(graph, ox.NamedNode) and graph.value.startswith("urn:kg:graph:reports/"):
            continue
        seen.setdefault(q.triple)
    return list(seen)


def _brief(store: GraphStore, ontology: Ontology, node: str) -> tuple[str | None, str | None]:
    term = ox.NamedNode(node)
    label = next((value(t.object) for t in store.triples(term, RDFS_LABEL, None)), None)
    types = [value(t.object) for t in store.triples(term, RDF_TYPE, None)]
    return label, ontology.specific_type(types)


def exists(store: GraphStore, iri: str) -> bool:
    return next(store.triples(ox.NamedNode(iri), None, None), None) is not None


def view(store: GraphStore, ontology: Ontology, iri: str) -> AssetView:
    if not exists(store, iri):
        raise NotFoundError(f"no asset {iri} in the graph")
    node = ox.NamedNode(iri)
    own = _asserted(store, node, None)
    types = [value(t.object) for t in own if t.predicate == RDF_TYPE]
    result = AssetView(id=iri, type=ontology.specific_type(types), label=None, description=None)

    def relation(prop: str, other: str) -> Relation:
        label, kind = _brief(store, ontology, other)
        return Relation(prop, other, label, kind, kind is not None or label is not None)

    for t in own:
        p, o = t.predicate.value, t.object
        if t.predicate == RDF_TYPE:
            continue
        if t.predicate == RDFS_LABEL and result.label is None:
            result.label = value(o)
        elif t.predicate == DCTERMS_DESCRIPTION and result.description is None:
            result.description = value(o)
        elif t.predicate == DCAT_KEYWORD:
            result.tags.append(value(o))
        elif t.predicate == OWNER:
            result.owners.append(relation(p, value(o)))
        elif t.predicate == STATUS:
            result.status = value(o)
        elif t.predicate == STAGE:
            result.stage = value(o)
        elif isinstance(o, ox.NamedNode) and (p.startswith(MLG) or p in ontology.object_properties):
            result.outgoing.append(relation(p, o.value))
        elif isinstance(o, ox.Literal | ox.NamedNode):
            result.properties.setdefault(p, []).append(value(o))
    for t in _asserted(store, None, node):
        if isinstance(t.subject, ox.NamedNode) and t.predicate.value.startswith(MLG):
            result.incoming.append(relation(t.predicate.value, t.subject.value))
    result.tags.sort()
    result.outgoing.sort(key=lambda r: (r.property, r.node))
    result.incoming.sort(key=lambda r: (r.property, r.node))
    return result


def description(store: GraphStore, iri: str) -> list[ox.Triple]:
    """The asset's statements and the statements pointing at it, for RDF clients."""
    node = ox.NamedNode(iri)
    triples = _asserted(store, node, None)
    blanks = [t.object for t in triples if isinstance(t.object, ox.BlankNode)]
    while blanks:
        inner = list(store.triples(blanks.pop(), None, None))
        triples.extend(inner)
        blanks.extend(t.object for t in inner if isinstance(t.object, ox.BlankNode))
    return triples + _asserted(store, None, node)
