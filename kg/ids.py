"""Asset identity: one IRI per asset, from a local id, a CURIE or a full IRI."""

from __future__ import annotations

import re
from urllib.parse import quote

from pyoxigraph import BlankNode, DefaultGraph, NamedNode

from kg.errors import InputError
from kg.vocab import LOADS_GRAPH, ONTOLOGY_GRAPH, PREFIXES, SHAPES_GRAPH, compact, expand

_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|urn:|mailto:|tag:)")
_SAFE = "/-._~:@!$&'()*+,;=%"

ASSET_GRAPH_PREFIX = "urn:kg:graph:asset:"
DERIVED_GRAPH_PREFIX = "urn:kg:graph:derived:"
SOURCE_GRAPH_PREFIX = "urn:kg:graph:source:"
REPORT_GRAPH_PREFIX = "urn:kg:graph:reports/"
# The source of what an asset graph holds: kg itself, from native documents and RDF written to it.
NATIVE_SOURCE = "kg"

# kg's own graphs, which only kg writes (through the store directly, never through the write
# pipeline): what each one holds, for the messages that refuse a write to one.
SYSTEM_GRAPHS: dict[NamedNode, str] = {
    ONTOLOGY_GRAPH: "the mlg ontology",
    SHAPES_GRAPH: "the SHACL shapes",
    LOADS_GRAPH: "load records",
}
SYSTEM_GRAPH_PREFIXES: dict[str, str] = {
    REPORT_GRAPH_PREFIX: "validation reports",
    DERIVED_GRAPH_PREFIX: "triples kg derives",
}


def system_graph(name: NamedNode) -> str | None:
    """What a kg system graph holds ("load records"...), or None for any other graph."""
    if name in SYSTEM_GRAPHS:
        return SYSTEM_GRAPHS[name]
    for prefix, role in SYSTEM_GRAPH_PREFIXES.items():
        if name.value.startswith(prefix):
            return role
    return None


def is_data_graph(name: NamedNode | BlankNode | DefaultGraph) -> bool:
    """A named graph of data: every graph that is not one of kg's own (the ontology, shapes,
    load records, reports and derived graphs). Only data graphs take protocol writes.

    >>> is_data_graph(NamedNode("urn:kg:graph:asset:https://kg.example/id/a"))
    True
    >>> is_data_graph(NamedNode("urn:kg:graph:loads"))
    False
    """
    return isinstance(name, NamedNode) and system_graph(name) is None


def to_iri(identifier: str, base_iri: str) -> NamedNode:
    """An id as users write it -> the asset's IRI.

    Full IRIs stay as they are, `prefix:local` expands with the known prefixes, anything else is a
    local id minted under `base_iri`.

    >>> to_iri("clicks-raw", "https://kg.example/id/").value
    'https://kg.example/id/clicks-raw'
    >>> to_iri("mlg:Active", "https://kg.example/id/").value
    'https://w3id.org/mlg#Active'
    """
    text = identifier.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not text:
        raise InputError("an asset id is empty")
    iri = text if _ABSOLUTE.match(text) else expand(text) or base_iri + quote(text, safe=_SAFE)
    try:
        return NamedNode(iri)
    except ValueError as exc:
        raise InputError(f"{identifier!r} is not a valid asset id: {exc}") from exc


def to_id(iri: str, base_iri: str) -> str:
    """The shortest readable id of an IRI: local id under the base, else a CURIE, else the IRI."""
    if iri.startswith(base_iri) and len(iri) > len(base_iri):
        return iri[len(base_iri) :]
    return compact(iri, PREFIXES)


def asset_graph(subject: NamedNode) -> NamedNode:
    """The named graph holding what the sources said about one asset."""
    return NamedNode(ASSET_GRAPH_PREFIX + subject.value)


def derived_graph(source_graph: NamedNode) -> NamedNode:
    """The named graph of triples kg derived from one source graph; replaced with it."""
    return NamedNode(DERIVED_GRAPH_PREFIX + source_graph.value)


def source_graph(scope: str, subject: NamedNode) -> NamedNode:
    """The named graph holding what one importer (scope) said about one asset."""
    return NamedNode(f"{SOURCE_GRAPH_PREFIX}{scope}:{subject.value}")


def described_subject(graph: str) -> str | None:
    """The asset an asset graph or a source graph describes; None for other graphs."""
    if graph.startswith(ASSET_GRAPH_PREFIX):
        return graph.removeprefix(ASSET_GRAPH_PREFIX)
    if graph.startswith(SOURCE_GRAPH_PREFIX):
        scope_and_subject = graph.removeprefix(SOURCE_GRAPH_PREFIX)
        return scope_and_subject.partition(":")[2] or None
    return None


def graph_source(graph: str) -> str:
    """Which source system said what a data graph holds, as search facets and asset views name
    it: `kg` for an asset graph (native documents, the asset API, SPARQL Update, the default
    graph of the Graph Store Protocol), the importer for a source graph, else the graph itself
    (a named graph a client wrote).

    >>> graph_source("urn:kg:graph:asset:https://kg.example/id/a")
    'kg'
    >>> graph_source("urn:kg:graph:source:openlineage:https://kg.example/id/a")
    'openlineage'
    >>> graph_source("urn:batch:nightly")
    'urn:batch:nightly'
    """
    if graph.startswith(ASSET_GRAPH_PREFIX):
        return NATIVE_SOURCE
    if graph.startswith(SOURCE_GRAPH_PREFIX):
        return graph.removeprefix(SOURCE_GRAPH_PREFIX).partition(":")[0]
    return graph
