"""The graph, or part of it, in standard form: Turtle, TriG (with each source's graphs), JSON-LD
with kg's published context, a DCAT 3 catalog and PROV-O (pure: statements in, bytes out).

Every export carries kg's own statements, so loading it into another kg gives the same lineage.
DCAT and PROV exports add what those vocabularies say of the same facts, read off the ontology's
alignments (mlg:derivedFrom is a prov:wasDerivedFrom, a mlg:Dataset a dcat:Dataset...), so a
consumer that knows only DCAT or PROV needs no reasoner; DCAT adds the catalog itself and a
distribution for each dataset whose address is known.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import pyoxigraph as ox

from kg.ontology import Ontology
from kg.vocab import (
    DCAT,
    DCTERMS,
    MLG,
    OWNER,
    PREFIXES,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    mlg,
)

CONTEXT_URL = "https://w3id.org/mlg/context.jsonld"
_DISTRIBUTION_SCHEMES = ("postgres://", "mysql://", "s3://", "gs://", "hdfs://", "kafka://",
                         "https://", "http://", "abfss://", "file://")  # fmt: skip


# kg's prefixes but the shapes' own (exports carry data, not shapes)
_EXPORT_PREFIXES = {p: iri for p, iri in PREFIXES.items() if p not in ("sh", "mlgsh")}


class ExportFormat(StrEnum):
    TURTLE = "turtle"
    TRIG = "trig"
    JSONLD = "jsonld"
    DCAT = "dcat"
    PROV = "prov"


MEDIA_TYPES = {
    ExportFormat.TURTLE: "text/turtle",
    ExportFormat.TRIG: "application/trig",
    ExportFormat.JSONLD: "application/ld+json",
    ExportFormat.DCAT: "text/turtle",
    ExportFormat.PROV: "text/turtle",
}
EXTENSIONS = {
    ExportFormat.TURTLE: "ttl",
    ExportFormat.TRIG: "trig",
    ExportFormat.JSONLD: "jsonld",
    ExportFormat.DCAT: "ttl",
    ExportFormat.PROV: "ttl",
}


def context(ontology: Ontology) -> dict[str, Any]:
    """kg's JSON-LD context: the prefixes, and every mlg term by its local name (relations
    as IRIs, dates typed)."""
    terms: dict[str, Any] = dict(sorted(PREFIXES.items()))
    terms["id"] = "@id"
    terms["type"] = "@type"
    for iri in sorted(ontology.classes):
        if iri.startswith(MLG):
            terms[iri.removeprefix(MLG)] = f"mlg:{iri.removeprefix(MLG)}"
    for iri in sorted(ontology.object_properties):
        if iri.startswith(MLG):
            terms[iri.removeprefix(MLG)] = {"@id": f"mlg:{iri.removeprefix(MLG)}", "@type": "@id"}
    for iri in sorted(ontology.datatype_properties):
        if iri.startswith(MLG):
            entry: dict[str, str] = {"@id": f"mlg:{iri.removeprefix(MLG)}"}
            if iri == MLG + "observedAt":
                entry["@type"] = "xsd:dateTime"
            terms[iri.removeprefix(MLG)] = entry
    terms.update({
        "label": "rdfs:label",
        "description": "dcterms:description",
        "identifier": "dcterms:identifier",
        "keyword": "dcat:keyword",
        "sameAs": {"@id": "owl:sameAs", "@type": "@id"},
        "startedAtTime": {"@id": "prov:startedAtTime", "@type": "xsd:dateTime"},
        "endedAtTime": {"@id": "prov:endedAtTime", "@type": "xsd:dateTime"},
    })  # fmt: skip
    return {"@context": terms}


def _aligned(triples: Iterable[ox.Triple], ontology: Ontology, namespace: str) -> list[ox.Triple]:
    """What the ontology's alignments to one vocabulary say of these statements."""
    found: dict[ox.Triple, None] = {}
    for t in triples:
        if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            for cls in sorted(ontology.super_classes.get(t.object.value, ())):  # a set's order
                if cls.startswith(namespace):  # changes from process to process
                    found.setdefault(ox.Triple(t.subject, RDF_TYPE, ox.NamedNode(cls)))
        else:
            for prop in sorted(ontology.super_properties.get(t.predicate.value, ())):
                if prop.startswith(namespace):
                    found.setdefault(ox.Triple(t.subject, ox.NamedNode(prop), t.object))
    return list(found)


def dcat(local: str) -> ox.NamedNode:
    return ox.NamedNode(DCAT + local)


