"""One asset as people and scripts see it: its statements, its relations both ways, its owners,
the sources that described it, and the parts hanging off it (an evaluation's metric values, a
dataset's schema fields with their column-level lineage).

The view is read from the union of graphs; derived triples (super-properties and
super-classes) are left out so each relation shows once, by its most specific property.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeGuard
from urllib.parse import unquote

import pyoxigraph as ox

from kg.errors import NotFoundError
from kg.graphs import (
    LOADS_GRAPH,
    REPORT_GRAPH_PREFIX,
    graph_source,
    is_data_graph,
    is_derived_graph,
)
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import (
    DCAT_KEYWORD,
    DCTERMS_DESCRIPTION,
    DQV,
    MLG,
    OWNER,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    STAGE,
    STATUS,
    XSD,
    compact,
    mlg,
    value,
)

CLASSIFICATION = mlg("classification")
# The most sensitive classification wins where sources disagree: the safe reading.
_SENSITIVITY = [mlg(c).value for c in ("PII", "Confidential", "Internal", "Public")]
METRIC = mlg("metric")
EVALUATED_ON = mlg("evaluatedOn")
MEASUREMENT_OF = ox.NamedNode(DQV + "isMeasurementOf")
MEASURED_VALUE = ox.NamedNode(DQV + "value")
COMPUTED_ON = ox.NamedNode(DQV + "computedOn")
FIELD = mlg("field")
DATA_TYPE = mlg("dataType")
FIELD_DERIVED_FROM = mlg("fieldDerivedFrom")
_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger")}
_REALS = {XSD + t for t in ("decimal", "double", "float")}


@dataclass
class Relation:
    property: str
    node: str
    label: str | None
    type: str | None
    resolved: bool
    status: str | None = None


@dataclass
class SourceRecord:
    """A source that described the asset, in which graph, and the load that last wrote it."""

    source: str
    graph: str
    at: str | None
    load: str | None


@dataclass
class Measurement:
    metric: str
    value: int | float | str
    dataset: str | None


@dataclass
class SchemaField:
    id: str | None  # None: a blank node
    name: str
    type: str | None
    description: str | None
    upstream: list[str] = field(default_factory=list)  # the fields it is computed from


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
    classification: str | None = None
    sources: list[SourceRecord] = field(default_factory=list)
    metrics: list[Measurement] = field(default_factory=list)
    fields: list[SchemaField] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        def rel(r: Relation, key: str) -> dict[str, object]:
            return {
                "property": compact(r.property),
                key: r.node,
                "label": r.label,
                "type": compact(r.type) if r.type else None,
                "resolved": r.resolved,
                "status": compact(r.status) if r.status else None,
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
            "classification": compact(self.classification) if self.classification else None,
            "sources": [
                {"source": r.source, "graph": r.graph, "at": r.at, "load": r.load}
                for r in self.sources
            ],
            "metrics": [
                {"metric": m.metric, "value": m.value, "dataset": m.dataset} for m in self.metrics
            ],
            "fields": [
                {
                    "id": f.id,
                    "name": f.name,
                    "type": f.type,
                    "description": f.description,
                    "upstream": f.upstream,
                }
                for f in self.fields
            ],
        }


def _asserted_quads(
    store: GraphStore, subject: ox.NamedNode | None, obj: ox.NamedNode | None
) -> list[ox.Quad]:
    """Statements as the sources made them (no derived graph), in the graphs that hold them."""
    kept = []
    for q in store.quads(subject, None, obj):
        graph = q.graph_name
        if is_derived_graph(graph):
            continue
        if isinstance(graph, ox.NamedNode) and graph.value.startswith(REPORT_GRAPH_PREFIX):
            continue
        kept.append(q)
    return kept


def _asserted(
    store: GraphStore, subject: ox.NamedNode | None, obj: ox.NamedNode | None
) -> list[ox.Triple]:
    """Statements as the sources made them (no derived graph), each once."""
    return list(dict.fromkeys(q.triple for q in _asserted_quads(store, subject, obj)))


def _brief(
    store: GraphStore, ontology: Ontology, node: str
) -> tuple[str | None, str | None, str | None]:
    """A related node's label, most specific type and status: three lookups by subject and
    predicate, whatever the node's size (a page lists hundreds of relations)."""
    term = ox.NamedNode(node)
    label = next((value(t.object) for t in store.triples(term, RDFS_LABEL, None)), None)
    types = [value(t.object) for t in store.triples(term, RDF_TYPE, None)]
    status = next((value(t.object) for t in store.triples(term, STATUS, None)), None)
    return label, ontology.specific_type(types), status