def _serialize(statements: list[ox.Triple] | list[ox.Quad], fmt: ox.RdfFormat) -> bytes:
    data = ox.serialize(statements, format=fmt, prefixes=_EXPORT_PREFIXES)
    assert data is not None  # serialize returns bytes when given no output
    return data


def _catalog(
    triples: list[ox.Triple], aligned: list[ox.Triple], ontology: Ontology, base_iri: str
) -> list[ox.Triple]:
    """The dcat:Catalog listing every dataset, service and other resource, and a distribution
    for each dataset whose address is known."""
    catalog = ox.NamedNode(base_iri + "catalog")
    result = [
        ox.Triple(catalog, RDF_TYPE, dcat("Catalog")),
        ox.Triple(catalog, ox.NamedNode(DCTERMS + "title"), ox.Literal("kg: ML lifecycle assets")),
    ]
    kinds: dict[ox.NamedNode | ox.BlankNode, set[str]] = {}
    for t in [*triples, *aligned]:
        if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            found = kinds.setdefault(t.subject, set())  # type: ignore[arg-type]
            found |= {t.object.value, *ontology.super_classes.get(t.object.value, ())}
    for subject, types in sorted(kinds.items(), key=lambda item: str(item[0])):
        if not isinstance(subject, ox.NamedNode) or MLG + "Asset" not in types:
            continue
        if DCAT + "Dataset" in types:
            result.append(ox.Triple(catalog, dcat("dataset"), subject))
        elif DCAT + "DataService" in types:
            result.append(ox.Triple(catalog, dcat("service"), subject))
        else:
            result.append(ox.Triple(catalog, dcat("resource"), subject))
    for t in triples:
        if t.predicate == OWNER:
            result.append(ox.Triple(t.subject, ox.NamedNode(DCTERMS + "publisher"), t.object))
        if t.predicate == RDFS_LABEL:
            result.append(ox.Triple(t.subject, ox.NamedNode(DCTERMS + "title"), t.object))
        if (
            t.predicate.value == DCTERMS + "identifier"
            and isinstance(t.object, ox.Literal)
            and t.object.value.startswith(_DISTRIBUTION_SCHEMES)
            and DCAT + "Dataset" in kinds.get(t.subject, set())  # type: ignore[arg-type]
            and isinstance(t.subject, ox.NamedNode)
        ):
            try:
                address = ox.NamedNode(t.object.value)
            except ValueError:
                continue
            distribution = ox.NamedNode(t.subject.value + "#distribution")
            result += [
                ox.Triple(t.subject, dcat("distribution"), distribution),
                ox.Triple(distribution, RDF_TYPE, dcat("Distribution")),
                ox.Triple(distribution, dcat("accessURL"), address),
            ]
            platform = next(
                (
                    p.object
                    for p in triples
                    if p.subject == t.subject and p.predicate == mlg("platform")
                ),
                None,
            )
            if isinstance(platform, ox.Literal):
                title = ox.Literal(f"{platform.value}: {t.object.value}")
                result.append(ox.Triple(distribution, ox.NamedNode(DCTERMS + "title"), title))
    return result


def render(quads: list[ox.Quad], fmt: ExportFormat, ontology: Ontology, base_iri: str) -> bytes:
    """The statements in the chosen form."""
    if fmt is ExportFormat.TRIG:
        return _serialize(quads, ox.RdfFormat.TRIG)
    triples = list(dict.fromkeys(q.triple for q in quads))
    if fmt is ExportFormat.JSONLD:
        return _jsonld(triples, ontology)
    if fmt is ExportFormat.PROV:
        triples += _aligned(triples, ontology, PROV)
    elif fmt is ExportFormat.DCAT:
        aligned = _aligned(triples, ontology, DCAT)
        triples += aligned + _catalog(triples, aligned, ontology, base_iri)
    return _serialize(list(dict.fromkeys(triples)), ox.RdfFormat.TURTLE)


def _jsonld(triples: list[ox.Triple], ontology: Ontology) -> bytes:
    """JSON-LD compacted with kg's context (embedded, so the document stands alone; the same
    context is published at /context.jsonld)."""
    import rdflib

    ntriples = _serialize(triples, ox.RdfFormat.N_TRIPLES)
    graph = rdflib.Graph()
    graph.parse(data=ntriples.decode("utf-8"), format="nt")
    ctx = context(ontology)["@context"]
    text = graph.serialize(format="json-ld", context=ctx, auto_compact=True)
    document = json.loads(text)
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