def exists(store: GraphStore, iri: str) -> bool:
    return next(store.triples(ox.NamedNode(iri), None, None), None) is not None


def view(store: GraphStore, ontology: Ontology, iri: str) -> AssetView:
    if not exists(store, iri):
        raise NotFoundError(f"no asset {iri} in the graph")
    node = ox.NamedNode(iri)
    quads = _asserted_quads(store, node, None)
    own = list(dict.fromkeys(q.triple for q in quads))
    types = [value(t.object) for t in own if t.predicate == RDF_TYPE]
    result = AssetView(id=iri, type=ontology.specific_type(types), label=None, description=None)
    graphs = {
        q.graph_name.value for q in quads if _named(q.graph_name) and is_data_graph(q.graph_name)
    }
    result.sources = sources(store, graphs)
    result.classification = _classification(own)
    result.metrics = metrics(store, own)
    result.fields = fields(store, own)

    def relation(prop: str, other: str) -> Relation:
        label, kind, status = _brief(store, ontology, other)
        return Relation(prop, other, label, kind, kind is not None or label is not None, status)

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


def sources(store: GraphStore, graphs: set[str]) -> list[SourceRecord]:
    """Each graph with its source and the load that last wrote it (kg.write.pipeline's load records:
    `?load mlg:wrote ?graph ; prov:endedAtTime ?at`), in one query for all of them."""
    last: dict[str, tuple[str, str]] = {}
    if graphs:
        listed = " ".join(str(ox.NamedNode(g)) for g in sorted(graphs))
        rows = store.query(
            f"SELECT ?graph ?load ?at WHERE {{ VALUES ?graph {{ {listed} }} "
            f"GRAPH {LOADS_GRAPH} {{ ?load {mlg('wrote')} ?graph ; "
            f"<{PROV}endedAtTime> ?at }} }} ORDER BY DESC(?at) DESC(STR(?load))"
        )
        assert isinstance(rows, ox.QuerySolutions)
        for row in rows:
            name, load, at = row["graph"], row["load"], row["at"]
            if name is not None and load is not None and at is not None:
                last.setdefault(value(name), (value(load), value(at)))
    found = []
    for graph in graphs:
        load, at = last.get(graph, (None, None))  # None: written by no load kg recorded
        found.append(SourceRecord(graph_source(graph), graph, at, load))
    return sorted(found, key=lambda r: (r.source, r.graph))


def _classification(own: list[ox.Triple]) -> str | None:
    ranked = sorted(
        _iris(own, CLASSIFICATION),
        key=lambda c: (_SENSITIVITY.index(c) if c in _SENSITIVITY else len(_SENSITIVITY), c),
    )
    return ranked[0] if ranked else None


def _iris(triples: list[ox.Triple], predicate: ox.NamedNode) -> list[str]:
    """The IRIs the statements with this predicate point at, each once, sorted."""
    return sorted(
        {t.object.value for t in triples if t.predicate == predicate and _named(t.object)}
    )


def _named(term: object) -> TypeGuard[ox.NamedNode]:
    return isinstance(term, ox.NamedNode)


def _number(literal: ox.Literal) -> int | float | str:
    """A measured value as a JSON number when its datatype is numeric and it reads as one."""
    datatype = literal.datatype.value
    try:
        if datatype in _INTEGERS:
            return int(literal.value)
        if datatype in _REALS:
            number = float(literal.value)
            return number if math.isfinite(number) else literal.value  # JSON has no NaN
    except ValueError:
        pass  # an ill-typed literal, kept as given
    return literal.value


def _first(
    triples: list[ox.Triple], predicate: ox.NamedNode
) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    for t in triples:
        if t.predicate == predicate and not isinstance(t.object, ox.Triple):
            return t.object
    return None


def metrics(store: GraphStore, own: list[ox.Triple]) -> list[Measurement]:
    """An evaluation's metric values: each `mlg:metric` a DQV quality measurement naming its
    metric (`dqv:isMeasurementOf`) and value (`dqv:value`), on the dataset it was computed on
    (`dqv:computedOn`, else the evaluation's `mlg:evaluatedOn` when it names one dataset)."""
    evaluated = _iris(own, EVALUATED_ON)
    on = evaluated[0] if len(evaluated) == 1 else None
    found = []
    for t in own:
        if t.predicate != METRIC or not isinstance(t.object, ox.NamedNode | ox.BlankNode):
            continue
        parts = list(store.triples(t.object, None, None))
        metric, measured = _first(parts, MEASUREMENT_OF), _first(parts, MEASURED_VALUE)
        if not isinstance(metric, ox.NamedNode) or not isinstance(measured, ox.Literal):
            continue
        dataset = _first(parts, COMPUTED_ON)
        found.append(
            Measurement(
                metric.value,
                _number(measured),
                dataset.value if isinstance(dataset, ox.NamedNode) else on,
            )
        )
    return sorted(found, key=lambda m: (m.metric, str(m.value), m.dataset or ""))


def _field_name(node: ox.NamedNode | ox.BlankNode) -> str:
    """A field's name from its IRI (kg.identity.field: `<dataset>/field/<name>`)."""
    if isinstance(node, ox.BlankNode):
        return ""
    local = node.value.rpartition("/field/")[2] or node.value.rstrip("/").rsplit("/", 1)[-1]
    return unquote(local)


def fields(store: GraphStore, own: list[ox.Triple]) -> list[SchemaField]:
    """A dataset's schema fields (`mlg:field`), each with its name, data type, description and
    the fields it is derived from (`mlg:fieldDerivedFrom`: column-level lineage from
    OpenLineage's columnLineage facet or DataHub's fine-grained lineage)."""
    found = []
    nodes = dict.fromkeys(
        t.object
        for t in own
        if t.predicate == FIELD and isinstance(t.object, ox.NamedNode | ox.BlankNode)
    )
    for node in nodes:
        parts = list(store.triples(node, None, None))
        name, kind, text = (_first(parts, p) for p in (RDFS_LABEL, DATA_TYPE, DCTERMS_DESCRIPTION))
        upstream = _iris(parts, FIELD_DERIVED_FROM)
        found.append(
            SchemaField(
                id=node.value if isinstance(node, ox.NamedNode) else None,
                name=name.value if isinstance(name, ox.Literal) else _field_name(node),
                type=kind.value if isinstance(kind, ox.Literal) else None,
                description=text.value if isinstance(text, ox.Literal) else None,
                upstream=upstream,
            )
        )
    return sorted(found, key=lambda f: (f.name, f.id or ""))


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


# Statements whose object is part of the subject's description (its fields, its qualified
# attributions): exported with it.
_PARTS = {mlg("field").value, PROV + "qualifiedAttribution", mlg("metric").value}


def described_quads(store: GraphStore, nodes: set[str]) -> list[ox.Quad]:
    """The data quads describing the nodes, with the parts and blank nodes hanging off them,
    read subject by subject (a subset never scans the whole store)."""
    # in order of IRI (a set's order changes from process to process): the same export twice
    stack: list[ox.NamedNode | ox.BlankNode] = [
        ox.NamedNode(n) for n in sorted(nodes, reverse=True)
    ]
    seen: set[object] = set()
    kept: list[ox.Quad] = []
    while stack:
        subject = stack.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for q in store.quads(subject, None, None):
            if not is_data_graph(q.graph_name):
                continue
            kept.append(q)
            part = isinstance(q.object, ox.NamedNode) and q.predicate.value in _PARTS
            if isinstance(q.object, ox.BlankNode) or part:
                stack.append(q.object)  # type: ignore[arg-type]
    return kept
